"""Bots: the combined lists against crawler-user-agents' and device-detector's labelled examples."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
import yaml

from stats_lib.enrich import bots

BOTS = bots.Bots()  # one for the module, as one ingest run has one


def _load(path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _humans(corpora):
    out = []
    for name in ("desktop", "smartphone", "tablet"):
        for case in _load(corpora / "matomo-device-detector" / "fixtures" / f"{name}.yml"):
            if (case.get("client") or {}).get("type") in ("browser", "mobile app"):
                out.append(case["user_agent"])
    return out


def test_recall_on_every_labelled_bot(corpora):
    cua = json.loads((corpora / "crawler-user-agents" / "crawler-user-agents.json").read_text(encoding="utf-8"))
    examples = [ua for entry in cua for ua in entry.get("instances", [])]
    matomo = [case["user_agent"] for case in _load(corpora / "matomo-device-detector" / "fixtures" / "bots.yml")]
    assert len(examples) == 2116 and len(matomo) == 1342
    missed_cua = [ua for ua in examples if BOTS.name(ua) is None]
    missed_matomo = [ua for ua in matomo if BOTS.name(ua) is None]
    recall_cua = 1 - len(missed_cua) / len(examples)
    recall_matomo = 1 - len(missed_matomo) / len(matomo)
    recall = 1 - (len(missed_cua) + len(missed_matomo)) / (len(examples) + len(matomo))
    print(
        f"\nbot recall: {recall:.2%} overall; crawler-user-agents instances {recall_cua:.2%} "
        f"({len(examples) - len(missed_cua)}/{len(examples)}), device-detector bots.yml {recall_matomo:.2%} "
        f"({len(matomo) - len(missed_matomo)}/{len(matomo)})"
    )
    for ua in missed_cua + missed_matomo:
        print("  missed:", ua)
    assert recall_cua >= 0.98
    assert recall_matomo >= 0.98


def test_humans_are_rarely_flagged(corpora):
    humans = _humans(corpora)
    assert len(humans) == 1534
    flagged = [(ua, BOTS.name(ua)) for ua in humans if BOTS.name(ua) is not None]
    rate = len(flagged) / len(humans)
    print(f"\nhuman user agents flagged as bots: {rate:.2%} ({len(flagged)}/{len(humans)})")
    for ua, name in flagged:
        print(f"  flagged as {name!r}: {ua}")
    assert rate <= 0.005


def test_crawlerdetect_alone_would_fail_the_humans(corpora):
    """Why CRAWLERDETECT_DROPPED exists: unfiltered crawlerdetect flags many browsers and office apps."""
    from crawlerdetect import CrawlerDetect

    detector = CrawlerDetect()
    humans = _humans(corpora)
    flagged = sum(detector.is_crawler(ua) for ua in humans)
    assert flagged / len(humans) > 0.05


@pytest.mark.parametrize(
    "ua, name",
    [
        ("curl/7.55.1", "curl"),
        ("Wget/1.21.4", "Wget"),
        ("python-requests/2.31.0", "python-requests"),
        ("Go-http-client/1.1", "Go-http-client"),
        ("okhttp/4.12.0", "okhttp"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/100.0.4896.88 Safari/537.36", "HeadlessChrome"),
        ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "UptimeRobot"),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Facebook preview"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", "GPTBot"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", "ClaudeBot"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"),
        ("", bots.EMPTY),
        ("   ", bots.EMPTY),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", None),
        ("Microsoft Office Word/16.78.1008 (Mac OS/14.0; Desktop; en-US; NonAppStore; Apple/Mac15,10)", None),
    ],
)
def test_names(ua, name):
    assert BOTS.name(ua) == name


def test_columns_null_user_agent_is_unknown_not_a_bot():
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
    cols = BOTS.columns(pa.array([chrome, None, "", "curl/8.0", chrome], pa.string()))
    assert cols["is_bot"].to_pylist() == [False, None, True, True, False]
    assert cols["bot_name"].to_pylist() == [None, None, bots.EMPTY, "curl", None]
