"""Showing hostile text safely: one neutraliser for every place a person sees a string from a log or a request.

``safe_text(value)`` replaces every character that can change how *other* text looks, instead of being seen
itself, with a visible escape: control characters (C0, DEL, C1, so ANSI escape sequences lose their ESC and
CR/LF/TAB cannot start new lines or cells), bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E/F,
U+061C: the ones that make ``/invoice\\u202efdp.exe`` display as "/invoiceexe.pdf"), other invisible format
characters (zero-width spaces and joiners, U+FEFF, tag characters ...), line/paragraph separators and lone
surrogates. ``'\\u202e'`` is shown as the six characters ``\\u202e``; ``'\\x1b'`` as ``\\x1b``; CR, LF and
TAB as ``\\r``, ``\\n``, ``\\t``. Everything else,
including any other non-ASCII letter, is kept.

Use it for terminal tables, CSV, HTML, notebooks and map popups (HTML still needs its own escaping *after*
this: ``html.escape(safe_text(v))``). ``json_safe`` does the same for JSON text, as ``\\uXXXX`` escapes that
decode to the very same string. ``csv_cell`` adds the spreadsheet-formula guard.
"""

from __future__ import annotations

import re

# Unicode general categories Cc (controls), Cf (format), Zl, Zp and Cs (surrogates), as of Unicode 15;
# tests/test_display.py checks this class against ``unicodedata`` for every code point.
_UNSAFE_CLASS = (
    "\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_LEADING_NOISE = re.compile(f"^[\\s{_UNSAFE_CLASS}]+")
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their full-width forms


_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_text(value: str, cap: int | None = None) -> str:
    """``value`` with every control, bidi and invisible format character shown as a visible escape; cut to
    ``cap`` characters (plus '…') when given. The cut is made before escaping, so an escape is never split."""
    if cap is not None and len(value) > cap:
        value = value[: max(cap - 1, 0)] + "…"
    return UNSAFE.sub(_escape, value) if UNSAFE.search(value) else value


def safe_value(value: object, cap: int | None = None) -> object:
    """``safe_text`` for strings; other values unchanged."""
    return safe_text(value, cap) if isinstance(value, str) else value


def _json_escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _NAMED:  # JSON escapes these inside strings itself; outside, they are its whitespace
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_safe(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with the unsafe characters as ``\\uXXXX``
    escapes: still valid JSON, decoding to exactly the same values, but harmless on a terminal."""
    return UNSAFE.sub(_json_escape, text)


def is_formula(value: str) -> bool:
    """Would a spreadsheet run this cell as a formula? Its first character after any leading whitespace or
    control/format character is ``= + - @`` (or a full-width form of one)."""
    rest = _LEADING_NOISE.sub("", value, count=1)
    return bool(rest) and rest[0] in _FORMULA_START


def csv_cell(value: object) -> object:
    """A CSV cell: text neutralised with ``safe_text`` and, when a spreadsheet would run it as a formula,
    prefixed with a single quote (OWASP's CSV injection guidance). Other values unchanged."""
    if not isinstance(value, str):
        return value
    return "'" + safe_text(value) if is_formula(value) else safe_text(value)
