"""CloudFront's fast path (Arrow's CSV reader on plain blocks) gives exactly what the plain path (lines split
inside Arrow, checked one by one where needed) gives: the same rows, line numbers, rejects, skips, header and
blank counts, on the real corpora, on the bench generator's output and on blocks with every kind of damage the
plain path decides line by line."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pytest

from stats_lib.benchmarks.ingest import generate
from stats_lib.sources import cloudfront
from stats_lib.sources.base import LineReader
from stats_lib.sources.blocks import byte_blocks

CORPUS_FILES = [
    "aws-samples-cloudfront-log-analysis/sample-cloudfront-access-logs.gz",
    "sudhirj-scogs/CF.gz",
    "claygregory-node-cloudfront-log-parser/web-1-0.txt",
    "claygregory-node-cloudfront-log-parser/web-1-0-2019-12.txt",
    "elastic-integrations-aws/test-cloudfront.log",
]


def _read(path, fast: bool) -> tuple[pa.Table | None, dict]:
    reader = LineReader(str(path), source_file=path.name)
    tables = list(cloudfront.parse(reader, fast=fast))
    counts = {"lines": reader.lines, "headers": reader.headers, "blank": reader.blank, "rejects": reader.rejects,
              "reasons": dict(reader.reasons), "decode_errors": reader.decode_errors, "read_error": reader.read_error}
    return (pa.concat_tables(tables) if tables else None), counts


def _same(path) -> pa.Table | None:
    fast, fast_counts = _read(path, True)
    plain, plain_counts = _read(path, False)
    assert fast_counts == plain_counts
    assert (fast is None) == (plain is None)
    if fast is not None:
        assert fast.schema == plain.schema
        assert fast.equals(plain)
    return fast


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_fast_path_equals_plain_path_on_the_corpora(corpora, name):
    path = corpora / name
    if not path.exists():
        pytest.skip(f"{name} is not in this corpora snapshot")
    _same(path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Two hourly files of the bench generator (gzip), and the first one's text."""
    folder = tmp_path_factory.mktemp("bench")
    paths = generate(folder, lines=4000, hours=2)
    return paths, gzip.decompress(paths[0].read_bytes()).decode()


def test_fast_path_takes_plain_blocks_and_equals_the_plain_path(generated):
    paths, _ = generated
    for path in paths:
        table = _same(path)
        assert table is not None and table.num_rows == 2000
        reader = LineReader(str(path), source_file=path.name)
        (first, data, count), = byte_blocks(reader)
        taken = cloudfront._plain_block(data, first, count, cloudfront._Header(), reader)
        assert taken is not None and taken.num_rows == 2000 and reader.headers == 2


def _mutations(text: str) -> dict[str, str]:
    head, rest = text.split("\n", 2)[:2], text.split("\n", 2)[2]
    lines = rest.rstrip("\n").split("\n")
    record = lines[5]
    fields = record.split("\t")
    short_fields = "#Fields: " + " ".join(cloudfront.FIELDS[:24])

    def at(i: int, new: list[str]) -> str:
        return "\n".join([*head, *lines[:i], *new, *lines[i:]]) + "\n"

    return {
        "blank line": at(3, [""]),
        "blank line first": at(0, [""]),
        "whitespace line": at(3, ["   "]),
        "whitespace with tabs": at(3, ["\t".join([" "] * len(fields))]),
        "crlf": text.replace("\n", "\r\n"),
        "lone cr inside a line": at(3, [record.replace("Hit", "H\rit", 1)]),
        "trailing tab": at(3, [record + "\t"]),
        "two trailing tabs": at(3, [record + "\t\t"]),
        "last field empty": at(3, ["\t".join([*fields[:-1], ""])]),
        "one field more": at(3, [record + "\tx"]),
        "one field fewer": at(3, ["\t".join(fields[:-1])]),
        "a '#Fields' line later": at(7, [short_fields, "\t".join(fields[:24])]),
        "a comment later": at(7, ["#Version: 1.0"]),
        "bad date": at(3, ["\t".join(["2026-13-45", *fields[1:]])]),
        "bad time": at(3, ["\t".join([fields[0], "25:99:00", *fields[2:]])]),
        "bad status": at(3, ["\t".join([*fields[:8], "abc", *fields[9:]])]),
        "status too big": at(3, ["\t".join([*fields[:8], "200200", *fields[9:]])]),
        "status 000": at(3, ["\t".join([*fields[:8], "000", *fields[9:]])]),
        "bytes not a number": at(3, ["\t".join([*fields[:3], "12x", *fields[4:]])]),
        "empty fields": at(3, ["\t".join([*fields[:9], "", "", *fields[11:]])]),
        "quotes": at(3, ["\t".join([*fields[:9], '"quoted"', '"', *fields[11:]])]),
        "nul byte": at(3, [record.replace("GET", "G\x00ET", 1)]),
        "utf-8 text": at(3, [record.replace("/blog", "/blög", 1)]),
        "invalid utf-8 (as latin-1)": at(3, [record.replace("/blog", "/bl\udcf6g", 1)]),
        "line over the cap": at(3, [record + "x" * 70_000]),
        "line just under the cap": at(3, [record[:-1] + "x" * (65_536 - len(record))]),
        "line between half the cap and the cap": at(3, [record + "x" * 40_000]),
        "no header": "\n".join(lines) + "\n",
        "headers only": "\n".join(head) + "\n",
        "no final line end": text.rstrip("\n"),
        "final empty lines": text + "\n\n",
        "double-encoded agent": at(3, [record.replace("%20", "%2520")]),
    }


def test_fast_path_equals_plain_path_on_every_kind_of_damage(generated, tmp_path):
    _, text = generated
    for name, mutated in _mutations(text).items():
        path = tmp_path / "mutated.log"
        path.write_bytes(mutated.encode("utf-8", "surrogateescape"))
        try:
            _same(path)
        except AssertionError as exc:
            raise AssertionError(f"fast and plain paths differ for: {name}") from exc


def test_damaged_gzip_keeps_the_same_lines_either_way(generated, tmp_path):
    paths, _ = generated
    cut = tmp_path / "cut.gz"
    cut.write_bytes(paths[0].read_bytes()[:-2000])
    _same(cut)


def test_decode_column_equals_decode_on_each_value():
    """The vectorised %20 path and the per-value ``decode`` agree on tricky and on random (seeded) values."""
    import random

    tricky = ["", "-", "%", "%2", "%20", "%%20", "%20%", "%2520", "a%20b%2Cc", "%20%20", "%2g", "%C3%A9t%C3%A9", "%E9",
              "%2520%20", "Mozilla/5.0%20(X11;%20Linux)", "100%", "%2%20", "%20%2", "\u00e9%20\u00e8", None]
    rng = random.Random(13)
    alphabet = ["%", "2", "0", "5", "C", "a", " ", "\u00e9", "%20", "%25", "%2C", "%E9"]
    randoms = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    values = pa.array(tricky + randoms, pa.string())
    assert cloudfront.decode_column(values).to_pylist() == [cloudfront.decode(v) for v in values.to_pylist()]
    plain = pa.array(["a%20b", "c", None, "a%20b"], pa.string())  # nothing for the slow path
    assert cloudfront.decode_column(plain).to_pylist() == ["a b", "c", None, "a b"]
