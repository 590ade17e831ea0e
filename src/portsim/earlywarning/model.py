"""The PD model: binned logistic regression on weight of evidence, calibrated to the
12-month default rate, with a prior PD for customers with too few features.

Each feature is cut at the quantiles of its training values into ``bins`` bins plus a bin for
missing values; each bin's weight of evidence is ln(share of defaulters / share of
non-defaulters) (with half a count added to every cell, 0 for a bin without training data),
so a positive value means riskier than average. The WoE-encoded features go into an
L2-regularised logistic regression (scikit-learn); the intercept is then shifted so that the
mean predicted PD equals the observed 12-month default rate of the training panel. A
customer's logit is the intercept plus one contribution per feature (coefficient × WoE), which
is what the alerts list as the features behind a score.

Fitting needs scikit-learn (``pip install 'portsim[warn]'``); scoring with a fitted model or
one read back from its model card does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, special

from portsim.earlywarning.validation import KS_REPLICATES, discrimination

__all__ = [
    "TARGET",
    "FeatureBins",
    "PdModel",
    "build_panel",
    "fallback_priors",
    "fit_pd_model",
]

#: The outcome column of a training panel: default within 12 months after ``date``.
TARGET = "defaulted_12m"
#: Columns of a training panel that are not features.
PANEL_KEYS = ("customer", "date", TARGET)
#: Half a count added to every cell of a WoE table.
_SMOOTHING = 0.5


def _sklearn_logistic() -> Any:
    """scikit-learn's LogisticRegression, or an ImportError naming the extra to install."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise ImportError("fitting the PD model needs scikit-learn: "
                          "pip install 'portsim[warn]'") from exc
    return LogisticRegression


def _optimal_binning() -> Any:
    """optbinning's OptimalBinning, or an ImportError naming the extra to install."""
    try:
        from optbinning import OptimalBinning
    except ImportError as exc:
        raise ImportError("binning = 'optimal' needs optbinning: "
                          "pip install 'portsim[warn-optimal]'") from exc
    return OptimalBinning


def _cut_points(name: str, present: NDArray[np.float64], defaulted: NDArray[np.bool_],
                bins: int, binning: str) -> NDArray[np.float64]:
    """Inner cut points of a feature's non-missing values: their quantiles (``"quantile"``),
    or optbinning's optimal binning (``"optimal"``: at most ``bins`` bins, each holding at
    least 5 % of the values, WoE monotonic in the direction that fits best)."""
    if present.size == 0:
        return np.empty(0)
    if binning == "quantile":
        return np.unique(np.quantile(present, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    if binning != "optimal":
        raise ValueError(f"binning={binning!r} is not 'quantile' or 'optimal'")
    if defaulted.all() or not defaulted.any():
        return np.empty(0)
    optimal = _optimal_binning()(name=name, dtype="numerical", solver="cp", max_n_bins=bins,
                                 monotonic_trend="auto_asc_desc")
    optimal.fit(present, defaulted.astype(np.int64))
    return np.unique(np.asarray(optimal.splits, dtype=np.float64))


@dataclass(frozen=True)
class FeatureBins:
    """One feature's bins and their weights of evidence.

    Attributes
    ----------
    name : str
        The feature column.
    edges : tuple of float
        Inner cut points, ascending: bin k holds ``edges[k-1] < x <= edges[k]``.
    woe : tuple of float
        Weight of evidence per bin, ``len(edges) + 1`` value bins, then the missing bin.
    count, defaults : tuple of int
        Training observations and defaults per bin (same order as ``woe``).
    """

    name: str
    edges: tuple[float, ...]
    woe: tuple[float, ...]
    count: tuple[int, ...]
    defaults: tuple[int, ...]

    def bin_index(self, values: NDArray[np.float64]) -> NDArray[np.intp]:
        """Bin of each value, shape like ``values``; NaN goes to the missing bin (last)."""
        idx = np.searchsorted(np.asarray(self.edges, dtype=np.float64), values, side="left")
        return np.where(np.isnan(values), len(self.edges) + 1, idx)

    def encode(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Weight of evidence of each value, shape like ``values``."""
        return np.asarray(self.woe, dtype=np.float64)[self.bin_index(values)]

    @classmethod
    def fit(cls, name: str, values: NDArray[np.float64], defaulted: NDArray[np.bool_],
            bins: int, binning: str = "quantile") -> FeatureBins:
        """Bins of ``values`` (:func:`_cut_points`: ``binning`` ``"quantile"`` or
        ``"optimal"``) and their WoE for the outcomes ``defaulted``."""
        missing = np.isnan(values)
        edges = _cut_points(name, values[~missing], defaulted[~missing], bins, binning)
        proto = cls(name, tuple(float(e) for e in edges), (), (), ())
        idx = proto.bin_index(values)
        n_bins = edges.size + 2
        count = np.bincount(idx, minlength=n_bins)
        bad = np.bincount(idx, weights=defaulted.astype(np.float64), minlength=n_bins)
        good = count - bad
        share_bad = (bad + _SMOOTHING) / (bad.sum() + _SMOOTHING * n_bins)
        share_good = (good + _SMOOTHING) / (good.sum() + _SMOOTHING * n_bins)
        woe = np.where(count > 0, np.log(share_bad / share_good), 0.0)
        return replace(proto, woe=tuple(float(w) for w in woe),
                       count=tuple(int(c) for c in count), defaults=tuple(int(b) for b in bad))

    def card(self, coefficient: float) -> dict[str, Any]:
        """The feature's entry in the model card."""
        lows = (-np.inf, *self.edges)
        highs = (*self.edges, np.inf)
        rows = [{"bin": f"({lo:g}, {hi:g}]", "count": c, "defaults": d, "woe": w}
                for lo, hi, c, d, w in zip(lows, highs, self.count[:-1], self.defaults[:-1],
                                           self.woe[:-1], strict=True)]
        rows.append({"bin": "missing", "count": self.count[-1], "defaults": self.defaults[-1],
                     "woe": self.woe[-1]})
        return {"name": self.name, "coefficient": coefficient, "edges": list(self.edges),
                "bins": rows}


@dataclass(frozen=True)
class PdModel:
    """A fitted PD model: per-feature bins, coefficients and the calibrated intercept.

    Attributes
    ----------
    features : tuple of FeatureBins
        The features, in the order of ``coefficients``.
    coefficients : tuple of float
        Logistic-regression coefficient per feature (on its WoE).
    intercept : float
        Calibrated intercept: the mean PD over the training panel is ``default_rate``.
    default_rate : float
        Observed 12-month default rate of the training panel (also the PD of a customer
        with too few features when no prior is given).
    min_features : int
        A customer with fewer features available is scored with its prior.
    settings, window, metrics : dict
        Fit settings (``bins``, ``binning``, ``regularisation``), the training window (first
        and last date, observations, defaults, customers) and validation metrics.
    """

    features: tuple[FeatureBins, ...]
    coefficients: tuple[float, ...]
    intercept: float
    default_rate: float
    min_features: int
    settings: dict[str, Any] = field(default_factory=dict)
    window: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """The feature columns the model reads."""
        return [f.name for f in self.features]

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution (coefficient × WoE) to each customer's logit.

        Parameters
        ----------
        features : DataFrame
            One row per customer, numeric columns including :attr:`feature_names` (NaN =
            missing).

        Returns
        -------
        DataFrame, shape (n_customers, n_features)
            Same index; the logit is :attr:`intercept` plus the row sum.
        """
        missing = [n for n in self.feature_names if n not in features.columns]
        if missing:
            raise ValueError(f"the feature frame lacks the model's columns {missing}")
        out = {f.name: c * f.encode(features[f.name].to_numpy(dtype=np.float64))
               for f, c in zip(self.features, self.coefficients, strict=True)}
        return pd.DataFrame(out, index=features.index)

    def score(self, features: pd.DataFrame, prior: pd.DataFrame | None = None) -> pd.DataFrame:
        """PD per customer, from the model or, with too few features, from the prior.

        Parameters
        ----------
        features : DataFrame
            One row per customer (index: customer id), the model's feature columns.
        prior : DataFrame, optional
            Columns ``prior_pd`` and ``prior_source`` for the same index (see
            :func:`fallback_priors`); without it a thin customer gets the training default
            rate, source ``"portfolio"``.

        Returns
        -------
        DataFrame
            Same index, columns ``pd`` (12-month PD), ``pd_source`` (``"model"`` or the
            prior's source), ``n_features`` (features available) and ``logit`` (the
            model's, also where the prior is used).
        """
        contrib = self.contributions(features)
        logit = self.intercept + contrib.sum(axis=1).to_numpy()
        available = features[self.feature_names].notna().sum(axis=1).to_numpy()
        thin = available < self.min_features
        pd_ = special.expit(logit)
        source = np.full(len(features), "model", dtype=object)
        if prior is None:
            pd_[thin] = self.default_rate
            source[thin] = "portfolio"
        else:
            aligned = prior.reindex(features.index)
            if aligned["prior_pd"][thin].isna().any():
                lacking = list(features.index[thin & aligned["prior_pd"].isna().to_numpy()])
                raise ValueError(f"customers {lacking[:5]} have too few features and no prior")
            pd_[thin] = aligned["prior_pd"].to_numpy(dtype=np.float64)[thin]
            source[thin] = aligned["prior_source"].to_numpy()[thin]
        return pd.DataFrame({"pd": pd_, "pd_source": source, "n_features": available,
                             "logit": logit}, index=features.index)

    def card(self) -> dict[str, Any]:
        """The model card: JSON-ready, and enough to score again (:meth:`from_card`)."""
        return {
            "model": "binned logistic regression on weight of evidence",
            "target": "default within 12 months",
            "intercept": self.intercept,
            "default_rate": self.default_rate,
            "min_features": self.min_features,
            "settings": dict(self.settings),
            "window": dict(self.window),
            "metrics": dict(self.metrics),
            "features": [f.card(c) for f, c in zip(self.features, self.coefficients,
                                                    strict=True)],
        }

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> PdModel:
        """The model a card (from :meth:`card`, e.g. read from ``model.json``) describes."""
        feats = tuple(FeatureBins(
            name=f["name"], edges=tuple(f["edges"]),
            woe=tuple(b["woe"] for b in f["bins"]), count=tuple(b["count"] for b in f["bins"]),
            defaults=tuple(b["defaults"] for b in f["bins"])) for f in card["features"])
        return cls(features=feats,
                   coefficients=tuple(float(f["coefficient"]) for f in card["features"]),
                   intercept=float(card["intercept"]), default_rate=float(card["default_rate"]),
                   min_features=int(card["min_features"]), settings=dict(card["settings"]),
                   window=dict(card["window"]), metrics=dict(card["metrics"]))


def _calibrated_intercept(logit: NDArray[np.float64], rate: float) -> float:
    """The shift of ``logit`` after which the mean of expit(logit + shift) is ``rate``."""
    def gap(shift: float) -> float:
        return float(np.mean(special.expit(logit + shift))) - rate
    span = 50.0
    return float(optimize.brentq(gap, -span, span, xtol=1e-12))


def fit_pd_model(panel: pd.DataFrame, features: Sequence[str] | None = None, *,
                 bins: int = 5, regularisation: float = 1.0,
                 min_features: int = 3, ks_replicates: int = KS_REPLICATES,
                 binning: str = "quantile") -> PdModel:
    """Fit the PD model on a training panel.

    Parameters
    ----------
    panel : DataFrame
        One row per (customer, month-end) with columns ``customer``, ``date``,
        ``defaulted_12m`` (bool) and numeric feature columns at that date (NaN = missing),
        as :func:`build_panel` makes.
    features : sequence of str, optional
        The feature columns to use; default every column but the keys.
    bins : int
        Quantile bins per feature (plus a missing bin).
    regularisation : float
        Inverse L2 strength ``C`` of the logistic regression.
    min_features : int
        Rows with fewer features available are left out of the fit; customers with fewer
        are scored with their prior.
    ks_replicates : int
        Bootstrap replicates of the in-sample KS interval (0: none).
    binning : str
        ``"quantile"``: each feature cut at its quantiles into ``bins`` bins; ``"optimal"``:
        optbinning's optimal binning into at most ``bins`` bins (the ``warn-optimal``
        extra).

    Returns
    -------
    PdModel
        With in-sample metrics (:func:`~portsim.earlywarning.validation.discrimination`)
        under ``metrics["in_sample"]``.
    """
    missing = [c for c in PANEL_KEYS if c not in panel.columns]
    if missing:
        raise ValueError(f"the training panel lacks columns {missing}")
    names = list(features) if features is not None else [
        c for c in panel.columns if c not in PANEL_KEYS]
    if not names or min_features > len(names):
        raise ValueError(f"min_features={min_features} needs at least that many features; "
                         f"the panel has {names}")
    x = panel[names].to_numpy(dtype=np.float64)
    used = (~np.isnan(x)).sum(axis=1) >= min_features
    x, y = x[used], panel[TARGET].to_numpy(dtype=bool)[used]
    if y.all() or not y.any():
        raise ValueError(f"the panel has {int(y.sum())} defaults in {y.size} rows with at "
                         f"least {min_features} features: the model needs both outcomes")
    fitted = tuple(FeatureBins.fit(n, x[:, j], y, bins, binning) for j, n in enumerate(names))
    woe = np.column_stack([f.encode(x[:, j]) for j, f in enumerate(fitted)])
    reg = _sklearn_logistic()(C=regularisation, max_iter=1000).fit(woe, y)
    coef = reg.coef_[0].astype(np.float64)
    rate = float(y.mean())
    intercept = _calibrated_intercept(woe @ coef, rate)
    dates = pd.to_datetime(panel["date"][used])
    model = PdModel(
        features=fitted, coefficients=tuple(float(c) for c in coef), intercept=intercept,
        default_rate=rate, min_features=min_features,
        settings={"bins": bins, "binning": binning, "regularisation": regularisation},
        window={"first_date": str(dates.min().date()), "last_date": str(dates.max().date()),
                "observations": int(y.size), "defaults": int(y.sum()),
                "customers": int(panel["customer"][used].nunique())})
    in_sample = discrimination(y, special.expit(intercept + woe @ coef), ks_replicates)
    return replace(model, metrics={"in_sample": in_sample})


def build_panel(data: Any, dates: Iterable[Any],
                features: Callable[[Any, pd.Timestamp], pd.DataFrame],
                outcome: Callable[[Any, pd.Timestamp], pd.Series]) -> pd.DataFrame:
    """The training panel: features at each date and default within 12 months after it.

    Parameters
    ----------
    data : object
        The early-warning input tables, passed through to ``features`` and ``outcome``.
    dates : iterable of date-like
        Month-ends whose 12 following months are observed.
    features : callable
        ``features(data, as_of)`` → DataFrame, one row per customer (index: customer id),
        numeric feature columns.
    outcome : callable
        ``outcome(data, as_of)`` → bool Series per customer: default within 12 months
        after ``as_of``; customers missing from it are left out.

    Returns
    -------
    DataFrame
        Columns ``customer``, ``date``, the feature columns and ``defaulted_12m``.
    """
    frames = []
    for raw in dates:
        as_of = pd.Timestamp(raw)
        feats = features(data, as_of)
        target = outcome(data, as_of).reindex(feats.index)
        keep = target.notna().to_numpy()
        frame = feats[keep].copy()
        frame.insert(0, "date", as_of)
        frame.insert(0, "customer", frame.index.to_numpy())
        frame[TARGET] = target[keep].astype(bool).to_numpy()
        frames.append(frame.reset_index(drop=True))
    if not frames:
        raise ValueError("no dates given for the training panel")
    return pd.concat(frames, ignore_index=True)


def fallback_priors(customers: pd.DataFrame, panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """The prior PD of each customer, for when the model has too few of its features.

    In order: the customer's ``p_default`` where given (source ``"p_default"``); else the
    training panel's 12-month default rate of the customer's ``sector`` (source
    ``"sector"``), where the panel has at least one row of that sector; else the panel's
    overall rate (source ``"portfolio"``).

    Parameters
    ----------
    customers : DataFrame
        Index customer id; optional columns ``p_default`` and ``sector``.
    panel : DataFrame, optional
        The training panel (``customer``, ``defaulted_12m``), for the sector and portfolio
        rates; without it a customer without ``p_default`` has no prior (NaN).

    Returns
    -------
    DataFrame
        Same index, columns ``prior_pd`` and ``prior_source``.
    """
    prior = pd.Series(np.nan, index=customers.index, dtype=np.float64)
    source = pd.Series("", index=customers.index, dtype=object)
    if "p_default" in customers.columns:
        given = customers["p_default"].notna()
        prior[given] = customers["p_default"][given].astype(np.float64)
        source[given] = "p_default"
    if panel is not None:
        if "sector" in customers.columns:
            sector_of = panel["customer"].map(customers["sector"])
            rates = panel[TARGET].groupby(sector_of).mean()
            by_sector = customers["sector"].map(rates)
            fill = prior.isna() & by_sector.notna()
            prior[fill] = by_sector[fill]
            source[fill] = "sector"
        rest = prior.isna()
        prior[rest] = float(panel[TARGET].mean())
        source[rest] = "portfolio"
    return pd.DataFrame({"prior_pd": prior, "prior_source": source})
