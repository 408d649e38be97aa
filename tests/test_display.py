"""Hostile text is shown safely: control, bidi and invisible characters become visible escapes (terminal tables,
CSV, JSON), and CSV cells a spreadsheet would run as formulas are guarded (issue 11, items 6 and 11)."""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata

import pandas as pd
import pytest

from stats_lib.display import UNSAFE, csv_cell, is_formula, json_safe, safe_text
from stats_lib.export import to_csv, to_json, to_table


def test_the_unsafe_class_is_exactly_the_unicode_control_format_separator_and_surrogate_categories():
    """An independent computation: unicodedata's categories for every code point (the class is hand-written)."""
    wanted = {"Cc", "Cf", "Zl", "Zp", "Cs"}
    # unicodedata may know a newer Unicode than the class was written for; the class must cover every code
    # point of these categories that Unicode 15 assigned, and nothing else.
    wrong = []
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        category = unicodedata.category(ch)
        if (category in wanted) != bool(UNSAFE.fullmatch(ch)) and category != "Cn":  # Cn: later Unicode's
            wrong.append(f"U+{code:04X} {unicodedata.category(ch)}")
    assert wrong == []


@pytest.mark.parametrize("raw, shown", [
    ("/invoice\u202efdp.exe", "/invoice\\u202efdp.exe"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("a\rb\nc\td", "a\\rb\\nc\\td"),
    ("\u2066isolate\u2069 \u200fmark\u200e", "\\u2066isolate\\u2069 \\u200fmark\\u200e"),
    ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
    ("tag\U000e0041", "tag\\U000e0041"),
    ("caf\u00e9 \u65e5\u672c /ok", "caf\u00e9 \u65e5\u672c /ok"),  # letters of any script stay
])
def test_safe_text_shows_controls_as_visible_escapes(raw, shown):
    assert safe_text(raw) == shown
    assert not UNSAFE.search(safe_text(raw))


def test_safe_text_cuts_before_escaping():
    assert safe_text("abcdef\u202e", cap=4) == "abc…"
    assert safe_text("ab\u202ecdef", cap=4) == "ab\\u202e…"  # 3 characters and the ellipsis


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@SUM(A1)", " =1", "\t=1", "\r=1+1", "\n@x", "\x00=1",
                                  "\u202e=1", "\u3000=1", "\uff1d1+1"])
def test_formula_cells_are_guarded(cell):
    assert is_formula(cell)
    guarded = csv_cell(cell)
    assert guarded.startswith("'") and not UNSAFE.search(guarded)


@pytest.mark.parametrize("cell", ["/a", "a=1", "/a\r=1+1", "", "   ", "1-2"])
def test_ordinary_cells_are_not_guarded(cell):
    assert not is_formula(cell) and not str(csv_cell(cell)).startswith("'")


def test_csv_from_a_carriage_return_path_yields_no_formula_cell():
    """Item 6: a path `/a%0D=1+1` (decoded `/a\\r=1+1`) must not give a spreadsheet a cell `=1+1`."""
    frame = pd.DataFrame({"path": ["/a\r=1+1", "\r=1+1", "/b\n+cmd"], "pageviews": [1, 2, 3]})
    text = to_csv(frame)
    # split the way a naive spreadsheet import does: every CR and LF ends a row, every comma a cell
    cells = [c.strip('"') for line in text.replace("\r", "\n").split("\n") for c in line.split(",")]
    assert not any(c.lstrip(" \t").startswith(("=", "+", "-", "@")) for c in cells), cells
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:] == [["/a\\r=1+1", "1"], ["'\\r=1+1", "2"], ["/b\\n+cmd", "3"]]


def test_terminal_table_has_no_escape_sequences_or_bidi():
    frame = pd.DataFrame({"path": ["/invoice\u202efdp.exe", "\x1b[2J\x1b[31mred", "/" + "x" * 200], "hits": [1, 2, 3]})
    text = to_table(frame)
    assert "\x1b" not in text and "\u202e" not in text
    assert "/invoice\\u202efdp.exe" in text and "\\x1b[2J\\x1b[31mred" in text
    assert max(len(line) for line in text.splitlines()) < 100  # long cells are cut


def test_json_escapes_unsafe_characters_but_keeps_the_values():
    values = ["/invoice\u202efdp.exe", "\x1b[31m", "caf\u00e9", "tag\U000e0041", "\u2028"]
    frame = pd.DataFrame({"path": values})
    text = to_json(frame)
    assert not UNSAFE.search(text.replace("\n", ""))
    assert [r["path"] for r in json.loads(text)] == values
    assert json.loads(json_safe(json.dumps(values, ensure_ascii=False))) == values
