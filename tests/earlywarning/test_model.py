"""The PD model against ground truth (a panel drawn from known logistic PDs), hand-worked
weights of evidence, priors for thin data, the model card and the missing-extra message."""

from __future__ import annotations

import importlib
import json
import math
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import special
from sklearn.metrics import roc_auc_score

from portsim.config import WarnConfig
from portsim.earlywarning.alerts import grade_of
from portsim.earlywarning.model import (
    FeatureBins,
    PdModel,
    build_panel,
    fallback_priors,
    fit_pd_model,
)

FEATURES = ["days_overdue", "current_ratio", "dso_trend", "noise"]
#: True log-odds: −3.4 + 0.9·z0 − 0.7·z1 + 0.5·z2 (z3 carries no signal); about 5 % defaults.
TRUE_COEF = np.array([0.9, -0.7, 0.5, 0.0])
TRUE_INTERCEPT = -3.4


def synthetic_panel(n: int, seed: int, missing: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    """A panel of ``n`` rows with features driving a known logistic PD; the true PDs."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, len(FEATURES)))
    true_pd = special.expit(TRUE_INTERCEPT + z @ TRUE_COEF)
    x = z.copy()
    x[rng.random(x.shape) < missing] = np.nan
    panel = pd.DataFrame(x, columns=FEATURES)
    panel.insert(0, "date", pd.Timestamp("2024-01-31")
                 + pd.to_timedelta(rng.integers(0, 365, n), unit="D"))
    panel.insert(0, "customer", [f"C{i % (n // 4):05d}" for i in range(n)])
    panel["defaulted_12m"] = rng.random(n) < true_pd
    return panel, true_pd


@pytest.fixture(scope="module")
def fitted() -> PdModel:
    train, _ = synthetic_panel(40_000, seed=1)
    return fit_pd_model(train, FEATURES, bins=10)


def test_auc_within_002_of_the_true_pds(fitted: PdModel) -> None:
    test, true_pd = synthetic_panel(40_000, seed=2)
    y = test["defaulted_12m"].to_numpy()
    model_pd = fitted.score(test[FEATURES])["pd"]
    assert abs(roc_auc_score(y, model_pd) - roc_auc_score(y, true_pd)) < 0.02


def test_woe_carries_the_direction_and_noise_stays_within_its_error(fitted: PdModel) -> None:
    # WoE carries each feature's direction, so a useful feature gets a positive coefficient;
    # the noise feature's bins have WoE within 4 standard errors
    # sqrt(1/defaults + 1/non-defaults) of 0, the useful ones' extreme bins do not
    by_name = {f.name: f for f in fitted.features}
    assert all(c > 0 for c in fitted.coefficients[:3])
    assert all(np.diff(by_name["days_overdue"].woe[:-2]) > 0)  # more overdue, riskier
    assert all(np.diff(by_name["current_ratio"].woe[:-2]) < 0)  # more liquid, safer
    for name in FEATURES:
        f = by_name[name]
        count, bad = np.array(f.count[:-1]), np.array(f.defaults[:-1])
        se = np.sqrt(1 / (bad + 0.5) + 1 / (count - bad + 0.5))
        z = np.abs(np.array(f.woe[:-1])) / se
        assert (z.max() < 4) == (name == "noise")


def test_mean_pd_equals_the_training_default_rate(fitted: PdModel) -> None:
    train, _ = synthetic_panel(40_000, seed=1)
    scores = fitted.score(train[FEATURES])
    assert scores["pd"].mean() == pytest.approx(train["defaulted_12m"].mean(), abs=1e-10)
    assert fitted.default_rate == pytest.approx(train["defaulted_12m"].mean(), abs=1e-15)


def test_each_grade_default_rate_within_its_binomial_error(fitted: PdModel) -> None:
    test, _ = synthetic_panel(40_000, seed=3)
    frame = fitted.score(test[FEATURES])
    frame["grade"] = grade_of(frame["pd"], WarnConfig().grades)
    frame["y"] = test["defaulted_12m"].to_numpy()
    checked = 0
    for _, g in frame.groupby("grade"):
        n, p = len(g), g["pd"].mean()
        if n * p < 5:  # too few expected defaults for a normal binomial error
            continue
        assert abs(g["y"].mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
        checked += 1
    assert checked >= 4


def test_woe_hand_worked() -> None:
    # 2 bins at the median 2.5: {1, 2} no default, {3, 4} both default; one missing, good.
    # Defaulters B = 2, non-defaulters G = 3, 3 bins, half a count added to every cell
    bins = FeatureBins.fit("x", np.array([1.0, 2.0, 3.0, 4.0, np.nan]),
                           np.array([False, False, True, True, False]), bins=2)
    assert bins.edges == (2.5,)
    assert bins.count == (2, 2, 1)
    assert bins.defaults == (0, 2, 0)
    expected = [math.log((0.5 / 3.5) / (2.5 / 4.5)), math.log((2.5 / 3.5) / (0.5 / 4.5)),
                math.log((0.5 / 3.5) / (1.5 / 4.5))]
    assert bins.woe == pytest.approx(expected, abs=1e-14)
    assert list(bins.encode(np.array([2.5, 2.6, np.nan]))) == pytest.approx(
        [expected[0], expected[1], expected[2]])


def test_bin_without_training_data_is_neutral() -> None:
    bins = FeatureBins.fit("x", np.array([1.0, 2.0, 3.0, 4.0]),
                           np.array([False, True, False, True]), bins=2)
    assert bins.count[-1] == 0
    assert bins.encode(np.array([np.nan]))[0] == 0.0


def test_contributions_add_up_to_the_logit(fitted: PdModel) -> None:
    test, _ = synthetic_panel(200, seed=4, missing=0.3)
    scores = fitted.score(test[FEATURES])
    contrib = fitted.contributions(test[FEATURES])
    assert list(contrib.columns) == FEATURES
    assert (fitted.intercept + contrib.sum(axis=1)).to_numpy() == pytest.approx(
        scores["logit"].to_numpy(), abs=1e-12)


def test_thin_customers_get_their_prior_and_say_so(fitted: PdModel) -> None:
    features = pd.DataFrame({"days_overdue": [1.0, 1.0, np.nan, 0.5],
                             "current_ratio": [0.0, np.nan, np.nan, 0.1],
                             "dso_trend": [0.0, 2.0, np.nan, np.nan],
                             "noise": [0.0, np.nan, np.nan, np.nan]},
                            index=["rich", "thin", "empty", "two"])
    prior = pd.DataFrame({"prior_pd": [0.5, 0.07, 0.3, 0.11],
                          "prior_source": ["p_default", "p_default", "sector", "portfolio"]},
                         index=features.index)
    scores = fitted.score(features, prior)  # min_features = 3
    assert list(scores["n_features"]) == [4, 2, 0, 2]
    assert list(scores["pd_source"]) == ["model", "p_default", "sector", "portfolio"]
    assert list(scores["pd"][1:]) == [0.07, 0.3, 0.11]
    assert scores.loc["rich", "pd"] == pytest.approx(special.expit(scores.loc["rich", "logit"]))
    no_prior = fitted.score(features)
    assert list(no_prior["pd_source"]) == ["model", "portfolio", "portfolio", "portfolio"]
    assert no_prior.loc["empty", "pd"] == fitted.default_rate
    with pytest.raises(ValueError, match="have too few features and no prior"):
        fitted.score(features, prior.drop(index="thin"))


def test_fallback_priors_order() -> None:
    customers = pd.DataFrame({"p_default": [0.04, np.nan, np.nan],
                              "sector": ["retail", "retail", "mining"]},
                             index=["A", "B", "C"])
    panel = pd.DataFrame({"customer": ["A", "A", "B", "B", "X"],
                          "defaulted_12m": [True, False, False, False, True]})
    prior = fallback_priors(customers, panel)
    # B: retail's rows (A, A, B, B) default 1 in 4; C: mining has no rows, the panel 2 in 5
    assert list(prior["prior_pd"]) == pytest.approx([0.04, 0.25, 0.4])
    assert list(prior["prior_source"]) == ["p_default", "sector", "portfolio"]
    alone = fallback_priors(customers)
    assert np.isnan(alone.loc["B", "prior_pd"])


def test_model_card_round_trips_through_json(fitted: PdModel, tmp_path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(fitted.card()), encoding="utf-8")
    card = json.loads(path.read_text(encoding="utf-8"))
    assert [f["name"] for f in card["features"]] == FEATURES
    assert set(card["features"][0]) == {"name", "coefficient", "edges", "bins"}
    assert card["features"][0]["bins"][-1]["bin"] == "missing"
    assert card["window"]["observations"] == 40_000
    assert card["window"]["customers"] == 10_000
    assert card["settings"] == {"bins": 10, "binning": "quantile", "regularisation": 1.0}
    assert 0.7 < card["metrics"]["in_sample"]["auc"] < 0.9
    test, _ = synthetic_panel(500, seed=5, missing=0.2)
    again = PdModel.from_card(card).score(test[FEATURES])
    assert again["pd"].to_numpy() == pytest.approx(
        fitted.score(test[FEATURES])["pd"].to_numpy(), rel=1e-15)


def test_fit_checks_its_panel() -> None:
    train, _ = synthetic_panel(400, seed=6)
    with pytest.raises(ValueError, match="lacks columns"):
        fit_pd_model(train.drop(columns="defaulted_12m"))
    with pytest.raises(ValueError, match="needs at least that many features"):
        fit_pd_model(train, ["noise"], min_features=2)
    train["defaulted_12m"] = False
    with pytest.raises(ValueError, match="the model needs both outcomes"):
        fit_pd_model(train)


def test_fitting_without_scikit_learn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    train, _ = synthetic_panel(400, seed=6)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    with pytest.raises(ImportError, match=r"pip install 'portsim\[warn\]'"):
        fit_pd_model(train)


def test_build_panel_stacks_dates_and_drops_unknown_outcomes() -> None:
    def features(data: dict, as_of: pd.Timestamp) -> pd.DataFrame:
        return pd.DataFrame({"x": [as_of.month, 2.0]}, index=["A", "B"])

    def outcome(data: dict, as_of: pd.Timestamp) -> pd.Series:
        return pd.Series({"A": as_of.month == 6})  # B's outcome unknown

    panel = build_panel({}, ["2024-03-31", "2024-06-30"], features, outcome)
    assert list(panel.columns) == ["customer", "date", "x", "defaulted_12m"]
    assert list(panel["customer"]) == ["A", "A"]
    assert list(panel["x"]) == [3, 6]
    assert list(panel["defaulted_12m"]) == [False, True]


def test_scoring_needs_no_scikit_learn(fitted: PdModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    for name in [m for m in sys.modules if m.startswith("portsim.earlywarning")]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("portsim.earlywarning.model")
    test, _ = synthetic_panel(100, seed=8)
    scores = module.PdModel.from_card(fitted.card()).score(test[FEATURES])
    assert scores["pd"].to_numpy() == pytest.approx(
        fitted.score(test[FEATURES])["pd"].to_numpy(), rel=1e-15)


def test_rows_with_too_few_features_stay_out_of_the_fit() -> None:
    train, _ = synthetic_panel(4000, seed=9, missing=0.4)
    model = fit_pd_model(train, FEATURES, min_features=3)
    enough = train[FEATURES].notna().sum(axis=1) >= 3
    assert model.window["observations"] == int(enough.sum())
    assert model.default_rate == pytest.approx(train["defaulted_12m"][enough].mean(), abs=1e-15)


def test_optimal_bins_are_optbinnings_and_keep_the_auc(optbinning_module: Any) -> None:
    optbinning = optbinning_module
    train, _ = synthetic_panel(20_000, seed=11, missing=0.05)
    model = fit_pd_model(train, FEATURES, bins=6, binning="optimal", ks_replicates=0)
    assert model.settings["binning"] == "optimal"
    # the rows fitted: those with at least min_features = 3 features
    used = train[FEATURES].notna().sum(axis=1).to_numpy() >= 3
    y = train["defaulted_12m"].to_numpy()[used]
    for f in model.features:
        x = train[f.name].to_numpy(dtype=np.float64)[used]
        ob = optbinning.OptimalBinning(name=f.name, dtype="numerical", solver="cp",
                                       max_n_bins=6, monotonic_trend="auto_asc_desc")
        ob.fit(x[~np.isnan(x)], y[~np.isnan(x)].astype(int))
        np.testing.assert_array_equal(f.edges, np.unique(ob.splits))
        assert len(f.edges) + 1 <= 6
        woe = np.diff(f.woe[:-1])  # value bins only; the last bin is the missing one
        assert (woe >= 0).all() or (woe <= 0).all()
    # the signal features have several bins, in the direction of their true coefficient
    days = model.features[FEATURES.index("days_overdue")]
    assert len(days.edges) >= 2
    assert days.woe[0] < days.woe[len(days.edges)]
    test, true_pd = synthetic_panel(20_000, seed=12, missing=0.05)
    yt = test["defaulted_12m"].to_numpy()
    model_pd = model.score(test[FEATURES])["pd"]
    assert abs(roc_auc_score(yt, model_pd) - roc_auc_score(yt, true_pd)) < 0.02


def test_optimal_binning_without_optbinning_names_the_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    train, _ = synthetic_panel(400, seed=6)
    monkeypatch.setitem(sys.modules, "optbinning", None)
    with pytest.raises(ImportError, match=r"pip install 'portsim\[warn-optimal\]'"):
        fit_pd_model(train, binning="optimal")
    with pytest.raises(ValueError, match="is not 'quantile' or 'optimal'"):
        fit_pd_model(train, binning="tree")
