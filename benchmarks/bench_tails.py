"""Time to accuracy in the tail: plain Monte Carlo vs importance sampling vs importance
sampling with the skip sampler (and plain Monte Carlo with the skip sampler, for its own
share).

Run (about 1½ minutes on 2 cores)::

    python benchmarks/bench_tails.py                       # 10,000 customers, 1 and 10 factors
    python benchmarks/bench_tails.py --json benchmarks/results/tails.json
    python benchmarks/bench_tails.py --kernel-costs        # the costs behind kernel = "auto"

For each method the script runs a pilot, reads the constant c = (se/ES)·√n of the relative
standard error of ES at 99.9 % (se ∝ 1/√n), computes the paths n* = (c / 1 %)² that reach a
1 % relative standard error, then times a fresh run of n* paths (another seed) from the book's
inputs to the ES and its standard error — for importance sampling including the search for
the shift — and reports the relative standard error that run achieved. JIT compilation is
excluded by a warm-up. All methods use the same threads in the same session, so the ratios
are meaningful; on a loaded machine the wall times move, the CPU times less.

Correctness: the importance-sampling ES must agree with the plain ES within 4 combined
standard errors, and the exact expected loss with each method's mean within 5 standard errors.

The book is ``baselines.rating_book`` (seven rating grades, log-normal exposures, LGDs
uniform on [0.25, 0.65], R = 0.15, factor correlation 0.5), the one bench_engine.py uses.
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
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import baselines
from portsim.config import RunConfig
from portsim.data.book import book_from_frame
from portsim.engine.calls import default_losses
from portsim.engine.local import default_threads, simulate
from portsim.inputs.importance import find_shift
from portsim.inputs.model import ModelInputs, build_inputs
from portsim.kernels.codes import Stream
from portsim.kernels.rng import path_states
from portsim.results.estimators import expected_shortfall, weighted_expected_shortfall

LEVEL = 0.999
TARGET = 0.01
METHODS = {  # name: (kernel, importance sampling)
    "plain MC (grouped kernel)": ("grouped", False),
    "plain MC + skip sampler": ("skip", False),
    "importance sampling (grouped kernel)": ("grouped", True),
    "importance sampling + skip sampler": ("skip", True),
}


def portsim_inputs(book: Any, kernel: str) -> ModelInputs:
    """The rating book as portsim inputs (one sector per factor)."""
    n = book.exposure.size
    frame = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "sector": [f"s{f:02d}" for f in book.factor],
        "country": "DE",
        "exposure": book.exposure,
        "p_default": book.p,
        "lgd": book.lgd,
        "asset_correlation": book.R,
    })
    k = book.corr.shape[0]
    rho = float(book.corr[0, 1]) if k > 1 else 0.0
    cfg = RunConfig.model_validate({"model": {"correlation": {"default": rho}},
                                    "simulation": {"kernel": kernel}})
    return build_inputs(book_from_frame(frame), cfg)


def es_run(x: ModelInputs, importance: bool, n_paths: int, seed: int,
           threads: int) -> dict[str, Any]:
    """From inputs to ES with its standard error; wall and CPU seconds of the whole."""
    c0, t0 = time.process_time(), time.perf_counter()
    if importance:
        x = x._replace(z_shift=find_shift(x, LEVEL))
    out = simulate(x, n_paths=n_paths, seed=seed, chunk_paths=4096, threads=threads)
    if importance:
        es, se = weighted_expected_shortfall(out.loss, np.exp(out.log_weight), LEVEL)
        mean = float((np.exp(out.log_weight) * out.loss).mean())
        mean_se = float((np.exp(out.log_weight) * out.loss).std(ddof=1) / math.sqrt(n_paths))
    else:
        es, se = expected_shortfall(out.loss, LEVEL)
        mean, mean_se = float(out.loss.mean()), float(out.loss.std(ddof=1) / math.sqrt(n_paths))
    return {"n_paths": n_paths, "es": es, "se": se, "rel_se": se / es,
            "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "mean": mean, "mean_se": mean_se, "mean_defaults": float(out.n_defaults.mean())}


def time_to_accuracy(n_customers: int, n_factors: int, threads: int,
                     pilot: dict[bool, int]) -> dict[str, Any]:
    book = baselines.rating_book(n_customers, n_factors, asset_correlation=0.15,
                                 factor_correlation=0.5, seed=20261128)
    el = float((book.exposure * book.lgd * book.p).sum())
    rows: dict[str, Any] = {}
    for name, (kernel, importance) in METHODS.items():
        x = portsim_inputs(book, kernel)
        es_run(x, importance, 512, 99, threads)  # warm-up: compile or load the kernels
        p = es_run(x, importance, pilot[importance], 1, threads)
        const = p["rel_se"] * math.sqrt(p["n_paths"])
        need = max(256, math.ceil((const / TARGET) ** 2 / 256) * 256)
        # short runs are repeated (seeds 2, 3, ...) and their median time kept
        repeats = 1 if p["wall_s"] * need / p["n_paths"] > 2.0 else 5
        runs = [es_run(x, importance, need, 2 + i, threads) for i in range(repeats)]
        r = dict(runs[0])
        for key in ("wall_s", "cpu_s"):
            r[key] = float(np.median([u[key] for u in runs]))
        r["rel_se_max"] = max(u["rel_se"] for u in runs)
        r["repeats"] = repeats
        assert abs(r["mean"] - el) < 5 * r["mean_se"], (name, r["mean"], el)
        rows[name] = {"pilot_paths": p["n_paths"], "pilot_wall_s": p["wall_s"],
                      "rel_se_sqrt_n": const, **r,
                      "us_per_path": 1e6 * p["wall_s"] / p["n_paths"]}
    plain = rows["plain MC (grouped kernel)"]
    for name, r in rows.items():
        r["speedup_wall"] = plain["wall_s"] / r["wall_s"]
        r["speedup_cpu"] = plain["cpu_s"] / r["cpu_s"]
        r["paths_ratio"] = plain["n_paths"] / r["n_paths"]
        if r is not plain:
            assert abs(r["es"] - plain["es"]) < 4 * math.hypot(r["se"], plain["se"]), name
    return {"n_customers": n_customers, "n_factors": n_factors, "threads": threads,
            "expected_loss": el, "methods": rows}


def print_table(res: dict[str, Any]) -> None:
    print(f"\n{res['n_customers']:,} customers, {res['n_factors']} factor(s), "
          f"{res['threads']} threads: ES {LEVEL:g} to {TARGET:.0%} relative standard error")
    head = (f"{'method':38s} {'se·√n/ES':>9s} {'paths':>9s} {'ES':>10s} {'rel se':>7s} "
            f"{'wall s':>8s} {'cpu s':>8s} {'×wall':>6s} {'×cpu':>6s} {'µs/path':>8s} "
            f"{'defaults':>8s}")
    print(head)
    for name, r in res["methods"].items():
        print(f"{name:38s} {r['rel_se_sqrt_n']:9.3f} {r['n_paths']:9,d} {r['es']:10.4g} "
              f"{r['rel_se_max']:7.2%} {r['wall_s']:8.3f} {r['cpu_s']:8.3f} "
              f"{r['speedup_wall']:6.0f} {r['speedup_cpu']:6.0f} {r['us_per_path']:8.1f} "
              f"{r['mean_defaults']:8.0f}")
    print("(paths: n* from the pilot; rel se: the largest over the timed runs; times: the "
          "median of 5 runs for short ones; µs/path: pilot wall time per path)")


# -------------------------------------------------------------- costs of kernel = "auto"


def kernel_costs(n: int = 10_000, m: int = 2048) -> dict[str, float]:
    """Fit the per-group, per-customer and per-default costs (ns, one thread, CPU time) of
    the grouped and skip kernels on homogeneous-by-group books (R = 0.15)."""
    st = path_states(1, 0, m, Stream.DEFAULT)
    ls = path_states(1, 0, m, Stream.LGD)
    rows = []
    for g in (1, 100, 1000):
        for p in (0.005, 0.02, 0.05, 0.1, 0.3):
            frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "sector": "s",
                                  "country": "X", "exposure": 1.0, "lgd": 0.5,
                                  "p_default": p * (1 + 0.001 * (np.arange(n) % g) / g),
                                  "asset_correlation": 0.15})
            rec = {"G": g, "p": p}
            for kernel in ("grouped", "skip"):
                x = build_inputs(book_from_frame(frame), RunConfig.model_validate(
                    {"simulation": {"kernel": kernel}}))
                default_losses(x, st[:8], ls[:8])  # compiled before timing
                best = math.inf
                for _ in range(3):
                    t0 = time.thread_time()
                    out = default_losses(x, st, ls)
                    best = min(best, time.thread_time() - t0)
                rec[kernel] = best / m * 1e9
                rec["defaults"] = float(out.n_defaults.mean())
            rows.append(rec)
    f = pd.DataFrame(rows)
    print(f.to_string(float_format=lambda v: f"{v:.4g}"))
    a = np.stack([f["G"], np.full(len(f), n), f["defaults"]], axis=1)
    grouped = np.linalg.lstsq(a, f["grouped"], rcond=None)[0]
    sparse = f[f["p"] <= 0.05]
    skip = np.linalg.lstsq(np.stack([sparse["G"], sparse["defaults"]], axis=1),
                           sparse["skip"], rcond=None)[0]
    fit = {"grouped_per_group": float(grouped[0]), "grouped_per_customer": float(grouped[1]),
           "grouped_per_default": float(grouped[2]), "skip_per_group": float(skip[0]),
           "skip_per_default": float(skip[1])}
    print("fitted costs, ns:", {k: round(v, 1) for k, v in fit.items()})
    return fit


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--factors", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--threads", type=int, default=default_threads())
    ap.add_argument("--pilot-plain", type=int, default=100_000)
    ap.add_argument("--pilot-importance", type=int, default=4096)
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--kernel-costs", action="store_true",
                    help="measure the kernel costs behind kernel = 'auto' instead")
    args = ap.parse_args(argv)
    if args.kernel_costs:
        kernel_costs()
        return
    results = []
    for k in args.factors:
        res = time_to_accuracy(args.customers, k, args.threads,
                               {False: args.pilot_plain, True: args.pilot_importance})
        print_table(res)
        results.append(res)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
