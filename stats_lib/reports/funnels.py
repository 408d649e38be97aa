"""Funnels: how many sessions reach each of a few steps in order (``queries/funnel.sql``).

A step is a path (``/pricing``, matching pageviews) or an event name (``signup``, matching collector events);
``funnel(report, ["/", "/pricing", "signup"])`` runs the query for the report's period and site.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

MAX_STEPS = 8


class BadFunnel(ValueError):
    """Steps the funnel query cannot take."""


def step_parameters(steps: Sequence[str]) -> dict[str, str]:
    """``{"step1": ..., "step8": ...}`` for the query ('' for unused steps)."""
    cleaned = [str(s).strip() for s in steps]
    if not cleaned or any(not s for s in cleaned):
        raise BadFunnel("a funnel needs one or more non-empty steps (paths such as /pricing or event names)")
    if len(cleaned) > MAX_STEPS:
        raise BadFunnel(f"a funnel has at most {MAX_STEPS} steps, not {len(cleaned)}")
    padded = cleaned + [""] * (MAX_STEPS - len(cleaned))
    return {f"step{i + 1}": s for i, s in enumerate(padded)}


def funnel(report, steps: Sequence[str]) -> pd.DataFrame:
    """step, name, sessions, drop_off, conversion for the report's period and site."""
    return report.query("funnel", **step_parameters(steps))


SEPARATOR = ">"


def parse_steps(text: str) -> list[str]:
    """'/ > /pricing > signup' -> ['/', '/pricing', 'signup'] (the notebook's ``steps`` parameter)."""
    return [part.strip() for part in str(text).split(SEPARATOR) if part.strip()]


def explanation() -> str:
    return ("A session counts for a step when, after reaching every earlier step in this order, it has a pageview "
            "of that path or an event of that name. Sessions are one visitor's pageviews and events of a UTC day, "
            "split wherever two are more than 30 minutes apart; bots are left out. Drop-off is how many sessions "
            "of the step before did not get there; conversion is the share of the sessions that reached step 1.")
