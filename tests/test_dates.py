"""The one date parser: what the CLI, the API and the notebooks accept as a day, and the one message otherwise."""

import datetime as dt

import pytest

from stats_lib.dates import parse_day, utc_stamp, utc_timestamp, utc_today
from stats_lib.errors import UserError


@pytest.mark.parametrize(("value", "day"), [
    ("2026-03-01", dt.date(2026, 3, 1)),
    (" 2026-03-01 ", dt.date(2026, 3, 1)),
    (dt.date(2024, 2, 29), dt.date(2024, 2, 29)),
    (dt.datetime(2024, 2, 29, 23, 59), dt.date(2024, 2, 29)),
    (None, None),
    ("", None),
])
def test_a_day(value, day):
    assert parse_day(value) == day


@pytest.mark.parametrize("value", ["2026-13-01", "2025-02-29", "yesterday", "01/03/2026"])
def test_a_bad_day_is_one_user_error(value):
    with pytest.raises(UserError) as caught:
        parse_day(value)
    assert str(caught.value) == f"bad date {value!r}; use YYYY-MM-DD"
    assert isinstance(caught.value, ValueError)


def test_the_utc_stamps_read_back_as_utc_times():
    """Both spellings of "now" read back with the standard library as UTC (no assertion on the clock itself)."""
    stamp = dt.datetime.fromisoformat(utc_timestamp())
    assert stamp.utcoffset() == dt.timedelta(0) and stamp.microsecond == 0
    assert len(utc_stamp()) == len("20261201T114613123456")
    assert dt.datetime.strptime(utc_stamp(), "%Y%m%dT%H%M%S%f").year >= 2024
    assert utc_today() in {stamp.date(), stamp.date() + dt.timedelta(days=1)}  # read just after: same day or next
