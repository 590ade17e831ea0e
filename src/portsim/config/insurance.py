"""Credit-insurance policy terms: ``[insurance.policies.NAME]`` tables, each a policy
variant evaluated on the same simulated claims (see :mod:`portsim.inputs.policy`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from portsim.config.base import Fraction, KeyedValueError, Strict

__all__ = ["InsuranceConfig", "PolicyConfig"]

_POLICY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


class PolicyConfig(Strict):
    """Terms of one credit-insurance policy variant (money in book currency, fractions).

    Cover per buyer: an insurer limit (the book's ``insured_limit``, or ``buyer_limits``) at
    ``insured_percentage``; else, when ``discretionary_ceiling`` > 0 and the buyer's internal
    ``credit_limit`` is positive and at most the ceiling, a discretionary limit equal to that
    credit limit; else, when ``unnamed_threshold`` > 0 and the buyer's exposure (or annual
    sales) is below it, unnamed-buyer cover up to the threshold at ``unnamed_percentage``;
    ``excluded`` customers and all others are not covered. See :mod:`portsim.inputs.policy`.
    """

    description: str = Field(default="", description="free text (not used by the model)")
    insured_percentage: Fraction = Field(
        default=0.9, description="share of the qualifying loss indemnified (co-insurance)"
    )
    buyer_limits: dict[str, Annotated[float, Field(ge=0.0)]] = Field(
        default_factory=dict, description="insurer credit limits by customer id, replacing "
        "the book's insured_limit (0: no insurer limit)"
    )
    discretionary_ceiling: float = Field(
        default=0.0, ge=0.0, description="buyers without an insurer limit are covered up to "
        "their own credit_limit when it is at most this ceiling (0: no discretionary cover)"
    )
    unnamed_threshold: float = Field(
        default=0.0, ge=0.0, description="buyers without a limit whose exposure (or annual "
        "sales) is below this are covered up to it (0: no unnamed-buyer cover)"
    )
    unnamed_basis: Literal["exposure", "annual_sales"] = Field(
        default="exposure", description="what unnamed_threshold is compared with")
    unnamed_percentage: Fraction | None = Field(
        default=None, description="insured percentage of unnamed-buyer cover (default: "
        "insured_percentage)"
    )
    excluded: list[str] = Field(
        default_factory=list, description="customer ids never covered (e.g. affiliates)"
    )
    non_qualifying_loss: float = Field(
        default=0.0, ge=0.0, description="a buyer's qualifying loss below this is ignored"
    )
    first_loss: float = Field(
        default=0.0, ge=0.0, description="aggregate first loss kept per policy year"
    )
    first_loss_applies: Literal["after_cover", "before_cover"] = Field(
        default="after_cover", description="after_cover: deducted from the indemnity at the "
        "insured percentage; before_cover: deducted from the qualifying loss"
    )
    max_liability: float | None = Field(
        default=None, gt=0.0, description="maximum indemnity per policy year (amount)"
    )
    max_liability_multiple: float | None = Field(
        default=None, gt=0.0, description="maximum indemnity per policy year as a multiple "
        "of the annual premium"
    )
    waiting_period_days: int | None = Field(
        default=None, ge=0, le=720, description="protracted-default waiting period after the "
        "due date; must equal timeline.protracted_default_days (the default)"
    )
    max_extension_days: int | None = Field(
        default=None, ge=1, le=720, description="maximum extension period: a buyer that has "
        "not paid by the due date is granted one postponement of this many days, and the "
        "extended due date counts for the protracted-default waiting period (none: off)"
    )
    settlement_lag_days: int = Field(
        default=30, ge=0, le=3650, description="days from a claim to the indemnity payment"
    )
    red_limit_factor: Fraction = Field(
        default=1.0, description="the insurer cuts a buyer's limit to this factor when the "
        "buyer reaches the most severe alert level of [actions] on a path: deliveries after "
        "that are covered only within the reduced limit (0: cancelled, 1: unchanged)"
    )
    premium_rate: Fraction = Field(description="premium as a fraction of insured turnover")
    minimum_premium: float = Field(default=0.0, ge=0.0, description="per policy year")
    premium_schedule: Literal["annual", "quarterly", "monthly"] = Field(
        default="annual", description="premium instalments, each paid in advance"
    )

    @model_validator(mode="after")
    def _consistent(self) -> PolicyConfig:
        if self.max_liability is not None and self.max_liability_multiple is not None:
            raise KeyedValueError(
                ("max_liability_multiple",), self.max_liability_multiple,
                "is given together with max_liability",
                "give the maximum liability as an amount or as a multiple of the premium",
            )
        if self.max_liability is not None and self.first_loss > self.max_liability:
            raise KeyedValueError(
                ("first_loss",), self.first_loss,
                f"is above max_liability={self.max_liability!r}",
                "the first loss kept per policy year must not exceed the maximum liability",
            )
        seen: set[str] = set()
        for cid in self.excluded:
            if cid in seen:
                raise KeyedValueError(("excluded",), cid, "is listed twice")
            seen.add(cid)
        return self


class InsuranceConfig(Strict):
    """Credit-insurance policy variants, all evaluated on the same simulated claims.

    ``[insurance.policies.NAME]`` tables; the variant ``none`` (no cover) is always added
    first, and the value of each variant's cover is measured against it.
    """

    policies: dict[str, PolicyConfig] = Field(description="policy variants by name")
    _source: str | None = PrivateAttr(default=None)

    @field_validator("policies")
    @classmethod
    def _names(cls, v: dict[str, PolicyConfig]) -> dict[str, PolicyConfig]:
        if not v:
            raise ValueError("needs at least one [insurance.policies.NAME] table")
        for name in v:
            if name == "none":
                raise KeyedValueError((name,), name, "is reserved for the variant without cover",
                                      "choose another name")
            if not _POLICY_NAME.match(name):
                raise KeyedValueError((name,), name, "is not a valid policy name",
                                      "use letters, digits, '_' and '-', starting with a letter")
        return v

    @property
    def source(self) -> str | None:
        """The config file the section was read from (for error locations), if known."""
        return self._source
