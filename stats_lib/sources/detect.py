"""Format detection: sample the first lines of a file and ask each source whether they are its own.

Binary formats are recognised by content first (a Parquet file with CloudFront columns). Then each source in
``FORMATS`` order sniffs a sample of the first non-empty lines (decompressed); the first to accept wins.
"""

from __future__ import annotations

from pathlib import Path

from ..privacy import mask_ips
from . import FORMATS, Source, cloudfront_v2
from .base import text_sample


class UnknownFormat(ValueError):
    """No source recognised the file; the message names the file and its first line (IPs masked)."""


def detect(path: str | Path, sample: list[str] | None = None) -> Source:
    if sample is None and cloudfront_v2.is_parquet(path):
        if cloudfront_v2.sniff_file(path):
            return cloudfront_v2  # type: ignore[return-value]
        raise UnknownFormat(f"{path}: format not recognised; a Parquet file without CloudFront log fields")
    lines = text_sample(path) if sample is None else sample
    for source in FORMATS.values():
        if source.sniff(lines):
            return source
    first = next((line for line in lines if line.strip() and not line.startswith("#")), "")
    first = first or next((line for line in lines if line.strip()), "")
    shown = mask_ips(first, cap=200) if first else "(no text lines)"
    raise UnknownFormat(f"{path}: format not recognised; first line: {shown}")
