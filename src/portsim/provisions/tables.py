"""The ECL tables: ``ecl.csv`` rows, the IFRS 7 disclosure, the movement of the allowance.

* :func:`ecl_frame`: one row per segment and bucket with the gross carrying amount, the given,
  historical and model loss rates, the allowance on the basis and its standard error.
* :func:`disclosure_table`: gross carrying amount, loss rate and lifetime ECL per bucket with a
  total (IFRS 7.35N: the provision matrix as the credit-risk disclosure).
* :func:`movement_table`: the allowance per bucket at two as-of dates and its change.
* :func:`customer_frame`: the model ECL per customer and bucket.
* :func:`write_outputs`: them all as CSV files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from portsim.provisions.ecl import EclResult

__all__ = ["ECL_COLUMNS", "customer_frame", "disclosure_table", "ecl_frame", "movement_table",
           "write_outputs"]

#: Columns of ``ecl.csv``.
ECL_COLUMNS = ("as_of", "segment", "bucket", "gross_carrying_amount", "given_rate",
               "historical_rate", "n_observations", "model_rate", "ecl", "se", "basis")
TOTAL = "total"


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def ecl_frame(result: EclResult) -> pd.DataFrame:
    """The rows of ``ecl.csv`` (:data:`ECL_COLUMNS`), segments sorted, buckets in order.

    Rates are fractions (NaN where not measured or nothing is open), amounts in book
    currency; ``se`` is the Monte Carlo standard error of a model allowance (NaN otherwise);
    ``n_observations`` counts the invoice-months behind the historical rate.
    """
    gross = result.gross
    n_s, n_b = gross.shape
    g = gross.to_numpy().ravel()
    nan = np.full(n_b, np.nan)
    hist = result.historical
    model = result.model
    model_ecl = nan if model is None else model.ecl.to_numpy()
    se = np.full(n_s * n_b, np.nan)
    if result.basis == "model" and model is not None:
        se = model.se.to_numpy().ravel()
    return pd.DataFrame({
        "as_of": result.as_of.isoformat(),
        "segment": np.repeat(gross.index.to_numpy(), n_b),
        "bucket": np.tile(gross.columns.astype(str).to_numpy(), n_s),
        "gross_carrying_amount": g,
        "given_rate": np.tile(nan if result.given_rates is None else result.given_rates, n_s),
        "historical_rate": np.tile(nan if hist is None else hist["loss_rate"].to_numpy(), n_s),
        "n_observations": np.tile(np.zeros(n_b, np.int64) if hist is None
                                  else hist["n_observations"].to_numpy(), n_s),
        "model_rate": _ratio(np.broadcast_to(model_ecl, (n_s, n_b)).ravel(), g),
        "ecl": result.allowance.to_numpy().ravel(),
        "se": se,
        "basis": result.basis,
    }, columns=list(ECL_COLUMNS))


def disclosure_table(result: EclResult) -> pd.DataFrame:
    """Gross carrying amount, loss rate and lifetime ECL per bucket, and their total.

    Returns
    -------
    DataFrame, index bucket labels then ``"total"``
        ``gross_carrying_amount``, ``loss_rate`` (allowance / gross, fraction), ``lifetime_ecl``
        (book currency); with a model, also ``model_ecl`` and ``model_se``.
    """
    gross = result.gross.sum(axis=0)
    ecl = result.allowance.sum(axis=0)
    out = pd.DataFrame({"gross_carrying_amount": gross, "lifetime_ecl": ecl})
    if result.model is not None:
        out["model_ecl"] = result.model.ecl.sum(axis=0)
        out["model_se"] = result.model.bucket_se
    out.loc[TOTAL] = out.sum(axis=0)
    if result.model is not None:
        out.loc[TOTAL, "model_se"] = result.model.total[1]
    out.insert(1, "loss_rate", _ratio(out["lifetime_ecl"].to_numpy(),
                                      out["gross_carrying_amount"].to_numpy()))
    out.index.name = "bucket"
    return out


def movement_table(opening: EclResult, closing: EclResult) -> pd.DataFrame:
    """The allowance per bucket at two as-of dates and its change (closing − opening).

    Returns
    -------
    DataFrame, index bucket labels then ``"total"``
        ``opening``, ``closing``, ``change`` (book currency), and the same for the gross
        carrying amount (``gross_opening``, ``gross_closing``).
    """
    a, b = disclosure_table(opening), disclosure_table(closing)
    return pd.DataFrame({
        "opening": a["lifetime_ecl"], "closing": b["lifetime_ecl"],
        "change": b["lifetime_ecl"] - a["lifetime_ecl"],
        "gross_opening": a["gross_carrying_amount"],
        "gross_closing": b["gross_carrying_amount"],
    })


def write_outputs(results: Sequence[EclResult], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``ecl.csv`` and ``disclosure.csv`` (rows of every as-of date, with an ``as_of``
    column), ``historical.csv`` (the roll-rate matrix, with a history), ``ecl_customers.csv``
    (:func:`customer_frame`, with a model), ``insurance.csv`` (expected recoveries, with a
    model under ``[insurance]``) and ``movement.csv`` (with two dates) into ``out_dir``
    (created). Returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = {
        "ecl.csv": pd.concat([ecl_frame(r) for r in results], ignore_index=True),
        "disclosure.csv": _stacked(results, disclosure_table),
    }
    if any(r.historical is not None for r in results):
        frames["historical.csv"] = _stacked(
            [r for r in results if r.historical is not None], _historical)
    modelled = [r for r in results if r.model is not None]
    if modelled:
        frames["ecl_customers.csv"] = _stacked(modelled, customer_frame)
    insured = [r for r in results if r.model is not None and not r.model.insurance.empty]
    if insured:
        frames["insurance.csv"] = _stacked(insured, _insurance)
    if len(results) == 2:
        frames["movement.csv"] = movement_table(results[0], results[1]).reset_index()
    written = []
    for name, frame in frames.items():
        path = out / name
        frame.to_csv(path, index=False, float_format="%.10g")
        written.append(path)
    return written


def customer_frame(result: EclResult) -> pd.DataFrame:
    """The model ECL of each customer's open invoices per bucket, one row per customer and
    bucket with an open amount: ``customer_id``, ``segment``, ``bucket``,
    ``gross_carrying_amount``, ``model_ecl`` (book currency), ``model_rate``."""
    assert result.model is not None
    aged = result.aged
    gross = aged.groupby(["customer", "segment", "bucket"], observed=True)["amount"].sum()
    cust = gross.index.get_level_values("customer").to_numpy()
    buckets = result.model.customers.columns
    col = buckets.get_indexer(gross.index.get_level_values("bucket"))
    ecl = result.model.customers.to_numpy()[cust, col]
    return pd.DataFrame({
        "customer_id": result.model.customers.index.to_numpy()[cust],
        "segment": gross.index.get_level_values("segment"),
        "bucket": gross.index.get_level_values("bucket").astype(str),
        "gross_carrying_amount": gross.to_numpy(),
        "model_ecl": ecl,
        "model_rate": _ratio(ecl, gross.to_numpy()),
    }).set_index("customer_id")


def _historical(result: EclResult) -> pd.DataFrame:
    assert result.historical is not None
    return result.historical


def _insurance(result: EclResult) -> pd.DataFrame:
    assert result.model is not None
    return result.model.insurance.set_index("policy")


def _stacked(results: Sequence[EclResult],
             table: Callable[[EclResult], pd.DataFrame]) -> pd.DataFrame:
    """The tables of every result, one after the other, with an ``as_of`` column first."""
    frames = [table(r).reset_index() for r in results]
    for r, f in zip(results, frames, strict=True):
        f.insert(0, "as_of", r.as_of.isoformat())
    return pd.concat(frames, ignore_index=True)
