"""Early warning: the credit files of the book's customers (payment history, financial
statements, external signals, past defaults), their features as of any date from the data
available then, and the published scales they use (bureau payment index, Altman scores);
a PD model per customer, alert levels with their responses, and the validation of both.

:mod:`.tables`, :mod:`.features`, :mod:`.scales` (the data and features); :mod:`.model`
(binned logistic regression on weight of evidence, calibrated to the 12-month default rate,
with priors for thin data), :mod:`.alerts` (master-scale grade, risk index, alert levels,
rules and responses), :mod:`.validation` (AUC/Gini with DeLong intervals, KS, Brier, Jeffreys
per grade, Hosmer–Lemeshow, PSI, backtests of the levels), :mod:`.migration` (customers per
level over time and the migration matrix between score dates).

Imports only :mod:`portsim.config` and :mod:`portsim.data` (the layer after ``data``).
"""

from portsim.earlywarning.alerts import assess, fired_rules, grade_of, risk_index, top_features
from portsim.earlywarning.delaylink import (
    DelayCalibration,
    calibrate_delay_link,
    shock_means,
)
from portsim.earlywarning.features import FEATURE_COLUMNS, default_within, features_as_of
from portsim.earlywarning.migration import level_counts, level_migration
from portsim.earlywarning.model import (
    FeatureBins,
    PdModel,
    build_panel,
    fallback_priors,
    fit_pd_model,
)
from portsim.earlywarning.scales import (
    ALTMAN,
    PAYMENT_INDEX_ANCHORS,
    AltmanModel,
    altman_ratios,
    altman_zone,
    payment_index,
)
from portsim.earlywarning.tables import (
    DEFAULT_KINDS,
    LEGAL_KINDS,
    SIGNAL_KINDS,
    STATEMENT_COLUMNS,
    CreditFiles,
    read_credit_files,
    read_defaults,
    read_payment_history,
    read_signals,
    read_statements,
)
from portsim.earlywarning.validation import (
    KS_REPLICATES,
    AucResult,
    HosmerLemeshow,
    Interval,
    auc_delong,
    backtest_levels,
    brier_interval,
    brier_score,
    discrimination,
    hosmer_lemeshow,
    jeffreys_test,
    ks_interval,
    ks_statistic,
    psi,
    psi_from_shares,
)

__all__ = [
    "ALTMAN",
    "DEFAULT_KINDS",
    "FEATURE_COLUMNS",
    "KS_REPLICATES",
    "LEGAL_KINDS",
    "PAYMENT_INDEX_ANCHORS",
    "SIGNAL_KINDS",
    "STATEMENT_COLUMNS",
    "AltmanModel",
    "AucResult",
    "CreditFiles",
    "DelayCalibration",
    "FeatureBins",
    "HosmerLemeshow",
    "Interval",
    "PdModel",
    "altman_ratios",
    "altman_zone",
    "assess",
    "auc_delong",
    "backtest_levels",
    "brier_interval",
    "brier_score",
    "build_panel",
    "calibrate_delay_link",
    "default_within",
    "discrimination",
    "fallback_priors",
    "features_as_of",
    "fired_rules",
    "fit_pd_model",
    "grade_of",
    "hosmer_lemeshow",
    "jeffreys_test",
    "ks_interval",
    "ks_statistic",
    "level_counts",
    "level_migration",
    "payment_index",
    "psi",
    "psi_from_shares",
    "read_credit_files",
    "read_defaults",
    "read_payment_history",
    "read_signals",
    "read_statements",
    "risk_index",
    "shock_means",
    "top_features",
]
