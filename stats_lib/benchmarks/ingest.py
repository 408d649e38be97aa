"""``make bench`` section ``ingest``: ``site-stats ingest`` against GoAccess and ``zcat`` on the same files.

Generates a deterministic CloudFront corpus (standard logs, 33-field header, one gzip file per hour: about 2
million lines over 3 days at scale ``default``, 20 million over 30 days at ``large``, 20 thousand at ``small``)
with a realistic shape: returning visitors (each an IP and a user agent) drawn with a Zipf-like skew, a share of
bots and HTTP libraries, pages, assets, referrers, UTM-tagged links and a few dozen edge locations. The corpus
is generated once per scale into ``build/bench/`` (git-ignored) and reused.

Then times, each as its own process, in the same run on the same files:

- ``zcat FILES > /dev/null``: the single-core decompression floor;
- GoAccess 1.7 (``zcat FILES | goaccess --log-format=CLOUDFRONT -o report.json -``), the tool to beat;
- ``site-stats ingest FOLDER`` into a fresh warehouse: parse, enrich, visitor ids, Parquet, rollups, as a user
  runs it (worker processes, one per core), and once more in one process (``SITE_STATS_INGEST_WORKERS=1``);
- a periodic run: the same folder into a warehouse that has every file but the last (what a scheduled ingest of a
  log folder does when one more hourly file has arrived).

Reports lines per second and CPU seconds for each, the ratios, the peak resident memory of the ingest (its largest process,
from ``wait4``, and the whole process tree's proportional set size, sampled from ``/proc`` in a run of its own: sampling
slows the run it samples), and the warehouse's size against the gzip input. The figures describe what was generated: the events written and GoAccess' valid requests are checked
against the lines generated.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..sources.cloudfront import FIELDS as CLOUDFRONT_FIELDS

SCALES = {  # lines, hours (one file each)
    "small": (20_000, 6),
    "default": (2_000_000, 72),
    "large": (20_000_000, 720),
}
HEADER = "#Version: 1.0\n#Fields: " + " ".join(CLOUDFRONT_FIELDS) + "\n"
EDGES = [
    "FRA56-P7", "FRA2-C1", "AMS1-C1", "LHR61-P1", "LHR3-C2", "CDG50-C1", "MAD50-C2", "MXP64-P1", "ARN56-C1",
    "WAW50-C1", "IAD89-C3", "IAD66-C1", "JFK50-C1", "EWR53-C1", "ATL56-C4", "ORD51-C3", "DFW55-P2", "SEA19-C1",
    "SFO53-C1", "LAX3-C4", "YUL62-C1", "GRU3-C1", "NRT51-P2", "HKG62-C1", "SIN52-C3", "SYD1-C1", "BOM78-P4",
    "ICN55-C2", "JNB50-C1", "DXB52-P1",
]
FIRST_DAY = (2026, 11, 1)
CHUNK_LINES = 100_000  # lines drawn at a time: the generator's memory does not grow with the corpus


# -- the corpus -----------------------------------------------------------------------------------------------

def _enc(text: str) -> str:
    return text.replace("%", "%25").replace(" ", "%20").replace("\t", "%09")


def _human_agents(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        kind = rng.random()
        chrome = f"{rng.randint(100, 131)}.0.{rng.randint(4000, 6800)}.{rng.randint(0, 250)}"
        if kind < 0.30:
            win = rng.choice(["Windows NT 10.0; Win64; x64", "Windows NT 10.0; WOW64", "Windows NT 6.1; Win64; x64"])
            tail = rng.choice(["", f" Edg/{chrome}", f" OPR/{rng.randint(90, 115)}.0.0.0"])
            out.add(f"Mozilla/5.0 ({win}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome} Safari/537.36{tail}")
        elif kind < 0.45:
            ios = f"{rng.randint(15, 18)}_{rng.randint(0, 7)}"
            dev = rng.choice(["iPhone; CPU iPhone OS", "iPad; CPU OS"])
            out.add(f"Mozilla/5.0 ({dev} {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                    f"Version/{ios.split('_')[0]}.{rng.randint(0, 6)} Mobile/15E148 Safari/604.1")
        elif kind < 0.65:
            model = rng.choice(["SM-S918B", "SM-A546B", "Pixel 8", "Pixel 7a", "K", "M2101K6G", "CPH2487", "SM-X200"])
            mobile = "" if model == "SM-X200" else " Mobile"
            out.add(f"Mozilla/5.0 (Linux; Android {rng.randint(10, 15)}; {model}) AppleWebKit/537.36 "
                    f"(KHTML, like Gecko) Chrome/{chrome}{mobile} Safari/537.36")
        elif kind < 0.80:
            mac = f"10_15_{rng.randint(1, 7)}"
            if rng.random() < 0.5:
                out.add(f"Mozilla/5.0 (Macintosh; Intel Mac OS X {mac}) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                        f"Version/{rng.randint(15, 18)}.{rng.randint(0, 6)} Safari/605.1.15")
            else:
                out.add(f"Mozilla/5.0 (Macintosh; Intel Mac OS X {mac}) AppleWebKit/537.36 (KHTML, like Gecko) "
                        f"Chrome/{chrome} Safari/537.36")
        else:
            ff = rng.randint(110, 133)
            plat = rng.choice(["Windows NT 10.0; Win64; x64", "X11; Linux x86_64", "X11; Ubuntu; Linux x86_64",
                               "Macintosh; Intel Mac OS X 10.15"])
            out.add(f"Mozilla/5.0 ({plat}; rv:{ff}.0) Gecko/20100101 Firefox/{ff}.0")
    return sorted(out)


def _bot_agents(rng: random.Random, n: int) -> list[str]:
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    examples = sorted({ua for e in CRAWLER_USER_AGENTS_DATA for ua in e.get("instances", [])})
    tools = ["curl/8.5.0", "Wget/1.21.4", "python-requests/2.31.0", "Go-http-client/1.1", "okhttp/4.12.0", ""]
    return tools + rng.sample(examples, min(n, len(examples)))


def _agents(rng: random.Random, lines: int) -> tuple[list[str], list[str]]:
    """The human and the bot user agents of a corpus of ``lines`` lines (the generator's first draws)."""
    humans = _human_agents(rng, min(3000, max(50, lines // 400)))  # distinct agents cost per run, not per line
    return humans, _bot_agents(rng, min(400, max(20, lines // 2000)))


def corpus_agents(scale: str, seed: int = 4) -> list[str]:
    """Every distinct user agent the corpus of ``scale`` can hold, without generating it (for tests)."""
    humans, bots = _agents(random.Random(seed), SCALES[scale][0])
    return sorted(set(humans) | set(bots))


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return "2001:db8:%x:%x::%x" % (rng.randint(0, 0xFFFF), rng.randint(0, 0xFFFF), rng.randint(1, 0xFFFF))
    return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _zipf_weights(n: int, s: float = 1.05) -> list[float]:
    return [1.0 / (i + 1) ** s for i in range(n)]


def generate(folder: Path, lines: int, hours: int, seed: int = 4) -> list[Path]:
    """Write ``lines`` CloudFront records spread evenly over ``hours`` hourly gzip files into ``folder``."""
    import datetime as dt

    from isal import igzip

    rng = random.Random(seed)
    humans, bots = _agents(rng, lines)
    visitors = [(_ip(rng), rng.choice(humans)) for _ in range(max(60_000, lines // 30))]
    crawlers = [(_ip(rng), rng.choice(bots)) for _ in range(3_000)]
    pages = (["/", "/about", "/pricing", "/blog/"] + [f"/blog/post-{i}" for i in range(400)]
             + [f"/docs/{i}.html" for i in range(100)])
    assets = ["/favicon.ico", "/css/site.css", "/js/app.js", "/img/logo.png", "/robots.txt"]
    referrers = (
        ["-"] * 40
        + ["https://www.google.com/", "https://www.google.de/", "https://www.bing.com/", "https://duckduckgo.com/",
           "https://t.co/x", "https://news.ycombinator.com/", "https://www.reddit.com/r/python/", "https://chatgpt.com/",
           "android-app://com.google.android.gm/", "https://www.example.com/", "https://www.example.com/blog/"]
        + [f"https://blog{i}.example.org/post/{i}" for i in range(150)]
    )
    queries = ["-"] * 30 + ["utm_source=newsletter&utm_medium=email&utm_campaign=launch", "ref=producthunt",
                            "utm_source=twitter&utm_medium=social", "gclid=abc123", "page=2", "q=search%20term"]
    visitor_w, crawler_w = _zipf_weights(len(visitors), 0.9), _zipf_weights(len(crawlers))
    page_w, edge_w = _zipf_weights(len(pages)), _zipf_weights(len(EDGES), 0.7)
    start = dt.datetime(*FIRST_DAY)
    per_hour = lines // hours
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    i = 0
    for hour in range(hours):
        when = start + dt.timedelta(hours=hour)
        path = folder / f"E2EXAMPLE.{when:%Y-%m-%d-%H}.{seed:04x}{hour:05x}.gz"
        count = per_hour + (1 if hour < lines - per_hour * hours else 0)
        with igzip.open(path, "wb", compresslevel=2) as out:
            out.write(HEADER.encode())
            done = 0
            while done < count:
                k = min(CHUNK_LINES, count - done)
                who = rng.choices(visitors, weights=visitor_w, k=k - k // 10) + rng.choices(
                    crawlers, weights=crawler_w, k=k // 10)
                rng.shuffle(who)
                page_pick = rng.choices(pages, weights=page_w, k=k)
                asset_pick = rng.choices(assets, k=k)
                ref_pick = rng.choices(referrers, k=k)
                query_pick = rng.choices(queries, k=k)
                edge_pick = rng.choices(EDGES, weights=edge_w, k=k)
                buf = []
                for j in range(k):
                    ip, ua = who[j]
                    is_page = i % 3 != 0
                    path_ = page_pick[j] if is_page else asset_pick[j]
                    ctype = "text/html" if is_page else "image/png"
                    status = "200" if i % 41 else ("404" if i % 2 else "304")
                    secs = (done + j) * 3600 // count
                    stamp = f"{when:%Y-%m-%d}\t{when.hour:02d}:{secs // 60:02d}:{secs % 60:02d}"
                    buf.append(
                        f"{stamp}\t{edge_pick[j]}\t{1000 + i % 50000}\t{ip}\tGET\td111111abcdef8.cloudfront.net\t"
                        f"{path_}\t{status}\t{ref_pick[j]}\t{_enc(ua) or '-'}\t{query_pick[j] if is_page else '-'}\t-\t"
                        f"Hit\treq{i:010d}\twww.example.com\thttps\t200\t0.0{i % 90 + 10}\t-\tTLSv1.3\t"
                        f"TLS_AES_128_GCM_SHA256\tHit\tHTTP/2.0\t-\t-\t{40000 + i % 20000}\t0.010\tHit\t{ctype}\t"
                        f"{1000 + i % 5000}\t-\t-\n"
                    )
                    i += 1
                out.write("".join(buf).encode())
                done += k
        written.append(path)
    return written


def corpus(scale: str, root: Path | None = None) -> tuple[Path, int]:
    """The corpus folder of a scale and its number of lines, generated (in a child process) when missing."""
    lines, hours = SCALES[scale]
    folder = (root or Path("build") / "bench") / f"cloudfront-{scale}"
    done = folder.parent / f"{folder.name}.complete"  # beside the folder: ingest reads every file in it
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        # in a child: the generator's millions of short-lived objects would fragment this process's heap
        child = multiprocessing.get_context("spawn").Process(target=generate, args=(folder, lines, hours))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generating the benchmark corpus failed (exit code {child.exitcode})")
        done.write_text(f"{lines} lines in {hours} hourly files\n")
    return folder, lines


# -- measuring ------------------------------------------------------------------------------------------------

@dataclass
class Run:
    """One timed process (or pipeline): wall seconds, peak RSS of its largest process and of its whole tree."""

    seconds: float
    cpu: float = 0.0  # user + system seconds of the process and its waited-for children (workers)
    max_rss: int = 0  # bytes, the largest single process (wait4)
    tree_rss: int = 0  # bytes, the whole process tree's PSS at its peak (sampled every 50 ms; ``timed(sample=)``)
    output: str = ""


def _tree_rss(pid: int) -> int:
    """Proportional resident bytes (PSS) of a process and all its descendants, from /proc: pages that forked
    workers share with their parent count once, not once per process."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _pss(p)
        todo.extend(children.get(p, []))
    return total


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def timed(argv: list[str], *, stdin_from: list[str] | None = None, env: dict[str, str] | None = None,
          capture: bool = True, sample: bool = False) -> Run:
    """Run ``argv`` (fed by ``stdin_from``'s output when given) and measure it; its output is kept when
    ``capture``, else it goes to /dev/null. Raises when it fails.

    ``sample``: also sample the whole process tree's PSS every 50 ms (``tree_rss``). Reading a process's
    ``smaps_rollup`` walks its page tables: on 2 cores, sampling the bench ingest so slowed it from 9.1 to 10.3 s
    (3 alternated pairs; CPU seconds the same). So a run that is timed does not sample: the tree's peak comes from
    a run of its own."""
    feeder = subprocess.Popen(stdin_from, stdout=subprocess.PIPE) if stdin_from else None
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=feeder.stdout if feeder else subprocess.DEVNULL,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    if feeder:
        feeder.stdout.close()  # type: ignore[union-attr]
    peak = [0]
    stop = threading.Event()

    def sample_tree() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample_tree, daemon=True) if sample else None
    if sampler:
        sampler.start()
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if capture else b""),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    err = proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    reader.join()
    if sampler:
        sampler.join()
    if feeder:
        feeder.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, peak[0],
               b"".join(out).decode(errors="replace"))


def _size(folder: Path, suffix: str = "") -> int:
    return sum(p.stat().st_size for p in folder.rglob(f"*{suffix}") if p.is_file())


def _rate(lines: int, seconds: float) -> str:
    return f"{lines / seconds:,.0f}"


def measure(folder: Path, lines: int, work: Path) -> dict:
    """Time zcat, GoAccess and site-stats ingest on the corpus in ``folder``; the figures as a dict."""
    files = sorted(str(p) for p in folder.glob("*.gz"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict = {"lines": lines, "files": len(files), "gzip_bytes": sum(Path(f).stat().st_size for f in files)}
    zcat = timed(["zcat", *files], capture=False) if shutil.which("zcat") else None
    figures["zcat"] = zcat
    goaccess = None
    if shutil.which("goaccess"):
        report = work / "goaccess.json"
        goaccess = timed(["goaccess", "--log-format=CLOUDFRONT", "--no-global-config", "-o", str(report), "-"],
                         stdin_from=["zcat", *files])
        general = json.loads(report.read_text())["general"]
        figures["goaccess_version"] = subprocess.run(["goaccess", "--version"], capture_output=True,
                                                     text=True).stdout.split("\n")[0].strip()
        figures["goaccess_valid"] = general.get("valid_requests")
        figures["goaccess_total"] = general.get("total_requests")
    figures["goaccess"] = goaccess
    warehouse = work / "warehouse"
    argv = [sys.executable, "-m", "stats_lib.cli", "ingest", str(folder), "--warehouse", str(warehouse)]
    for label, workers in (("ingest_one", "1"), ("ingest", "0")):  # in one process, then as users run it
        shutil.rmtree(warehouse, ignore_errors=True)
        ingest = timed(argv, env={"SITE_STATS_PROGRESS": "0", "SITE_STATS_INGEST_WORKERS": workers})
        figures[label] = ingest
    # the memory of all the run's processes, from a run of its own (``timed``: sampling slows the timed one)
    shutil.rmtree(warehouse, ignore_errors=True)
    figures["ingest_memory"] = timed(argv, env={"SITE_STATS_PROGRESS": "0"}, sample=True)
    figures["summary"] = ingest.output.strip()
    figures["events"] = _events_written(ingest.output)
    figures["parquet_bytes"] = _size(warehouse / "events", ".parquet")
    figures["warehouse_bytes"] = _size(warehouse)
    figures["ingest_next"], figures["next_events"] = _periodic_run(folder, files, work)
    return figures


def _periodic_run(folder: Path, files: list[str], work: Path) -> tuple[Run, int | None]:
    """What a periodic run costs: the folder is ingested into a warehouse that has seen every file but the last
    (its rollups built), so one new hourly file is read, its day's rollups rebuilt, the others are skipped."""
    earlier, warehouse = work / "all-but-the-last", work / "periodic-warehouse"
    earlier.mkdir()
    for name in files[:-1]:
        (earlier / Path(name).name).symlink_to(Path(name).resolve())
    cli = [sys.executable, "-m", "stats_lib.cli", "ingest"]
    subprocess.run([*cli, str(earlier), "--warehouse", str(warehouse)], check=True, capture_output=True,
                   env={**os.environ, "SITE_STATS_PROGRESS": "0"})
    run = timed([*cli, str(folder), "--warehouse", str(warehouse)], env={"SITE_STATS_PROGRESS": "0"})
    return run, _events_written(run.output)


def _events_written(summary: str) -> int | None:
    for part in summary.replace("\n", ";").split(";"):
        part = part.strip()
        if part.startswith("events written:"):
            return int(part.split(":", 1)[1])
    return None


def report(figures: dict, scale: str) -> str:
    lines, ingest, goaccess, zcat = figures["lines"], figures["ingest"], figures["goaccess"], figures["zcat"]
    one, memory = figures["ingest_one"], figures["ingest_memory"]
    rows = [
        "| what | seconds | lines/s | CPU seconds | peak RSS |",
        "|---|---:|---:|---:|---:|",
        f"| `site-stats ingest` (parse, enrich, visitor ids, Parquet, rollups; {os.cpu_count()} worker processes) | "
        f"{ingest.seconds:.1f} | {_rate(lines, ingest.seconds)} | {ingest.cpu:.1f} | "
        f"{ingest.max_rss / 2**20:,.0f} MiB largest process, {memory.tree_rss / 2**20:,.0f} MiB all processes (PSS) |",
        f"| `site-stats ingest` in one process (`SITE_STATS_INGEST_WORKERS=1`) | {one.seconds:.1f} | "
        f"{_rate(lines, one.seconds)} | {one.cpu:.1f} | {one.max_rss / 2**20:,.0f} MiB |",
    ]
    nxt, new = figures["ingest_next"], figures["next_events"]
    rows.append(f"| a periodic run: `site-stats ingest` of the folder when only its last hourly file is new "
                f"({new:,} events; {figures['files'] - 1} files skipped as already ingested, the day's rollups "
                f"rebuilt) | {nxt.seconds:.1f} | {_rate(new, nxt.seconds)} | {nxt.cpu:.1f} | "
                f"{nxt.max_rss / 2**20:,.0f} MiB |" if new else
                "| a periodic run: the events written were not found in its summary | | | | |")
    if goaccess:
        rows.append(f"| {figures['goaccess_version']} (`--log-format=CLOUDFRONT -o json`, fed by zcat) | "
                    f"{goaccess.seconds:.1f} | {_rate(lines, goaccess.seconds)} | {goaccess.cpu:.1f} | "
                    f"{goaccess.max_rss / 2**20:,.0f} MiB |")
    if zcat:
        rows.append(f"| `zcat > /dev/null` (single-core decompression floor) | {zcat.seconds:.1f} | "
                    f"{_rate(lines, zcat.seconds)} | {zcat.cpu:.1f} | |")
    ratios = []
    if goaccess:
        ratios.append(f"site-stats ingests **{goaccess.seconds / ingest.seconds:.1f}x** GoAccess's lines per second "
                      f"(target: 10x; per CPU second {goaccess.cpu / ingest.cpu:.1f}x)")
    if zcat:
        ratios.append(f"it takes **{ingest.seconds / zcat.seconds:.1f}x** the time of zcat (target: within 3x)")
    checks = [f"events written: {figures['events']:,} of {lines:,} lines generated"
              if figures["events"] is not None else "events written: not found in the summary"]
    if goaccess:
        checks.append(f"GoAccess valid requests: {figures['goaccess_valid']} of {figures['goaccess_total']}")
    return "\n".join([
        "## ingest\n",
        f"Corpus (scale `{scale}`): {lines:,} CloudFront lines in {figures['files']} hourly gzip files, "
        f"{figures['gzip_bytes'] / 1e6:,.0f} MB; the same files for every tool, one process (tree) each, one after "
        "the other in the same run. The machine is shared (2 cores, several engineers): wall times are noisy, "
        "compare within one run; CPU seconds (user + system, workers included) depend less on the neighbours. "
        "Peak RSS is the largest process's (``wait4``); the ingest's PSS of all processes is sampled every 50 ms "
        f"in a run of its own ({memory.seconds:.1f} s): sampling slows the run it samples.\n",
        *rows,
        "",
        "; ".join(ratios) + "." if ratios else "GoAccess and zcat are not installed: no comparison.",
        "",
        f"Output: Parquet events {figures['parquet_bytes'] / 1e6:,.1f} MB, the whole warehouse "
        f"{figures['warehouse_bytes'] / 1e6:,.1f} MB = {figures['warehouse_bytes'] / figures['gzip_bytes']:.2f}x "
        "the gzip input.",
        "",
        "Checks: " + "; ".join(checks) + ".",
        "",
        "The ingest's summary:\n",
        "```",
        figures["summary"],
        "```",
    ])


def run(options) -> str:
    """The ``ingest`` section of BENCHMARKS.md for ``options.scale``."""
    scale = getattr(options, "scale", "default")
    root = getattr(options, "bench_dir", None)
    folder, lines = corpus(scale, Path(root) if root else None)
    with tempfile.TemporaryDirectory(prefix="site-stats-bench-") as tmp:
        figures = measure(folder, lines, Path(tmp))
    return report(figures, scale)
