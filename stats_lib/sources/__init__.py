"""Log sources: one module per log family, each with ``NAME``, ``sniff(lines)`` and ``parse(reader)``.

``FORMATS`` maps a format name (as given to ``--format``) to its module; ``detect`` picks one from a sample.
Modules earlier in ``FORMATS`` win when several sniff a sample as theirs, so specific formats come first.
"""

from __future__ import annotations

from types import ModuleType

from . import cloudfront

FORMATS: dict[str, ModuleType] = {
    cloudfront.NAME: cloudfront,
}


def get_format(name: str) -> ModuleType:
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown format {name!r}; use one of: auto, {known}") from None
