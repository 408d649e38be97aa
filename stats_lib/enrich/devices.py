"""Device class (desktop, mobile, tablet, bot, other) of one user agent.

Two steps, both run once per distinct user agent (``agents.parse`` remembers the answer):

1. Tokens that settle the class on their own: ``iPad`` is a tablet; ``iPhone``/``iPod`` a phone; Android with a
   tablet model token (``SM-T``/``SM-X``, ``Tab``, ``Pad``, ``Kindle``/``KF..``, ``Nexus 7/9/10``, ``Lenovo TB``,
   ``MediaPad``, ``MatePad``...) a tablet; Windows NT without touch or ARM hints, a Mac, X11 Linux or Chrome OS a
   desktop. Most desktop and Apple traffic stops here.
2. Everything else (Android above all, where only the device model tells a phone from a tablet) goes to Matomo's
   device detector (PyPI ``device-detector``), run with its OS and device parsers only (the device type needs
   nothing else); what it cannot type falls back to the usual tokens (``Mobi``, ``Tablet``, Android without
   ``Mobile``, ...).

Measured against device-detector's own labelled fixtures (``tests/test_agents.py``): 1532 of 1534 browsers and
mobile apps agree, against 1269 with the token rules alone; step 1 decides 301 of them with none wrong. Android's
`` Mobile`` token is NOT trusted alone: on the fixtures it is wrong for 100 of the 525 Android agents carrying it
(Chromebooks, no-name tablets), which would drop agreement below 97%, so those agents still reach the detector.
On the ``make bench`` default corpus's 3406 distinct agents, 858 reach the detector (970 before the tablet
tokens) and the user-agent step takes 11.0 s (16.9 s with the full detector parse): about 13 ms per detector
call instead of 17.

Chrome on Android in its standard form (``Mozilla/5.0 (Linux; Android V; MODEL) AppleWebKit/537.36 (KHTML, like
Gecko) Chrome/A.B.C.D[ Mobile] Safari/537.36``, most of the agents that reach the detector) is asked about with its
Chrome version replaced by one fixed version (``detector_key``), so the detector runs once per Android version, model
and ``Mobile`` token instead of once per Chrome build: on the bench corpus 42 detector calls instead of 733. The
answer is the same: the detector's device and OS rules read the model, the Android version and the ``Mobile``
token, never Chrome's version digits (``tests/test_devices.py`` checks detector(agent) == detector(key) on every
such agent of the device-detector fixtures and of the bench corpus, and under four different Chrome versions).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from .._background import end_with_parent
from ._detector_prefilter import prefiltered

DESKTOP, MOBILE, TABLET, BOT, OTHER = "desktop", "mobile", "tablet", "bot", "other"

# Step 1: tokens that decide alone (first match wins). Puffin renders remotely and claims X11 for any device.
_CONFIDENT: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(r"Puffin/|Windows Phone|Windows Mobile"), None),
    (re.compile(r"Android.*(?:\bSM-[TPX]\d|\bGT-P\d|\bTab\b|Pad|Kindle|Silk/|\bKF[A-Z]{2,4}\b|Nexus (?:7|9|10)\b|"
                r"Lenovo TB|MediaPad|MatePad)"), TABLET),
    (re.compile(r"Android"), None),
    (re.compile(r"\biPad\b"), TABLET),
    (re.compile(r"\biPhone\b|\biPod\b"), MOBILE),
    (re.compile(r"Windows NT (?!.*(?:Touch|ARM|Tablet))"), DESKTOP),
    (re.compile(r"Macintosh|Mac OS X(?!.*Mobile)"), DESKTOP),
    (re.compile(r"X11|CrOS"), DESKTOP),
)

# Matomo's device types, as our classes.
_DETECTED = {
    "desktop": DESKTOP, "smartphone": MOBILE, "phablet": MOBILE, "feature phone": MOBILE, "tablet": TABLET,
    "tv": OTHER, "console": OTHER, "car browser": OTHER, "smart display": OTHER, "camera": OTHER,
    "portable media player": OTHER, "smart speaker": OTHER, "wearable": OTHER, "peripheral": OTHER,
}

# Step 3: the token rules for what the detector leaves untyped.
_TABLET = re.compile(
    r"iPad|Tablet|Kindle|Silk/|PlayBook|Nexus (?:7|9|10)\b|\bSM-[TPX]\d|\bGT-P\d|\bTab\b|Lenovo TB|MediaPad|"
    r"MatePad|\bKF[A-Z]{2,4}\b|Xoom|Transformer|Pixel C\b",
)
_MOBILE = re.compile(
    r"Mobi|iPhone|iPod|Windows Phone|BlackBerry|BB10|Opera Mini|Symbian|KaiOS|Nokia|J2ME|MIDP|webOS|"
    r"Fennec|IEMobile|UCBrowser|Android.*Mobile|Mobile.*Android",
)
_DESKTOP_OS = frozenset({
    "Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Debian", "Fedora", "Red Hat", "SUSE", "openSUSE", "Mint",
    "Chrome OS", "ChromeOS", "FreeBSD", "OpenBSD", "NetBSD", "Solaris", "Gentoo", "Arch Linux", "Mandriva",
    "Slackware", "CentOS", "Kubuntu", "Xubuntu", "PCLinuxOS", "BeOS", "Haiku", "OS/2", "AmigaOS", "RISC OS",
})
_DESKTOP = re.compile(r"Windows NT|Macintosh|Mac OS X|Mac OS/|\bDesktop\b|X11|Win(?:98|95|dows 9)|CrOS|Linux x86_64|"
                      r"Linux i[3-6]86")
_TV_CONSOLE = re.compile(r"SmartTV|SMART-TV|Smart-TV|HbbTV|\bTV\b|AppleTV|Roku|CrKey|PlayStation|Xbox|Nintendo|"
                         r"Tizen.*TV|Web0S")


def confident_class(ua: str) -> str | None:
    """The class when a token settles it alone, else None."""
    for pattern, cls in _CONFIDENT:
        if pattern.search(ua):
            return cls
    return None


# Chrome on Android, standard form; group 1 is the Chrome version (see the module docstring)
_CHROME_ANDROID = re.compile(r"Mozilla/5\.0 \(Linux; Android [\d.]+; [^;()]+\) AppleWebKit/537\.36 "
                             r"\(KHTML, like Gecko\) Chrome/(\d+\.\d+\.\d+\.\d+)(?: Mobile)? Safari/537\.36")
CANONICAL_CHROME = "130.0.0.0"  # Chrome's reduced user-agent form of a recent version
DETECTIONS_SIZE = 100_000  # detector answers one run remembers by key; cleared wholesale when full


def detector_key(ua: str) -> str:
    """The agent the detector is asked about for ``ua``: ``ua`` itself, or for Chrome on Android in its standard
    form, ``ua`` with the Chrome version replaced by ``CANONICAL_CHROME`` (same answer, see the module docstring)."""
    match = _CHROME_ANDROID.fullmatch(ua)
    if match is None:
        return ua
    return f"{ua[: match.start(1)]}{CANONICAL_CHROME}{ua[match.end(1) :]}"


PREFETCH_MIN_KEYS = 8  # fewer new keys than this in a batch are asked about in this process, as they come


class Detections:
    """The detector's answers of one run, by ``detector_key`` (only for agents whose key is not the agent itself:
    the others are remembered once, with all their columns, by ``agents.UserAgents``).

    ``helper``: a one-process pool (``detector_helper()``) that ``prefetch`` hands a batch's new keys to, so the
    detector (above all its first batch, which compiles device-detector's regexes that may match it: 0.6 s of the
    bench ingest's first file, ``_detector_prefilter``) runs beside this process's bot step instead of after it. The answers are the
    detector's own, whichever process asks."""

    def __init__(self, max_size: int = DETECTIONS_SIZE, helper: Executor | None = None) -> None:
        self.max_size = max_size
        self.answers: dict[str, str | None] = {}
        self.helper = helper
        self._coming: Future | None = None  # the helper's answers for ``_coming_keys``
        self._coming_keys: frozenset[str] = frozenset()

    def prefetch(self, uas: Iterable[str]) -> None:
        """Have the helper (if any) ask the detector about the keys of ``uas`` not known yet, when they are at
        least ``PREFETCH_MIN_KEYS``; ``detected_class`` waits for those answers when it needs one of them. Without
        a helper, this process asks about them now, as one batch (``detected_classes``)."""
        keys = {k for ua in uas if (k := detector_key(ua)) != ua} - self.answers.keys() - self._coming_keys
        if len(keys) < PREFETCH_MIN_KEYS:
            return
        if self.helper is None:
            self._remember(detected_classes(sorted(keys)))
            return
        self._collect()
        try:
            self._coming = self.helper.submit(detected_classes, sorted(keys))
        except RuntimeError:  # the helper process is gone (BrokenProcessPool): this process asks the detector
            self.helper = None
            return
        self._coming_keys = frozenset(keys)

    def settle(self) -> None:
        """Wait for the helper's answers asked for so far (before forking: the children inherit them)."""
        self._collect()

    def forked(self) -> None:
        """In a process forked from the one that made this object: the helper and its pending answers belong to
        the parent, so this process asks the detector itself."""
        self.helper, self._coming, self._coming_keys = None, None, frozenset()

    def _collect(self) -> None:
        """The helper's answers into ``answers``; if it failed, nothing (this process asks the detector itself)."""
        coming, self._coming, self._coming_keys = self._coming, None, frozenset()
        if coming is not None:
            with contextlib.suppress(Exception):
                self._remember(coming.result())

    def _remember(self, answers: dict[str, str | None]) -> None:
        if len(self.answers) + len(answers) > self.max_size:
            self.answers.clear()
        self.answers.update(answers)

    def detected_class(self, ua: str) -> str | None:
        """``detected_class(detector_key(ua))``, remembered by key."""
        key = detector_key(ua)
        if key == ua:
            return detected_class(ua)
        if key in self._coming_keys:
            self._collect()
        if key not in self.answers:
            self._remember({key: detected_class(key)})
        return self.answers[key]


def detected_classes(keys: list[str]) -> dict[str, str | None]:
    """``detected_class`` of each key (what ``Detections.prefetch`` runs, in its helper process if it has one),
    the detector's regexes tested on the whole batch by RE2 before it compiles them (``_detector_prefilter``)."""
    with prefiltered(keys):
        return {key: detected_class(key) for key in keys}


def detector_helper() -> ProcessPoolExecutor:
    """A one-process pool for ``Detections(helper=)``, its process forked now, while the caller is quiet (before
    any thread of its own runs Arrow code), importing the detector meanwhile. Its owner shuts it down."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                               initializer=end_with_parent)
    pool.submit(_import_detector)  # forks the process (Python 3.11 starts it on the first submit)
    return pool


def _import_detector() -> None:
    with contextlib.suppress(ImportError):
        import device_detector  # noqa: F401


def detected_class(ua: str) -> str | None:
    """The class Matomo's device detector gives (None when it cannot type the device or is not installed)."""
    try:
        from device_detector import DeviceDetector
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    # Only the OS and device parsers: device_type() reads nothing else, and skipping the client parsers
    # (browsers, apps, libraries) saves about a third of the cost (same answer on all 1248 fixtures it sees).
    detector = DeviceDetector(ua, skip_bot_detection=True, check_cache=False)
    detector.parse_os()
    detector.parse_device()
    detected = detector.device_type()
    return _DETECTED.get(str(getattr(detected, "value", detected) or ""))


def token_class(ua: str, os_family: str | None, device_family: str | None) -> str:
    """The plain token rules: ua-parser's device and OS families plus the usual user-agent tokens."""
    if device_family in ("iPad", "Generic Tablet") or _TABLET.search(ua):
        return TABLET
    if _TV_CONSOLE.search(ua):
        return OTHER
    if device_family in ("iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone") or _MOBILE.search(ua):
        return MOBILE
    if os_family == "Android":  # Android without "Mobile" is a tablet by Google's own convention
        return TABLET
    if os_family == "iOS":
        return MOBILE
    if os_family in _DESKTOP_OS or _DESKTOP.search(ua):
        return DESKTOP
    return OTHER


def device_class(ua: str, os_family: str | None, device_family: str | None,
                 detections: Detections | None = None) -> str:
    """desktop, mobile, tablet, bot (ua-parser's spider class) or other, for one user agent; ``detections``: the
    run's remembered detector answers (none: the detector is asked about ``ua`` itself)."""
    if device_family == "Spider":
        return BOT
    detected = detections.detected_class if detections is not None else detected_class
    return confident_class(ua) or detected(ua) or token_class(ua, os_family, device_family)
