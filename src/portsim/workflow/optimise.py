"""``portsim optimise``: spend a yearly risk budget on the mix of levers that buys the most
protection (:mod:`portsim.budget`), and show the cost-against-risk frontier.

The flow: every simulated variant (each action policy × each collection spend, as scenario
overlays of the config: a delay shift for the spend) is run on the optimisation seed with
the same paths (common random numbers: the kernel is pinned as in a scenario batch); the
best mix is found at every budget of the grid; each chosen mix is priced again on paths of an
independent seed (the validation seed: the variants the chosen mixes use, and doing nothing,
are simulated again with it), so the in-sample optimism shows. The chosen mix at the default
budget is then priced under every stress scenario given, next to the best mix for that
scenario (the regret); to keep this part short it simulates only the chosen mix's action and
collection spend (with ``stress_paths`` paths) and re-optimises the other levers.

The folder holds ``frontier.csv`` (one row per budget), ``stress.csv`` (with scenarios),
``fan.csv`` (cash bands of the chosen mix and of doing nothing), ``chosen_mix.toml`` (the
chosen mix as a config overlay ``portsim run`` reads; factoring, which the engine does not
simulate, is written there as comments), ``optimise.json`` (the recommendation, seeds, paths,
timings) and ``report.html``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from portsim.budget import (
    Choices,
    Economics,
    Mix,
    PathSet,
    Result,
    Variant,
    measures,
    optimise,
    path_set,
    reprice,
)
from portsim.budget.mix import mix_cash
from portsim.config import LeversConfig, RunConfig, ScenarioConfig, load_scenario
from portsim.config.locate import did_you_mean, key_line
from portsim.data.book import Book
from portsim.errors import ConfigError, Problem
from portsim.report.budget import optimise_section
from portsim.report.html import page
from portsim.workflow.api import load_book, run_with
from portsim.workflow.batch import batch_kernel, pin_kernel
from portsim.workflow.claim import claim_auto, claim_new
from portsim.workflow.folders import write_atomic, write_json, write_text_atomic
from portsim.workflow.options import DEFAULT_OPTIONS, RunOptions

__all__ = ["OPTIMISE_FILES", "OptimiseResult", "chosen_overlay", "default_optimise_dir",
           "describe_mix", "economics", "objective_words", "optimise_budget", "overlay_scenario",
           "write_optimise"]

#: The files ``portsim optimise`` writes (``stress.csv`` only with scenarios).
OPTIMISE_FILES = ("frontier.csv", "fan.csv", "chosen_mix.toml", "optimise.json", "report.html")
#: Quantiles of the cash fan chart.
FAN_BANDS = (0.05, 0.25, 0.5, 0.75, 0.95)
_MEASURE_WORDS = {"es": "ES {level} of the retained credit loss",
                  "cfar": "cash-flow-at-risk {level}",
                  "line_breach": "the probability that the credit line cannot keep the buffer"}

Progress = Callable[[int, int, str], None]


@dataclass
class OptimiseResult:
    """What :func:`optimise_budget` found.

    Attributes
    ----------
    frontier : pandas.DataFrame
        One row per budget (module docstring of :mod:`portsim.workflow.optimise`).
    stress : pandas.DataFrame or None
        One row per stress scenario: the chosen mix's objective, the best mix's, the regret.
    fan : pandas.DataFrame
        ``period``, ``period_end_day``, ``band`` and the cash of ``nothing`` and ``chosen``.
    summary : dict
        The recommendation (``text``), objective, default budget, seeds, paths, timings.
    overlay : str
        The chosen mix as a config overlay (TOML).
    """

    frontier: pd.DataFrame
    stress: pd.DataFrame | None
    fan: pd.DataFrame
    summary: dict[str, Any]
    overlay: str


def _where(levers: LeversConfig, keys: tuple[str, ...]) -> str:
    """``FILE line N`` of a key of the levers file (``levers file`` when not read from one)."""
    src = levers.source
    if src is None:
        return "levers file"
    line = key_line(Path(src).read_text(encoding="utf-8"), keys)
    return f"{src} line {line}" if line else src


def _check(config: RunConfig, levers: LeversConfig, book: Book) -> None:
    problems: list[Problem] = []
    if config.timeline is None:
        problems.append(Problem("config", "[timeline]", "is missing: the levers act on the "
                                "payment timeline and cash", "add [timeline] and [company]"))
    names = ["none", *(config.insurance.policies if config.insurance is not None else [])]
    for k, v in enumerate(levers.insurance.variants or []):
        if v not in names:
            problems.append(Problem(_where(levers, ("insurance", "variants")),
                                    f"insurance.variants[{k}]={v!r}", "is not a policy "
                                    "variant of the config", did_you_mean(v, names, "variants")))
    sectors = sorted(set(book.sector.tolist()))
    for s in levers.factoring.sectors:
        if s not in sectors:
            problems.append(Problem(_where(levers, ("factoring", "sectors", s)),
                                    f"factoring.sectors.{s}", "is not a sector of the book",
                                    did_you_mean(s, sectors, "sectors")))
    for a in levers.action:
        if not levers.action_path(a).exists():
            problems.append(Problem(_where(levers, ("action",)), f"action {a.name!r} "
                                    f"file={a.file!r}", "is not a file", "give the scenario "
                                    "overlay's path relative to the levers file"))
    if problems:
        raise ConfigError(problems)


def economics(levers: LeversConfig, book: Book) -> Economics:
    """The prices of the levers, with each factoring sector's annual sales and open
    receivables from the book."""
    f = levers.factoring.sectors
    names = tuple(f)
    sales = np.array([book.annual_sales[book.sector == s].sum() for s in names], dtype=float)
    recv = np.array([book.exposure[book.sector == s].sum() for s in names], dtype=float)
    return Economics(
        sectors=names, sales=sales, receivables=recv,
        fee=np.array([f[s].fee for s in names], dtype=float),
        advance_rate=np.array([f[s].advance_rate for s in names], dtype=float),
        max_share=np.array([f[s].max_share for s in names], dtype=float),
        commitment_fee=levers.credit_line.commitment_fee,
        opportunity_cost_rate=levers.cash_reserve.opportunity_cost_rate,
        action_cost=tuple((a.name, a.cost) for a in levers.action),
        net=levers.budget.cost_basis == "net")


def _with_zero(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(sorted({0.0, *map(float, values)}))


def overlay_scenario(base: ScenarioConfig, action: ScenarioConfig | None, days: float
                     ) -> ScenarioConfig:
    """``base`` with an action's keys (those its file sets replace the base's) and every mean
    payment delay ``days`` shorter."""
    if action is None and days == 0:
        return base
    data = base.model_dump(by_alias=True, exclude={"name", "description"})
    if action is not None:
        over = action.model_dump(by_alias=True, exclude_unset=True,
                                 exclude={"name", "description"})
        data = _merge(data, over)
    data["delays"]["shift_days"] = float(data["delays"]["shift_days"]) - days
    return ScenarioConfig.model_validate({**data, "name": base.name,
                                          "description": base.description})


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def objective_words(levers: LeversConfig) -> str:
    """The objective in words, e.g. ``ES 99 % of the retained credit loss``."""
    obj = levers.objective
    level = f"{obj.level * 100:g} %"
    if obj.metric != "weighted":
        return _MEASURE_WORDS[obj.metric].format(level=level)
    parts = [f"{w:g} × {_MEASURE_WORDS[k].format(level=level)}"
             for k, w in obj.weights.items() if w > 0]
    return "the weighted sum " + " + ".join(parts) + " (each relative to doing nothing)"


def describe_mix(mix: Mix, econ: Economics, currency: str) -> list[str]:
    """The mix's levers in words, one phrase each (empty: do nothing)."""
    out = []
    if mix.policy != "none":
        out.append(f"take the credit-insurance variant '{mix.policy}'")
    parts = [f"{s:.0%} of {name}" for name, s in zip(econ.sectors, mix.shares, strict=True)
             if s > 5e-4]
    if parts:
        out.append("factor (non-recourse) " + ", ".join(parts) + " receivables")
    if mix.line_extra > 0:
        out.append(f"add {_money(mix.line_extra, currency)} to the committed credit line")
    if mix.reserve > 0:
        out.append(f"hold a cash reserve of {_money(mix.reserve, currency)}")
    if mix.variant.collection > 0:
        out.append(f"spend {_money(mix.variant.collection, currency)} a year on collection")
    if mix.variant.action != "none":
        out.append(f"apply the action policy '{mix.variant.action}'")
    return out


def _money(x: float, currency: str) -> str:
    for div, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:,.2f}{suffix} {currency}"
    return f"{x:,.0f} {currency}"


def optimise_budget(
    config: RunConfig,
    levers: LeversConfig,
    *,
    book: Book | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
    validation_seed: int | None = None,
    scenarios: Sequence[str | Path] = (),
    stress_paths: int | None = None,
    config_file: str | Path | None = None,
    progress: Progress | None = None,
) -> OptimiseResult:
    """Find the best mix of levers at every budget of the grid and check it out of sample.

    Parameters
    ----------
    config : RunConfig
        With a ``[timeline]``; its insurance variants are the insurance lever's options.
    levers : LeversConfig
        The levers file (:func:`portsim.config.load_levers`).
    book : Book, optional
        Default: read ``config.book.path``.
    options : RunOptions
        Paths, seed (the optimisation seed) and threads of every run.
    validation_seed : int, optional
        The independent seed the chosen mixes are priced again on (default: seed + 1).
    scenarios : sequence of path
        Stress scenario files (the regret table); none: no stress part.
    stress_paths : int, optional
        Paths of each stress run (default: half the paths).
    config_file : path, optional
        The config's file, which the chosen mix's overlay extends.
    progress : callable(done, total, title), optional
        Called after each simulated run and during the search.

    Returns
    -------
    OptimiseResult
    """
    started = time.perf_counter()
    book = load_book(config) if book is None else book
    _check(config, levers, book)
    config = pin_kernel(config, batch_kernel(config, book))
    econ = economics(levers, book)
    seed = options.seed if options.seed is not None else config.simulation.seed
    vseed = seed + 1 if validation_seed is None else validation_seed
    paths = options.paths if options.paths is not None else config.simulation.paths
    spaths = stress_paths if stress_paths is not None else max(paths // 2, 1)
    policies = tuple(levers.insurance.variants or
                     ["none", *(config.insurance.policies if config.insurance else [])])
    actions: dict[str, ScenarioConfig | None] = {"none": None}
    for a in levers.action:
        actions[a.name] = load_scenario(levers.action_path(a), config.book.sectors)
    spends = _with_zero(levers.collection.spend)
    variants = tuple(Variant(a, s) for a in actions for s in spends)
    scen_files = [Path(s) for s in scenarios]
    stress_scens = [load_scenario(f, config.book.sectors) for f in scen_files]
    n_runs = 2 * len(variants) + len(stress_scens)  # at most: fixed after the search
    runs_done = 0

    def simulate(base: ScenarioConfig, v: Variant, seed_: int, n: int, label: str) -> PathSet:
        nonlocal runs_done
        scen = overlay_scenario(base, actions[v.action],
                                levers.collection.days_removed(v.collection))
        cfg = config if scen is config.scenario else config.model_copy(update={"scenario": scen})
        opts = replace(options, seed=seed_, paths=n, contributions=False)
        ds = run_with(cfg, opts, book=book)
        runs_done += 1
        if progress is not None:
            progress(runs_done, n_runs + 1, f"simulated {label}")
        return path_set(ds, policies)

    def label(v: Variant, s: int) -> str:
        return f"action {v.action}, collection {v.collection:,.0f} (seed {s})"

    fit = {v: simulate(config.scenario, v, seed, paths, label(v, seed)) for v in variants}
    obj = levers.objective
    weights: dict[str, float] = ({str(obj.metric): 1.0} if obj.metric != "weighted"
                                 else {str(k): w for k, w in obj.weights.items() if w > 0})
    nothing = Mix()
    base_m = measures(fit[Variant()], econ, nothing, obj.level)
    scales: dict[str, float] = ({str(obj.metric): 1.0} if obj.metric != "weighted"
                                else {k: base_m[k] if base_m[k] != 0 else 1.0 for k in weights})
    ch = Choices(policies=policies, variants=variants,
                 lines=_with_zero(levers.credit_line.extra),
                 reserves=_with_zero(levers.cash_reserve.amounts),
                 share_step=levers.factoring.share_step, weights=weights, scales=scales,
                 level=obj.level)
    sales = float(book.annual_sales.sum())
    default = (levers.budget.amount if levers.budget.amount is not None
               else levers.budget.default_share * sales)
    budgets = np.unique(np.r_[np.linspace(0.0, levers.budget.grid_multiple * default,
                                          levers.budget.grid_points), default])

    def tick(done: int, total: int) -> None:
        if progress is not None:
            progress(runs_done, n_runs + 1, f"searching ({done}/{total})")

    chosen = optimise(fit, econ, ch, budgets.tolist(), tick)
    # the independent seed: only the variants some chosen mix uses, and doing nothing
    used = {Variant(), *(r.mix.variant for r in chosen if r is not None)}
    n_runs = len(variants) + len(used) + len(stress_scens)
    check = {v: simulate(config.scenario, v, vseed, paths, label(v, vseed))
             for v in variants if v in used}
    currency = config.book.currency
    rows = []
    for b, r in zip(budgets, chosen, strict=True):
        if r is None:  # every mix costs more than the budget
            continue
        out = reprice(check[r.mix.variant], econ, r.mix, ch)
        rows.append(_frontier_row(b, sales, default, r, out, econ))
    frontier = pd.DataFrame(rows)
    at_default = chosen[int(np.flatnonzero(np.isclose(budgets, default))[0])]
    if at_default is None:
        raise ConfigError([Problem(_where(levers, ("budget",)), f"default budget {default:g}",
                                   "affords no mix", "raise the budget")])
    mix = at_default.mix
    stress = None
    if stress_scens:
        stress = _stress_table(stress_scens, mix, econ, ch, default, currency,
                               lambda sc: simulate(sc, mix.variant, seed, spaths,
                                                   f"scenario {sc.name}"))
    fan = _fan(check[Variant()], check[mix.variant], econ, mix)
    out_default = reprice(check[mix.variant], econ, mix, ch)
    nothing_out = reprice(check[Variant()], econ, nothing, ch)
    words = objective_words(levers)
    text = _recommendation(mix, econ, currency, default, sales, at_default, out_default,
                           reprice(fit[Variant()], econ, nothing, ch), words, obj.metric)
    summary = {
        "text": text, "objective": words, "metric": obj.metric, "level": obj.level,
        "weights": weights, "scales": scales, "cost_basis": levers.budget.cost_basis,
        "currency": currency, "annual_sales": sales, "default_budget": default,
        "min_cash_buffer": config.company.min_cash_buffer,
        "chosen": _mix_dict(mix, econ), "cost": at_default.cost,
        "objective_in": at_default.value, "objective_in_se": at_default.se,
        "objective_out": out_default.value, "objective_out_se": out_default.se,
        "nothing_in": base_m, "nothing_out": nothing_out.measures,
        "seed": seed, "validation_seed": vseed, "paths": paths, "stress_paths": spaths,
        "stress_scope": "the chosen mix's action policy and collection spend; the other "
                        "levers re-optimised for each scenario",
        "scenarios": [str(f) for f in scen_files], "config": config.name,
        "simulated_variants": len(variants), "seconds": time.perf_counter() - started,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if progress is not None:
        progress(n_runs + 1, n_runs + 1, "done")
    return OptimiseResult(frontier=frontier, stress=stress, fan=fan, summary=summary,
                          overlay=chosen_overlay(config, levers, mix, econ, actions, default,
                                                 config_file))


def _mix_dict(mix: Mix, econ: Economics) -> dict[str, Any]:
    return {"policy": mix.policy, "action": mix.variant.action,
            "collection_spend": mix.variant.collection, "line_extra": mix.line_extra,
            "reserve": mix.reserve,
            **{f"factor_{s}": float(x) for s, x in zip(econ.sectors, mix.shares, strict=True)}}


def _frontier_row(budget: float, sales: float, default: float, r: Result, out: Result,
                  econ: Economics) -> dict[str, Any]:
    m = out.measures
    return {
        "budget": budget, "budget_share": budget / sales if sales > 0 else math.nan,
        "is_default": bool(np.isclose(budget, default)), **_mix_dict(r.mix, econ),
        "cost": r.cost, "objective_in": r.value, "objective_in_se": r.se,
        "objective_out": out.value, "objective_out_se": out.se,
        "expected_loss": m["expected_loss"], "expected_loss_se": m["expected_loss_se"],
        "es": m["es"], "es_se": m["es_se"], "cfar": m["cfar"], "cfar_se": m["cfar_se"],
        "p_line_breach": m["line_breach"], "p_line_breach_se": m["line_breach_se"],
        "dso": m["dso"], "lost_margin": m["lost_margin"], "action_cost": m["action_cost"],
    }


def _stress_table(scens: list[ScenarioConfig], mix: Mix, econ: Economics, ch: Choices,
                  budget: float, currency: str, simulate: Callable[[ScenarioConfig], PathSet]
                  ) -> pd.DataFrame:
    rows = []
    for sc in scens:
        ps = simulate(sc)
        sets = {mix.variant: ps}
        only = replace(ch, variants=(mix.variant,),
                       policies=tuple(p for p in ch.policies if p in ps.evaluated))
        mine = reprice(ps, econ, mix, ch)
        top = optimise(sets, econ, only, [budget])[0]
        best = top if top is not None and top.value < mine.value else mine
        rows.append({"scenario": sc.name, "objective_chosen": mine.value,
                     "objective_chosen_se": mine.se, "objective_best": best.value,
                     "objective_best_se": best.se, "regret": mine.value - best.value,
                     "best_mix": "; ".join(describe_mix(best.mix, econ, currency))
                     or "do nothing",
                     "chosen_cost": mine.cost, "best_cost": best.cost})
    return pd.DataFrame(rows)


def _fan(nothing: PathSet, ps: PathSet, econ: Economics, mix: Mix) -> pd.DataFrame:
    base = np.quantile(nothing.cash, FAN_BANDS, axis=0)
    mine = np.quantile(mix_cash(ps, econ, mix), FAN_BANDS, axis=0)
    rows = [{"period": p, "period_end_day": float(d), "band": q, "nothing": base[i, t],
             "chosen": mine[i, t]}
            for t, (p, d) in enumerate(zip(ps.periods, ps.period_end_day, strict=True))
            for i, q in enumerate(FAN_BANDS)]
    return pd.DataFrame(rows)


def _recommendation(mix: Mix, econ: Economics, currency: str, budget: float, sales: float,
                    fit: Result, out: Result, nothing: Result, words: str, metric: str
                    ) -> str:
    """The recommendation in plain words (``metric``: the objective's)."""
    acts = describe_mix(mix, econ, currency)
    share = f" ({budget / sales:.2%} of annual sales of {_money(sales, currency)})" if sales else ""
    head = f"With a budget of {_money(budget, currency)} a year{share}, "
    if not acts:
        return head + "doing nothing is best: no lever lowers " + words + " within the budget."

    def val(r: Result) -> str:
        if metric in ("es", "cfar"):
            return f"{_money(r.value, currency)} ± {_money(r.se, currency)}"
        if metric == "line_breach":
            return f"{r.value:.2%} ± {r.se:.2%}"
        return f"{r.value:.4g} ± {r.se:.2g}"

    return (head + "; ".join(acts) + f". Expected cost {_money(fit.cost, currency)} a year. "
            f"This lowers {words} from {val(nothing)} (doing nothing) to {val(fit)} on the "
            f"optimisation paths and {val(out)} on an independent seed.")


def chosen_overlay(config: RunConfig, levers: LeversConfig, mix: Mix, econ: Economics,
                   actions: dict[str, ScenarioConfig | None], budget: float,
                   config_file: str | Path | None = None) -> str:
    """The chosen mix as a config overlay: ``extends`` the config, with the policy variant,
    the larger line, the reserve, the delay shift and the action's scenario keys; the
    factoring shares as comments (``portsim run`` does not simulate factoring)."""
    days = levers.collection.days_removed(mix.variant.collection)
    scen = overlay_scenario(config.scenario, actions[mix.variant.action], days)
    data: dict[str, Any] = {}
    data["extends"] = str(Path(config_file).resolve()) if config_file else "CONFIG.toml"
    data["name"] = f"{config.name}-optimised"
    company: dict[str, Any] = {}
    if mix.line_extra:
        company["credit_line"] = config.company.credit_line + mix.line_extra
    if mix.reserve:
        company["opening_cash"] = config.company.opening_cash + mix.reserve
    if company:
        data["company"] = company
    sdata = scen.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    sdata["policies"] = [] if mix.policy == "none" else [mix.policy]
    data["scenario"] = sdata
    lines = [f"# portsim optimise: the chosen mix at the default budget of {budget:,.0f} "
             f"{config.book.currency} a year", "# run it: portsim run THIS_FILE",
             "# (extends names the optimised config; edit it if the config moved)"]
    for s, x in zip(econ.sectors, mix.shares, strict=True):
        if x > 5e-4:
            lines.append(f"# factoring (not simulated by portsim run): {x:.1%} of {s} "
                         "receivables, non-recourse")
    if mix.variant.collection:
        lines.append(f"# collection spend {mix.variant.collection:,.0f} a year: mean delays "
                     f"{days:.2f} days shorter (scenario.delays.shift_days)")
    return "\n".join(lines) + "\n" + _toml(data)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """``data`` as TOML: scalars and lists first, then tables, then arrays of tables."""
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)
            and not (isinstance(v, list) and v and isinstance(v[0], dict))}
    text = "".join(f"{k} = {_toml_value(v)}\n" for k, v in flat.items())
    for k, v in data.items():
        if isinstance(v, dict):
            name = f"{prefix}{k}"
            body = _toml(v, name + ".")
            text += f"\n[{name}]\n{body}" if body.strip() else ""
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                text += f"\n[[{prefix}{k}]]\n" + _toml(item, f"{prefix}{k}.")
    return text


def default_optimise_dir(config: RunConfig) -> Path:
    """``<output.dir>/<name>-optimise-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(config.output.dir) / f"{config.name}-optimise-{stamp}"


def write_optimise(result: OptimiseResult, config: RunConfig, out: str | Path | None = None
                   ) -> Path:
    """Write the folder of :func:`optimise_budget` (module docstring); returns it."""
    claim = claim_new(Path(out)) if out is not None else claim_auto(default_optimise_dir(config))
    with claim:
        d = claim.folder
        write_atomic(d / "frontier.csv", lambda p: result.frontier.to_csv(p, index=False))
        if result.stress is not None:
            stress = result.stress
            write_atomic(d / "stress.csv", lambda p: stress.to_csv(p, index=False))
        write_atomic(d / "fan.csv", lambda p: result.fan.to_csv(p, index=False))
        write_text_atomic(d / "chosen_mix.toml", result.overlay)
        write_json(d / "optimise.json", result.summary)
        section = optimise_section(result.frontier, result.stress, result.fan, result.summary)
        write_text_atomic(d / "report.html", page(
            "Risk budget", f"{config.name}: {result.summary['objective']}", [section]))
    return claim.folder
