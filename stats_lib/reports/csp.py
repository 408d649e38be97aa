"""Content-Security-Policy meta tags: a page may run only its own inline scripts (by SHA-256 hash) and files
served beside it, so markup smuggled in through log data could not run even if it escaped escaping."""

from __future__ import annotations

import base64
import hashlib
import re

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)

# Report pages carry no script at all.
PAGE_POLICY = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-src 'self'; "
               "base-uri 'none'; form-action 'none'")


def script_hashes(document: str) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") + "'"
        for body in _INLINE_SCRIPT.findall(document)
    ]


def map_policy(document: str, img_sources: tuple[str, ...] = ()) -> str:
    scripts = " ".join(["'self'", *script_hashes(document)])
    imgs = " ".join(["'self'", "data:", *img_sources])
    return (f"default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src {imgs}; "
            "base-uri 'none'; form-action 'none'")


def meta(policy: str) -> str:
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


def insert_meta(document: str, policy: str) -> str:
    """The document with the policy's meta tag as the first element of <head>."""
    tag = meta(policy)
    match = re.search(r"<head[^>]*>", document, re.I)
    if not match:
        return tag + document
    return document[: match.end()] + "\n    " + tag + document[match.end():]
