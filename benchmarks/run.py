"""`make bench`: reference server vs bare Starlette, contract suite vs Schemathesis, server memory, load generator.

Everything runs in one go on this machine, server pinned to CPU 0 and load generator to CPU 1, so the
ratios are comparable even though absolute figures drift between runs and machines.
Results: a table on stdout and JSON in artifacts/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "callback.lua"
PLAIN_LOCUST = Path(__file__).resolve().parent / "plain_locust.py"
sys.path.insert(0, str(ROOT))

from callback_core.signing import http_date, sign  # noqa: E402
from callback_core.spec import Contract  # noqa: E402
from scripts.run_against_reference import free_port, stop, wait_until_listening  # noqa: E402

CONTRACT = Contract.from_file()
PATH = CONTRACT.path
SERVER_CPU, LOAD_CPU = "0", "1"
SUITE_ROUNDS = 3


def pinned(cpu: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else argv


@contextmanager
def server(argv: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        pinned(SERVER_CPU, argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    try:
        wait_until_listening(port, proc, name=f"server {argv}")
        yield proc
    finally:
        stop(proc, timeout=15)


def body_template() -> str:
    body = dict(CONTRACT.request_examples()["tokenCallback"])
    body["authorizationAttemptId"] = "ATTEMPT_ID"
    return json.dumps(body, separators=(",", ":"))


def signed_requests(secret: str, port: int, count: int, folder: Path, name: str) -> Path:
    """Pre-signed distinct callbacks for wrk, whose Lua has no HMAC (one file per wrk run: no replays)."""
    path = folder / f"signed-{name}.tsv"
    date = http_date(datetime.now(UTC))
    template = body_template()
    with path.open("w", encoding="utf-8") as out:
        for _ in range(count):
            body = template.replace("ATTEMPT_ID", str(uuid.uuid4())).encode()
            headers = sign(secret, method="POST", path_and_query=PATH, host=f"127.0.0.1:{port}", body=body, date=date)
            out.write(f"{headers.authorization}\t{headers.date}\t{headers.content_sha256}\t{body.decode()}\n")
    return path


def wrk(port: int, seconds: float, connections: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    argv = pinned(LOAD_CPU, [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(LUA),
        f"http://127.0.0.1:{port}{PATH}",
    ])
    run_env = {**os.environ, "BODY_TEMPLATE": body_template(), "CALLBACK_PATH": PATH, "RUN_ID": uuid.uuid4().hex,
               **(env or {})}
    out = subprocess.run(argv, capture_output=True, text=True, env=run_env, timeout=seconds + 600, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    if result["non_2xx"] or result["socket_errors"]:
        result["warning"] = f"{result['non_2xx']} non-2xx answers, {result['socket_errors']} socket errors"
    return result


def rss_kib(pid: int) -> int:
    for proc_pid in [pid, *children(pid)]:
        status = Path(f"/proc/{proc_pid}/status").read_text()
        if "uvicorn" in Path(f"/proc/{proc_pid}/cmdline").read_text() or proc_pid == pid:
            rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    return rss


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def reference_argv(port: int, db: Path) -> list[str]:
    return [str(BIN / "card-callback"), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db)]


def bare_argv(port: int) -> list[str]:
    return [str(BIN / "uvicorn"), "--app-dir", str(ROOT / "benchmarks"), "bare_app:app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"]


def throughput(seconds: float, connections: int, tmp: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    port = free_port()
    with server(bare_argv(port), port):
        wrk(port, 2, connections)
        results["bare_starlette"] = wrk(port, seconds, connections)
    port = free_port()
    with server(reference_argv(port, tmp / "plain.sqlite3"), port, {"CARD_CALLBACK_HMAC_SECRET": ""}):
        wrk(port, 2, connections)
        results["reference"] = wrk(port, seconds, connections)
    secret = uuid.uuid4().hex
    port = free_port()
    with server(reference_argv(port, tmp / "hmac.sqlite3"), port, {"CARD_CALLBACK_HMAC_SECRET": secret}):
        rate = results["reference"]["rps"] * 1.5 + 500
        warm = signed_requests(secret, port, int(rate * 2), tmp, "warm-up")
        signed = signed_requests(secret, port, int(rate * seconds), tmp, "measured")
        wrk(port, 2, connections, {"SIGNED_FILE": str(warm)})
        results["reference_hmac"] = wrk(port, seconds, connections, {"SIGNED_FILE": str(signed)})
        hmac_run = results["reference_hmac"]
        if hmac_run["requests"] > int(rate * seconds):
            note = "signed callbacks ran out: some requests were replays"
            hmac_run["warning"] = "; ".join(filter(None, [hmac_run.get("warning"), note]))
    bare = results["bare_starlette"]["rps"]
    results["ratio"] = results["reference"]["rps"] / bare
    results["ratio_hmac"] = results["reference_hmac"]["rps"] / bare
    return results


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run(pinned(LOAD_CPU, argv), capture_output=True, text=True, timeout=900,
                          env={**os.environ, **(env or {})})
    return time.monotonic() - started, done


def suite(tmp: Path, max_examples: int, seed: int) -> dict[str, Any]:
    """`card-callback test` and vanilla `schemathesis run`, same document, endpoint, examples and seed.

    Cases per second over each command's wall time (process start included: that is what CI pays).
    The suite counts its requests in its JSON report; Schemathesis prints "N generated".
    """
    no_secret = {"CARD_CALLBACK_HMAC_SECRET": ""}
    port = free_port()
    suite_times: list[float] = []
    html_times: list[float] = []
    st_times: list[float] = []
    st_exits: list[int] = []
    # Interleaved, ROUNDS times each, medians: one run of either takes ~2-4 s and drifts by ~10%.
    with server(reference_argv(port, tmp / "suite.sqlite3"), port, no_secret):
        report_path = tmp / "suite-report.json"
        for _ in range(SUITE_ROUNDS):
            suite_s, done = timed([str(BIN / "card-callback"), "test", f"http://127.0.0.1:{port}{PATH}",
                                   "--max-examples", str(max_examples), "--seed", str(seed),
                                   "--json", str(report_path)], no_secret)
            if not report_path.exists():
                raise SystemExit(f"card-callback test wrote no report (exit {done.returncode}): {done.stderr[-500:]}")
            # The same run with the HTML page too: what handing a report over costs (coverage is always counted).
            html_s, _ = timed([str(BIN / "card-callback"), "test", f"http://127.0.0.1:{port}{PATH}",
                               "--max-examples", str(max_examples), "--seed", str(seed), "--json",
                               str(tmp / "suite-report-html.json"), "--html", str(tmp / "suite-report.html")],
                              no_secret)
            html_times.append(html_s)
            st_s, st = timed([str(BIN / "schemathesis"), "run", str(CONTRACT.source), "--url",
                              f"http://127.0.0.1:{port}", "--max-examples", str(max_examples), "--seed", str(seed)])
            suite_times.append(suite_s)
            st_times.append(st_s)
            st_exits.append(st.returncode)
        report = json.loads(report_path.read_text())
    suite_s, st_s = statistics.median(suite_times), statistics.median(st_times)
    html_s = statistics.median(html_times)
    generated = re.search(r"(\d+) generated", st.stdout)
    if generated is None:
        raise SystemExit(f"cannot find the number of test cases in schemathesis's output: {st.stdout[-500:]}")
    latency = report.get("latency") or {}
    result: dict[str, Any] = {
        "max_examples": max_examples,
        "seed": seed,
        "suite_cases": report["requests"],
        "suite_wall_s": suite_s,
        "suite_reported_s": report["durationSeconds"],
        "suite_verdict": report["verdict"],
        "suite_slowest_answer_s": latency.get("maxSeconds"),
        "schemathesis_cases": int(generated.group(1)),
        "schemathesis_wall_s": st_s,
        "schemathesis_exits": st_exits,
        "rounds": SUITE_ROUNDS,
        "suite_wall_s_all": suite_times,
        "suite_html_wall_s": html_s,
        "html_overhead": html_s / suite_s - 1,
        "schemathesis_wall_s_all": st_times,
    }
    result["suite_cases_per_s"] = result["suite_cases"] / suite_s
    result["schemathesis_cases_per_s"] = result["schemathesis_cases"] / st_s
    result["ratio"] = result["suite_cases_per_s"] / result["schemathesis_cases_per_s"]
    # Schemathesis stops fuzzing at its first failure (and the suite stops at late answers), so a run that
    # found something did less work: such a ratio says nothing about speed.
    if any(st_exits) or report["verdict"] != "conforms":
        failures = re.findall(r"^- (.+)$", st.stdout, flags=re.MULTILINE)
        result["warning"] = (
            f"not like for like: schemathesis exits {st_exits} ({'; '.join(failures) or 'see its output'}),"
            f" suite verdict {report['verdict']}"
        )
    return result


def memory(total: int, tmp: Path, rps_estimate: float) -> dict[str, Any]:
    """RSS of the server process (uvicorn runs inside `card-callback serve`) after 1,000 and `total` callbacks."""
    port = free_port()
    with server(reference_argv(port, tmp / "memory.sqlite3"), port, {"CARD_CALLBACK_HMAC_SECRET": ""}) as proc:
        first = send_callbacks(port, 1000, rps_estimate)
        after_1k = rss_kib(proc.pid)
        rest = send_callbacks(port, total - first, rps_estimate)
        after_all = rss_kib(proc.pid)
    return {
        "callbacks_first": first,
        "callbacks_total": first + rest,
        "rss_kib_after_1k": after_1k,
        "rss_kib_after_total": after_all,
        "growth": after_all / after_1k - 1,
    }


def send_callbacks(port: int, count: int, rps_estimate: float) -> int:
    """Send at least `count` fresh callbacks at 50 connections; how many were answered.

    wrk runs for its whole duration even after the Lua script stops at STOP_AFTER, so it runs in
    chunks of at most ~20 s sized from the measured rate: the count is capped, idle time is bounded.
    """
    done, rate = 0, max(rps_estimate, 50.0)
    while done < count:
        remaining = count - done
        seconds = min(20.0, remaining / rate * 1.2 + 1)
        result = wrk(port, seconds, 50, {"STOP_AFTER": str(remaining)})
        if result["requests"] == 0:
            raise SystemExit("the server answered no callbacks while measuring memory")
        done += result["requests"]
        rate = max(rate, result["rps"])
    return done


def load_generator(tmp: Path, seconds: float, users: int = 50) -> dict[str, Any]:
    """`card-callback load` (unique, signed, judged callbacks) vs plain Locust posting one fixed body, both against
    the bare Starlette app and on the same core: callbacks per CPU-second of the generator, i.e. per core.

    Per CPU-second, not per wall second: on a shared machine the server or a neighbour may be what limits the
    rate, and that says nothing about the generator. The load run asks for 1.5x plain Locust's rate so that it
    runs flat out (it then exits 2, the generator not reaching the rate; only its figures are used here).
    """
    port = free_port()
    with server(bare_argv(port), port):
        url = f"http://127.0.0.1:{port}{PATH}"
        done = subprocess.run(pinned(LOAD_CPU, [sys.executable, str(PLAIN_LOCUST), url, str(seconds), str(users)]),
                              capture_output=True, text=True, timeout=seconds + 120, check=True)
        plain: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        report_path = tmp / "load-generator.json"
        run = subprocess.run(
            pinned(LOAD_CPU, [str(BIN / "card-callback"), "load", url, "--users", str(users), "--rate",
                              f"{plain['rps'] * 1.5:.0f}", "--duration", f"{seconds:g}s", "--seed", "1",
                              "--json", str(report_path)]),
            capture_output=True, text=True, timeout=seconds + 300, env={**os.environ, "CARD_CALLBACK_HMAC_SECRET":
                                                                       uuid.uuid4().hex})
        if not report_path.exists():
            raise SystemExit(f"card-callback load wrote no report (exit {run.returncode}): {run.stderr[-500:]}")
        ours: dict[str, Any] = json.loads(report_path.read_text())
    ours_cpu_s = ours["generatorCpu"] * ours["durationSeconds"]
    result: dict[str, Any] = {
        "users": users,
        "plain_locust_rps": plain["rps"],
        "plain_locust_per_core": plain["requests"] / plain["cpu_seconds"],
        "load_rps": ours["measuredRate"],
        "load_per_core": ours["requests"] / ours_cpu_s if ours_cpu_s else 0.0,
        "load_signed": ours["signed"],
        "load_errors": sum(error["count"] for error in ours["errors"]),
    }
    result["ratio"] = result["load_per_core"] / result["plain_locust_per_core"]
    if plain["failures"] or result["load_errors"]:
        result["warning"] = f"{plain['failures']} plain Locust failures, {result['load_errors']} judged errors"
    return result


def format_table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    if "throughput" in results:
        t = results["throughput"]
        lines.append("benchmark                          req/s     p50 ms   p99 ms   note")
        for name in ("bare_starlette", "reference", "reference_hmac"):
            row = t[name]
            lines.append(
                f"{name:<30} {row['rps']:>9.0f} {row['p50_us'] / 1000:>9.1f} {row['p99_us'] / 1000:>8.1f}   "
                f"{row.get('warning', '')}"
            )
        lines.append(f"reference / bare: {t['ratio']:.2f} (target >= 0.5); with HMAC: {t['ratio_hmac']:.2f}")
    if "suite" in results:
        s = results["suite"]
        lines.append(
            f"contract suite: {s['suite_cases']} cases in {s['suite_wall_s']:.1f} s = {s['suite_cases_per_s']:.1f}/s"
            f" (slowest answer {s['suite_slowest_answer_s'] or 0:.1f} s); schemathesis: {s['schemathesis_cases']}"
            f" cases in {s['schemathesis_wall_s']:.1f} s = {s['schemathesis_cases_per_s']:.1f}/s;"
            f" ratio {s['ratio']:.2f} (target >= 1.26)"
        )
        lines.append(f"  with --html too: {s['suite_html_wall_s']:.1f} s, "
                     f"{s['html_overhead'] * 100:+.1f}% (target < +5%)")
        if s.get("warning"):
            lines.append(f"  WARNING: {s['warning']}")
    if "memory" in results:
        m = results["memory"]
        lines.append(
            f"memory: {m['rss_kib_after_1k'] / 1024:.1f} MiB after {m['callbacks_first']} callbacks, "
            f"{m['rss_kib_after_total'] / 1024:.1f} MiB after {m['callbacks_total']}: "
            f"{m['growth'] * 100:+.1f}% (target <= +10%)"
        )
    if "load" in results:
        g = results["load"]
        lines.append(
            f"load generator: {g['load_per_core']:.0f} unique signed judged callbacks per core-second "
            f"({g['load_rps']:.0f}/s) vs plain Locust {g['plain_locust_per_core']:.0f} ({g['plain_locust_rps']:.0f}/s):"
            f" ratio {g['ratio']:.2f} (target >= 0.5)" + (f"  WARNING: {g['warning']}" if g.get("warning") else "")
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement time per throughput run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--memory-callbacks", type=int, default=100_000)
    parser.add_argument("--suite-examples", type=int, default=100, help="--max-examples for both contract runs")
    parser.add_argument("--seed", type=int, default=1, help="generation seed for both contract runs")
    parser.add_argument("--load-seconds", type=float, default=10.0, help="measurement time of the load generator row")
    parser.add_argument("--skip", action="append", default=[], choices=["throughput", "suite", "memory", "load"])
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench.json")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="card-callback-bench-") as folder:
        tmp = Path(folder)
        if "throughput" not in args.skip:
            results["throughput"] = throughput(args.seconds, args.connections, tmp)
        if "suite" not in args.skip:
            results["suite"] = suite(tmp, args.suite_examples, args.seed)
        if "memory" not in args.skip:
            rps = results.get("throughput", {}).get("reference", {}).get("rps", 500.0)
            results["memory"] = memory(args.memory_callbacks, tmp, rps)
        if "load" not in args.skip:
            results["load"] = load_generator(tmp, args.load_seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(format_table(results))
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
