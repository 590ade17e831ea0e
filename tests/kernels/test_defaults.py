"""The default kernels of portsim.kernels.defaults on hand-worked cases, called directly.

With PDs of exactly 0 and 1 (copula thresholds −inf and +inf) and fixed LGDs the outcome does
not depend on the draws: every path defaults the same customers and loses exposure × LGD on
each, which the three kernels must produce exactly. The factor draw and the conditional PD are
checked against the formulas they implement, with the normals taken from the same stream.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np
import pytest
from scipy import special

from portsim.kernels import defaults
from portsim.kernels.codes import DefaultMethod, Stream
from portsim.kernels.rng import next_gamma, next_normal, path_states

pytestmark = pytest.mark.jitoff

M = 5  # paths
EXPOSURE = np.array([100.0, 250.0, 40.0])
LGD = np.array([0.45, 0.3, 1.0])
THRESHOLD = np.array([-np.inf, np.inf, np.inf])  # PD 0, 1, 1
SECTOR = np.array([0, 1, 1])
LOADING = np.full(3, 0.5)
IDIO = np.full(3, math.sqrt(0.75))


def _states(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    return path_states(seed, 0, M, Stream.DEFAULT), path_states(seed, 0, M, Stream.LGD)


def _by_name(kernel: Any, args: dict[str, object]) -> None:
    """Call ``kernel`` with ``args[p]`` for each of its parameters ``p``, in order."""
    kernel(*(args[p] for p in inspect.signature(getattr(kernel, "py_func", kernel)).parameters))


def _args() -> dict[str, object]:
    """The kernels' book arguments by parameter name: one factor, one group per customer,
    fixed LGDs."""
    n = EXPOSURE.size
    return {
        "chol": np.ones((1, 1)), "z_shift": np.zeros(1), "y_shift": np.zeros(1), "dof": 0.0,
        "group": np.arange(n), "group_start": np.arange(n + 1), "group_perm": np.arange(n),
        "group_factor": np.zeros(n, dtype=np.int64), "group_loading": LOADING,
        "group_idio": IDIO, "group_threshold": THRESHOLD, "factor": np.zeros(n, dtype=np.int64),
        "loading": LOADING, "idio": IDIO, "threshold": THRESHOLD, "exposure": EXPOSURE,
        "lgd_mean": LGD, "lgd_probit": special.ndtri(LGD),
        "lgd_conc": np.zeros(n), "lgd_link": 0.0, "sector": SECTOR,
    }


KERNELS = {
    DefaultMethod.PER_CUSTOMER: defaults.default_losses_per_customer,
    DefaultMethod.GROUPED: defaults.default_losses_grouped,
    DefaultMethod.SKIP: defaults.default_losses_skip,
}


@pytest.mark.parametrize("method", list(DefaultMethod))
def test_pd_zero_and_one_lose_exposure_times_lgd_exactly(method: DefaultMethod) -> None:
    states, lgd_states = _states()
    loss, ndef, logw = np.zeros(M), np.zeros(M, dtype=np.int64), np.zeros(M)
    sec_loss, sec_ndef = np.zeros((M, 2)), np.zeros((M, 2), dtype=np.int64)
    cust_loss, cust_ndef = np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64)
    _by_name(KERNELS[method], {
        **_args(), "states": states, "lgd_states": lgd_states, "out_loss": loss,
        "out_ndef": ndef, "out_sector_loss": sec_loss, "out_sector_ndef": sec_ndef,
        "out_cust_loss": cust_loss, "out_cust_ndef": cust_ndef, "out_logw": logw,
    })
    # customers 1 and 2 default on every path, customer 0 never
    path_loss = 0.0 + 250.0 * 0.3 + 40.0 * 1.0
    np.testing.assert_array_equal(loss, np.full(M, path_loss))
    np.testing.assert_array_equal(ndef, np.full(M, 2))
    np.testing.assert_array_equal(sec_loss, np.tile([0.0, path_loss], (M, 1)))
    np.testing.assert_array_equal(sec_ndef, np.tile([0, 2], (M, 1)))
    np.testing.assert_array_equal(cust_loss, [0, 7500 * M, 4000 * M])  # cents
    np.testing.assert_array_equal(cust_ndef, [0, M, M])
    np.testing.assert_array_equal(logw, np.zeros(M))


@pytest.mark.parametrize("method", list(DefaultMethod))
def test_customer_losses_of_paths_keeps_each_paths_customer_losses(
    method: DefaultMethod,
) -> None:
    states, lgd_states = _states()
    loss, cents, logw = np.zeros(M), np.zeros((M, 3), dtype=np.int64), np.zeros(M)
    _by_name(defaults.customer_losses_of_paths, {
        **_args(), "method": int(method), "states": states, "lgd_states": lgd_states,
        "n_sectors": 2, "out_loss": loss, "out_cust_loss": cents, "out_logw": logw,
    })
    np.testing.assert_array_equal(cents, np.tile([0, 7500, 4000], (M, 1)))
    np.testing.assert_array_equal(loss, np.full(M, 115.0))
    np.testing.assert_array_equal(logw, np.zeros(M))


def test_factors_are_the_shifted_correlated_normals_of_the_stream() -> None:
    """y = y_shift + chol @ (z + θ); log weight −θ·(z + θ) + θ·θ/2; Gaussian: scale 1."""
    s0, s1 = path_states(11, 0, 1, Stream.DEFAULT)[0]
    z0, t0, t1 = next_normal(s0, s1)
    z1, t0, t1 = next_normal(t0, t1)
    chol = np.array([[1.0, 0.0], [0.6, 0.8]])
    th = -1.0
    theta = np.array([th, 0.0])
    y_shift = np.array([0.25, -0.5])
    y = np.empty(2)
    scale, logw, r0, r1 = defaults.factors(s0, s1, chol, theta, y_shift, 0.0, y)
    assert scale == 1.0
    assert (r0, r1) == (t0, t1)  # two normals used, nothing else
    za = z0 + th
    assert y[0] == 0.25 + 1.0 * za
    assert y[1] == -0.5 + 0.6 * za + 0.8 * z1
    assert logw == -th * za + 0.5 * th * th


def test_student_t_scale_is_from_the_gamma_drawn_after_the_normals() -> None:
    """s = √(2W/ν) with W ~ Gamma(ν/2), drawn after the K normals."""
    s0, s1 = path_states(12, 0, 1, Stream.DEFAULT)[0]
    _, t0, t1 = next_normal(s0, s1)
    w, _, _ = next_gamma(2.5, np.uint64(t0), np.uint64(t1))  # compiled code returns ints
    scale, logw, _, _ = defaults.factors(s0, s1, np.ones((1, 1)), np.zeros(1), np.zeros(1),
                                         5.0, np.empty(1))
    assert scale == math.sqrt(2.0 * w / 5.0)
    assert logw == 0.0


def test_conditional_pd_by_hand() -> None:
    # Φ((c·s − √R·Y)/√(1 − R)) with c = 0, s = 1, √R = 0.6, Y = 1, √(1 − R) = 0.8: Φ(−0.75)
    assert defaults.conditional_pd(0.0, 1.0, 0.6, 1.0, 0.8) == pytest.approx(
        0.5 * math.erfc(0.75 / math.sqrt(2.0)), rel=1e-15)
    # a t scale multiplies the threshold: c = −1, s = 2 → Φ((−2 − 0.6·(−0.5))/0.8) = Φ(−2.125)
    assert defaults.conditional_pd(-1.0, 2.0, 0.6, -0.5, 0.8) == pytest.approx(
        0.5 * math.erfc(2.125 / math.sqrt(2.0)), rel=1e-15)
    assert defaults.conditional_pd(-np.inf, 1.0, 0.6, 30.0, 0.8) == 0.0
    assert defaults.conditional_pd(np.inf, 1.0, 0.6, -30.0, 0.8) == 1.0


def test_lgd_draw_fixed_and_linked_means() -> None:
    t0, t1 = path_states(13, 0, 1, Stream.LGD)[0]
    # no concentration, no link: the mean itself, and the stream is not touched
    assert defaults.lgd_draw(0.45, -0.1256, 0.0, 0.0, 1.3, t0, t1) == (0.45, t0, t1)
    # link κ = 0.5, probit p = Φ⁻¹(0.4): m(Y) = Φ(p·√(1 + κ²) − κ·Y)
    p = float(special.ndtri(0.4))
    g, r0, r1 = defaults.lgd_draw(0.4, p, 0.0, 0.5, -1.0, t0, t1)
    assert g == pytest.approx(0.5 * math.erfc(-(p * math.sqrt(1.25) + 0.5) / math.sqrt(2.0)),
                              rel=1e-15)
    assert (r0, r1) == (t0, t1)
