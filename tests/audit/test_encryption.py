"""Encryption at rest: what dbwright can see of the data directory's storage, and what it says it cannot."""

from __future__ import annotations

from dbwright.audit.encryption import data_directory_device
from dbwright.audit.run import run_audit


def test_host_flag_follows_the_data_directory_to_its_device(pg):
    pg.execute("CREATE EXTENSION pgcrypto")
    pg.execute("CREATE TABLE public.cards (id int, number_enc bytea)")
    snap = pg.snapshot()
    result = run_audit(snap, host=True)
    rest = result.encryption.at_rest
    device = rest["data_directory_device"]
    assert device["data_directory"] == str(pg.cluster.data)
    assert device["reason"]
    if device["source"].startswith("/dev/"):
        assert device["encrypted"] in (True, False) and device["device_chain"]
    assert rest["pgcrypto_installed"] is True and rest["bytea_columns"] == ["public.cards.number_enc"]
    undetermined = " ".join(result.encryption.undetermined)
    assert "backups and archived WAL" in undetermined and "sslmode=verify-full" in undetermined
    without_host = run_audit(snap).encryption
    assert "run dbwright audit --host on the database host" in " ".join(without_host.undetermined)


def test_data_directory_elsewhere_is_stated_as_unknown(tmp_path):
    elsewhere = data_directory_device(str(tmp_path / "not-here"))
    assert elsewhere["encrypted"] is None and "not a data directory on this machine" in elsewhere["reason"]
    hidden = data_directory_device(None)
    assert hidden["encrypted"] is None and "pg_read_all_settings" in hidden["reason"]


def test_pii_columns_in_plain_text_or_encrypted(pg):
    from dbwright.audit.run import audit_database
    from dbwright.output import formats_for, render

    pg.execute("CREATE EXTENSION pgcrypto")
    pg.execute("CREATE TABLE public.customers (id int PRIMARY KEY, email text, email_enc bytea)")
    emails = [f"person{i}.example{i}@mailhost{i % 7}.com" for i in range(60)]
    for i, email in enumerate(emails):
        pg.execute(
            "INSERT INTO public.customers VALUES (%s, %s, pgp_sym_encrypt(%s, 'k3y'))", (i, email, email)
        )
    pg.analyze()
    result = audit_database(pg.url, codes=["DWA040"], pii=True)
    rest = result.encryption.at_rest
    assert rest["pgcrypto_installed"] is True
    assert "public.customers.email" in rest["pii_columns_in_plain_text"]
    assert "public.customers.email_enc" not in rest["pii_columns_in_plain_text"]
    for fmt in formats_for("audit"):
        output = render(result, fmt)
        assert not any(email in output for email in emails), fmt  # names cross over, never values
    assert "stored in plain text (text)" in render(result, "text")
