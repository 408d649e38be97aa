"""Many regexes against one string, fast: ua-parser's Rust extractor used as a first-match regex set.

``ua_parser_rs.UserAgentExtractor`` takes an ordered list of regexes and answers with the first one that
matches (and its ``$1`` substitution), in Rust. It cannot compile look-around assertions; such patterns are
kept in Python's ``regex`` module behind a Rust prefilter built from the same pattern with its look-arounds
removed (which only widens the match), so the slow engine runs only on the few strings the prefilter lets
through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex
import ua_parser_rs


def strip_lookarounds(pattern: str) -> str:
    """The pattern without ``(?=..)``, ``(?!..)``, ``(?<=..)``, ``(?<!..)`` groups: a superset matcher."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[":  # copy a character class verbatim
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            out.append(pattern[i : j + 1])
            i = j + 1
            continue
        if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            depth, j = 0, i
            while j < n:
                if pattern[j] == "\\":
                    j += 2
                    continue
                if pattern[j] == "(":
                    depth += 1
                elif pattern[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _compiles(pattern: str) -> bool:
    try:
        ua_parser_rs.UserAgentExtractor([(pattern, "x", None, None, None, None)])
        return True
    except Exception:  # noqa: BLE001 - the extractor raises its own parse error type
        return False


_RUST_UNSUPPORTED = regex.compile(r"\(\?<?[=!]|\\[1-9]")  # look-arounds, back-references


@dataclass
class _Slow:
    position: int
    prefilter: Any  # ua_parser_rs.UserAgentExtractor; None when even the widened pattern is not Rust
    compiled: regex.Pattern
    name: str | None


class RegexSet:
    """An ordered list of (pattern, name) answering the first match's name (``$1``/``\\g<1>`` expanded).

    A name of None means "the text matched by the whole pattern". Patterns must already carry their flags
    (``(?i)``) and any prefix.
    """

    def __init__(self, entries: list[tuple[str, str | None]]) -> None:
        prepared = []
        for position, (pattern, name) in enumerate(entries):
            rs_name = name.replace("\\g<1>", "$1").replace("\\1", "$1") if name else None
            rs_pattern = pattern if name else f"({pattern})"
            prepared.append((position, pattern, name, rs_pattern, rs_name))
        # Compiling one pattern at a time is slow: first assume Rust takes everything without look-arounds or
        # back-references, and test the patterns one by one only when that assumption fails.
        try:
            self._build(prepared, lambda p: not _RUST_UNSUPPORTED.search(p))
        except Exception:  # noqa: BLE001 - the extractor raises its own parse error type
            self._build(prepared, _compiles)
        self.size = len(entries)

    def _build(self, prepared, is_fast) -> None:
        fast: list[tuple[str, str | None, None, None, None, None]] = []
        self._slow: list[_Slow] = []
        for position, pattern, name, rs_pattern, rs_name in prepared:
            if is_fast(rs_pattern):
                # the family is "<position>\x1f<name>" so the first match's position is known
                fast.append((rs_pattern, f"{position}\x1f{rs_name or '$1'}", None, None, None, None))
                continue
            pre = strip_lookarounds(rs_pattern)
            prefilter = ua_parser_rs.UserAgentExtractor([(pre, "x", None, None, None, None)]) if _compiles(pre) else None
            self._slow.append(_Slow(position, prefilter, regex.compile(pattern), name))
        self._fast = ua_parser_rs.UserAgentExtractor(fast)

    def match(self, text: str) -> tuple[int, str] | None:
        """(position, name) of the first pattern that matches ``text``, else None."""
        best: tuple[int, str] | None = None
        hit = self._fast.extract(text)
        if hit is not None:
            pos, _, name = hit.family.partition("\x1f")
            best = (int(pos), name)
        for slow in self._slow:
            if best is not None and slow.position > best[0]:
                break
            if slow.prefilter is not None and slow.prefilter.extract(text) is None:
                continue
            m = slow.compiled.search(text)
            if m is not None:
                name = m.expand(slow.name) if slow.name else m.group(0)
                return slow.position, name
        return best
