"""``[creditriskplus]`` × the book's sectors → the sector weights and variances of the
CreditRisk+ model (CSFB, 1997), for its Monte Carlo kernel (:mod:`portsim.kernels.mixture`)
and its exact distribution (:mod:`portsim.creditriskplus`).

The sector variables are the book's sectors. A customer of book sector ``s`` has the weights
``W[s, k]`` on the sector variables (``[creditriskplus] weights[s]``, by default
``1 − idiosyncratic_weight`` on its own sector) and the idiosyncratic weight
``w_0 = 1 − Σ_k W[s, k]``; its default intensity given the sector variables is
``p·(w_0 + Σ_k W[s, k]·S_k)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from portsim.config import CreditRiskPlusConfig

__all__ = ["MixtureInputs", "build_mixture", "sector_weights"]


class MixtureInputs(NamedTuple):
    """The CreditRisk+ sector model of a book (``S`` book sectors, ``K`` sector variables).

    Customers' intensities and severities are those of :class:`~portsim.inputs.model.
    ModelInputs` (``p_horizon``, ``exposure × lgd_mean``).
    """

    sector_weights: np.ndarray  # (S, K) W[s, k], weights of the customers of book sector s
    sector_idio: np.ndarray  # (S,) w_0 = 1 − Σ_k W[s, k], clipped to [0, 1]
    variance: np.ndarray  # (K,) σ_k², variance of the mean-1 gamma sector variables
    poisson: bool  # Poisson default counts (else Bernoulli: at most one default)


def sector_weights(sector_names: tuple[str, ...],
                   config: CreditRiskPlusConfig) -> tuple[np.ndarray, np.ndarray]:
    """The weights of each book sector on the sector variables, and their variances.

    Parameters
    ----------
    sector_names : tuple of str, length S
        The book's sectors (the sector variables, in this order).
    config : CreditRiskPlusConfig
        Its sector names must be the book's (:func:`portsim.workflow.checks.check_run`).

    Returns
    -------
    weights : ndarray, shape (S, S)
        ``W[s, k]``.
    variance : ndarray, shape (S,)
        ``σ_k²``.
    """
    index = {s: k for k, s in enumerate(sector_names)}
    weights = np.zeros((len(sector_names), len(sector_names)))
    for s, k in index.items():
        given = config.weights.get(s)
        if given is None:
            weights[k, k] = 1.0 - config.idiosyncratic_weight
        else:
            for t, w in given.items():
                weights[k, index[t]] = w
    variance = np.array([config.sector_variances.get(s, config.variance)
                         for s in sector_names], dtype=float)
    return weights, variance


def build_mixture(sector_names: tuple[str, ...],
                  config: CreditRiskPlusConfig) -> MixtureInputs:
    """The kernel's arrays of the CreditRisk+ sector model (see :func:`sector_weights`)."""
    weights, variance = sector_weights(sector_names, config)
    c = np.ascontiguousarray
    return MixtureInputs(
        sector_weights=c(weights), sector_idio=c(np.clip(1.0 - weights.sum(axis=1), 0.0, 1.0)),
        variance=c(variance), poisson=config.defaults == "poisson")
