"""Query output formats: CSV guarded against spreadsheet formulas, JSON with ISO dates and plain numbers."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pandas as pd

from stats_lib.export import to_csv, to_json


def test_csv_neutralises_formulas_from_log_fields():
    frame = pd.DataFrame({"path": ["=HYPERLINK(\"http://evil\")", "+1", "-2+3", "@SUM(A1)", "/ok"], "hits": [1, 2, 3, 4, 5]})
    lines = to_csv(frame).splitlines()
    assert lines[0] == "path,hits"
    assert lines[1].startswith("\"'=HYPERLINK(") and lines[2] == "'+1,2" and lines[3] == "'-2+3,3"
    assert lines[4] == "'@SUM(A1),4" and lines[5] == "/ok,5"


def test_json_has_iso_dates_and_plain_numbers():
    frame = pd.DataFrame({"day": [dt.date(2026, 11, 1)], "hits": [decimal.Decimal(7)], "rate": [0.5], "x": [None]})
    assert json.loads(to_json(frame)) == [{"day": "2026-11-01", "hits": 7, "rate": 0.5, "x": None}]
