"""Time to accuracy of cash-flow-at-risk on a timeline run: plain Monte Carlo vs importance
sampling (the factor shift of ``tail_sampling = "importance"``) at several ``tail_level``.

Run (about 3 minutes on 2 cores)::

    python benchmarks/bench_timeline_tails.py
    python benchmarks/bench_timeline_tails.py --json benchmarks/results/timeline_tails.json

The book is the shipped example (``configs/example.toml``: 2,000 customers, 10 sector
factors, a 12-month weekly timeline) without its ``[insurance]`` (the cash of the company
alone). For each method the script runs ``--repeats`` independent seeds and measures the
spread of the estimates across them, not the standard errors the runs report (with spread-out
weights those understate the error): c = sd·√n per path, the paths n* = (c / (1 % · CFaR))²
to a 1 % relative error and the time n*·(seconds per path); the speed-up is the plain time
over the method's. The same for P(line cannot keep the buffer). Kernels are compiled before
timing; all methods run in the same session.

Correctness: each importance-sampling mean over the seeds agrees with the plain one within
4 combined standard errors of those means.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from portsim.config.loading import load_config
from portsim.engine.local import default_threads, simulate
from portsim.inputs.importance import find_shift
from portsim.inputs.model import ModelInputs
from portsim.results.estimators import (
    control_variate_mean,
    value_at_risk,
    weighted_value_at_risk,
)
from portsim.results.schema import TIMELINE_SCALARS
from portsim.workflow.api import prepare

ROOT = Path(__file__).resolve().parents[1]
LEVEL = 0.995
TARGET = 0.01
NCF = TIMELINE_SCALARS.index("net_cash_flow")
LINE = TIMELINE_SCALARS.index("line_breach")


def estimate(x: ModelInputs, n_paths: int, seed: int, threads: int) -> dict[str, float]:
    """One run: CFaR at LEVEL and P(line breach), as ``portsim.results.metrics.cash_metrics``
    computes them, and the wall seconds from the inputs (shift included) to them."""
    t0 = time.perf_counter()
    out = simulate(x, n_paths=n_paths, seed=seed, chunk_paths=4096, threads=threads)
    ncf = out.timeline_scalars[:, NCF]
    line = out.timeline_scalars[:, LINE]
    if x.z_shift is None:
        cfar = value_at_risk(ncf.mean() - ncf, LEVEL)[0]
        p_line = float(line.mean())
    else:
        th2 = float(x.z_shift @ x.z_shift)
        w, proj = np.exp(out.log_weight), 0.5 * th2 - out.log_weight
        mean = control_variate_mean(ncf, w, proj, th2)["value"]
        cfar = weighted_value_at_risk(mean - ncf, w, LEVEL)[0]
        p_line = control_variate_mean(line, w, proj, th2)["value"]
    return {"cfar": cfar, "p_line": p_line, "wall_s": time.perf_counter() - t0}


def method(x: ModelInputs, tail_level: float | None, n_paths: int, repeats: int,
           threads: int, seed0: int) -> dict[str, Any]:
    """``repeats`` runs of ``n_paths`` (seeds seed0, seed0 + 1, ...), the shift (if any)
    found in each run's time."""
    runs = []
    for r in range(repeats):
        t0 = time.perf_counter()
        xr_ = x if tail_level is None else x._replace(z_shift=find_shift(x, tail_level))
        shift_s = time.perf_counter() - t0
        est = estimate(xr_, n_paths, seed0 + r, threads)
        est["wall_s"] += shift_s
        runs.append(est)
    out: dict[str, Any] = {"tail_level": tail_level, "n_paths": n_paths, "repeats": repeats,
                           "s_per_path": float(np.median([u["wall_s"] for u in runs])) / n_paths}
    for key in ("cfar", "p_line"):
        v = np.array([u[key] for u in runs])
        out[key] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)),
                    "se_of_mean": float(v.std(ddof=1) / math.sqrt(repeats)),
                    "c": float(v.std(ddof=1) * math.sqrt(n_paths))}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--plain-paths", type=int, default=8192)
    ap.add_argument("--importance-paths", type=int, default=2048)
    ap.add_argument("--tail-levels", type=float, nargs="+", default=[0.95, 0.99, 0.995])
    ap.add_argument("--threads", type=int, default=default_threads())
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    cfg = load_config(ROOT / "configs" / "example.toml").model_copy(update={"insurance": None})
    _, x = prepare(cfg)
    simulate(x, n_paths=256, seed=0, chunk_paths=4096, threads=args.threads)  # compile
    simulate(x._replace(z_shift=find_shift(x, 0.99)), n_paths=256, seed=0, chunk_paths=4096,
             threads=args.threads)
    rows = {"plain": method(x, None, args.plain_paths, args.repeats, args.threads, 1000)}
    for q in args.tail_levels:
        rows[f"importance, tail_level {q:g}"] = method(
            x, q, args.importance_paths, args.repeats, args.threads, 2000)
    plain = rows["plain"]
    print(f"example book, {args.threads} threads, {args.repeats} seeds per method: "
          f"time to a {TARGET:.0%} relative error")
    print(f"{'method':28s} {'paths':>6s} {'µs/path':>8s} | {'CFaR 99.5%':>11s} {'sd·√n/CFaR':>10s}"
          f" {'n*':>9s} {'×':>6s} | {'P(line)':>8s} {'sd·√n/P':>8s} {'×':>6s}")
    for name, r in rows.items():
        for key in ("cfar", "p_line"):
            d = r[key]
            d["rel_c"] = d["c"] / abs(plain[key]["mean"])
            d["n_star"] = (d["rel_c"] / TARGET) ** 2
            d["seconds"] = d["n_star"] * r["s_per_path"]
        for key in ("cfar", "p_line"):
            r[key]["speedup"] = plain[key]["seconds"] / r[key]["seconds"]
            if r is not plain:
                gap = abs(r[key]["mean"] - plain[key]["mean"])
                assert gap < 4 * math.hypot(r[key]["se_of_mean"], plain[key]["se_of_mean"]), (
                    name, key, r[key]["mean"], plain[key]["mean"])
        c, p = r["cfar"], r["p_line"]
        print(f"{name:28s} {r['n_paths']:6d} {1e6 * r['s_per_path']:8.0f} | "
              f"{c['mean'] / 1e6:10.3f}m {c['rel_c']:10.3f} {c['n_star']:9.0f} "
              f"{c['speedup']:6.2f} | {p['mean']:8.4f} {p['rel_c']:8.2f} {p['speedup']:6.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"threads": args.threads, "methods": rows}, indent=2)
                             + "\n")


if __name__ == "__main__":
    sys.exit(main())
