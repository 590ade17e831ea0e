"""The reverse stress test: the mildest scenario along one direction that hits a target.

:func:`reverse_stress` looks for the mildest scenario along one direction (a PD multiplier, a
factor shift, …) at which a target is hit, e.g. ``p_line_breach > 5 %``. Every evaluation
runs on the same seed and kernel as a scenario batch (:mod:`portsim.workflow.batch`), so with
a fixed seed the metric is a deterministic, piecewise smooth (for indicator metrics piecewise
constant) function of the direction's value, non-decreasing in the severity when the model is
monotone, and bisection finds the crossing. Its Monte Carlo uncertainty is the metric's
standard error carried through the local slope, se(x*) ≈ se(f(x*)) / abs(f'(x*)), the slope from
a common-random-numbers secant around x*.

Nothing here writes files or prints; the CLI does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from portsim.config import RunConfig, ScenarioConfig, did_you_mean
from portsim.data.book import Book
from portsim.errors import ConfigError, Problem
from portsim.results.estimators import Z95, expected_shortfall, value_at_risk
from portsim.workflow.api import load_book, run_with
from portsim.workflow.batch import batch_kernel, pin_kernel
from portsim.workflow.options import DEFAULT_OPTIONS, RunOptions

__all__ = [
    "DIRECTIONS",
    "TARGET_METRICS",
    "Direction",
    "StressResult",
    "Target",
    "parse_direction",
    "parse_target",
    "reverse_stress",
]

#: Metrics a stress target may name; ``es``, ``var`` and ``cfar`` take a level (``es_0.99``).
TARGET_METRICS = ("expected_loss", "expected_defaults", "es", "var", "p_line_breach",
                  "p_buffer_breach", "cfar", "dso")
_TIMELINE_METRICS = ("p_line_breach", "p_buffer_breach", "cfar", "dso")
_SUFFIX = {"k": 1e3, "m": 1e6, "bn": 1e9, "%": 1e-2}


@dataclass(frozen=True)
class Target:
    """A stress target ``metric > threshold`` (or ``>=``)."""

    metric: str
    level: float | None
    threshold: float
    inclusive: bool
    text: str

    @property
    def label(self) -> str:
        """The metric as written, e.g. ``es_0.99``."""
        return self.metric if self.level is None else f"{self.metric}_{self.level:g}"

    def hit(self, value: float) -> bool:
        """The target is reached at this metric value."""
        return value >= self.threshold if self.inclusive else value > self.threshold


def parse_target(text: str) -> Target:
    """Parse ``"p_line_breach>0.05"``, ``"es_0.99>5m"``, ``"expected_loss>=1_200_000"``.

    Metrics: :data:`TARGET_METRICS` (``es``, ``var`` and ``cfar`` with ``_LEVEL``). Numbers
    may use ``_`` separators and the suffixes ``k``, ``m``, ``bn`` or ``%``.

    Raises
    ------
    ConfigError
        For a target that cannot be read, naming the rule and a fix.
    """
    m = re.fullmatch(r"\s*([a-z_]+?)(?:_([0-9.]+))?\s*(>=|>)\s*([-+0-9_.eE]+)\s*(k|m|bn|%)?\s*",
                     text)
    fix = ("write METRIC>VALUE, e.g. 'p_line_breach>0.05', 'es_0.99>5m' or "
           "'expected_loss>1_000_000'; metrics: " + ", ".join(
               f"{x}_LEVEL" if x in ("es", "var", "cfar") else x for x in TARGET_METRICS))
    if m is None:
        raise ConfigError([Problem("--target", repr(text), "is not a target", fix)])
    metric, level, op, number, suffix = m.groups()
    if metric not in TARGET_METRICS:
        raise ConfigError([Problem("--target", f"metric {metric!r}", "is not known",
                                   did_you_mean(metric, list(TARGET_METRICS), "metrics"))])
    leveled = metric in ("es", "var", "cfar")
    if leveled != (level is not None):
        raise ConfigError([Problem("--target", repr(text), f"{metric} " + (
            "needs a level, e.g. es_0.99" if leveled else "takes no level"), fix)])
    try:
        value = float(number.replace("_", "")) * _SUFFIX.get(suffix or "", 1.0)
        q = float(level) if level is not None else None
    except ValueError:
        raise ConfigError([Problem("--target", repr(text), "has a number that cannot be read",
                                   fix)]) from None
    if q is not None and not 0.0 < q < 1.0:
        raise ConfigError([Problem("--target", f"level {q:g}", "is outside (0, 1)",
                                   "give a level like 0.99")])
    return Target(metric, q, value, op == ">=", text.strip())


def _metric(ds: xr.Dataset, t: Target) -> tuple[float, float, np.ndarray | None]:
    """The target's metric of a run: value, standard error and per-path influence values
    (whose mean differences give paired standard errors; None for quantiles)."""
    if t.metric in _TIMELINE_METRICS and "line_breach" not in ds:
        raise ConfigError([Problem("--target", t.label, "needs a [timeline] (cash and DSO)",
                                   "add a [timeline] table to the config, or use "
                                   "expected_loss, es_LEVEL or var_LEVEL")])
    loss = ds["loss"].values
    if t.metric in ("expected_loss", "expected_defaults", "p_line_breach", "p_buffer_breach",
                    "dso"):
        var = {"expected_loss": "loss", "expected_defaults": "n_defaults",
               "p_line_breach": "line_breach", "p_buffer_breach": "buffer_breach",
               "dso": "dso_avg"}[t.metric]
        x = ds[var].values.astype(float)
        ok = x[np.isfinite(x)]
        se = float(ok.std(ddof=1) / math.sqrt(ok.size)) if ok.size > 1 else math.nan
        return float(ok.mean()), se, x
    assert t.level is not None
    q = t.level
    if t.metric == "es":
        es, se = expected_shortfall(loss, q)
        v = value_at_risk(loss, q)[0]
        return es, se, v + np.maximum(loss - v, 0.0) / (1.0 - q)
    x = loss if t.metric == "var" else (ds["net_cash_flow"].values.mean()
                                        - ds["net_cash_flow"].values)
    v, lo, hi = value_at_risk(x, q)
    return v, (hi - lo) / (2 * Z95), None


DIRECTIONS = ("pd_multiplier", "factor_shift", "lgd_shift", "delay_shift", "sales_change")


@dataclass(frozen=True)
class Direction:
    """A one-parameter family of scenarios around a base scenario.

    The parameter ``x`` is the value a user would write in a scenario file: a PD multiplier
    (× the base scenario's global multiplier; 1 = no change, worse upwards), a factor shift
    in sd (added to the base's shift of every factor, or of one sector's factors; 0 = no
    change, worse downwards), an LGD shift (added; worse upwards), a delay shift in days
    (added; worse upwards) or a sales change (added; worse downwards).
    """

    kind: Literal["pd_multiplier", "factor_shift", "lgd_shift", "delay_shift", "sales_change"]
    sector: str | None = None

    @property
    def label(self) -> str:
        """E.g. ``factor_shift:construction``."""
        return self.kind + (f":{self.sector}" if self.sector else "")

    @property
    def start(self) -> float:
        """The value of ``x`` that leaves the base scenario unchanged."""
        return 1.0 if self.kind == "pd_multiplier" else 0.0

    @property
    def sign(self) -> float:
        """+1 when larger values are worse, −1 when smaller values are."""
        return -1.0 if self.kind in ("factor_shift", "sales_change") else 1.0

    @property
    def step(self) -> float:
        """First step of the search for a bracket, in units of ``x``."""
        return {"pd_multiplier": 1.0, "factor_shift": 0.5, "lgd_shift": 0.1,
                "delay_shift": 15.0, "sales_change": 0.1}[self.kind]

    @property
    def limit(self) -> float:
        """The most severe value searched."""
        return {"pd_multiplier": 1000.0, "factor_shift": -8.0, "lgd_shift": 1.0,
                "delay_shift": 730.0, "sales_change": -1.0}[self.kind]

    @property
    def unit(self) -> str:
        """Units of ``x``."""
        return {"pd_multiplier": "x", "factor_shift": "sd", "lgd_shift": "",
                "delay_shift": "days", "sales_change": ""}[self.kind]

    def at(self, x_: float) -> float:
        """Severity s ≥ 0 of the value ``x_``."""
        return (x_ - self.start) * self.sign

    def x(self, severity: float) -> float:
        """The value ``x`` at severity ``severity``."""
        return self.start + self.sign * severity

    def scenario(self, base: ScenarioConfig, x: float) -> ScenarioConfig:
        """The base scenario moved to ``x`` along this direction (named ``stress``)."""
        if self.kind == "pd_multiplier":
            part: Any = base.pd_multiplier.model_copy(
                update={"global_": base.pd_multiplier.global_ * x})
            upd: dict[str, Any] = {"pd_multiplier": part}
        elif self.kind == "factor_shift":
            fs = base.factor_shift
            if self.sector is not None:
                now = fs.sector.get(self.sector, fs.global_)
                part = fs.model_copy(update={"sector": {**fs.sector, self.sector: now + x}})
            else:
                part = fs.model_copy(update={
                    "global_": fs.global_ + x,
                    "sector": {k: v + x for k, v in fs.sector.items()},
                    "factor": {k: v + x for k, v in fs.factor.items()}})
            upd = {"factor_shift": part}
        elif self.kind == "lgd_shift":
            upd = {"lgd": base.lgd.model_copy(update={"shift": base.lgd.shift + x})}
        elif self.kind == "delay_shift":
            upd = {"delays": base.delays.model_copy(
                update={"shift_days": base.delays.shift_days + x})}
        else:
            upd = {"sales": base.sales.model_copy(update={"change": base.sales.change + x})}
        scen = base.model_copy(update={"name": "stress", **upd,
                                       "description": f"{self.label} = {x:.6g} on "
                                       f"{base.name}"})
        scen._layers = list(base._layers)
        return scen


def parse_direction(text: str, config: RunConfig | None = None,
                    book: Book | None = None) -> Direction:
    """Parse ``pd_multiplier``, ``factor_shift``, ``factor_shift:construction``,
    ``lgd_shift``, ``delay_shift`` or ``sales_change``.

    Raises
    ------
    ConfigError
        For an unknown direction or sector (with a did-you-mean hint), a sector with
        ``model.factors = "single"``, or a timeline direction without a ``[timeline]``.
    """
    kind, _, sector = text.strip().partition(":")
    if kind not in DIRECTIONS:
        raise ConfigError([Problem("--direction", repr(text), "is not a direction",
                                   did_you_mean(kind, list(DIRECTIONS), "directions"))])
    if sector and kind != "factor_shift":
        raise ConfigError([Problem("--direction", repr(text), f"{kind} takes no sector",
                                   "only factor_shift:SECTOR moves one sector")])
    if config is not None:
        if sector and config.model.factors == "single":
            raise ConfigError([Problem("--direction", repr(text), "moves one sector, but "
                                       "model.factors = 'single'", "use factor_shift")])
        if kind in ("delay_shift", "sales_change") and config.timeline is None:
            raise ConfigError([Problem("--direction", repr(text), "needs a [timeline]",
                                       "payment delays and sales act on the timeline")])
        if sector and book is not None:
            sectors = sorted({str(s) for s in book.sector})
            if sector not in sectors:
                raise ConfigError([Problem("--direction", repr(text),
                                           f"{sector!r} is not a sector of the book",
                                           did_you_mean(sector, sectors, "sectors"))])
            cond = config.scenario.factor_condition.sector
            if sector in cond:
                raise ConfigError([Problem("--direction", repr(text), f"{sector!r} is "
                                           "conditioned by the scenario (factor_condition)",
                                           "stress another sector")])
    return Direction(kind, sector or None)  # type: ignore[arg-type]


@dataclass
class StressResult:
    """What :func:`reverse_stress` found.

    Attributes
    ----------
    target, direction : str
        As given.
    found : bool
        The target is hit somewhere in the direction's range.
    value : float
        The mildest ``x`` at which the target is hit (NaN when not found): the linear
        interpolation of the crossing within the final bracket; the base value when the
        target is hit already without stress.
    se : float
        Its Monte Carlo standard error, se(metric) / abs(slope) (NaN when it cannot be told).
    bracket : tuple of float
        ``(x not hitting, x hitting)`` of the last bisection step.
    metric : dict
        The metric at the hitting end of the bracket: ``{"value", "se"}``.
    slope : float
        d metric / dx at the root (common-random-numbers secant).
    baseline_metric : dict
        The metric without stress.
    evaluations : pandas.DataFrame
        Every run: ``x``, ``value``, ``se``, ``hit``, ``purpose``.
    scenario : ScenarioConfig or None
        The scenario at ``value`` (None when not found).
    n_paths, seed : int
    message : str
        A one-line summary.
    """

    target: str
    direction: str
    found: bool
    value: float
    se: float
    bracket: tuple[float, float]
    metric: dict[str, float]
    slope: float
    baseline_metric: dict[str, float]
    evaluations: pd.DataFrame
    scenario: ScenarioConfig | None
    n_paths: int
    seed: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None is left to the writer)."""
        return {
            "target": self.target, "direction": self.direction, "found": self.found,
            "value": self.value, "se": self.se, "bracket": list(self.bracket),
            "metric": self.metric, "slope": self.slope,
            "baseline_metric": self.baseline_metric, "n_paths": self.n_paths,
            "seed": self.seed, "message": self.message,
            "scenario": (None if self.scenario is None
                         else self.scenario.model_dump(
                             mode="json", by_alias=True,
                             exclude={"actions"} if self.scenario.actions is None else None)),
            "evaluations": self.evaluations.to_dict(orient="records"),
        }


def reverse_stress(
    config: RunConfig,
    target: str | Target,
    direction: str | Direction,
    *,
    book: Book | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
    rtol: float = 1e-3,
    max_evaluations: int = 40,
    on_evaluation: Callable[[float, float, float, bool], None] | None = None,
) -> StressResult:
    """The mildest scenario along ``direction`` at which ``target`` is hit.

    Parameters
    ----------
    config : RunConfig
        The base config; its scenario (``--scenario``) is the starting point.
    target : str or Target
        E.g. ``"p_line_breach>0.05"`` (:func:`parse_target`).
    direction : str or Direction
        E.g. ``"pd_multiplier"`` or ``"factor_shift:construction"`` (:func:`parse_direction`).
    book : Book, optional
        Default: read ``config.book.path``.
    options : RunOptions
        Paths, seed and where to run (:class:`~portsim.workflow.options.RunOptions`); every
        evaluation uses the same seed (common random numbers), which makes the metric a
        deterministic function of ``x``, and runs without contributions.
    rtol : float
        Bisection stops when the bracket is narrower than ``rtol`` × max(abs(x − start), step),
        or narrower than a quarter of the root's standard error as it is then estimated.
    max_evaluations : int
        Cap on the number of simulations.
    on_evaluation : callable(x, value, se, hit), optional
        Called after each simulation (for progress).

    Returns
    -------
    StressResult
        The root with its standard error: se(x*) ≈ se(metric) / abs(d metric / dx), the slope
        from runs at x* ± h on common random numbers, h widened until the change is
        significant (4 paired standard errors) so that the secant is not one step of a
        piecewise constant estimate.
    """
    book = load_book(config) if book is None else book
    tgt = parse_target(target) if isinstance(target, str) else target
    dirn = (parse_direction(direction, config, book) if isinstance(direction, str)
            else direction)
    kernel = batch_kernel(config, book)
    base_cfg = pin_kernel(config, kernel)
    opts = replace(options, contributions=False)
    n_paths, seed_ = opts.n_paths(config), opts.run_seed(config)
    rows: list[dict[str, Any]] = []
    cache: dict[float, tuple[float, float, np.ndarray | None]] = {}
    base_metric: dict[str, float] = {}

    def evaluate(s: float, purpose: str) -> tuple[float, float, np.ndarray | None]:
        s = float(s)
        if s in cache:
            return cache[s]
        if len(rows) >= max_evaluations:
            raise _Budget
        x_ = dirn.x(s)
        cfg = base_cfg.model_copy(update={"scenario": dirn.scenario(config.scenario, x_)})
        ds = run_with(cfg, opts, book=book)
        val, se, infl = _metric(ds, tgt)
        hit = tgt.hit(val)
        rows.append({"x": x_, "value": val, "se": se, "hit": hit, "purpose": purpose})
        if on_evaluation is not None:
            on_evaluation(x_, val, se, hit)
        cache[s] = (val, se, infl)
        return cache[s]

    def result(found: bool, value: float, se: float, bracket: tuple[float, float],
               metric: dict[str, float], slope: float, message: str) -> StressResult:
        scen = (dirn.scenario(config.scenario, value) if found and math.isfinite(value)
                else None)
        return StressResult(
            target=tgt.text, direction=dirn.label, found=found, value=value, se=se,
            bracket=bracket, metric=metric, slope=slope, baseline_metric=base_metric,
            evaluations=pd.DataFrame(rows, columns=["x", "value", "se", "hit", "purpose"]),
            scenario=scen, n_paths=n_paths, seed=seed_, message=message)

    nan = math.nan
    v0, se0, _ = evaluate(0.0, "baseline")
    base_metric.update(value=v0, se=se0)
    if tgt.hit(v0):
        return result(True, dirn.start, 0.0, (dirn.start, dirn.start), base_metric, nan,
                      f"{tgt.label} = {v0:.6g} already meets the target without stress")
    limit = dirn.at(dirn.limit)
    lo, f_lo = 0.0, v0
    hi = min(dirn.step, limit)
    try:
        while True:  # bracket: double the step until the target is hit
            f_hi = evaluate(hi, "bracket")[0]
            if tgt.hit(f_hi):
                break
            if hi >= limit:
                return result(False, nan, nan, (dirn.x(lo), dirn.x(hi)),
                              {"value": f_hi, "se": cache[hi][1]}, nan,
                              f"{tgt.label} reaches {f_hi:.6g} at {dirn.label} = "
                              f"{dirn.x(hi):.6g}, the end of the range, without meeting the "
                              "target")
            lo, f_lo = hi, f_hi
            hi = min(2.0 * hi, limit)
    except _Budget:
        return result(False, nan, nan, (dirn.x(lo), dirn.x(hi)), {"value": f_lo,
                      "se": cache[lo][1]}, nan, f"no bracket within {max_evaluations} "
                      "simulations: raise max_evaluations")
    try:
        while True:  # bisection on the common-random-numbers estimate
            width = hi - lo
            se_now = _root_se(cache[hi][1], cache[lo][1], f_hi - f_lo, width)
            if width <= rtol * max(hi, dirn.step) or (math.isfinite(se_now)
                                                      and width <= 0.25 * se_now):
                break
            mid = 0.5 * (lo + hi)
            v_mid = evaluate(mid, "bisection")[0]
            if tgt.hit(v_mid):
                hi, f_hi = mid, v_mid
            else:
                lo, f_lo = mid, v_mid
    except _Budget:
        pass
    # the crossing, by linear interpolation of the estimate within the bracket
    frac = (tgt.threshold - f_lo) / (f_hi - f_lo) if f_hi != f_lo else 1.0
    root = lo + min(max(frac, 0.0), 1.0) * (hi - lo)
    slope, se_root = _slope(evaluate, root, cache, hi, dirn, limit)
    x_root = dirn.x(root)
    return result(True, x_root, se_root, (dirn.x(lo), dirn.x(hi)),
                  {"value": cache[hi][0], "se": cache[hi][1]}, slope * dirn.sign,
                  f"{tgt.label} {'≥' if tgt.inclusive else '>'} {tgt.threshold:.6g} from "
                  f"{dirn.label} = {x_root:.6g} ± {se_root:.2g} (s.e.)")


class _Budget(Exception):
    """The evaluation budget is spent."""


def _root_se(se_hi: float, se_lo: float, df: float, width: float) -> float:
    """A rough se of the root from the bracket secant (for stopping only)."""
    if df <= 0 or width <= 0:
        return math.nan
    return 0.5 * (se_hi + se_lo) / (df / width)


def _slope(
    evaluate: Callable[[float, str], tuple[float, float, np.ndarray | None]],
    root: float,
    cache: dict[float, tuple[float, float, np.ndarray | None]],
    hi: float,
    dirn: Direction,
    limit: float,
) -> tuple[float, float]:
    """d metric / d severity at the root and the root's standard error.

    Secant over [root − h, root + h] on common random numbers, h doubled until the change
    is at least 4 of its (paired, where per-path values exist) standard errors.
    """
    se_f = cache[hi][1]
    h = max(0.05 * max(root, dirn.step), 1e-6)
    slope = math.nan
    try:
        for _ in range(6):
            a, b = max(root - h, 0.0), min(root + h, limit)
            va, sa, ia = evaluate(a, "slope")
            vb, sb, ib = evaluate(b, "slope")
            diff = vb - va
            if ia is not None and ib is not None:
                ok = np.isfinite(ia) & np.isfinite(ib)
                d = ib[ok] - ia[ok]
                se_d = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan
            else:
                se_d = math.hypot(sa, sb)
            slope = diff / (b - a) if b > a else math.nan
            if diff > 4.0 * se_d or (a <= 0.0 and b >= limit):
                break
            h *= 2.0
    except _Budget:
        pass
    se = se_f / abs(slope) if slope and math.isfinite(slope) else math.nan
    return slope, se
