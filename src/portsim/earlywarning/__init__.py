"""Early warning: the credit files of the book's customers (payment history, financial
statements, external signals, past defaults), their features as of any date from the data
available then, and the published scales they use (bureau payment index, Altman scores).

Imports only :mod:`portsim.config` and :mod:`portsim.data` (the layer after ``data``).
"""

from portsim.earlywarning.features import FEATURE_COLUMNS, default_within, features_as_of
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

__all__ = [
    "ALTMAN",
    "DEFAULT_KINDS",
    "FEATURE_COLUMNS",
    "LEGAL_KINDS",
    "PAYMENT_INDEX_ANCHORS",
    "SIGNAL_KINDS",
    "STATEMENT_COLUMNS",
    "AltmanModel",
    "CreditFiles",
    "altman_ratios",
    "altman_zone",
    "default_within",
    "features_as_of",
    "payment_index",
    "read_credit_files",
    "read_defaults",
    "read_payment_history",
    "read_signals",
    "read_statements",
]
