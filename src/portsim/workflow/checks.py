"""Every check of a run before its inputs are built: the config and its scenario against
the book.

:func:`check_run` is called once, by :func:`portsim.workflow.api.prepare` (so by ``portsim run``
and ``portsim validate``) and by whatever else builds inputs from a user's files, after the
config, the book and the open invoices have been read (each reader checks its own file) and
before :func:`portsim.inputs.model.build_inputs`, which trusts what it is given. Every problem
is collected and names the file, key and line, the rule and a fix (with the closest name for
an unknown one).

The checks sit above :mod:`portsim.inputs` because some concern what the inputs derive from
the config rather than the config itself: the factor names of the book, the scaled factor
correlation matrix (positive semi-definite?) and the premium from the cover rules (is the
maximum liability, a multiple of it, above the first loss?). They call the same functions the
build calls, so the checked values are the built ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from portsim.config import (
    PolicyConfig,
    RunConfig,
    did_you_mean,
    key_location,
)
from portsim.data import Book, SupplierTable
from portsim.errors import ConfigError, Problem
from portsim.inputs.factors import (
    PSD_TOLERANCE,
    correlation_matrix,
    factor_labels,
    factor_labels_of,
    scaled_correlation,
    smallest_eigenvalue,
)
from portsim.inputs.policy import policy_cover, premium_terms
from portsim.inputs.stress import effective_config, stressed_book
from portsim.inputs.timeline import horizon_days

__all__ = ["check_config", "check_fx", "check_run", "check_scenario", "check_suppliers",
           "require_valid"]


def check_run(config: RunConfig, book: Book, invoices: pd.DataFrame | None = None,
              suppliers: SupplierTable | None = None) -> list[Problem]:
    """Every problem of a run config (with its scenario) against a book.

    Parameters
    ----------
    config : RunConfig
        A loaded config (its own keys already valid, :func:`portsim.config.load_config`).
    book : Book
        The validated book the run reads.
    invoices : DataFrame, optional
        Its open invoices (:func:`portsim.data.read_invoices`), if the config names them.
    suppliers : SupplierTable, optional
        The supplier table of ``[suppliers]`` (:func:`portsim.data.read_suppliers`).

    Returns
    -------
    list of Problem
        In this order: the scenario against the book (:func:`check_scenario`, and
        :func:`check_fx` with the invoices), the factor
        correlations (with the scenario's correlation multiplier), the settings that need no
        book (:func:`check_config`), the payment-delay overrides, the sectors named in
        ``[creditriskplus]``, the suppliers (:func:`check_suppliers`), the insurance policies
        against the book (under the scenario's sales and policy choice). Empty when the
        inputs can be built.
    """
    names = sorted(set(factor_labels(book, config.model.factors).tolist()))
    problems = check_scenario(book, config) + check_fx(config, book, invoices)
    problems += _correlation_problems(names, config)
    problems += check_config(config)
    if config.timeline is not None:
        problems += _delay_problems(book, config)
    problems += _creditriskplus_problems(book, config)
    problems += check_suppliers(config, names, suppliers)
    if not config.scenario.is_identity:
        book = stressed_book(book, config.scenario)
        config = effective_config(config)
    if config.insurance is not None:
        for name, pol in config.insurance.policies.items():
            problems += _policy_problems(name, pol, book, config.insurance.source)
    return problems


def check_fx(config: RunConfig, book: Book, invoices: pd.DataFrame | None) -> list[Problem]:
    """A scenario's ``[fx]`` change of a currency that no customer and no open invoice is in
    would change nothing: each such currency is a problem, located in the scenario file."""
    scen = config.scenario
    if not scen.fx:
        return []
    held = set() if book.currency is None else {str(c) for c in book.currency}
    if invoices is not None and "currency" in invoices:
        held |= {str(c) for c in invoices["currency"]}
    return [Problem(scen.locate(("fx", code)), f"fx.{code}",
                    f"changes nothing: no customer and no open invoice is in {code}",
                    "give the book (or the invoices) a currency column naming it, or remove "
                    "the change")
            for code in scen.fx if code not in held]


def require_valid(config: RunConfig, book: Book) -> None:
    """Raise :class:`~portsim.errors.ConfigError` listing every problem of
    :func:`check_run`, if any."""
    problems = check_run(config, book)
    if problems:
        raise ConfigError(problems)


def check_config(config: RunConfig) -> list[Problem]:
    """The problems of a run config that need no book: the kernel against the timeline,
    importance sampling, and what ``model.family = "creditriskplus"`` does not support
    (reported with the book's problems when the book cannot be read)."""
    problems = []
    if config.simulation.kernel == "skip" and config.timeline is not None:
        problems.append(Problem("config [simulation]", "kernel='skip'", "draws defaults only, "
                                "not the default day a [timeline] run needs",
                                'use kernel = "grouped" (or "auto")'))
    if config.model.family == "creditriskplus":
        problems += _family_problems(config)
    elif config.simulation.tail_sampling == "importance":
        problems += _importance_problems(config)
    return problems


def _family_problems(config: RunConfig) -> list[Problem]:
    """``model.family = "creditriskplus"`` runs the CreditRisk+ kernel: default-only, plain
    Monte Carlo, and none of the copula's keys or the scenario changes that act on the
    copula's factors apply."""
    fix_family = "or model.family = 'copula'"
    problems = []
    if config.timeline is not None:
        problems.append(Problem("config [timeline]", "[timeline]", "is not supported with "
                                "model.family = 'creditriskplus' (default-only runs)",
                                f"remove [timeline] (and [insurance]), {fix_family}"))
    if config.simulation.tail_sampling != "plain":
        problems.append(Problem("config [simulation]", "tail_sampling='importance'",
                                "shifts the copula's Gaussian factors; model.family = "
                                "'creditriskplus' has gamma sector variables",
                                f'use tail_sampling = "plain", {fix_family}'))
    if config.model.copula != "gaussian":
        problems.append(Problem("config [model]", f"copula={config.model.copula!r}",
                                "is not used by model.family = 'creditriskplus'",
                                f"remove copula and dof, {fix_family}"))
    scen = config.scenario
    copula_only = {
        ("factor_shift",): scen.factor_shift != type(scen.factor_shift)(),
        ("factor_condition",): scen.factor_condition != type(scen.factor_condition)(),
        ("correlation",): scen.correlation != type(scen.correlation)(),
        ("default_events",): bool(scen.default_events),
    }
    problems += [Problem(scen.locate(keys), keys[0], "acts on the copula model, not on "
                         "model.family = 'creditriskplus'",
                         f"stress PDs (pd_multiplier), LGDs or exposures instead, {fix_family}")
                 for keys, used in copula_only.items() if used]
    return problems


def check_scenario(book: Book, config: RunConfig) -> list[Problem]:
    """Problems of the scenario against the book: unknown sectors, countries, ratings,
    factors and customers (with did-you-mean hints), event dates outside the horizon,
    sector stress on a single-factor model, conditioning with importance sampling.

    Each problem is located in the scenario file (line of the key).
    """
    scen = config.scenario
    if scen.is_identity:
        return []
    where = scen.locate
    factor_names = sorted(set(factor_labels(book, config.model.factors).tolist()))
    probs: list[Problem] = []

    sectors = sorted({str(s) for s in book.sector})
    countries = sorted({str(c) for c in book.country})
    ratings = (sorted({str(r) for r in book.rating if r}) if book.rating is not None
               else None)
    pm = scen.pd_multiplier
    for s in pm.sector:
        if s not in sectors:
            probs.append(Problem(where(("pd_multiplier", "sector", s)),
                                 f"pd_multiplier.sector.{s}", "is not a sector of the book",
                                 did_you_mean(s, sectors, "sectors")))
    for c in pm.country:
        if c not in countries:
            probs.append(Problem(where(("pd_multiplier", "country", c)),
                                 f"pd_multiplier.country.{c}", "is not a country of the book",
                                 did_you_mean(c, countries, "countries")))
    for r in pm.rating:
        if ratings is None:
            probs.append(Problem(where(("pd_multiplier", "rating", r)),
                                 f"pd_multiplier.rating.{r}", "needs a 'rating' column in "
                                 "the book", "multiply PDs by sector or country instead"))
        elif r not in ratings:
            probs.append(Problem(where(("pd_multiplier", "rating", r)),
                                 f"pd_multiplier.rating.{r}", "is not a rating of the book",
                                 did_you_mean(r, ratings, "ratings")))
    single = config.model.factors == "single"
    for table in ("factor_shift", "factor_condition"):
        part = getattr(scen, table)
        for s in part.sector:
            if single:
                probs.append(Problem(where((table, "sector", s)), f"{table}.sector.{s}",
                                     "moves a sector, but model.factors = 'single' gives "
                                     "every customer the same factor",
                                     f"use {table}.factor.all (every customer) or "
                                     "model.factors = 'sector'"))
            elif s not in sectors:
                probs.append(Problem(where((table, "sector", s)), f"{table}.sector.{s}",
                                     "is not a sector of the book",
                                     did_you_mean(s, sectors, "sectors")))
        for f in part.factor:
            if f not in factor_names:
                probs.append(Problem(where((table, "factor", f)), f"{table}.factor.{f}",
                                     f"is not a factor of the model (model.factors = "
                                     f"'{config.model.factors}')",
                                     did_you_mean(f, factor_names, "factors")))
    if (config.simulation.tail_sampling != "plain"
            and (scen.factor_condition.sector or scen.factor_condition.factor)):
        probs.append(Problem(where(("factor_condition",)), "factor_condition",
                             "is not supported with tail_sampling = 'importance' (the exact "
                             "per-customer moments assume unit factor variances)",
                             "use tail_sampling = 'plain', or factor_shift"))
    ids = [str(x) for x in book.customer_id]
    known = set(ids)
    tl = config.timeline
    n_days = horizon_days(tl) if tl is not None else 0
    for k, ev in enumerate(scen.default_events):
        if ev.customer not in known:
            probs.append(Problem(where(("default_events", k, "customer")),
                                 f"default_events[{k}].customer={ev.customer!r}",
                                 "is not a customer of the book",
                                 did_you_mean(ev.customer, ids, "customers")))
        if tl is None:
            continue
        if ev.date is None:
            probs.append(Problem(where(("default_events", k, "customer")),
                                 f"default_events[{k}].date", "is missing: a [timeline] run "
                                 "needs the day of default",
                                 f"add date = {tl.as_of.replace(day=28).isoformat()} (after "
                                 f"the as-of date {tl.as_of.isoformat()})"))
            continue
        day = (ev.date - tl.as_of).days
        if not 1 <= day <= n_days:
            end = date.fromordinal(tl.as_of.toordinal() + n_days)
            probs.append(Problem(where(("default_events", k, "date")),
                                 f"default_events[{k}].date={ev.date.isoformat()}",
                                 f"is outside the horizon ({tl.as_of.isoformat()}, "
                                 f"{end.isoformat()}]",
                                 "give a day after the as-of date, within the horizon"))
    return probs


def check_suppliers(config: RunConfig, factor_names: list[str],
                    suppliers: SupplierTable | None) -> list[Problem]:
    """Problems of the suppliers: a supplier whose factor (its sector, sector/country or the
    single factor) is none of the customers' (located at its row), and a scenario's supplier
    default event naming an unknown supplier or a day outside the horizon (located in the
    scenario file)."""
    probs: list[Problem] = []
    scen = config.scenario
    if suppliers is None:
        probs += [Problem(scen.locate(("supplier_default_events", k, "supplier")),
                          f"supplier_default_events[{k}]", "needs a [suppliers] table",
                          "name the supplier table in the config, or remove the event")
                  for k in range(len(scen.supplier_default_events))]
        return probs
    name = Path(suppliers.source).name
    mode = config.model.factors
    labels = factor_labels_of(suppliers.sector, suppliers.country, mode)
    known = set(factor_names)
    column = "sector/country" if mode == "sector_country" else "sector"
    for i, label in enumerate(labels):
        if str(label) not in known:
            probs.append(Problem(
                f"{name} row {int(suppliers.row[i])} ({suppliers.supplier_id[i]})",
                f"{column}={label}", f"is not a factor of the customers' model "
                f"(model.factors = '{mode}')",
                "suppliers load on the customers' factors: "
                + did_you_mean(str(label), factor_names, "factors")))
    ids = [str(x) for x in suppliers.supplier_id]
    tl = config.timeline
    n_days = horizon_days(tl) if tl is not None else 0
    for k, ev in enumerate(scen.supplier_default_events):
        where = scen.locate(("supplier_default_events", k, "supplier"))
        if ev.supplier not in ids:
            probs.append(Problem(where, f"supplier_default_events[{k}].supplier="
                                 f"{ev.supplier!r}", "is not a supplier of the supplier table",
                                 did_you_mean(ev.supplier, ids, "suppliers")))
        if tl is not None and not 1 <= (ev.date - tl.as_of).days <= n_days:
            end = date.fromordinal(tl.as_of.toordinal() + n_days)
            probs.append(Problem(scen.locate(("supplier_default_events", k, "date")),
                                 f"supplier_default_events[{k}].date={ev.date.isoformat()}",
                                 f"is outside the horizon ({tl.as_of.isoformat()}, "
                                 f"{end.isoformat()}]",
                                 "give a day after the as-of date, within the horizon"))
    return probs


def _creditriskplus_problems(book: Book, config: RunConfig) -> list[Problem]:
    """Sectors named in ``[creditriskplus]`` (``sector_variances``, ``weights`` and the sectors
    each weights table names) that are not sectors of the book: the sector variables are the
    book's sectors."""
    crp = config.creditriskplus
    if crp is None:
        return []
    sectors = sorted({str(s) for s in book.sector})
    named: list[tuple[tuple[str, ...], str]] = [(("sector_variances", s), s)
                                                for s in crp.sector_variances]
    for s, weights in crp.weights.items():
        named += [(("weights", s), s)] + [(("weights", s, t), t) for t in weights]
    return [Problem(key_location(crp.source, ("creditriskplus", *keys),
                                 "config [creditriskplus]"),
                    ".".join(keys), "is not a sector of the book",
                    did_you_mean(name, sectors, "sectors"))
            for keys, name in named if name not in sectors]


def _correlation_problems(names: list[str], config: RunConfig) -> list[Problem]:
    """The ``[model.correlation]`` table against the model's factors ``names``: a matrix's
    shape and rows, pairs naming two factors, symmetry, unit diagonal, entries in [−1, 1],
    positive semi-definite (unless ``repair``), also once scaled by the scenario's
    ``correlation.factor_multiplier``.

    A pair naming a sector of ``[book] sectors`` that has no customer in the book (with
    ``model.factors = "sector"``) is left out, as the build leaves it out; a pair naming
    anything else the model lacks is a problem, and the other checks are still made on the
    matrix without it.
    """
    cfg = config.model.correlation

    def where(*key: str) -> str:
        return key_location(cfg.source, ("model", "correlation", *key),
                            "config [model.correlation]")

    if cfg.matrix is not None and cfg.factors is not None:
        mat = np.asarray(cfg.matrix, dtype=float)
        if mat.ndim != 2 or mat.shape != (len(cfg.factors), len(cfg.factors)):
            return [Problem(where("matrix"), f"matrix of shape {mat.shape}", "must be square "
                            f"with one row per factor ({len(cfg.factors)} factors)")]
        missing = [n for n in names if n not in cfg.factors]
        if missing:
            return [Problem(where("factors"), "factors", f"lacks {', '.join(missing)}",
                            "add a row and column for each factor of the book")]
        problems = []
    else:
        problems = _pair_problems(names, config, where)
    corr = correlation_matrix(names, cfg)
    values = []
    if not np.allclose(corr, corr.T, atol=1e-12):
        values.append(Problem(where("matrix"), "matrix", "is not symmetric"))
    if not np.allclose(np.diag(corr), 1.0, atol=1e-12):
        values.append(Problem(where("matrix"), "matrix", "must have a unit diagonal"))
    if np.any(np.abs(corr) > 1.0 + 1e-12):
        values.append(Problem(where("matrix"), "matrix", "has entries outside [-1, 1]"))
    if values:
        return problems + values
    min_eig = smallest_eigenvalue(corr)
    if min_eig < PSD_TOLERANCE and not cfg.repair:
        key = "matrix" if cfg.matrix is not None else "pairs"
        return [*problems, Problem(
            where(key), key, f"is not positive semi-definite (smallest eigenvalue "
            f"{min_eig:.4g})", "fix the correlations or set repair = true to use the nearest "
            "positive semi-definite matrix")]
    return problems + _factor_multiplier_problems(names, config)


def _pair_problems(names: list[str], config: RunConfig,
                   where: Callable[..., str]) -> list[Problem]:
    """``pairs`` keys that are not two factors ``"a|b"`` of the model (a sector of ``[book]
    sectors`` without customers is not a problem, see :func:`_correlation_problems`)."""
    absent: set[str] = set()
    if config.model.factors == "sector" and config.book.sectors is not None:
        absent = set(config.book.sectors) - set(names)
    problems = []
    for key in config.model.correlation.pairs:
        parts = key.split("|")
        if len(parts) != 2:
            problems.append(Problem(where("pairs", key), f"pairs.{key!r}",
                                    "must name two factors as 'a|b'",
                                    f"factors: {', '.join(names)}"))
            continue
        problems += [Problem(where("pairs", key), f"pairs.{key!r}",
                             f"names {part!r}, which is not a factor of the model "
                             f"(model.factors = '{config.model.factors}')",
                             did_you_mean(part, sorted(set(names) | absent), "factors"))
                     for part in parts if part not in names and part not in absent]
    return problems


def _factor_multiplier_problems(names: list[str], config: RunConfig) -> list[Problem]:
    """The scenario's ``correlation.factor_multiplier``: the scaled factor correlation matrix
    must stay positive semi-definite (unless ``model.correlation.repair``)."""
    mult = config.scenario.correlation.factor_multiplier
    if mult == 1.0 or config.model.correlation.repair:
        return []
    corr = correlation_matrix(names, config.model.correlation)
    min_eig = smallest_eigenvalue(scaled_correlation(corr, mult))
    if min_eig >= PSD_TOLERANCE:
        return []
    lam = float(np.linalg.eigvalsh(corr).min())
    most = f"at most {1.0 / (1.0 - lam):.4g} keeps it PSD" if lam < 1.0 else ""
    return [Problem(config.scenario.locate(("correlation", "factor_multiplier")),
                    f"correlation.factor_multiplier={mult!r}",
                    f"makes the factor correlation matrix not positive semi-definite "
                    f"(smallest eigenvalue {min_eig:.4g})",
                    f"use a smaller multiplier ({most}), or set model.correlation.repair = "
                    "true for the nearest PSD matrix")]


def _importance_problems(config: RunConfig) -> list[Problem]:
    """``tail_sampling = "importance"`` shifts the Gaussian factors (see
    :mod:`portsim.inputs.importance`); every per-path output of a ``[timeline]`` run (cash,
    DSO, insurance) is weighted by the likelihood ratio, but not the per-supplier default
    counts of ``[suppliers]`` nor the customers at each alert level of
    ``[actions]``, which the kernels sum over the paths unweighted."""
    problems = []
    if config.model.copula == "student_t":
        problems.append(Problem("config [simulation]", "tail_sampling='importance'",
                                "shifts the Gaussian factors only; the Student-t copula's "
                                "tail also comes from its common scale",
                                'use tail_sampling = "plain" or copula = "gaussian"'))
    for section, used in (("[suppliers]", config.suppliers is not None),
                          ("[actions]", config.active_actions is not None)):
        if used:
            problems.append(Problem("config [simulation]", "tail_sampling='importance'",
                                    f"is not supported with {section} (their counts are "
                                    "summed over the paths without the likelihood ratios)",
                                    f'use tail_sampling = "plain", or remove {section}'))
    return problems


def _delay_problems(book: Book, config: RunConfig) -> list[Problem]:
    """``[delays.sector]`` / ``[delays.rating]`` overrides need that column in the book."""
    dc = config.delays
    problems = []
    for name, table in (("sector", dc.sector), ("rating", dc.rating)):
        if getattr(book, name, None) is not None:
            continue
        for label, params in table.items():
            if any(getattr(params, key) is not None
                   for key in ("mean_days", "sd_days", "noise_days")):
                problems.append(Problem("config [delays]", f"{name}.{label}",
                                        f"needs a '{name}' column in the book"))
    return problems


def _policy_problems(name: str, pol: PolicyConfig, book: Book,
                     source: str | None) -> list[Problem]:
    """One policy against the book: customer ids of ``excluded`` and ``buyer_limits`` not in
    it (with the closest id), a maximum liability of 0 (a multiple of a zero premium) or
    below the first loss once the premium is known."""
    index = {str(c): i for i, c in enumerate(book.customer_id)}
    ids = list(index)
    fallback = f"config [insurance.policies.{name}]"
    problems = []
    for key, listed in (("excluded", list(pol.excluded)),
                        ("buyer_limits", list(pol.buyer_limits))):
        for cid in listed:
            if cid in index:
                continue
            loc: tuple[str, ...] = ("insurance", "policies", name, key)
            if key == "buyer_limits":
                loc = (*loc, cid)
            close = difflib.get_close_matches(cid, ids, n=1, cutoff=0.6)
            problems.append(Problem(
                key_location(source, loc, fallback), f"insurance.policies.{name}.{key}: {cid!r}",
                f"is not a customer_id of the book ({book.source})",
                f"did you mean {close[0]!r}?" if close else "list customer ids from the book",
            ))
    limit, _, _ = policy_cover(pol, book, index)
    _, premium, max_liab = premium_terms(pol, book, limit)
    where = key_location(source, ("insurance", "policies", name, "first_loss"), fallback)
    if max_liab <= 0:
        problems.append(Problem(
            key_location(source, ("insurance", "policies", name, "max_liability_multiple"),
                         where),
            f"insurance.policies.{name}.max_liability_multiple",
            "gives a maximum liability of 0 (the premium is 0)",
            "set premium_rate or minimum_premium, or give max_liability as an amount"))
    elif pol.first_loss > max_liab:
        problems.append(Problem(
            where, f"insurance.policies.{name}.first_loss={pol.first_loss!r}",
            f"is above the maximum liability {max_liab:,.2f} "
            f"(max_liability_multiple={pol.max_liability_multiple!r} × annual premium "
            f"{premium:,.2f})",
            "lower first_loss or raise the maximum liability"))
    return problems
