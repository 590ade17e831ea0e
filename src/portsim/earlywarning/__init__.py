"""Early warning: a PD model per customer, alert levels with their responses, and the
validation of both.

:mod:`.model` (binned logistic regression on weight of evidence, calibrated to the 12-month
default rate, with priors for thin data), :mod:`.alerts` (master-scale grade, risk index,
alert levels, rules and responses), :mod:`.validation` (AUC/Gini with DeLong intervals, KS,
Brier, Jeffreys per grade, Hosmer–Lemeshow, PSI, backtests of the levels).
"""

from portsim.earlywarning.alerts import assess, fired_rules, grade_of, risk_index, top_features
from portsim.earlywarning.model import (
    FeatureBins,
    PdModel,
    build_panel,
    fallback_priors,
    fit_pd_model,
)
from portsim.earlywarning.validation import (
    AucResult,
    HosmerLemeshow,
    auc_delong,
    backtest_levels,
    brier_score,
    discrimination,
    hosmer_lemeshow,
    jeffreys_test,
    ks_statistic,
    psi,
    psi_from_shares,
)

__all__ = [
    "AucResult",
    "FeatureBins",
    "HosmerLemeshow",
    "PdModel",
    "assess",
    "auc_delong",
    "backtest_levels",
    "brier_score",
    "build_panel",
    "discrimination",
    "fallback_priors",
    "fired_rules",
    "fit_pd_model",
    "grade_of",
    "hosmer_lemeshow",
    "jeffreys_test",
    "ks_statistic",
    "psi",
    "psi_from_shares",
    "risk_index",
    "top_features",
]
