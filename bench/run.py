"""`make bench`: accuracy and speed of the fast mode, printed and written to BENCHMARKS.md.

1. fast mode vs exact M/M/c; 2. fast mode vs request-level replay (2b: near-critical load over 8 seeds;
2c: fidelity II, issue 15's regimes over 3 seeds, `bench/fidelity2.py`);
3. speed of 30 simulated days (3b: the same month with a rollout a day, issue 12's 1.5x target;
   3c: a month of karpenter-10x against growth-10x, issue 18's 3x target);
4. speed-up over request level on one hour at 1,000 req/s; 4b: `run --out` size and time (issue 17);
5. the seed platform K times (issue 16) and the Monte Carlo row; then a cProfile of the fast path.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import json
import platform
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import simpy  # noqa: E402

from bench import cases, fidelity2, scale  # noqa: E402
from bench import out as out_bench  # noqa: E402

Column = tuple[str, str, Callable[[Any], str]]
PROFILE_DAYS = 3.0
PLANS_REPEAT = 5  # best of, for the month with and without daily rollouts


def _f(fmt: str) -> Callable[[Any], str]:
    return lambda v: format(v, fmt)


def _ok(v: Any) -> str:
    return "PASS" if v else "FAIL"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    """A Markdown table (also readable as plain text)."""
    head = "| " + " | ".join(title for _, title, _ in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt(r[key]) for key, _, fmt in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def _sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def machine() -> list[str]:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in _sh("lscpu").splitlines() if ln.startswith("Model name")), "?"
    )
    mem = next((ln.split()[1] for ln in _sh("free -h").splitlines() if ln.startswith("Mem:")), "?")
    commit = _sh(f"git -C {ROOT} rev-parse --short HEAD") or "?"
    return [
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; commit {commit} (working tree may differ)",
        f"- machine: {cpu}, {_sh('nproc')} CPUs (nproc), {mem} RAM (free -h); {platform.platform()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, simpy {simpy.__version__}",
        "- command: `make bench` (= `.venv/bin/python bench/run.py`)",
    ]


# ------------------------------------------------------------------------------------ sections
def section_closed_form() -> tuple[str, list[dict[str, Any]]]:
    rows = cases.table_closed_form()
    cols: list[Column] = [
        ("rho", "ρ", _f(".2f")),
        ("metric", "metric", str),
        ("exact_ms", "exact (ms)", _f(".3f")),
        ("fast_ms", "fast mode (ms)", _f(".3f")),
        ("err_pct", "error %", _f("+.4f")),
        ("target_pct", "target ±%", _f(".0f")),
        ("pass", "verdict", _ok),
    ]
    text = (
        "## 1. Fast mode vs closed form (stationary M/M/c)\n\n"
        "12 servers of 100 ms (exponential), Poisson load ρ·c/s, 1 h. Exact: Erlang C and the M/M/c "
        "sojourn-time CDF (`bench/closed_form.py`, independent of simkit's code).\n\n" + table(rows, cols)
    )
    return text, rows


def section_accuracy() -> tuple[str, list[dict[str, Any]]]:
    rows = cases.table_accuracy()
    cols: list[Column] = [
        ("case", "case", str),
        ("requests", "requests", _f(",.0f")),
        ("p95_fast_ms", "P95 fast (ms)", _f(",.1f")),
        ("p95_rl_ms", "P95 request-level (ms)", _f(",.1f")),
        ("p95_err_pct", "P95 diff %", _f("+.2f")),
        ("errors_fast", "errors fast", _f(",.0f")),
        ("errors_rl", "errors req-level", _f(",.0f")),
        ("errors_err_pct", "errors diff %", _f("+.1f")),
        ("target_pct", "target ±%", _f(".0f")),
        ("pass", "verdict", _ok),
        ("fast_s", "fast (s)", _f(".2f")),
        ("rl_s", "req-level (s)", _f(".1f")),
    ]
    notes = [f"- {r['case']}: {r['note']}" for r in rows if r["note"]]
    text = (
        "## 2. Fast mode vs request-level replay (same cluster timeline)\n\n"
        "Whole-run P95 of served requests and error (timeout) counts. The request-level mode "
        "(`simkit.engine.request_level`) replays the fast run's ready servers per tick, one SimPy "
        "process per request. Targets: P95 within 2 % on smooth load; P95 and errors within 10 % in "
        "transients (spike, AZ loss). Scenarios: `bench/scenarios/`, overrides in `bench/cases.py`.\n\n"
        + table(rows, cols)
        + ("\n\n" + "\n".join(notes) if notes else "")
    )
    return text, rows


def section_near_critical() -> tuple[str, list[dict[str, Any]]]:
    rows = cases.table_near_critical()
    for r in rows:
        r["errors_rl"] = f"{r['errors_rl_mean']:,.0f} ± {r['errors_rl_sd']:,.0f}"
        r["p95_rl"] = f"{r['p95_rl_mean_ms']:,.0f} ± {r['p95_rl_sd_ms']:,.0f}"
    cols: list[Column] = [
        ("rho", "ρ after the loss", _f(".3f")),
        ("errors_fast", "errors fast", _f(",.0f")),
        ("errors_rl", "errors req-level (mean ± sd)", str),
        ("p95_fast_ms", "P95 fast (ms)", _f(",.0f")),
        ("p95_rl", "P95 req-level (ms, mean ± sd)", str),
        ("p95_err_pct", "P95 diff % vs mean", _f("+.0f")),
    ]
    seeds = rows[0]["seeds"] if rows else 0
    text = (
        "## 2b. Near-critical load (no target): fast mode vs the mean of several replays\n\n"
        "The AZ-loss case of table 2 with the load set so that the 8 remaining servers run at ρ for 20 min "
        f"(10 s timeout); the request-level figures are the mean and standard deviation over {seeds} "
        f"replays (seeds 1 to {seeds}) of the same timeline, because near ρ = 1 one replay is noisy.\n\n"
        + table(rows, cols)
    )
    return text, rows


def section_speed() -> tuple[str, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.speed", "30"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    rows = [
        {
            "what": "wall time, 30 simulated days",
            "target": "< 3 s",
            "measured": f"{r['wall_s']:.2f} s",
            "pass": r["wall_s"] < 3.0,
        },
        {
            "what": "simulated seconds per wall second",
            "target": "≈ 10^6",
            "measured": f"{r['sim_s_per_wall_s']:,.0f}",
            "pass": r["sim_s_per_wall_s"] >= 864_000,
        },
        {
            "what": "peak memory (process RSS)",
            "target": "< 1 GB",
            "measured": f"{r['peak_rss_mb']:,.0f} MB",
            "pass": r["peak_rss_mb"] < 1024,
        },
    ]
    cols: list[Column] = [
        ("what", "measure", str),
        ("target", "target", str),
        ("measured", "measured", str),
        ("pass", "verdict", _ok),
    ]
    text = (
        "## 3. Speed: 30 simulated days of the default scenario\n\n"
        "`simkit.simulate(duration=30*86400)` in a fresh process, every loop the engine has switched "
        f"on (HPA, cluster autoscaler); {r['requests']:,.0f} requests simulated.\n\n" + table(rows, cols)
    )
    return text, r


def section_plans_speed() -> tuple[str, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.plans", str(PLANS_REPEAT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    rows = [
        {
            "what": "the month without plans",
            "wall": f"{r['plain_s']:.2f} s",
            "cpu": f"{r['plain_cpu_s']:.2f} s",
        },
        {
            "what": "the month with 30 daily rollouts",
            "wall": f"{r['rollouts_s']:.2f} s",
            "cpu": f"{r['rollouts_cpu_s']:.2f} s",
        },
        {
            "what": f"ratio (target ≤ {r['target_ratio']:g}x)",
            "wall": f"{r['ratio']:.2f}x  {_ok(r['ratio'] <= r['target_ratio'])}",
            "cpu": f"{r['cpu_ratio']:.2f}x  {_ok(r['cpu_ratio'] <= r['target_ratio'])}",
        },
    ]
    cols: list[Column] = [("what", "measure", str), ("wall", "wall (best)", str), ("cpu", "CPU (best)", str)]
    outcomes = ", ".join(f"{n} {k}" for k, n in r["outcomes"].items())
    text = (
        "## 3b. Speed: the same month with a rollout a day (issue 12: within 1.5x)\n\n"
        "`bench/plans.py`: in one process, `simkit.simulate(duration=30*86400)` of the default scenario "
        "and of the same with 30 `rollout` plans of llm-agent-service, one a day at 10:00 (25 %/25 %, "
        f"minReadySeconds 10); the two alternate, best of {r['repeat']} each; wall time and the "
        f"process's CPU time (the steadier on a shared machine). Plans: {outcomes}.\n\n" + table(rows, cols)
    )
    return text, r


def section_karpenter_speed() -> tuple[str, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.karpenter", "1"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    rows = [
        {
            "what": "growth-10x month (cluster autoscaler)",
            "wall": f"{r['ca_s']:.2f} s",
            "cpu": f"{r['ca_cpu_s']:.2f} s",
        },
        {
            "what": "karpenter-10x month (Karpenter)",
            "wall": f"{r['karpenter_s']:.2f} s",
            "cpu": f"{r['karpenter_cpu_s']:.2f} s",
        },
        {
            "what": f"ratio (target < {r['target_ratio']:g}x)",
            "wall": f"{r['ratio']:.2f}x  {_ok(r['ratio'] < r['target_ratio'])}",
            "cpu": f"{r['cpu_ratio']:.2f}x  {_ok(r['cpu_ratio'] < r['target_ratio'])}",
        },
    ]
    cols: list[Column] = [("what", "measure", str), ("wall", "wall", str), ("cpu", "CPU", str)]
    decisions = ", ".join(f"{k} {n}" for k, n in r["karpenter_decisions"].items())
    text = (
        "## 3c. Speed: a month under Karpenter (issue 18: under 3x the cluster-autoscaler month)\n\n"
        "`bench/karpenter.py`: in one process, `simkit.simulate(duration=30*86400)` of "
        "scenarios/growth-10x.yaml and of scenarios/karpenter-10x.yaml (the same load, the application "
        f"pool as a Karpenter NodePool) on the scenarios' seed. Karpenter's decisions: {decisions}.\n\n"
        + table(rows, cols)
    )
    return text, r


def section_speedup() -> tuple[str, dict[str, Any]]:
    r = cases.speedup()
    rows = [
        {
            "what": "fast mode, `simulate()` end to end (median of 21)",
            "value": f"{r['fast_s'] * 1000:,.1f} ms",
        },
        {
            "what": f"request level, {r['requests']:,.0f} requests",
            "value": f"{r['rl_s']:,.1f} s ({r['rl_requests_per_s']:,.0f} requests/s)",
        },
        {
            "what": "fast traffic model alone (arrivals, per-tick queueing, route latency; median of 21)",
            "value": f"{r['traffic_s'] * 1000:,.1f} ms",
        },
        {
            "what": "ratio vs `simulate()` (target ≥ 10,000x)",
            "value": f"{r['ratio']:,.0f}x  {_ok(r['pass'])}",
        },
        {
            "what": "ratio vs the traffic model alone (target ≥ 10,000x)",
            "value": f"{r['ratio_traffic']:,.0f}x  {_ok(r['pass_traffic'])}",
        },
        {"what": "P95 fast / request level", "value": f"{r['p95_fast_ms']:.1f} ms / {r['p95_rl_ms']:.1f} ms"},
    ]
    cols: list[Column] = [("what", "measure", str), ("value", "value", str)]
    text = (
        "## 4. Speed-up: fast mode vs request level, one hour at 1,000 requests/s\n\n"
        "One service, 160 servers of 100 ms (ρ 0.625), measured in one run (`bench/cases.py: speedup`); "
        "each timed fast run starts with an empty service-sum cache, as a first run in a fresh process.\n\n"
        + table(rows, cols)
    )
    return text, r


def section_profile() -> str:
    import simkit

    prof = cProfile.Profile()
    prof.enable()
    simkit.simulate(duration=PROFILE_DAYS * 86400, progress=False)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(25)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    body = "\n".join(ln.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", "") for ln in lines[start:])
    return (
        f"## Profile of the fast path ({PROFILE_DAYS:g} simulated days, default scenario, cProfile, "
        "top 25 by cumulative time)\n\n```\n" + body + "\n```"
    )


def main() -> None:
    started = time.perf_counter()
    parts = [
        "# simkit benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit by hand.",
        "",
        *machine(),
        "",
    ]
    sections = (
        section_closed_form,
        section_accuracy,
        section_near_critical,
        fidelity2.section,
        section_speed,
        section_plans_speed,
        section_karpenter_speed,
        section_speedup,
        out_bench.section,  # 4b. run --out (issue 17)
        scale.section,
    )
    for fn in sections:
        text, _ = fn()  # type: ignore[operator]
        print(text + "\n", flush=True)
        parts += [text, ""]
    prof = section_profile()
    print(prof + "\n", flush=True)
    parts += [prof, "", f"Whole bench: {time.perf_counter() - started:.0f} s wall.", ""]
    analysis = ROOT / "bench" / "ANALYSIS.md"
    if analysis.exists():
        parts += [analysis.read_text(encoding="utf-8")]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {ROOT / 'BENCHMARKS.md'} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
