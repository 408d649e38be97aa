"""User agents: ua-parser (Rust resolver) on distinct values; browser families against uap-core's test_ua.yaml."""

from __future__ import annotations

import pyarrow as pa
import pytest
import yaml

from stats_lib.enrich import agents

PARSER = agents.UserAgents()  # one for the module, as one ingest run has one

# Cases where the installed ua-parser-builtins regexes may legitimately disagree with this uap-core snapshot
# (the wheel bundles its own uap-core release). Listed so a new disagreement shows up by name.
ALLOWED_DISAGREEMENTS: set[str] = set()


def _load(path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def test_uses_the_rust_resolver():
    from ua_parser.regex import Resolver

    assert isinstance(agents.resolver(), Resolver)


def test_browser_family_agreement_with_uap_core(corpora):
    cases = _load(corpora / "uap-core" / "test_ua.yaml")["test_cases"]
    assert len(cases) == 1601
    disagreements = []
    for case in cases:
        agent = PARSER.parse(case["user_agent_string"])
        got = (agent.browser if agent else None) or "Other"
        if got != case["family"]:
            disagreements.append((case["user_agent_string"], case["family"], got))
    agreement = 1 - len(disagreements) / len(cases)
    print(f"\nuap-core test_ua.yaml browser family agreement: {agreement:.4%} ({len(cases) - len(disagreements)}/{len(cases)})")
    for ua, want, got in disagreements:
        print(f"  disagreement: expected {want!r}, got {got!r}: {ua}")
    unexpected = [d for d in disagreements if d[0] not in ALLOWED_DISAGREEMENTS]
    assert agreement >= 0.99
    assert len(unexpected) <= 0.01 * len(cases)


def test_device_class_against_device_detector_fixtures(corpora):
    """Our device class agrees with device-detector's labels (its fixtures, not our code) on at least 97% of the
    browsers and mobile apps among the human fixtures."""
    expected_class = {"desktop": "desktop", "smartphone": "mobile", "phablet": "mobile", "tablet": "tablet"}
    total = agree = 0
    misses = []
    for name in ("desktop", "smartphone", "tablet"):
        for case in _load(corpora / "matomo-device-detector" / "fixtures" / f"{name}.yml"):
            if (case.get("client") or {}).get("type") not in ("browser", "mobile app"):
                continue
            want = expected_class.get((case.get("device") or {}).get("type"))
            if want is None:
                continue
            total += 1
            got = PARSER.parse(case["user_agent"]).device
            agree += got == want
            if got != want:
                misses.append((want, got, case["user_agent"]))
    print(f"\ndevice class agreement with device-detector fixtures: {agree / total:.2%} ({agree}/{total})")
    for want, got, ua in misses:
        print(f"  expected {want}, got {got}: {ua}")
    assert total == 1534
    assert agree / total >= 0.97


def test_confident_tokens_agree_with_the_detector_where_they_decide(corpora):
    """The cheap first step never overrules the detector on the fixtures it decides (same labelled corpus)."""
    from stats_lib.enrich import devices

    decided = wrong = 0
    for name in ("desktop", "smartphone", "tablet"):
        for case in _load(corpora / "matomo-device-detector" / "fixtures" / f"{name}.yml"):
            quick = devices.confident_class(case["user_agent"])
            if quick is None or (case.get("client") or {}).get("type") not in ("browser", "mobile app"):
                continue
            decided += 1
            wrong += quick != {"smartphone": "mobile", "phablet": "mobile"}.get(case["device"]["type"], case["device"]["type"])
    print(f"\nfirst step decided {decided}, {wrong} against the fixtures' labels")
    assert decided > 200 and wrong == 0


@pytest.mark.parametrize(
    "ua, browser, version, os, os_version, device",
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36",
            "Chrome", "78", "Windows", "10", "desktop",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "Mobile Safari", "17", "iOS", "17.4", "mobile",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            "Mobile Safari", "16", "iOS", "16.6", "tablet",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Chrome", "120", "Android", "13", "tablet",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox", "121", "Mac OS X", "10.15", "desktop",
        ),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "Googlebot", "2", None, None, "bot"),
    ],
)
def test_known_agents(ua, browser, version, os, os_version, device):
    a = PARSER.parse(ua)
    assert (a.browser, a.browser_version, a.os, a.os_version, a.device) == (browser, version, os, os_version, device)


def test_columns_are_aligned_and_parse_each_distinct_value_once():
    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 t1"
    parser = agents.UserAgents()
    values = pa.array([chrome, None, chrome, "", chrome], pa.string())
    cols = parser.columns(values)
    assert set(cols) == {"browser", "browser_version", "os", "os_version", "device"}
    assert cols["browser"].to_pylist() == ["Chrome", None, "Chrome", None, "Chrome"]
    assert cols["device"].to_pylist() == ["desktop", None, "desktop", "other", "desktop"]
    assert list(parser.parsed) == [chrome]  # one parse for three rows; null and empty are not parsed
    again = parser.columns(pa.array([chrome]))  # a later batch is served from the cache
    assert again["os"].to_pylist() == ["Linux"]
