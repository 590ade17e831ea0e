"""Book inputs × ``[creditriskplus]`` → :class:`CreditRiskPlusModel`, the lattice model.

Each customer's loss given default is its exposure × mean LGD (a fixed LGD), rounded to
``ν_i ≥ 1`` loss units; its default intensity is scaled by ``E_i·LGD_i / (ν_i·unit)`` so its
expected loss is kept exactly (CSFB, 1997, §A4.1). The intensity is the horizon PD.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from portsim.config import CreditRiskPlusConfig
from portsim.inputs.mixture import sector_weights
from portsim.inputs.model import ModelInputs

__all__ = ["AUTO_UNIT_STEPS", "CreditRiskPlusModel", "build_model"]

#: Unset ``loss_unit``: the largest loss given default is this many units.
AUTO_UNIT_STEPS = 500


class CreditRiskPlusModel(NamedTuple):
    """The CreditRisk+ model on the loss lattice.

    Shapes: ``n`` customers, ``K`` sector variables.
    """

    units: np.ndarray  # (n,) int64 ν_i ≥ 1, loss given default in loss units
    intensity: np.ndarray  # (n,) p_i, Poisson default intensity over the horizon
    weights: np.ndarray  # (n, K) w_ik, sector weights (w_i0 = 1 − Σ_k w_ik)
    variance: np.ndarray  # (K,) σ_k², variance of the mean-1 gamma sector variables
    unit: float  # loss unit, book currency
    sector: np.ndarray  # (n,) int64 the customer's book sector
    sector_names: tuple[str, ...]

    @property
    def idiosyncratic(self) -> np.ndarray:
        """w_i0 = 1 − Σ_k w_ik, shape (n,)."""
        return np.clip(1.0 - self.weights.sum(axis=1), 0.0, 1.0)


def build_model(inputs: ModelInputs, config: CreditRiskPlusConfig) -> CreditRiskPlusModel:
    """The CreditRisk+ model of the book the inputs were built from.

    Parameters
    ----------
    inputs : ModelInputs
        The copula model's inputs (exposure, horizon PD, mean LGD, sector).
    config : CreditRiskPlusConfig
        Sector variances and weights, loss unit. Sector names must be the book's (checked by
        :func:`portsim.workflow.checks.check_run`).

    Returns
    -------
    CreditRiskPlusModel
    """
    names = inputs.sector_names
    lgd_loss = inputs.exposure * inputs.lgd_mean
    unit = config.loss_unit
    if unit is None:
        largest = float(lgd_loss.max(initial=0.0))
        unit = largest / AUTO_UNIT_STEPS if largest > 0.0 else 1.0
    units = np.maximum(np.rint(lgd_loss / unit), 1.0).astype(np.int64)
    intensity = inputs.p_horizon * lgd_loss / (units * unit)
    by_sector, variance = sector_weights(names, config)
    c = np.ascontiguousarray
    return CreditRiskPlusModel(
        units=c(units), intensity=c(intensity, dtype=float),
        weights=c(by_sector[inputs.sector]), variance=c(variance, dtype=float),
        unit=float(unit), sector=c(inputs.sector, dtype=np.int64), sector_names=names)
