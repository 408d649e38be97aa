"""Papermill parameters, checked before a notebook runs.

Papermill writes parameters into the notebook as Python source; a name that is not an identifier, or a value
that is not a plain str/int/float/bool/None, could become code. Every parameter must be one the notebook's
parameters cell declares, with a value of the declared kind; strings are capped and may hold no control or
bidi characters.
"""

from __future__ import annotations

import datetime as dt
import keyword
import unicodedata
from collections.abc import Mapping
from pathlib import Path

MAX_TEXT = 2048
_PLAIN = (str, int, float, bool, type(None))


class BadParameter(ValueError):
    """A notebook parameter with a bad name or value."""


def _check_text(name: str, value: str) -> None:
    if len(value) > MAX_TEXT:
        raise BadParameter(f"parameter {name!r} is longer than {MAX_TEXT} characters")
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise BadParameter(f"parameter {name!r} holds a control or formatting character (U+{ord(ch):04X})")


def declared(notebook: Path) -> dict[str, str]:
    """{name: inferred type name} of the notebook's parameters cell (papermill's own inspection)."""
    import papermill as pm

    return {name: str(info.get("inferred_type_name") or "None")
            for name, info in pm.inspect_notebook(str(notebook)).items()}


def validate(params: Mapping[str, object], notebook: Path | None = None) -> dict[str, object]:
    """The parameters unchanged when every name is an identifier the notebook declares and every value is a plain,
    well-formed scalar; else ``BadParameter`` naming the first problem."""
    names = declared(notebook) if notebook is not None else None
    checked: dict[str, object] = {}
    for name, value in params.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise BadParameter(f"parameter name {name!r} is not a Python identifier")
        if names is not None and name not in names:
            raise BadParameter(f"{notebook.name if notebook else 'the notebook'} has no parameter {name!r}; "
                               f"it takes {', '.join(sorted(names))}")
        if not isinstance(value, _PLAIN) or isinstance(value, float) and value != value:
            raise BadParameter(f"parameter {name!r} must be a string, number, boolean or None, not "
                               f"{type(value).__name__}")
        if isinstance(value, str):
            _check_text(name, value)
        if name in ("start", "end") and value not in (None, ""):
            try:
                dt.date.fromisoformat(str(value))
            except ValueError:
                raise BadParameter(f"parameter {name!r} must be a date YYYY-MM-DD, not {value!r}") from None
        if name == "k" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise BadParameter(f"parameter 'k' must be a whole number of at least 1, not {value!r}")
        checked[name] = value
    return checked
