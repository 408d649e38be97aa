"""The one date parser: a UTC day as the user types it ('YYYY-MM-DD'), with the one message for a bad one; and
the one spelling of "now" that records and file names carry (``utc_timestamp``, ``utc_stamp``) and of today's
UTC day (``utc_today``)."""

from __future__ import annotations

import datetime as dt

from .errors import UserError

__all__ = ["parse_day", "utc_stamp", "utc_timestamp", "utc_today"]


def parse_day(value: dt.date | str | None) -> dt.date | None:
    """A day from 'YYYY-MM-DD', a ``date`` or a ``datetime`` (its date); ``None`` or '' is no day.

    Anything else raises ``UserError`` (a ``ValueError``): "bad date '...'; use YYYY-MM-DD".
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"bad date {value!r}", "use YYYY-MM-DD") from None


def utc_timestamp() -> str:
    """Now in UTC, ISO 8601 to the second ('2026-12-01T11:46:13+00:00'): ledger records, failures, locks."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def utc_stamp() -> str:
    """Now in UTC for a file name, to the microsecond: '20261201T114613123456'."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")


def utc_today() -> dt.date:
    """Today's UTC day (days are UTC: salts, retention, report ranges)."""
    return dt.datetime.now(dt.timezone.utc).date()
