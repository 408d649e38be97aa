"""The one date parser: a UTC day as the user types it ('YYYY-MM-DD'), with the one message for a bad one."""

from __future__ import annotations

import datetime as dt

from .errors import UserError

__all__ = ["parse_day"]


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
