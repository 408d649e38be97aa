"""Referrer sources and channels, UTM campaigns and click ids."""

from __future__ import annotations

import pyarrow as pa
import pytest

from stats_lib.enrich import campaigns, referrers


@pytest.mark.parametrize(
    "referrer, site, expected",
    [
        (None, "example.com", (None, None, "direct")),
        ("", "example.com", (None, None, "direct")),
        ("-", "example.com", (None, None, "direct")),
        ("https://www.google.com/", "example.com", ("google.com", "Google", "search")),
        ("https://www.google.co.uk/search?q=x", "example.com", ("google.co.uk", "Google", "search")),
        ("https://search.yahoo.co.jp/search?p=x", "example.com", ("search.yahoo.co.jp", "Yahoo!", "search")),
        ("https://duckduckgo.com/", "example.com", ("duckduckgo.com", "DuckDuckGo", "search")),
        ("https://t.co/abc", "example.com", ("t.co", "X (Twitter)", "social")),
        ("https://news.ycombinator.com/item?id=1", "example.com", ("news.ycombinator.com", "Hacker News", "social")),
        ("https://l.facebook.com/l.php?u=x", "example.com", ("l.facebook.com", "Facebook", "social")),
        ("https://mail.google.com/mail/u/0/", "example.com", ("mail.google.com", "Gmail", "email")),
        ("android-app://com.google.android.gm/", "example.com", ("com.google.android.gm", "Gmail", "email")),
        ("android-app://com.google.android.googlequicksearchbox/https/www.google.com", "example.com",
         ("com.google.android.googlequicksearchbox", "Google", "search")),
        ("android-app://org.example.reader/", "example.com", ("org.example.reader", None, "other")),
        ("https://chatgpt.com/", "example.com", ("chatgpt.com", "ChatGPT", "ai")),
        ("https://www.perplexity.ai/search/x", "example.com", ("perplexity.ai", "Perplexity", "ai")),
        ("https://gemini.google.com/app", "example.com", ("gemini.google.com", "Gemini", "ai")),
        ("https://www.example.com/about", "example.com", ("example.com", None, "internal")),
        ("http://example.com:8080/", "example.com", ("example.com", None, "internal")),
        ("https://blog.example.org/post", "example.com", ("blog.example.org", None, "other")),
        ("not a url at all", "example.com", (None, None, "other")),
        ("https://googlefoo.com/", "example.com", ("googlefoo.com", None, "other")),
    ],
)
def test_classify(referrer, site, expected):
    assert referrers.classify(referrer, site) == expected


def test_source_list_is_real_and_valid():
    lst = referrers.source_list()
    channels = {c for _, c in lst.hosts.values()}
    assert channels == {"search", "social", "email", "ai"}
    assert len({name for name, _ in lst.hosts.values()}) >= 60


def test_referrer_columns_depend_on_the_row_site():
    refs = pa.array(["https://a.com/x", "https://a.com/x", None, "https://www.bing.com/"])
    sites = pa.array(["a.com", "b.com", "a.com", "a.com"])
    cols = referrers.Referrers().columns(refs, sites)
    assert cols["referrer_channel"].to_pylist() == ["internal", "other", "direct", "search"]
    assert cols["referrer_source"].to_pylist() == [None, None, None, "Bing"]
    assert cols["referrer_host"].to_pylist() == ["a.com", "a.com", None, "bing.com"]


@pytest.mark.parametrize("site", ["a.com", None])
def test_one_site_batches_give_what_mixed_batches_give(site):
    """A batch of one site takes a shorter path (keyed by the referrer alone); its answers are the same."""
    refs = pa.array(["https://a.com/x", None, "https://www.bing.com/", "-", "android-app://com.slack/", "https://a.com/x"])
    one = referrers.Referrers().columns(refs, pa.array([site] * len(refs), pa.string()))
    mixed = referrers.Referrers().columns(
        pa.concat_arrays([refs, pa.array(["x"])]), pa.array([site] * len(refs) + ["other.org"], pa.string())
    )
    assert {k: v.to_pylist() for k, v in one.items()} == {k: v.to_pylist()[:-1] for k, v in mixed.items()}
    assert one["referrer_channel"].to_pylist()[:2] == ["internal" if site else "other", "direct"]


@pytest.mark.parametrize(
    "query, expected",
    [
        (None, (None,) * 6),
        ("", (None,) * 6),
        ("page=2", (None,) * 6),
        ("utm_source=News%20letter&utm_medium=email&utm_campaign=spring+sale&utm_term=shoes&utm_content=top",
         ("News letter", "email", "spring sale", "shoes", "top", None)),
        ("UTM_SOURCE=Twitter&utm_medium=social", ("Twitter", "social", None, None, None, None)),
        ("ref=producthunt", ("producthunt", None, None, None, None, None)),
        ("source=global", ("global", None, None, None, None, None)),
        ("ref=x&utm_source=y", ("y", None, None, None, None, None)),
        ("gclid=Cj0KCQ123", (None, None, None, None, None, "gclid")),
        ("utm_source=fb&fbclid=IwAR0abc", ("fb", None, None, None, None, "fbclid")),
        ("msclkid=abc", (None, None, None, None, None, "msclkid")),
        ("utm_campaign=%E2%9C%93%20done", (None, None, "✓ done", None, None, None)),
    ],
)
def test_campaigns(query, expected):
    assert campaigns.parse(query) == expected


def test_campaign_values_are_capped_and_columns_aligned():
    long = "x" * 500
    cols = campaigns.Campaigns().columns(pa.array([f"utm_source={long}", None, "gclid=1"]))
    assert set(cols) == set(campaigns.COLUMNS)
    assert len(cols["utm_source"].to_pylist()[0]) == campaigns.MAX_LENGTH
    assert cols["click_id"].to_pylist() == [None, None, "gclid"]
