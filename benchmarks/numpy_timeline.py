"""A vectorised NumPy implementation of portsim's payment timeline, as a benchmark baseline.

Same model as :func:`portsim.kernels.timeline.timeline_paths` (Gaussian copula, per-customer
normal draws): per path the factors; per customer the latent variable, the default day from
the constant hazard, the delay propensity; per invoice a normal noise; then paid days binned
into periods, invoices of defaulted customers issued after the default day stopped, those
unpaid on it written off (LGD fixed at its mean). NumPy's generator replaces portsim's
streams, so results agree in distribution, not path by path.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from portsim.inputs.model import ModelInputs


def numpy_timeline(x: ModelInputs, n_paths: int, seed: int, chunk: int = 32) -> dict:
    """Per-path loss and per-period collections of ``n_paths`` paths.

    Returns
    -------
    dict with ``loss`` (n_paths,) and ``collected`` (n_paths, n_periods).
    """
    tl = x.timeline
    assert tl is not None
    rng = np.random.default_rng(seed)
    n = x.n_customers
    n_p = tl.n_periods
    counts = np.diff(tl.inv_start)
    cust = np.repeat(np.arange(n), counts)  # customer of each invoice
    loss = np.empty(n_paths)
    collected = np.empty((n_paths, n_p))
    for a in range(0, n_paths, chunk):
        m = min(chunk, n_paths - a)
        y = rng.standard_normal((m, x.chol.shape[0])) @ x.chol.T
        yf = y[:, x.factor]  # (m, n)
        xl = x.loading * yf + x.idio * rng.standard_normal((m, n))
        defaulted = xl < x.threshold
        v = special.ndtr(xl)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = -np.log1p(-v) / x.hazard * 365.25
        tau = np.where(np.isfinite(tau), tau, 0.0)
        day = np.where(defaulted, np.minimum(tau.astype(np.int64) + 1, tl.n_days),
                       tl.n_days + 1)
        prop = tl.delay_mean + tl.delay_sd * rng.standard_normal((m, n)) \
            - tl.delay_factor_days * yf
        noise = rng.standard_normal((m, cust.size)) * tl.delay_noise[cust]
        paid = tl.inv_due + np.floor(prop[:, cust] + noise + 0.5).astype(np.int64)
        paid = np.maximum(np.maximum(paid, tl.inv_issue), 1)
        dday = day[:, cust]
        issued = tl.inv_issue < dday
        unpaid = issued & (paid >= dday)
        paid_ok = issued & ~unpaid
        bins = tl.period_of_day[np.minimum(paid, tl.n_days + 1)]
        rows = np.broadcast_to(np.arange(m)[:, None], bins.shape)
        coll = np.zeros((m, n_p + 1))
        np.add.at(coll, (rows[paid_ok], bins[paid_ok]), np.broadcast_to(
            tl.inv_amount, bins.shape)[paid_ok])
        unpaid_amt = np.where(unpaid, tl.inv_amount, 0.0)
        per_cust = np.zeros((m, n))
        np.add.at(per_cust, (rows, np.broadcast_to(cust, bins.shape)), unpaid_amt)
        loss[a : a + m] = (per_cust * x.lgd_mean).sum(axis=1)
        collected[a : a + m] = coll[:, :n_p]
    return {"loss": loss, "collected": collected}
