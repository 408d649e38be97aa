"""device-detector's regexes tested in bulk by RE2 before Python compiles them, for a batch of agents.

device-detector compiles each of its regexes (Python's ``regex`` module, about 0.6 ms each) the first time it
tests one. The bench ingest's first batch (48 detector keys) made it compile 3,524 of them, about 2.2 s of the
2.9 s its helper process took, while the parent process waited for the answers; 39 of them match any key.

Inside ``prefiltered(keys)``, a regex not compiled yet is first run once over the whole batch by RE2 (Arrow's
``match_substring_regex``: one call per regex for every key, about 0.15 ms). A key it cannot match gets "no
match" without the regex being compiled; a key it may match is searched by ``regex`` as before, so the
answers are ``regex``'s own. RE2 is used only where it can never miss a match that ``regex`` would find:

- the regex's look-arounds are removed first (``_fastre.strip_lookarounds``), which only widens it;
- the regex and the key are printable ASCII, where both engines agree on ``\\b``, ``\\w``, ``\\d``, ``\\s``, case
  folding, ``.`` and ``$`` (no newline);
- every ``{`` in the regex opens a plain ``{n}``, ``{n,}`` or ``{n,m}`` repeat: ``{,n}`` is a repeat and ``{e<=1}``
  fuzzy matching to ``regex``, literal text to RE2;
- it sets no flags inline with ``(?i)`` and the like (``regex`` applies them to the whole pattern wherever they
  stand, RE2 from there on; scoped ``(?i:...)`` means the same to both);
- RE2 accepts it (no back-reference, atomic group, possessive repeat, ``\\Z``...: those fall back to ``regex``).

Measured: the bench ingest's first batch takes 0.62 s instead of 2.90 s in the helper process (the run's first
file is done 1.2 s sooner, the whole run about 1 s); the 2,814 agents of device-detector's fixtures and the
bench corpus that reach the detector get the same answers with 1,332 regexes compiled instead of 6,553
(``tests/test_devices.py``). Outside the context, or for a text that is not one of the batch's keys (the
detector also searches parts of an agent), nothing changes.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ._fastre import strip_lookarounds

_state = threading.local()  # the batch being detected by this thread, if any (``prefiltered``)
_NOT_TESTED = object()


class _Batch:
    """The keys of one ``prefiltered`` batch and, per regex tested so far, the keys RE2 says it may match."""

    def __init__(self, keys: list[str]) -> None:
        plain = sorted({k for k in keys if k.isascii() and k.isprintable()})
        self.keys = frozenset(plain)
        self._array = pa.array(plain, pa.string())
        self._verdicts: dict[int, Any] = {}  # id(regex object) -> frozenset of keys, or None: RE2 cannot say

    def may_match(self, lazy: Any, text: str) -> bool:
        """False only when RE2 shows that ``lazy`` (not compiled yet) cannot match the batch key ``text``."""
        verdict = self._verdicts.get(id(lazy), _NOT_TESTED)
        if verdict is _NOT_TESTED:
            verdict = self._verdicts[id(lazy)] = self._test(object.__getattribute__(lazy, "pattern"),
                                                           object.__getattribute__(lazy, "flags"))
        return verdict is None or text in verdict

    def _test(self, pattern: str, flags: int) -> frozenset[str] | None:
        if not _re2_can_test(pattern):
            return None
        import regex

        try:
            hits = pc.match_substring_regex(self._array, strip_lookarounds(pattern),
                                            ignore_case=bool(flags & regex.IGNORECASE))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # syntax RE2 does not take: regex decides
            return None
        return frozenset(self._array.filter(hits).to_pylist())


_REPEAT = re.compile(r"\{\d+(?:,\d*)?\}")
_INLINE_FLAGS = re.compile(r"\(\?[a-zA-Z^-]+\)")


def _re2_can_test(pattern: str) -> bool:
    """Whether RE2 can never miss a match of ``pattern`` that ``regex`` finds in printable ASCII (module docstring)."""
    return (pattern.isascii() and pattern.isprintable() and "{" not in _REPEAT.sub("", pattern)
            and not _INLINE_FLAGS.search(pattern))


@contextlib.contextmanager
def prefiltered(keys: list[str]) -> Iterator[None]:
    """Within: device-detector's searches of the uncompiled regexes on these ``keys`` go through RE2 first (see
    the module docstring), in this thread only."""
    if not _install():
        yield
        return
    outer = getattr(_state, "batch", None)
    _state.batch = _Batch(keys)
    try:
        yield
    finally:
        _state.batch = outer


_installed: list[bool] = []  # whether device-detector's lazy regex class took the check (decided once)
_installing = threading.Lock()


def _install() -> bool:
    """Give device-detector's ``RegexLazy`` the RE2 check (once per process); False when it does not look as
    expected (another device-detector version), so that nothing changes."""
    with _installing:
        if not _installed:
            _installed.append(_patch())
        return _installed[0]


def _patch() -> bool:
    try:
        from device_detector import lazy_regex
    except ImportError:  # pragma: no cover - a declared dependency
        return False
    cls = lazy_regex.RegexLazy
    try:
        attributes = object.__getattribute__(cls("x"), "__dict__")
    except Exception:  # noqa: BLE001 - another shape of the class: leave it as it is
        attributes = {}
    if not ({"pattern", "flags", "compiled"} <= attributes.keys() and "__getattribute__" in vars(cls)):
        return False
    cls.__getattribute__ = _checked(cls.__getattribute__)
    return True


def _checked(original: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def __getattribute__(self: Any, attribute: str) -> Any:  # noqa: N807 - replaces RegexLazy's
        batch = getattr(_state, "batch", None) if attribute == "search" else None
        if batch is None or object.__getattribute__(self, "compiled") is not None:
            return original(self, attribute)

        def search(text: Any, *args: Any, **kwargs: Any) -> Any:
            if not args and not kwargs and text in batch.keys and not batch.may_match(self, text):
                return None
            return original(self, "search")(text, *args, **kwargs)

        return search

    return __getattribute__
