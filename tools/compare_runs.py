"""Check that a code change leaves every result bit-identical.

Runs a fixed set of cases on the shipped example through the command line (every shipped
scenario as one batch on common random numbers, a default-only run, the Student-t copula,
importance sampling, each default kernel, a reverse stress test, the HTML report and a delay
calibration), then compares two such snapshots: every variable, coordinate and attribute of
each ``results.nc`` and every number of each ``summary.json``, ``comparison.csv`` and
``summary.csv``. Timings, versions, dates and folder names are the only things skipped.

Usage::

    python tools/compare_runs.py snapshot BEFORE_DIR      # on the old code
    python tools/compare_runs.py snapshot AFTER_DIR       # on the new code
    python tools/compare_runs.py compare BEFORE_DIR AFTER_DIR
    python tools/compare_runs.py compare BEFORE_DIR AFTER_DIR --added customer_name

``compare`` exits 1 and lists every difference when the snapshots differ. ``--added NAME ...``
accepts those variables when they are new in the after snapshot (a change that adds a
variable); any changed or removed variable still fails. ``--other-root`` compares snapshots
made in two checkouts of the project (paths compared without the checkout's folder, config
hashes skipped since they hash those paths).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "example.toml"
SCENARIOS = ROOT / "scenarios"
PATHS = 3000
PORTSIM = shutil.which("portsim") or "portsim"  # the installed command line

# name -> (extra TOML appended to a config that extends the example, extra CLI arguments)
CASES: dict[str, tuple[str, list[str]]] = {
    "example": ("", []),
    "scenarios": ("", ["--scenario", str(SCENARIOS / "*.toml")]),
    "default_only": ("timeline = 'none'", []),
    "student_t": ("[model]\ncopula = 'student_t'\ndof = 6\n", []),
    "importance": ("timeline = 'none'\n[simulation]\ntail_sampling = 'importance'\n", []),
    "grouped": ("timeline = 'none'\n[simulation]\nkernel = 'grouped'\n", []),
    "per_customer": ("timeline = 'none'\n[simulation]\nkernel = 'per_customer'\n", []),
    "skip": ("timeline = 'none'\n[simulation]\nkernel = 'skip'\n", []),
}
MODULE = re.compile(r"portsim(\.[a-z_]+)+")  # module paths in texts: moved, not changed
# keys whose values legitimately differ between two runs of the same inputs
VOLATILE = {"timings", "created", "versions", "portsim_version", "python", "platform",
            "run_dir", "path", "started", "finished", "elapsed_s", "seconds", "wall_seconds",
            "config_file", "base_dir", "book_file", "input_files", "hostname"}


# a path inside the project (its configs/ or scenarios/), compared without the checkout's root
ROOTED = re.compile(r"/[^\s'\"<>]*?/(?=(?:configs|scenarios)/)")
# with --other-root: keys that hash the absolute input paths (compared as paths, not hashes)
ROOT_DEPENDENT = {"config_hash"}
OPTIONS = {"other_root": False}


def _unroot(text: str) -> str:
    return ROOTED.sub("<root>/", text) if OPTIONS["other_root"] else text


def _volatile(key: str) -> bool:
    if OPTIONS["other_root"] and key in ROOT_DEPENDENT:
        return True
    return key in VOLATILE or "seconds" in key or key.startswith(("created", "timing"))


def _config(work: Path, name: str, extra: str) -> Path:
    """A config that ``extends`` the example (or the example without its timeline tables,
    when ``extra`` starts with ``timeline = 'none'``) and overrides the keys in ``extra``."""
    timeline = not extra.startswith("timeline = 'none'")
    extra = extra.removeprefix("timeline = 'none'").lstrip("\n")
    keep = []
    skip = False
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            skip = not timeline and line.strip("[]").split(".")[0] in {
                "timeline", "delays", "company", "insurance"}
        if not skip and (timeline or not line.startswith("invoices")):
            keep.append(line)
    base = work / f"{name}_base.toml"
    text = "\n".join(keep) + "\n"
    for file in ("example_book.csv", "example_invoices.csv"):
        text = text.replace(f'"{file}"', f'"{ROOT / "configs" / file}"')
    base.write_text(text, encoding="utf-8")
    path = work / f"{name}.toml"
    path.write_text(f'extends = "{base.name}"\n{extra}', encoding="utf-8")
    return path


def _portsim(*args: str) -> None:
    cmd = [PORTSIM, *args]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")


def snapshot(out: Path) -> None:
    """Run every case into ``out`` (which must not exist)."""
    out.mkdir(parents=True)
    work = out / "_configs"
    work.mkdir()
    for name, (extra, args) in CASES.items():
        cfg = _config(work, name, extra)
        print(f"  {name}", flush=True)
        _portsim("run", str(cfg), "--paths", str(PATHS), "-q", "--out", str(out / name), *args)
    print("  report", flush=True)
    _portsim("report", str(out / "example"), "--out", str(out / "example" / "report.html"))
    print("  stress", flush=True)
    cfg = _config(work, "stress", "timeline = 'none'")
    stress = subprocess.run(
        [PORTSIM, "stress", str(cfg), "--target", "es_0.99>2m", "--direction",
         "pd_multiplier", "--paths", "2000", "--json", str(out / "stress.json")],
        capture_output=True, text=True, check=False)
    (out / "stress.txt").write_text(stress.stdout + stress.stderr, encoding="utf-8")
    print("  calibrate", flush=True)
    _portsim("calibrate", str(ROOT / "configs/example_history.csv"),
             "--book", str(ROOT / "configs/example_book.csv"), "--config", str(EXAMPLE),
             "--out", str(out / "calibrated_book.csv"))


def _numbers(obj: Any, where: str, found: dict[str, Any]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not _volatile(k):
                _numbers(v, f"{where}.{_unroot(str(k))}", found)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _numbers(v, f"{where}[{i}]", found)
    else:
        found[where] = obj


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):  # a moved module named in a description
        return MODULE.sub("portsim", _unroot(a)) == MODULE.sub("portsim", _unroot(b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _compare_json(a: Path, b: Path, problems: list[str]) -> None:
    fa: dict[str, Any] = {}
    fb: dict[str, Any] = {}
    _numbers(json.loads(a.read_text()), "", fa)
    _numbers(json.loads(b.read_text()), "", fb)
    for k in sorted(set(fa) | set(fb)):
        if k not in fa or k not in fb:
            problems.append(f"{b}: key {k} only in {'after' if k in fb else 'before'}")
        elif not _same(fa[k], fb[k]):
            problems.append(f"{b}: {k}: {fa[k]!r} != {fb[k]!r}")


def _clean_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if not _volatile(k)}


def _compare_nc(a: Path, b: Path, problems: list[str], added: frozenset[str]) -> None:
    with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
        va = set(da.variables)
        vb = set(db.variables) - (added - va)
        for name in sorted(va ^ vb):
            problems.append(f"{b}: variable {name} only in {'after' if name in vb else 'before'}")
        for name in sorted(va & vb):
            x, y = da[name], db[name]
            if x.dims != y.dims or x.dtype != y.dtype:
                problems.append(f"{b}: {name} dims/dtype {x.dims} {x.dtype} != {y.dims} {y.dtype}")
            elif not np.array_equal(x.values, y.values, equal_nan=x.dtype.kind in "fc"):
                problems.append(f"{b}: {name} values differ")
            if not all(_same(x.attrs.get(k), y.attrs.get(k)) for k in {*x.attrs, *y.attrs}):
                problems.append(f"{b}: {name} attrs {x.attrs} != {y.attrs}")
        aa, ab = _clean_attrs(da.attrs), _clean_attrs(db.attrs)
        for k in sorted(set(aa) | set(ab)):
            if not _same(aa.get(k), ab.get(k)):
                problems.append(f"{b}: attr {k}: {aa.get(k)!r} != {ab.get(k)!r}")


def compare(before: Path, after: Path, added: frozenset[str] = frozenset()) -> list[str]:
    """Every difference between two snapshots (empty when bit-identical), except that the
    variables named in ``added`` may be new in ``after``'s ``results.nc`` files."""
    problems: list[str] = []
    files_a = {p.relative_to(before) for p in before.rglob("*")
               if p.is_file() and "_configs" not in p.parts}
    files_b = {p.relative_to(after) for p in after.rglob("*")
               if p.is_file() and "_configs" not in p.parts}
    for rel in sorted(files_a ^ files_b):
        problems.append(f"{rel} only in {'after' if rel in files_b else 'before'}")
    for rel in sorted(files_a & files_b):
        a, b = before / rel, after / rel
        if rel.suffix == ".nc":
            _compare_nc(a, b, problems, added)
        elif rel.suffix == ".json":
            _compare_json(a, b, problems)
        elif rel.suffix == ".csv":
            ta, tb = pd.read_csv(a), pd.read_csv(b)
            if not ta.equals(tb):
                problems.append(f"{rel}: tables differ")
        elif rel.name in {"stress.txt", "report.html"}:
            ta, tb = a.read_text(), b.read_text()
            if rel.name == "report.html":  # figures are PNGs whose bytes carry no result
                ta, tb = (_strip_images(t) for t in (ta, tb))
            if OPTIONS["other_root"]:
                ta, tb = (_unroot(HASH_ROW.sub(r"\1HASH", t)) for t in (ta, tb))
            if ta != tb:
                problems.append(f"{rel}: text differs")
    return problems


HASH_ROW = re.compile(r"(Config hash \(SHA-256\)</td><td>)[0-9a-f]{64}")


def _strip_images(html: str) -> str:
    html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "IMG", html)
    html = re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?[^<\"]*", "DATE", html)
    return re.sub(r"(time \(s\)</td><td>)[0-9.]+", r"\1TIME", html)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot", help="run every case into a new folder")
    s.add_argument("out", type=Path)
    c = sub.add_parser("compare", help="compare two snapshots")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--added", nargs="+", default=[], metavar="NAME",
                   help="variables allowed to be new in AFTER's results.nc (only new: a "
                        "changed or removed variable still fails)")
    c.add_argument("--other-root", action="store_true",
                   help="the snapshots were made in different checkouts: compare project "
                        "paths without their root and skip the config hashes (which hash "
                        "those absolute paths)")
    args = parser.parse_args()
    if args.cmd == "snapshot":
        snapshot(args.out)
        return
    OPTIONS["other_root"] = args.other_root
    problems = compare(args.before, args.after, frozenset(args.added))
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    extra = f" (new variables accepted: {', '.join(args.added)})" if args.added else ""
    print(f"bit-identical: every results.nc variable and summary number matches{extra}")


if __name__ == "__main__":
    main()
