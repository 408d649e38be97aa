"""The device detector asked about an agent's key (``devices.detector_key``: Chrome on Android with its version
replaced) answers exactly as when asked about the agent itself: on every such agent of device-detector's own
fixtures and of the ``make bench`` corpus. The plain computation (the detector on the agent) is the reference."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml
from device_detector.lazy_regex import RegexLazy

from stats_lib.benchmarks.ingest import corpus_agents
from stats_lib.enrich import agents, devices
from stats_lib.enrich._detector_prefilter import prefiltered

CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/124.0.6367.82 Mobile Safari/537.36")


def _fixture_agents(corpora) -> list[str]:
    found: set[str] = set()
    for path in sorted((corpora / "matomo-device-detector" / "fixtures").glob("*.yml")):
        cases = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        found.update(case["user_agent"] for case in cases)
    return sorted(found)


def _keyed(uas: list[str]) -> list[str]:
    return [ua for ua in uas if devices.detector_key(ua) != ua]


def _disagreements(uas: list[str]) -> list[tuple[str, str | None, str | None]]:
    """(agent, the detector on the agent, the detector on its key) wherever the two differ."""
    answers: dict[str, str | None] = {}
    out = []
    for ua in uas:
        key = devices.detector_key(ua)
        if key not in answers:
            answers[key] = devices.detected_class(key)
        plain = devices.detected_class(ua)
        if plain != answers[key]:
            out.append((ua, plain, answers[key]))
    return out


def test_only_the_standard_chrome_on_android_form_gets_a_key():
    key = devices.detector_key(CHROME_ANDROID)
    assert key == CHROME_ANDROID.replace("124.0.6367.82", devices.CANONICAL_CHROME)
    others = [
        CHROME_ANDROID.replace("SM-S918B", "SM-S918B Build/UP1A.231005.007; wv"),  # WebView
        CHROME_ANDROID.replace("(KHTML, like Gecko)", "(KHTML, like Gecko) Version/4.0"),
        CHROME_ANDROID + " OPR/80.0.4170.72",  # another browser built on Chrome
        CHROME_ANDROID.replace("Chrome/124.0.6367.82", "Chrome/124.0"),
        CHROME_ANDROID.replace("Linux; Android 14", "X11; Linux x86_64"),
        "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
    ]
    assert [devices.detector_key(ua) for ua in others] == others


def test_detector_answers_by_key_on_every_keyed_fixture_agent(corpora):
    keyed = _keyed(_fixture_agents(corpora))
    assert len(keyed) > 400  # device-detector's fixtures hold hundreds of Chrome-on-Android agents
    assert _disagreements(keyed) == []


def test_detector_answers_by_key_on_every_keyed_agent_of_the_bench_corpus():
    uas = corpus_agents("default")
    assert len(uas) == 3406
    keyed = _keyed(uas)
    assert len(keyed) > 700 and len({devices.detector_key(ua) for ua in keyed}) < 50
    assert _disagreements(keyed) == []


def test_a_run_asks_the_detector_once_per_key():
    parser = agents.UserAgents()
    versions = ["124.0.6367.82", "131.0.6778.135", "99.0.4844.51"]
    uas = [CHROME_ANDROID.replace("124.0.6367.82", v) for v in versions]
    classes = {parser.parse(ua).device for ua in uas}
    assert parser.detections.answers == {devices.detector_key(uas[0]): "mobile"}
    assert classes == {devices.device_class(uas[0], "Android", "Samsung SM-S918B")} == {"mobile"}
    other = "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36"
    assert parser.parse(other).device == devices.device_class(other, "Android", "Pixel 7")
    assert len(parser.detections.answers) == 2


def test_named_bots_skip_the_device_class_and_the_columns_stay_the_same():
    """The pipeline's wiring (``UserAgents.bot_named`` = ``Bots.named``) never computes a named bot's class; the
    columns the pipeline keeps (device "bot" for every bot) equal those of a plain ``UserAgents``, on every agent of
    the bench corpus."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from stats_lib.enrich.bots import Bots

    uas = pa.array(corpus_agents("default") + [None], pa.string())
    plain = agents.UserAgents()
    expected = plain.columns(uas)
    wired = agents.UserAgents()
    bots = Bots(wired)
    wired.bot_named = bots.named
    is_bot = pc.fill_null(bots.columns(uas)["is_bot"], False)
    got = wired.columns(uas)
    assert pc.sum(is_bot).as_py() > 300
    for name in ("browser", "browser_version", "os", "os_version"):
        assert got[name].equals(expected[name]), name
    assert pc.if_else(is_bot, "bot", got["device"]).equals(pc.if_else(is_bot, "bot", expected["device"]))
    assert len(wired.parsed) < len(plain.parsed) - 300  # the bots were never given a device class


def test_answers_prefetched_by_the_helper_process_are_the_detectors_own():
    """``Detections(helper=)``: a batch's new keys go to the helper process at once; the answers it sends back
    equal the detector asked in this process, and a gone helper only means this process asks itself."""
    import os

    uas = _keyed(corpus_agents("small"))
    keys = sorted({devices.detector_key(ua) for ua in uas})
    assert len(keys) >= devices.PREFETCH_MIN_KEYS
    plain = {key: devices.detected_class(key) for key in keys}
    with devices.detector_helper() as helper:
        asked = helper.submit(os.getpid).result()
        assert asked != os.getpid()  # the helper really is another process
        detections = devices.Detections(helper=helper)
        detections.prefetch(uas)
        first = detections.detected_class(uas[0])  # waits for the helper's answers: all of them arrive
        assert set(detections.answers) == set(keys)
        assert detections.answers == plain  # what the helper sent, and what every agent is answered from
        assert {devices.detector_key(ua): detections.detected_class(ua) for ua in uas} == plain
        assert first == plain[devices.detector_key(uas[0])]
        few = devices.Detections(helper=helper)
        few.prefetch(uas[:1])  # under PREFETCH_MIN_KEYS: asked here, when needed
        assert few.answers == {} and few.detected_class(uas[0]) == first
    gone = devices.Detections(helper=helper)  # shut down: prefetch gives up, answers come from here
    gone.prefetch(uas)
    assert gone.helper is None
    assert {devices.detector_key(ua): gone.detected_class(ua) for ua in uas} == plain


def test_a_forked_process_drops_the_parents_helper_and_pending_answers():
    with devices.detector_helper() as helper:
        detections = devices.Detections(helper=helper)
        detections.prefetch(_keyed(corpus_agents("small")))
        detections.forked()
        assert detections.helper is None
        ua = _keyed(corpus_agents("small"))[0]
        assert detections.detected_class(ua) == devices.detected_class(devices.detector_key(ua))


def test_the_helper_process_ends_when_its_parent_is_killed(tmp_path):
    """A killed ingest leaves no helper behind holding its files (the warehouse lock above all)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    code = ("import os, sys, time; from stats_lib.enrich import devices; pool = devices.detector_helper(); "
            "print(pool.submit(os.getpid).result(), flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    helper = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    def alive() -> bool:  # a zombie has ended (whether init has reaped it yet or not)
        try:
            stat = open(f"/proc/{helper}/stat").read()
        except FileNotFoundError:
            return False
        return stat[stat.rindex(")") + 2] != "Z"

    deadline = time.monotonic() + 20
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive():
        os.kill(helper, signal.SIGKILL)
        raise AssertionError("the helper outlived its killed parent")


# -- the RE2 prefilter (enrich/_detector_prefilter.py) ----------------------------------------------------------
_DETECT_IN_A_FRESH_PROCESS = """
import json, sys
import device_detector.lazy_regex as lazy_regex
from stats_lib.enrich import devices
compiled = []
plain_compile = lazy_regex.regex.compile
lazy_regex.regex.compile = lambda *args: compiled.append(args[0]) or plain_compile(*args)
agents = json.load(sys.stdin)
if sys.argv[1] == "batch":
    answers = devices.detected_classes(agents)
else:
    answers = {ua: devices.detected_class(ua) for ua in agents}
json.dump({"answers": answers, "compiled": len(compiled)}, sys.stdout)
"""


def _detect_in_fresh_processes(agents: list[str]) -> dict[str, dict]:
    """Both ways at once, each in an interpreter where device-detector has compiled nothing yet."""
    runs = {how: subprocess.Popen([sys.executable, "-c", _DETECT_IN_A_FRESH_PROCESS, how], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True) for how in ("batch", "one by one")}
    for run in runs.values():
        run.stdin.write(json.dumps(agents))
        run.stdin.close()
    out = {how: json.loads(run.stdout.read()) for how, run in runs.items()}
    assert all(run.wait() == 0 for run in runs.values())
    return out


def test_a_batch_gets_the_detectors_own_answers_with_most_regexes_never_compiled(corpora):
    """Every agent of device-detector's fixtures that reaches the detector, and every bench-corpus key, asked as one
    batch (RE2 first) and one by one (the plain detector): the same class for each, and the batch compiles a
    fraction of the regexes."""
    agents = sorted({ua for ua in _fixture_agents(corpora) if devices.confident_class(ua) is None}
                    | {devices.detector_key(ua) for ua in corpus_agents("default") if devices.confident_class(ua) is None})
    assert len(agents) > 2400
    got = _detect_in_fresh_processes(agents)
    assert got["batch"]["answers"] == got["one by one"]["answers"]
    assert got["batch"]["compiled"] * 3 < got["one by one"]["compiled"], (got["batch"]["compiled"],
                                                                         got["one by one"]["compiled"])


def _searched(pattern: str, text: str, flags: int = 0, batch: list[str] | None = None) -> tuple[bool, bool]:
    """(whether ``pattern`` found a match in ``text`` inside a batch, whether the regex had to be compiled)."""
    lazy = RegexLazy(pattern, flags)
    with prefiltered(batch if batch is not None else [text]):
        found = lazy.search(text) is not None
    return found, object.__getattribute__(lazy, "compiled") is not None


def test_where_re2_could_miss_a_match_the_regex_decides():
    import regex

    cases = [  # (pattern, text, flags): what regex finds is the answer, whatever RE2 would say
        (r"xa{,2}b", "xb", 0),  # {,n}: a repeat to regex, literal text to RE2
        (r"(?:foo){e<=1}", "fxo", 0),  # fuzzy matching: regex only
        (r"abc(?i)DEF", "abcdef", 0),  # a flag set inline: the engines read it differently
        (r"foo$", "foo\n", 0),  # a newline: $ matches before it in regex only
        (r"\bfoo", "éfoo", 0),  # not ASCII: \b and \w differ
        (r"\d+x", "١٢x", 0),  # Arabic-Indic digits are \d to regex only
        (r"(a)\1b", "aab", 0),  # a back-reference: RE2 refuses it
        (r"FOO(?=bar)", "foobar", regex.IGNORECASE),  # a look-ahead, removed for RE2 (wider), then regex decides
        (r"FOO(?=bar)", "foobaz", regex.IGNORECASE),
        (r"Samsung", "SM-S918B", 0),  # no match: RE2 says so and nothing is compiled
    ]
    for pattern, text, flags in cases:
        expected = regex.compile(pattern, flags).search(text) is not None
        assert _searched(pattern, text, flags)[0] == expected, (pattern, text)
    assert _searched("Samsung", "SM-S918B") == (False, False)  # skipped without compiling
    assert _searched("Samsung", "SM-S918B", batch=["other"]) == (False, True)  # not a batch key: compiled
    lazy = RegexLazy("Samsung")
    assert lazy.search("SM-S918B") is None and object.__getattribute__(lazy, "compiled") is not None  # no batch
