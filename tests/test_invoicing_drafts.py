"""Invoice-ready drafts (DESIGN.md §7) on the generated small world, built through the real
load and dbt build, against the answer key's `drafts`."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from taktgeber.keys import draft_key
from taktgeber.verify_marts import compare_drafts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def con(built_small_world):
    connection = duckdb.connect(str(built_small_world.warehouse), read_only=True)
    yield connection
    connection.close()


def _rows(con, sql):
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_drafts_match_answer_key(con, built_small_world):
    assert built_small_world.answer_key["drafts"], "the small world plants drafts"
    assert compare_drafts(con, built_small_world.answer_key) == []


def test_draft_key_is_the_python_rule_over_its_lines_source_ids(con):
    lines = _rows(
        con,
        "select draft_key, harvest_time_entry_ids, harvest_expense_ids, hubspot_line_item_ids "
        "from fct_invoice_draft_lines",
    )
    ids: dict[str, list[object]] = {}
    for line in lines:
        ids.setdefault(line["draft_key"], []).extend(
            [
                *line["harvest_time_entry_ids"],
                *line["harvest_expense_ids"],
                *line["hubspot_line_item_ids"],
            ]
        )
    assert ids
    for key, source_ids in ids.items():
        assert draft_key(source_ids) == key


def test_blocked_drafts_say_why_and_others_do_not(con):
    for draft in _rows(con, "select status, reasons, net_eur from fct_invoice_drafts"):
        if draft["status"] == "blocked":
            assert draft["reasons"]
        else:
            assert draft["reasons"] == []


def test_reverse_charge_drafts_carry_the_note_and_no_tax(con):
    rows = _rows(con, "select tax, notes from fct_invoice_drafts where tax_category = 'AE'")
    for row in rows:
        assert row["tax"] == Decimal("0.00")
        assert "Steuerschuldnerschaft des Leistungsempfängers / reverse charge" in row["notes"]
