"""Property-based tests (hypothesis) of reading, for every log format.

- Any file (arbitrary text, mutations of real corpus lines, blank and ``#`` lines, any line ends, NUL bytes,
  invalid UTF-8, over-long lines) read with any format ends with every line an event, a reject with a reason, a
  skip, a header or a blank line: the counts add up to the lines read, no line number is used twice, and nothing
  raises or hangs (hypothesis' deadline catches a slow example).
- Masking is by token: an IPv4 or IPv6 literal glued to any neighbour never reaches the rejects raw.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path

import pytest
from conftest import CORPORA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ip_scan import spellings

from stats_lib.privacy import mask_ips
from stats_lib.sources import FORMATS, get_format
from stats_lib.sources.base import MAX_LINE_BYTES, LineReader
from stats_lib.sources.streams import chunks

SEEDS = {  # a corpus file whose lines each format's mutations start from
    "cloudfront": "elastic-integrations-aws/test-cloudfront.log",
    "s3": "matomo-log-analytics/s3.log",
    "alb": "matomo-log-analytics/alb.log",
    "elb": "matomo-log-analytics/elb.log",
    "caddy_json": "matomo-log-analytics/caddy_json.log",
    "traefik_json": "matomo-log-analytics/traefik_json.log",
    "nginx_json": "matomo-log-analytics/nginx_json.log",
    "vhost_combined": "matomo-log-analytics/common_complete.log",
    "vhost_common": "matomo-log-analytics/common_vhost.log",
    "combined": "elastic-examples-apache-logs/apache_logs",
    "common": "matomo-log-analytics/common.log",
}
CLOUDFRONT_V2_LINES = [  # no corpus holds CloudFront standard logging v2 JSON: lines in its documented fields
    '{"timestamp(ms)": "1714564801500", "c-ip": "198.51.100.7", "cs-method": "GET", "cs-host": "example.net", '
    '"cs-uri-stem": "/a%20b", "sc-status": "200", "cs(User-Agent)": "Mozilla/5.0", "x-edge-location": "IAD89-C1"}',
    '{"date": "2024-05-01", "time": "12:00:01", "c-ip": "2001:db8::7", "cs-uri-stem": "/x", "sc-status": 404}',
]
EXAMPLES = 60
PROPERTY = settings(max_examples=EXAMPLES, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                                  HealthCheck.too_slow])


@cache
def seed_lines(name: str) -> tuple[str, ...]:
    if name == "cloudfront_v2":
        return tuple(CLOUDFRONT_V2_LINES)
    path = CORPORA / SEEDS[name]
    if not path.exists():
        pytest.skip(f"the shared corpora are not beside this clone ({CORPORA})")
    text = b"".join(chunks(path)).decode("utf-8", "replace")
    return tuple(line for line in text.splitlines() if line.strip())[:200]


NASTY = st.sampled_from(["\t", " ", '"', "\\", "[", "]", "-", "\x00", "\r", "\u202e", "\ufffd", "%", "#", "{", "}",
                         ":", "_", ".", "\x1b", "é", "🙂"])


@st.composite
def mutated(draw, name: str) -> str:
    """A real line of the format, mutated: characters replaced, inserted or deleted, cut, or fields swapped."""
    line = draw(st.sampled_from(seed_lines(name)))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "cut", "swap"]))
        if not line:
            break
        i = draw(st.integers(0, len(line) - 1))
        char = draw(st.one_of(NASTY, st.characters(blacklist_categories=("Cs",))))
        if kind == "replace":
            line = line[:i] + char + line[i + 1 :]
        elif kind == "insert":
            line = line[:i] + char + line[i:]
        elif kind == "delete":
            line = line[:i] + line[i + 1 :]
        elif kind == "cut":
            line = line[:i]
        else:
            parts = line.split(" ")
            draw_i = draw(st.integers(0, len(parts) - 1))
            parts[0], parts[draw_i] = parts[draw_i], parts[0]
            line = " ".join(parts)
    return line.replace("\n", " ")


def any_line(name: str):
    return st.one_of(
        mutated(name),
        st.sampled_from(seed_lines(name)),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=200).map(lambda t: t.replace("\n", " ")),
        st.sampled_from(["", "   ", "\t", "#Version: 1.0", "# a comment", "-", '""', "{}", "[]", "null"]),
    )


@st.composite
def log_file(draw, name: str) -> bytes:
    lines = draw(st.lists(any_line(name), max_size=25))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    data = b"".join(line.encode("utf-8", "surrogatepass") + ending.encode() for line in lines)
    if draw(st.booleans()) and data:  # the last line without its line end
        data = data[: -len(ending)]
    if draw(st.integers(0, 9)) == 0:  # invalid UTF-8 somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe" + data[at:]
    if draw(st.integers(0, 19)) == 0:  # an over-long line
        data += b"\n" + b"x" * (MAX_LINE_BYTES + draw(st.integers(1, 5000)))
    return data


def read_all(path: Path, name: str) -> tuple[LineReader, list[dict]]:
    reader = LineReader(str(path), source_file=path.name, batch_size=7)
    rows = [row for table in get_format(name).parse(reader) for row in table.to_pylist()]
    return reader, rows


@pytest.mark.parametrize("name", [n for n in FORMATS])
def test_every_line_becomes_an_event_or_a_reject_and_the_counts_add_up(name, tmp_path):
    seed_lines(name)  # skips without the corpora

    @PROPERTY
    @given(data=log_file(name))
    def check(data: bytes) -> None:
        path = tmp_path / f"{name}.log"
        path.write_bytes(data)
        reader, rows = read_all(path, name)
        assert reader.lines == len(rows) + reader.rejected + reader.skipped + reader.headers + reader.blank
        expected_lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
        assert reader.lines == expected_lines
        numbers = [r["line_number"] for r in rows] + [r[0] for r in reader.rejects]
        assert len(numbers) == len(set(numbers)) and all(1 <= n <= reader.lines for n in numbers)
        assert all(reason for _, _, reason, _ in reader.rejects)
        assert all(len(text) <= 2001 for *_, text in reader.rejects)

    check()


@pytest.mark.parametrize("name", ["cloudfront", "combined", "alb", "s3"])
def test_gzip_of_any_file_reads_the_same_as_the_plain_file(name, tmp_path):
    import gzip

    seed_lines(name)

    @settings(max_examples=25, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=log_file(name))
    def check(data: bytes) -> None:
        plain, packed = tmp_path / "plain.log", tmp_path / "packed.log.gz"
        plain.write_bytes(data)
        packed.write_bytes(gzip.compress(data))
        (r1, rows1), (r2, rows2) = read_all(plain, name), read_all(packed, name)
        assert rows1 == rows2 and r1.rejects == r2.rejects and (r1.lines, r1.blank) == (r2.lines, r2.blank)

    check()


# -- masking by token -----------------------------------------------------------------------------------------

def _not_its_own_prefix(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address that is not the network address of its stored prefix (x.y.z.0, a:b:c::): masking shows those."""
    if ip.version == 4:
        return int(ip) & 0xFF != 0
    return int(ip) & ((1 << 80) - 1) != 0 and not ip.ipv4_mapped


ADDRESSES = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).filter(_not_its_own_prefix)
NEIGHBOURS = st.text(st.sampled_from("aZx_.:-/\\\t =\"'[]()@#%09fF"), max_size=3)


@settings(max_examples=400, deadline=None)
@given(ip=ADDRESSES, before=NEIGHBOURS, after=NEIGHBOURS, exploded=st.booleans(), context=st.sampled_from([
    "{}", "GET /x?from={} HTTP/1.1", "2024-05-01\t12:00:01\tIAD89-C1\t420\t{}\tGET", "Hit_{}_GET", "ip={};",
]))
def test_an_address_glued_to_any_neighbour_is_masked(ip, before, after, exploded, context):
    written = ip.exploded if exploded and ip.version == 6 else str(ip)
    text = context.format(before + written + after)
    masked = mask_ips(text)
    for form in spellings(ip):
        assert form not in masked, (text, masked)


@pytest.mark.parametrize("name", ["cloudfront", "combined", "alb"])
def test_no_raw_address_reaches_the_rejects(name, tmp_path):
    seed_lines(name)

    @settings(max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(lines=st.lists(st.tuples(mutated(name), ADDRESSES, NEIGHBOURS, NEIGHBOURS, st.integers(0, 10_000)),
                          min_size=1, max_size=10))
    def check(lines) -> None:
        texts, addresses = [], []
        for line, ip, before, after, at in lines:
            at %= len(line) + 1
            texts.append(line[:at] + before + str(ip) + after + line[at:])
            addresses.append(ip)
        path = tmp_path / "glued.log"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8", errors="surrogatepass")
        reader, _ = read_all(path, name)
        stored = "\n".join(text for *_, text in reader.rejects) + "\n".join(reader.reasons)
        for ip in addresses:
            for form in spellings(ip):
                assert form not in stored, (form, stored)

    check()


@pytest.mark.parametrize("name, before, after, reason", [
    ("alb", " 200 200 ", " 200200 200 ", "bad status code"),  # the example hypothesis found in CI
    ("elb", " 200 200 ", " 99999 200 ", "bad status code"),
    ("cloudfront", "\t200\t", "\t99999\t", "bad status"),      # sc-status past int16
    ("combined", '" 200 ', '" 200200 ', "not a combined log line"),
])
def test_a_number_too_big_for_its_column_rejects_only_its_line(name, before, after, reason, tmp_path):
    good = next(line for line in seed_lines(name) if before in line)
    broken = good.replace(before, after, 1)
    path = tmp_path / "big.log"
    header = [line for line in seed_lines(name) if line.startswith("#")]
    path.write_text("\n".join(header + [good, broken, good]) + "\n", encoding="utf-8")
    reader, rows = read_all(path, name)
    assert [r["line_number"] for r in rows] == [len(header) + 1, len(header) + 3]
    assert [(r[0], r[2]) for r in reader.rejects] == [(len(header) + 2, reason)]


_CLF_STAMPS = st.one_of(
    st.none(),
    st.builds(lambda d, h, z: f"{d:02d}/Feb/2012:{h:02d}:42:07 {z}", st.integers(1, 31), st.integers(0, 25),
              st.sampled_from(["-0500", "+0000", "+0130", "bogus"])),
    st.text(max_size=30),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_CLF_STAMPS, max_size=60))
def test_timestamps_parsed_once_per_distinct_value_equal_parsing_every_value(values):
    """``_arrow.per_distinct``: Apache/S3 timestamps (repeats, nulls, impossible days, garbage) read as
    Arrow's strptime reads each row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from stats_lib.sources.base import clf_time_column

    strings = pc.utf8_trim(pa.array(values, pa.string()), "[]")
    every = pc.strptime(strings, format="%d/%b/%Y:%H:%M:%S %z", unit="ms", error_is_null=True)
    expected = pc.cast(every, pa.timestamp("ms"), safe=False)
    assert clf_time_column(values).to_pylist() == expected.to_pylist()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 40))
def test_line_ends_are_counted_as_bytes_count_counts_them(data, step):
    """``blocks.line_ends``, whatever the slices' boundaries."""
    from stats_lib.sources.blocks import line_ends

    assert line_ends(data, step) == data.count(b"\n")
