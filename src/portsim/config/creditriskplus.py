"""The ``[creditriskplus]`` table: the CreditRisk+ model (CSFB, 1997) of the same book, as a
second opinion beside the copula model.

The sector variables are the book's sectors. A customer of book sector ``s`` defaults with
Poisson intensity ``p·(w_0 + Σ_k w_k·S_k)``, the ``S_k`` independent gamma variables of mean 1
and variance ``σ_k²``; ``w_k`` come from ``weights[s]`` (default: all of ``1 − w_0`` on its
own sector) and ``w_0 = 1 − Σ_k w_k`` is the idiosyncratic share.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, model_validator

from portsim.config.base import Fraction, KeyedValueError, Strict

__all__ = ["CreditRiskPlusConfig"]

#: Weights on the sector variables, by sector name.
SectorWeights = dict[str, Annotated[float, Field(ge=0.0, le=1.0)]]


class CreditRiskPlusConfig(Strict):
    """CreditRisk+: gamma sector variables, Poisson defaults, the loss on a lattice.

    ``variance`` is every sector's ``σ_k²`` unless ``sector_variances`` names it: 1.0 by
    default, CSFB's rule of thumb that a default rate's standard deviation is about its mean.
    ``loss_unit`` unset: the largest exposure × LGD of the book over 500.
    """

    compare: bool = Field(default=False, description="print the CreditRisk+ expected loss, "
                          "VaR and ES of the book beside the run's and add them to "
                          "summary.json")
    variance: float = Field(default=1.0, gt=0.0, le=100.0, description="variance σ² of every "
                            "sector variable (mean 1) not in sector_variances")
    sector_variances: dict[str, Annotated[float, Field(gt=0.0, le=100.0)]] = Field(
        default_factory=dict, description="σ² of named sectors")
    idiosyncratic_weight: Fraction = Field(default=0.0, description="w_0, the share of every "
                                           "customer's intensity not driven by a sector "
                                           "variable (unless weights names its sector)")
    weights: dict[str, SectorWeights] = Field(
        default_factory=dict, description="for the customers of a sector, their weights on "
        "the sector variables (sum at most 1; the rest is idiosyncratic), e.g. retail = "
        "{ retail = 0.6, construction = 0.2 }")
    loss_unit: float | None = Field(default=None, gt=0.0, description="the lattice step of "
                                    "losses (unset: the largest exposure × LGD over 500) "
                                    "[book currency]")
    defaults: Literal["poisson", "bernoulli"] = Field(
        default="poisson", description="how the Monte Carlo engine (model.family = "
        "'creditriskplus') draws a customer's defaults given the sector variables: a Poisson "
        "count of intensity λ (CSFB, the exact model) or at most one, with probability "
        "min(λ, 1)")
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The config file the table was read from (for error locations), if known."""
        return self._source

    @model_validator(mode="after")
    def _weights_at_most_one(self) -> CreditRiskPlusConfig:
        for sector, w in self.weights.items():
            total = sum(w.values())
            if total > 1.0 + 1e-12:
                raise KeyedValueError(("weights", sector), w, f"sum to {total:.6g} > 1",
                                      "the weights and the idiosyncratic share 1 − Σ w add "
                                      "up to 1: lower them")
        return self
