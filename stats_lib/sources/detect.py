"""Format detection: sample the first lines of a file and ask each source module whether they are its own."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from . import FORMATS
from .base import text_sample


class UnknownFormat(ValueError):
    """No source recognised the file; the message names the file and its first line (IPs masked)."""


def detect(path: str | Path, sample: list[str] | None = None) -> ModuleType:
    from ..enrich.privacy import mask_ips

    lines = text_sample(path) if sample is None else sample
    for module in FORMATS.values():
        if module.sniff(lines):
            return module
    first = next((line for line in lines if line.strip()), "")
    shown = mask_ips(first, cap=200) if first else "(the file is empty)"
    raise UnknownFormat(f"{path}: format not recognised; first line: {shown}")
