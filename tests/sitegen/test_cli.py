"""`dbwright docs` end to end: from a database, from a saved snapshot, and its one-line errors."""

from __future__ import annotations

from dbwright.cli import main


def test_docs_from_a_database_writes_both_formats(shop_db, tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["docs", shop_db.url, "-o", str(out), "--format", "both"]) == 0
    assert (out / "shop/orders.html").is_file() and (out / "shop/orders.md").is_file()
    assert (out / "data-dictionary.csv").is_file()
    assert (
        "wrote 18 files to" in capsys.readouterr().err
    )  # 3 schema pages (with public), 4 tables, both formats


def test_docs_from_a_saved_snapshot_needs_no_server(shop_snapshot, tmp_path):
    saved = tmp_path / "snap.json"
    saved.write_text(shop_snapshot.to_json())
    assert main(["docs", str(saved), "-o", str(tmp_path / "md"), "--format", "markdown"]) == 0
    assert "One row per checkout" in (tmp_path / "md/shop/orders.md").read_text()
    assert not (tmp_path / "md/index.html").exists()


def test_docs_implied_with_a_snapshot_file_is_refused_in_one_line(shop_snapshot, tmp_path, capsys):
    saved = tmp_path / "snap.json"
    saved.write_text(shop_snapshot.to_json())
    code = main(["docs", str(saved), "-o", str(tmp_path / "site"), "--implied"])
    err = capsys.readouterr().err
    assert code != 0 and "needs a database, not a snapshot file" in err and "Traceback" not in err
    assert not (tmp_path / "site").exists()


def test_docs_unknown_format_is_a_usage_error(tmp_path, capsys):
    assert main(["docs", "x.json", "-o", str(tmp_path), "--format", "pdf"]) == 2
    assert "html, markdown, both" in capsys.readouterr().err
