"""Scores on published scales: the bureau payment index and Altman's Z-score family.

Payment index
    The commercial bureaus' 0–100 convention (D&B PAYDEX): 100 = pays early, 80 = on time
    (prompt), 70 = 15 days beyond terms, 50 = 30, 40 = 60, 30 = 90, 20 = 120. Between anchors
    the index is linear in the days beyond terms; payment 20 or more days early scores 100
    (the bureaus' "anticipates", a point they do not date: our choice) and 120 or more days
    late scores 20 (the bottom anchor). :func:`payment_index` of a single payment; the
    features average it over invoices weighted by amount, as the bureaus do.
Altman Z-scores (Altman 1968; Altman 2018 review)
    With X1 = working capital / total assets, X2 = retained earnings / TA, X3 = EBIT / TA,
    X4 = equity / total liabilities, X5 = sales / TA:

    * Z (public manufacturers, X4 with the market value of equity)
      = 1.2 X1 + 1.4 X2 + 3.3 X3 + 0.6 X4 + 1.0 X5; distress < 1.81, safe > 2.99;
    * Z′ (private firms, book equity) = 0.717 X1 + 0.847 X2 + 3.107 X3 + 0.420 X4 + 0.998 X5;
      distress < 1.23, safe > 2.90;
    * Z″ (non-manufacturers and emerging markets, book equity)
      = 6.56 X1 + 3.26 X2 + 6.72 X3 + 1.05 X4; distress < 1.10, safe > 2.60.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["ALTMAN", "PAYMENT_INDEX_ANCHORS", "AltmanModel", "altman_ratios", "altman_zone",
           "payment_index"]

FloatArray = npt.NDArray[np.float64]

#: (days beyond terms, index) anchors of the payment index, days increasing.
PAYMENT_INDEX_ANCHORS: Final = ((-20.0, 100.0), (0.0, 80.0), (15.0, 70.0), (30.0, 50.0),
                                (60.0, 40.0), (90.0, 30.0), (120.0, 20.0))
_DAYS: Final = np.array([d for d, _ in PAYMENT_INDEX_ANCHORS])
_INDEX: Final = np.array([v for _, v in PAYMENT_INDEX_ANCHORS])


def payment_index(days_beyond_terms: npt.ArrayLike) -> FloatArray:
    """The 0–100 bureau index of payments made ``days_beyond_terms`` days after the due date.

    Parameters
    ----------
    days_beyond_terms : array_like of float, shape (n,)
        Payment date − due date in days (negative: early); NaN gives NaN.

    Returns
    -------
    ndarray of float64, shape (n,)
        The index, piecewise linear between :data:`PAYMENT_INDEX_ANCHORS`, 100 at 20 or more
        days early, 20 at 120 or more days late.
    """
    days = np.asarray(days_beyond_terms, dtype=np.float64)
    return np.where(np.isnan(days), np.nan, np.interp(days, _DAYS, _INDEX))


@dataclass(frozen=True)
class AltmanModel:
    """One Altman score: its coefficients on X1 … X5 and its zone cut-offs.

    Attributes
    ----------
    name : str
        ``"z"``, ``"z_prime"`` or ``"z_double_prime"``.
    coefficients : tuple of float, length 5
        Weights of X1 … X5 (0 for X5 in Z″).
    distress, safe : float
        A score below ``distress`` is in the distress zone, above ``safe`` in the safe zone,
        between them in the grey zone.
    """

    name: str
    coefficients: tuple[float, float, float, float, float]
    distress: float
    safe: float

    def score(self, x: npt.ArrayLike) -> FloatArray:
        """The score of ratios ``x``, shape (n, 5) (or (5,)): X1 … X5 per row."""
        return np.asarray(x, dtype=np.float64) @ np.array(self.coefficients)


#: The three published models, by name.
ALTMAN: Final = {
    "z": AltmanModel("z", (1.2, 1.4, 3.3, 0.6, 1.0), 1.81, 2.99),
    "z_prime": AltmanModel("z_prime", (0.717, 0.847, 3.107, 0.420, 0.998), 1.23, 2.90),
    "z_double_prime": AltmanModel("z_double_prime", (6.56, 3.26, 6.72, 1.05, 0.0), 1.10, 2.60),
}


def altman_ratios(
    total_assets: npt.ArrayLike, current_assets: npt.ArrayLike,
    current_liabilities: npt.ArrayLike, total_liabilities: npt.ArrayLike,
    equity: npt.ArrayLike, retained_earnings: npt.ArrayLike, ebit: npt.ArrayLike,
    sales: npt.ArrayLike,
) -> FloatArray:
    """Altman's X1 … X5 from statement amounts (all shape (n,), one currency).

    Returns
    -------
    ndarray of float64, shape (n, 5)
        X1 = (current assets − current liabilities) / TA, X2 = retained earnings / TA,
        X3 = EBIT / TA, X4 = equity / total liabilities (NaN where TL = 0), X5 = sales / TA;
        NaN where total assets are not positive.
    """
    ta = np.asarray(total_assets, dtype=np.float64)
    tl = np.asarray(total_liabilities, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_ta = np.where(ta > 0, 1.0 / ta, np.nan)
        x4 = np.where(tl > 0, np.asarray(equity, dtype=np.float64) / tl, np.nan)
    working = np.asarray(current_assets, dtype=np.float64) - np.asarray(
        current_liabilities, dtype=np.float64)
    return np.column_stack([working * per_ta,
                            np.asarray(retained_earnings, dtype=np.float64) * per_ta,
                            np.asarray(ebit, dtype=np.float64) * per_ta, x4,
                            np.asarray(sales, dtype=np.float64) * per_ta])


def altman_zone(score: npt.ArrayLike, model: str) -> npt.NDArray[np.object_]:
    """``"distress"``, ``"grey"`` or ``"safe"`` per score of ``model`` (NaN: ``""``)."""
    m = ALTMAN[model]
    s = np.asarray(score, dtype=np.float64)
    out = np.where(s < m.distress, "distress", np.where(s > m.safe, "safe", "grey"))
    return np.where(np.isnan(s), "", out).astype(object)
