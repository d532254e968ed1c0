"""The index-advice HTML page: one unit everywhere, gain with its unit, SQL that wraps, notes grouped.

Real advice from a real PostgreSQL 15: priced by HypoPG (with timings: ms; without: cost units),
by rolled-back real builds on several tables (one lock note per table, which the page groups), and
unverified (no what-if at all). Layout, clipping and console errors are checked in Chromium in
tests/output/test_reports_in_chromium.py. The advice is the ``advices`` fixture (conftest.py).
"""

from __future__ import annotations

import html
import re

from dbwright.output import render
from dbwright.output.index_advice_html import group_notes, note_template
from tests.output.conftest import LONG_TABLE


def _text(page: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, whitespace collapsed."""
    body = page.split("<body>", 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_one_unit_everywhere_with_timings(advices):
    advice = advices["ms"]
    assert advice.unit == "ms" and advice.verified and advice.recommendations
    page = render(advice, "html")
    text = _text(page)
    assert "Every amount on this page is in milliseconds" in text
    # each query's before and after are its weighted time, in ms, never the raw planner cost
    for q in advice.queries:
        assert f"{q.weight * q.cost_before:,.1f}" in text, q.key
        assert f"{q.cost_before:,.1f}" not in text or q.weight == 1.0
    # every column of amounts names the unit; every gain, overhead and total carries it
    headers = re.findall(r"<th>([^<]*(?:before|after|cost of)[^<]*)</th>", page)
    assert headers and all(h.endswith("(ms)") for h in headers), headers
    gains = re.findall(r'<dd class="gain">([^<]+)</dd>', page)
    assert len(gains) == len(advice.recommendations)
    assert all(re.fullmatch(r"[\d,]+\.\d ms", g) for g in gains), gains
    overheads = re.findall(r'<dd class="write-overhead">([^<]+)</dd>', page)
    assert all(o.endswith(" ms") for o in overheads) and len(overheads) == len(advice.recommendations)
    assert f"{advice.total_before:,.1f} ms" in text and f"{advice.total_after:,.1f} ms" in text
    assert "cost units" not in text


def test_one_unit_everywhere_without_timings(advices):
    advice = advices["cost"]
    assert advice.unit == "cost" and advice.recommendations
    page = render(advice, "html")
    text = _text(page)
    assert "planner cost units × calls" in text and " ms" not in text.replace("(ms)", "")
    assert "Planner cost per query (cost units × calls)" in text and "Time per query" not in text
    gains = re.findall(r'<dd class="gain">([^<]+)</dd>', page)
    assert gains and all(re.fullmatch(r"[\d,]+ cost units", g) for g in gains), gains
    headers = re.findall(r"<th>([^<]*(?:before|after)[^<]*)</th>", page)
    assert headers and all(h.endswith("(cost units)") for h in headers), headers


def test_labels_are_html_text_and_sql_is_kept_whole_and_wraps(advices):
    advice = advices["ms"]
    page = render(advice, "html")
    assert "<svg" not in page  # chart labels are text that wraps, not SVG text that a box clips
    for r in advice.recommendations:
        assert html.escape(r.package.forward_sql) in page and html.escape(r.package.rollback_sql) in page
    assert "white-space:pre-wrap" in page and "overflow-wrap:anywhere" in page
    assert html.escape(LONG_TABLE) in page
    for q in advice.queries:
        assert f'<code>{q.key}</code> <span class="q">' in page  # each chart row names its statement


def test_real_build_lock_notes_are_one_group(advices):
    advice = advices["real"]
    lock_notes = [n for n in advice.notes if "rolled-back CREATE INDEX on" in n]
    assert len(lock_notes) >= 2, advice.notes  # one per table the builds locked
    page = render(advice, "html")
    groups = re.findall(r'<li class="note note-group"><details><summary>(\d+) notes: ([^<]+)</summary>', page)
    assert [int(n) for n, _ in groups] == [len(lock_notes)], groups
    # the shared sentence is said once, each table's numbers stay readable inside the group
    assert page.count("made writers wait") == len(lock_notes) + 1
    for note in lock_notes:
        assert f"<li>{html.escape(note)}</li>" in page


def test_unverified_advice_says_so_and_prices_nothing(advices):
    advice = advices["unverified"]
    assert not advice.verified and advice.recommendations
    page = render(advice, "html")
    text = _text(page)
    assert "Unverified advice." in text and "CREATE EXTENSION hypopg" in text
    gains = re.findall(r'<dd class="gain">([^<]+)</dd>', page)
    assert gains == ["not priced (unverified)"] * len(advice.recommendations)
    assert 'class="bar after"' not in page  # no after-bar that would pretend a measurement


def test_notes_group_by_template_and_identical_notes_count_once():
    notes = [
        "objective: the workload's total cost",
        "18 rolled-back CREATE INDEX on analytics.events: its SHARE lock made writers wait for 6.05 s in total",
        "4 rolled-back CREATE INDEX on shop.orders: its SHARE lock made writers wait for 5.01 s in total",
        "4 rolled-back CREATE INDEX on shop.orders: its SHARE lock made writers wait for 5.01 s in total",
        'could not sample "Odd Schema".t (permission denied); using the planner\'s estimate',
    ]
    groups = group_notes(notes)
    assert [len(g) for g in groups] == [1, 2, 1]
    assert note_template(notes[1]) == (
        "… rolled-back CREATE INDEX on …: its SHARE lock made writers wait for … s in total"
    )
