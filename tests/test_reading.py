"""Reading under damage and bombs: nothing before a cut is lost, memory stays bounded, every line is counted.

The expected lines come from the standard library's zlib fed one byte at a time (an independent decoder: the
reader decodes with ISA-L in 64 KB pieces), the memory bound from a child process under ``RLIMIT_AS``.
"""

from __future__ import annotations

import bz2
import gzip
import json
import multiprocessing
import random
import resource
import zlib
from pathlib import Path

import pytest
import zstandard
from conftest import run_cli

import stats_lib
from stats_lib import samples
from stats_lib.engines.duckdb import connect
from stats_lib.sources import get_format
from stats_lib.sources.base import LineReader
from stats_lib.sources.streams import Damaged, chunks, line_chunks

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def combined(i: int) -> str:
    return f'198.51.100.{i % 250 + 1} - - [01/Mar/2024:10:{i // 60 % 60:02d}:{i % 60:02d} +0000] "GET /p/{i} HTTP/1.1" 200 512 "-" "{UA}"\n'


def cloudfront_text(tmp_path: Path) -> bytes:
    """One day of the sample generator's CloudFront logs as one text: a header, then about 2,000 lines."""
    folder = tmp_path / "sample"
    samples.generate(folder, days=1, visitors_per_day=150)
    texts = [gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("*.gz"))]
    header = b"".join(texts[0].splitlines(keepends=True)[:2])
    body = b"".join(line for t in texts for line in t.splitlines(keepends=True) if not line.startswith(b"#"))
    return header + body


def decoded_before_damage(data: bytes) -> tuple[bytes, str | None]:
    """What zlib yields for a gzip stream fed one byte at a time, and its error (None: none, or cut short)."""
    d = zlib.decompressobj(31)
    out = []
    for i in range(len(data)):
        try:
            out.append(d.decompress(data[i : i + 1]))
        except zlib.error as exc:
            return b"".join(out), str(exc)
        if d.eof:
            break
    return b"".join(out), None


def ingest(paths, settings, **kw):
    return stats_lib.ingest([str(p) for p in paths], settings=settings, **kw)


def assert_counts_add_up(f) -> None:
    assert f.lines == f.events + f.rejected + f.skipped + f.headers + f.blank, f


@pytest.mark.parametrize("cut", [0.3, 0.77])
def test_a_cut_cloudfront_gzip_keeps_every_line_before_the_cut(tmp_path, settings, warehouse, cut):
    text = cloudfront_text(tmp_path)
    data = gzip.compress(text, mtime=0)
    path = tmp_path / "E2EXAMPLE.cut.gz"
    path.write_bytes(data[: int(len(data) * cut)])
    decoded, error = decoded_before_damage(path.read_bytes())
    assert error is None and 0 < len(decoded) < len(text)  # cut short, no error: the stream just ends
    complete = decoded.split(b"\n")[:-1]  # whole lines; the last piece is cut mid-line
    f = ingest([path], settings).files[0]
    assert (f.status, f.format, f.headers) == ("ingested", "cloudfront", 2) and f.damage
    assert f.events == len(complete) - 2 > 300
    assert f.rejected == 1 and f.lines == len(complete) + 1
    assert_counts_add_up(f)
    assert f.reasons == {"unreadable: the gzip stream ends early: the file is truncated": 1}
    assert f"unreadable after line {len(complete)}" in f.damage
    con = connect(warehouse)
    numbers = [r[0] for r in con.execute("SELECT line_number FROM events ORDER BY 1").fetchall()]
    assert numbers == list(range(3, len(complete) + 1))
    (line_number, line), = con.execute("SELECT line_number, line FROM rejects").fetchall()
    partial = decoded.split(b"\n")[-1].decode()
    assert line_number == len(complete) + 1 and line.split("\t")[:2] == partial.split("\t")[:2]


def test_damage_inside_a_gzip_keeps_every_line_before_it(tmp_path, settings, warehouse):
    text = "".join(combined(i) for i in range(20_000)).encode()
    data = bytearray(gzip.compress(text, mtime=0))
    rng = random.Random(3)
    at = len(data) * 2 // 3
    for i in range(at, at + 64):
        data[i] = rng.randrange(256)
    path = tmp_path / "damaged.log.gz"
    path.write_bytes(bytes(data))
    decoded, error = decoded_before_damage(bytes(data))
    assert error is not None, "the damage must be one zlib notices"
    complete = decoded.split(b"\n")[:-1]
    assert decoded.startswith(b"".join(line + b"\n" for line in complete))
    assert 10_000 < len(complete) < 20_000
    f = ingest([path], settings).files[0]
    # the damage decodes to a few garbage lines before zlib notices: those are rejects, the rest are events
    originals = {combined(i).encode().rstrip(b"\n") for i in range(20_000)}
    intact = [i + 1 for i, line in enumerate(complete) if line in originals]
    assert len(complete) - 20 < len(intact) <= len(complete)
    assert (f.status, f.events + f.rejected, f.lines) == ("ingested", len(complete) + 1, len(complete) + 1)
    assert f.damage and "damaged.log.gz" in f.damage
    assert_counts_add_up(f)
    (reason,) = [r for r in f.reasons if r.startswith("unreadable:")]
    assert reason == f"unreadable: damaged gzip data ({error})"
    con = connect(warehouse)
    assert [r[0] for r in con.execute("SELECT line_number FROM events ORDER BY 1").fetchall()] == intact
    # the columnar reader (CloudFront) salvages the same bytes
    pieces = []
    with pytest.raises(Damaged):
        for block, tail in line_chunks(chunks(path), 1 << 20, 1 << 16):
            pieces.append(block + tail)
    assert b"".join(pieces) == b"".join(line + b"\n" for line in complete)


def test_gzip_members_zero_padding_and_other_compressions(tmp_path, settings):
    lines = [combined(i).encode() for i in range(3000)]
    multi = tmp_path / "multi.log.gz"
    multi.write_bytes(gzip.compress(b"".join(lines[:1000])) + gzip.compress(b"".join(lines[1000:])) + b"\0" * 512)
    many = b"".join(combined(i).encode().replace(b"/p/", b"/q/%d/" % (i * 7919 % 100_003)) for i in range(24_000))
    bz = tmp_path / "cut.log.bz2"
    bz.write_bytes(bz2.compress(many)[:-5000])
    zs = tmp_path / "cut.log.zst"
    zs.write_bytes(zstandard.ZstdCompressor().compress(many)[:-5000])
    frames = tmp_path / "frames.log.zst"
    frames.write_bytes(b"".join(zstandard.ZstdCompressor().compress(b"".join(lines[i : i + 1000]))
                                for i in range(0, 3000, 1000)))
    summary = ingest([multi, bz, zs, frames], settings)
    by_name = {Path(f.path).name: f for f in summary.files}
    assert (by_name["multi.log.gz"].status, by_name["multi.log.gz"].events) == ("ingested", 3000)
    assert (by_name["frames.log.zst"].status, by_name["frames.log.zst"].events) == ("ingested", 3000)
    for name, kind in (("cut.log.bz2", "bzip2"), ("cut.log.zst", "zstd")):
        f = by_name[name]
        assert f.status == "ingested" and f.damage and 12_000 < f.events < 24_000 and f.rejected == 1, f
        assert f.reasons == {f"unreadable: the {kind} stream ends early: the file is truncated": 1}
        assert_counts_add_up(f)


def test_every_line_is_counted(tmp_path, settings):
    body = [combined(i) for i in range(60)]
    for i in (5, 17, 33, 59):
        body.insert(i, ["\n", "   \n", "\t\r\n", "\r\n"][i % 4])
    path = tmp_path / "access.log"
    path.write_text("#Software: test\n#Fields: whatever\n" + "".join(body))
    cf = tmp_path / "cf.log"
    cf_text = cloudfront_text(tmp_path).decode().split("\n")
    assert cf_text[-1] == ""
    cf_text[10:10] = ["", "  ", "\t"]
    cf_text[-1] = " "  # the last line is blank and has no line end
    cf.write_text("\n".join(cf_text))
    summary = ingest([path, cf], settings)
    web, cloudfront = summary.files
    assert (web.lines, web.events, web.headers, web.blank, web.rejected) == (66, 60, 2, 4, 0)
    assert (cloudfront.lines, cloudfront.headers, cloudfront.blank) == (len(cf_text), 2, 4)
    for f in summary.files:
        assert_counts_add_up(f)
    assert "header lines: 4; blank lines: 8" in summary.text()


def _ingest_under_limit(paths: list[str], warehouse: str, formats: list[str], queue) -> None:
    """In a child: warm up, cap the address space at what it uses + 1 GiB, then ingest the bombs."""
    from stats_lib.config import Settings

    settings = Settings.from_env(warehouse=warehouse, progress=False)
    warm = Path(warehouse).parent / "warm.log"
    warm.write_text(combined(0))
    stats_lib.ingest([str(warm)], settings=settings)
    status = Path("/proc/self/status").read_text()
    peak = int(status.split("VmPeak:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (peak + (1 << 30), resource.RLIM_INFINITY))
    out = []
    for path, fmt in zip(paths, formats):
        f = stats_lib.ingest([path], settings=settings, format=fmt).files[0]
        out.append({k: getattr(f, k) for k in ("status", "lines", "events", "rejected", "skipped", "headers",
                                                "blank", "error")} | {"reasons": dict(f.reasons)})
    queue.put(json.dumps(out))


def write_bomb(path: Path, head: bytes, fill: bytes, gib: int, tail: bytes) -> None:
    """A gzip of ``head``, ``gib`` GiB of ``fill`` (one line: no line end) and ``tail``: members of 1 MiB each."""
    member = gzip.compress(fill * (1 << 20), compresslevel=9, mtime=0)
    with open(path, "wb") as out:
        out.write(gzip.compress(head, mtime=0))
        for _ in range(gib * 1024):
            out.write(member)
        out.write(gzip.compress(tail, mtime=0))


def test_a_gzip_bomb_is_read_in_bounded_memory(tmp_path, settings):
    zeros = tmp_path / "zeros.log.gz"
    write_bomb(zeros, b"", b"\0", 2, b"")
    text = tmp_path / "text.log.gz"
    good = [combined(i).encode() for i in range(5)]
    write_bomb(text, b"".join(good[:3]) + b'203.0.113.9 - - [01/Mar/2024:10:00:00 +0000] "GET /', b"a", 2,
               b' HTTP/1.1" 200 1 "-" "-"\n' + b"".join(good[3:]))
    assert zeros.stat().st_size < 3_000_000 and text.stat().st_size < 3_000_000
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_ingest_under_limit, args=(
        [str(zeros), str(zeros), str(text)], settings.warehouse, ["auto", "combined", "auto"], queue))
    child.start()
    child.join(timeout=240)
    assert child.exitcode == 0, f"the child failed under the memory limit (exit code {child.exitcode})"
    auto, forced, mixed = json.loads(queue.get(timeout=5))
    assert auto["status"] == "failed" and "format not recognised" in auto["error"]
    assert (forced["status"], forced["lines"], forced["rejected"], forced["reasons"]) == (
        "ingested", 1, 1, {"line too long": 1})
    assert (mixed["status"], mixed["lines"], mixed["events"], mixed["rejected"]) == ("ingested", 6, 5, 1)
    assert mixed["reasons"] == {"line too long": 1}
    con = connect(settings.warehouse)
    (line,), = con.execute("SELECT line FROM rejects WHERE line LIKE '%GET /a%'").fetchall()
    assert line.startswith("203.0.113.0/24 - - [01/Mar/2024") and len(line) <= 2001  # masked and capped


def test_cli_exit_status_is_1_for_a_truncated_gzip(tmp_path, warehouse):
    data = gzip.compress("".join(combined(i) for i in range(2000)).encode())
    path = tmp_path / "cut.log.gz"
    path.write_bytes(data[: len(data) // 2])
    proc = run_cli("ingest", str(path), "--warehouse", str(warehouse), check=False)
    assert proc.returncode == 1, proc.stderr
    assert "cut.log.gz: unreadable after line" in proc.stdout


def test_reader_yields_nothing_blank_and_counts_it(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(b"\n\r\n" + combined(1).encode() + b"  \n")
    reader = LineReader(str(path), source_file="a.log")
    rows = [r for t in get_format("combined").parse(reader) for r in t.to_pylist()]
    assert len(rows) == 1 and rows[0]["line_number"] == 3
    assert (reader.lines, reader.blank, reader.rejected) == (4, 3, 0)
