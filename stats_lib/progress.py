"""The one rule for progress bars: shown where a person watches (a terminal, a notebook), quiet elsewhere.

``bar(...)`` is ``tqdm.auto.tqdm`` with that rule: ``show=False`` (``--quiet``, ``SITE_STATS_PROGRESS=0``)
never draws; ``show=True`` draws on a terminal and in Jupyter (tqdm's notebook widget) but not when stderr is a
pipe or a file (cron mail, CI logs, ``2> log``), where a bar would only be carriage returns and repeated lines.
``label`` makes a file name safe to draw on a terminal (``display.safe_text``): a name is the user's, but it
came from wherever the logs were copied from, and it may hold escape sequences.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .display import safe_text


def bar(iterable: Iterable | None = None, *, show: bool, **options: Any):
    """A tqdm progress bar over ``iterable`` (or one updated by hand); see the module docstring."""
    from tqdm.auto import tqdm

    # disable=None: tqdm's own test, "stderr is not a terminal", which its notebook flavour does not apply
    return tqdm(iterable, disable=None if show else True, **options)


def label(name: str, cap: int = 30) -> str:
    """The last ``cap`` characters of a file name, with controls and bidi characters shown as escapes."""
    return safe_text(name[-cap:])
