"""``portsim warn``: score every customer's 12-month PD and alert level as of a date, and
write a book with the new PDs that ``portsim run`` reads.

The flow: read the book (``[book]``) and the credit files ``[warn]`` names; build the training
panel over the last ``train_months`` month-ends whose 12 following months are observed by
``as_of`` (features at each month-end, default within the 12 months after it); fit the PD
model (:func:`portsim.earlywarning.fit_pd_model`); score the features as of ``as_of`` with the
book's ``p_default`` as the prior of customers with too few features; apply the alert rules.
Only data dated by ``as_of`` is used: the features at ``as_of`` and at the month-ends before
it, and outcomes ending by ``as_of``.

The folder holds ``warnings.csv`` (one row per customer), ``model.json`` (the model card, with
the delay–credit link of the timeline estimated on the same data: :func:`delay_calibration`),
``book.csv`` (the book with ``p_default`` replaced by the model's PD, plus ``pd_source``,
``warn_level`` and ``warn_grade``) and ``report.html`` (the alert list).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from portsim.config import RunConfig, WarnConfig
from portsim.config.locate import key_location
from portsim.data.book import Book
from portsim.data.configured import load_book
from portsim.earlywarning import (
    KS_REPLICATES,
    CreditFiles,
    DelayCalibration,
    PdModel,
    assess,
    build_panel,
    calibrate_delay_link,
    default_within,
    fallback_priors,
    features_as_of,
    fit_pd_model,
    read_credit_files,
)
from portsim.errors import ConfigError, Problem
from portsim.inputs.model import asset_correlation
from portsim.report.html import page
from portsim.report.warn import warn_section
from portsim.workflow.claim import claim_auto, claim_new
from portsim.workflow.folders import write_atomic, write_json, write_text_atomic

__all__ = ["WARN_FILES", "FeatureCache", "WarnResult", "delay_calibration", "fit_as_of",
           "model_card", "month_ends", "read_warn_inputs", "run_warn", "score_as_of",
           "training_dates", "warn_as_of", "warn_book", "warn_settings"]

#: The files ``portsim warn`` writes into its folder.
WARN_FILES = ("warnings.csv", "model.json", "book.csv", "report.html")
#: Months after a score date in which a default counts as its outcome.
HORIZON_MONTHS = 12


def warn_settings(config: RunConfig) -> WarnConfig:
    """The config's ``[warn]`` section, or a ConfigError saying to add one, or to install
    optbinning for ``binning = "optimal"``."""
    if config.warn is None:
        raise ConfigError([Problem("config", "[warn]", "is missing",
                                   'add [warn] with history = "credit_history.csv" and the '
                                   "other credit files (see configs/example_warn.toml)")])
    if config.warn.binning == "optimal" and importlib.util.find_spec("optbinning") is None:
        raise ConfigError([Problem(
            key_location(config.warn.source, ("warn", "binning"), "config [warn]"),
            "binning='optimal'", "needs the optbinning package, which is not installed",
            "pip install 'portsim[warn-optimal]', or use binning = 'quantile'")])
    return config.warn


def read_warn_inputs(config: RunConfig) -> CreditFiles:
    """The book and the credit files ``[warn]`` names (paths relative to the config file).

    Raises
    ------
    ConfigError
        Every key of ``[warn]`` naming no file, with the key's file and line.
    BookError
        Every problem of the book or of the credit files.
    """
    warn = warn_settings(config)
    paths = {key: config.resolve(value) for key, value in warn.files.items()}
    problems = [
        Problem(key_location(warn.source, ("warn", key), "config [warn]"),
                f"{key}={getattr(warn, key)!r}", f"names no file ({path})",
                "give the path of the table relative to the config file")
        for key, path in paths.items() if not path.is_file()]
    if problems:
        raise ConfigError(problems, title="the credit files of [warn] cannot be read")
    if "defaults" not in paths:
        raise ConfigError([Problem(key_location(warn.source, ("warn",), "config [warn]"),
                                   "defaults", "is missing",
                                   'name the past defaults, e.g. defaults = "defaults.csv": '
                                   "they are the outcomes the PD model learns")])
    return read_credit_files(load_book(config), history=paths.get("history"),
                             statements=paths.get("statements"), signals=paths.get("signals"),
                             defaults=paths["defaults"])


def month_ends(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    """The month-ends from the one on or after ``first`` to the one on or before ``last``."""
    return list(pd.date_range(first, last, freq="ME"))


def data_start(files: CreditFiles) -> pd.Timestamp:
    """The earliest date in the credit files (invoice issue, statement availability, signal,
    default); a ConfigError when they hold no dated row."""
    dates = [files.history["issue_date"], files.statements["available_date"],
             files.signals["date"], files.defaults["default_date"]]
    known = [d.min() for d in dates if len(d)]
    if not known:
        raise ConfigError([Problem("config [warn]", "credit files", "hold no dated row",
                                   "name a payment history with invoices")])
    return pd.Timestamp(min(known))


def training_dates(files: CreditFiles, as_of: pd.Timestamp, months: int) -> list[pd.Timestamp]:
    """The last ``months`` month-ends from the start of the data whose 12 following months
    end by ``as_of`` (their outcome is known at ``as_of``)."""
    cutoff = as_of - pd.DateOffset(months=HORIZON_MONTHS)
    return month_ends(data_start(files), cutoff)[-months:]


class FeatureCache:
    """The features (:func:`~portsim.earlywarning.features_as_of`) of each date, computed
    once: a backtest refits on overlapping windows."""

    def __init__(self) -> None:
        self._frames: dict[pd.Timestamp, pd.DataFrame] = {}

    def __call__(self, files: CreditFiles, as_of: pd.Timestamp) -> pd.DataFrame:
        """The features of every customer at ``as_of``, shape (n_customers, n_features)."""
        key = pd.Timestamp(as_of)
        if key not in self._frames:
            self._frames[key] = features_as_of(files, key.date())
        return self._frames[key]


def _outcome(files: CreditFiles, as_of: pd.Timestamp) -> pd.Series:
    return default_within(files, as_of.date(), months=HORIZON_MONTHS)


def customers_frame(book: Book) -> pd.DataFrame:
    """The book's ``p_default`` and ``sector`` indexed by customer id (for the priors)."""
    frame = book.to_frame()
    frame.index = pd.Index(frame["customer_id"].astype(str), name="customer_id")
    return frame[["p_default", "sector"]]


def fit_as_of(files: CreditFiles, dates: Iterable[pd.Timestamp], warn: WarnConfig,
              cache: FeatureCache | None = None,
              ks_replicates: int = KS_REPLICATES) -> tuple[PdModel, pd.DataFrame]:
    """The PD model trained on ``dates`` and its training panel.

    Parameters
    ----------
    files : CreditFiles
    dates : iterable of Timestamp
        Month-ends whose 12-month outcome is observed (:func:`training_dates`).
    warn : WarnConfig
        ``bins``, ``binning``, ``regularisation`` and ``min_features`` of the fit.
    cache : FeatureCache, optional
        Features already computed (one is made if not given).
    ks_replicates : int
        Bootstrap replicates of the in-sample KS interval of the model card (0: none).
    """
    panel = build_panel(files, dates, cache or FeatureCache(), _outcome)
    model = fit_pd_model(panel, bins=warn.bins, regularisation=warn.regularisation,
                         min_features=warn.min_features, ks_replicates=ks_replicates,
                         binning=warn.binning)
    return model, panel


def score_as_of(files: CreditFiles, model: PdModel, panel: pd.DataFrame,
                as_of: pd.Timestamp, warn: WarnConfig,
                cache: FeatureCache | None = None) -> pd.DataFrame:
    """The alert table of every book customer at ``as_of``
    (:func:`~portsim.earlywarning.assess`), priors from the book and the training ``panel``."""
    features = (cache or FeatureCache())(files, as_of)
    prior = fallback_priors(customers_frame(files.book), panel)
    scores = model.score(features, prior)
    return assess(scores, features, warn, model.contributions(features))


def warn_book(book: Book, warnings: pd.DataFrame) -> pd.DataFrame:
    """The book with each customer's ``p_default`` replaced by its early-warning PD.

    Parameters
    ----------
    book : Book
    warnings : DataFrame
        Indexed by customer id, columns ``pd``, ``pd_source``, ``level``, ``grade``
        (:func:`score_as_of`).

    Returns
    -------
    DataFrame, shape (n_customers, n_book_columns + 3)
        :meth:`~portsim.data.book.Book.to_frame` (amounts in the book currency) with
        ``p_default`` = ``warnings["pd"]`` (the book's own PD where the model had too few
        features: ``pd_source`` says which) and the columns ``pd_source``, ``warn_level``,
        ``warn_grade``.
    """
    frame = book.to_frame()
    rows = warnings.reindex(frame["customer_id"].astype(str))
    frame["p_default"] = rows["pd"].to_numpy()
    frame["pd_source"] = rows["pd_source"].to_numpy()
    frame["warn_level"] = rows["level"].to_numpy()
    frame["warn_grade"] = rows["grade"].to_numpy()
    return frame


@dataclass(frozen=True)
class WarnResult:
    """What :func:`run_warn` wrote: the folder, the alert table (one row per customer,
    indexed by customer id), the model and the new book."""

    folder: Path
    warnings: pd.DataFrame
    model: PdModel
    book: pd.DataFrame


def default_warn_dir(config: RunConfig, as_of: date) -> Path:
    """``<output.dir>/<name>-warn-<as_of>-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(config.output.dir) / f"{config.name}-warn-{as_of.isoformat()}-{stamp}"


def write_csv(path: Path, table: pd.DataFrame, *, index: bool) -> None:
    """Write ``table`` as CSV (floats to full precision) through a temporary file."""
    write_atomic(path, lambda p: table.to_csv(p, index=index))


def warn_as_of(config: RunConfig, as_of: date, files: CreditFiles | None = None,
               cache: FeatureCache | None = None) -> tuple[PdModel, pd.DataFrame]:
    """The PD model fitted on the data known at ``as_of`` and the alert table of the book then.

    Parameters
    ----------
    config : RunConfig
        With ``[book]`` and ``[warn]``.
    as_of : date
        The score date; no data dated after it is used.
    files : CreditFiles, optional
        The credit files of ``config`` (read when not given).
    cache : FeatureCache, optional
        Features already computed (one is made if not given).

    Returns
    -------
    model : PdModel
    warnings : DataFrame
        :func:`score_as_of`, one row per book customer, indexed by customer id.
    """
    warn = warn_settings(config)
    files = read_warn_inputs(config) if files is None else files
    t = pd.Timestamp(as_of)
    dates = training_dates(files, t, warn.train_months)
    if not dates:
        raise ConfigError([Problem(key_location(warn.source, ("warn",), "config [warn]"),
                                   f"as_of={as_of}", f"leaves no month-end of the credit files "
                                   f"(from {data_start(files).date()}) 12 months before it",
                                   "score at a later date, or give a longer history")])
    cache = FeatureCache() if cache is None else cache
    model, panel = fit_as_of(files, dates, warn, cache)
    return model, score_as_of(files, model, panel, t, warn, cache)


def delay_calibration(config: RunConfig, files: CreditFiles, as_of: date) -> DelayCalibration:
    """The delay–credit link of the timeline estimated on the data known at ``as_of``
    (:func:`~portsim.earlywarning.calibrate_delay_link`): invoices issued by then (a payment
    after it counts as none), defaults by then, the book's PDs over the years since the start
    of the credit files, the loadings √R of ``[model]`` and ``[delays] sd_days``."""
    t = pd.Timestamp(as_of)
    h = files.history
    history = h[h["issue_date"] <= t].assign(
        paid_date=h["paid_date"].where(h["paid_date"] <= t))
    defaults = files.defaults[files.defaults["default_date"] <= t]
    years = (t - data_start(files)).days / 365.25
    loading = np.sqrt(asset_correlation(files.book, config.model))
    return calibrate_delay_link(history, defaults, files.book.p_default, loading,
                                config.delays.sd_days, years=years)


def model_card(config: RunConfig, files: CreditFiles, model: PdModel,
               as_of: date) -> dict[str, Any]:
    """``model.json``: the score date, :meth:`PdModel.card` and the ``delay_calibration``
    (:func:`delay_calibration`, with the ``[timeline]`` lines of its estimates)."""
    return {"as_of": as_of.isoformat(), **model.card(),
            "delay_calibration": delay_calibration(config, files, as_of).card()}


def run_warn(config: RunConfig, as_of: date, out: str | Path | None = None) -> WarnResult:
    """Fit the PD model on the data known at ``as_of``, score the book and write the folder.

    Parameters
    ----------
    config : RunConfig
        With ``[book]`` and ``[warn]`` (the credit files).
    as_of : date
        The score date; no data dated after it is used.
    out : str or Path, optional
        A new folder (an existing one must be empty); default
        :func:`default_warn_dir` (numbered when taken).

    Returns
    -------
    WarnResult
    """
    warn = warn_settings(config)
    files = read_warn_inputs(config)
    model, warnings = warn_as_of(config, as_of, files)
    book = warn_book(files.book, warnings)
    claim = claim_new(Path(out)) if out is not None else claim_auto(default_warn_dir(config,
                                                                                     as_of))
    with claim:
        write_csv(claim.folder / "warnings.csv", warnings, index=True)
        write_json(claim.folder / "model.json", model_card(config, files, model, as_of))
        write_csv(claim.folder / "book.csv", book, index=False)
        section = warn_section(warnings, [lv.name for lv in warn.levels], as_of.isoformat())
        write_text_atomic(claim.folder / "report.html", page(
            "Early warning", f"{config.name}, as of {as_of.isoformat()}", [section]))
    return WarnResult(folder=claim.folder, warnings=warnings, model=model, book=book)
