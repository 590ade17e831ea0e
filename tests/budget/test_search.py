"""The risk budget's pricing and search on hand-made per-path sets: hand-worked mixes, the
headroom rebuilt from the run's cash figures, and the optimiser against a brute-force search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from portsim.budget import (
    Choices,
    Economics,
    Mix,
    PathSet,
    Variant,
    headroom,
    measures,
    optimise,
    share_grid,
)
from portsim.budget.mix import cost, mix_cash, mix_paths
from portsim.results.estimators import expected_shortfall


def _path_set(rng: np.random.Generator, n: int, shift: float = 0.0, scale: float = 1.0,
              action_cost: float = 0.0) -> PathSet:
    """Two sectors, two insurance variants: gross losses heavy-tailed (× ``scale``), the
    variant ``cover`` indemnifies 80 % of the loss above 50 for a premium of 30; an action
    policy's simulated cost per path is exponential with mean ``action_cost``."""
    sector_loss = rng.pareto(2.5, size=(n, 2)) * np.array([40.0, 25.0]) * scale
    loss = sector_loss.sum(axis=1)
    ind = 0.8 * np.maximum(loss - 50.0, 0.0)
    ncf = 1000.0 - loss + rng.normal(0, 20, n) + shift
    head = 60.0 - 0.5 * loss + rng.normal(0, 15, n) + shift
    return PathSet(
        policies=("none", "cover"), sectors=("a", "b"), loss=loss, sector_loss=sector_loss,
        retained=np.stack([loss, loss - ind], axis=1), indemnity=np.stack([0 * loss, ind], 1),
        annual_premium=np.array([0.0, 30.0]), net_cash_flow=np.stack([ncf, ncf + ind - 30], 1),
        headroom=np.stack([head, head + 0.5 * ind - 30], 1), dso=np.full(n, 60.0),
        action_cost=rng.exponential(action_cost, n) if action_cost else np.zeros(n),
        lost_margin=np.zeros(n), years=1.0, cash=np.zeros((n, 2)), sample=np.arange(n),
        period_end_day=np.array([182.0, 365.0]),
        periods=("h1", "h2"), insurer_profile=np.full((2, 2), 0.5),
        premium_cash=np.array([[0.0, 0.0], [30.0, 0.0]]), loss_profile=np.array([0.5, 0.5]),
        credit_line=100.0, min_cash_buffer=10.0)


ECON = Economics(sectors=("a", "b"), sales=np.array([1000.0, 800.0]),
                 receivables=np.array([100.0, 60.0]), fee=np.array([0.02, 0.03]),
                 advance_rate=np.array([0.8, 0.5]), max_share=np.array([1.0, 0.5]),
                 commitment_fee=0.01, opportunity_cost_rate=0.05,
                 action_cost=(("tighten", 4.0),), net=False)


def _choices(weights: dict[str, float], variants: tuple[Variant, ...]) -> Choices:
    return Choices(policies=("none", "cover"), variants=variants, lines=(0.0, 40.0),
                   reserves=(0.0, 20.0), share_step=0.25, weights=weights,
                   scales=dict.fromkeys(weights, 1.0), level=0.95)


def test_a_mix_by_hand() -> None:
    ps = PathSet(
        policies=("none", "p"), sectors=("x", "y"), loss=np.array([0.0, 10.0, 20.0]),
        sector_loss=np.array([[0.0, 0.0], [4.0, 6.0], [20.0, 0.0]]),
        retained=np.array([[0.0, 0.0], [10.0, 5.0], [20.0, 10.0]]),
        indemnity=np.array([[0.0, 0.0], [0.0, 5.0], [0.0, 10.0]]),
        annual_premium=np.array([0.0, 4.0]),
        net_cash_flow=np.array([[100.0, 96.0], [90.0, 91.0], [80.0, 86.0]]),
        headroom=np.array([[50.0, 46.0], [-5.0, -4.0], [-30.0, -24.0]]),
        dso=np.array([60.0, 61.0, 62.0]), action_cost=np.zeros(3), lost_margin=np.zeros(3),
        years=1.0, cash=np.zeros((3, 1)), sample=np.arange(3),
        period_end_day=np.array([365.0]), periods=("y",), insurer_profile=np.ones((2, 1)),
        premium_cash=np.array([[0.0], [4.0]]), loss_profile=np.ones(1),
        credit_line=10.0, min_cash_buffer=1.0)
    econ = Economics(sectors=("x",), sales=np.array([100.0]), receivables=np.array([20.0]),
                     fee=np.array([0.01]), advance_rate=np.array([0.5]),
                     max_share=np.array([1.0]), commitment_fee=0.02,
                     opportunity_cost_rate=0.1, net=True)
    mix = Mix(policy="p", line_extra=10.0, reserve=5.0, shares=(0.5,))
    x = mix_paths(ps, econ, mix)
    # the factor takes half of x's share of the retained loss: path 1 4/10 × 5, path 2 all 10
    np.testing.assert_allclose(x["retained"], [0.0, 5.0 - 0.5 * 2.0, 10.0 - 0.5 * 10.0])
    np.testing.assert_allclose(x["net_cash_flow"], [96.0, 92.0, 91.0])
    # headroom + line 10 + reserve 5 + advance 0.5·0.5·20 − cash costs (fee 0.5 + fee 0.2)
    np.testing.assert_allclose(x["headroom"], np.array([46.0, -4.0, -24.0]) + 10 + 5 + 5 - 0.7)
    # premium 4 − indemnity 5, fee 0.5 − transferred 2, commitment 0.2, opportunity 0.5
    assert cost(ps, econ, mix) == pytest.approx(4 - 5 + 0.5 - 2 + 0.2 + 0.5)
    m = measures(ps, econ, mix, 0.5)
    assert m["line_breach"] == pytest.approx(1 / 3)
    assert m["expected_loss"] == pytest.approx(9 / 3)


def test_headroom_from_the_cash_figures() -> None:
    buffer, line = 2.0, 3.0
    pre = np.array([[3.0, 1.0, -2.0], [5.0, 1.5, 4.0], [5.0, 4.0, 6.0]])
    drawn = np.clip(buffer - pre, 0.0, line)
    gap = np.maximum(buffer - pre - line, 0.0).max(axis=1)
    got = headroom(gap, drawn.max(axis=1), (pre + drawn).min(axis=1), line, buffer)
    np.testing.assert_allclose(got, pre.min(axis=1) + line - buffer)


def _brute_force(sets: dict[Variant, PathSet], ch: Choices, budget: float,
                 grid: np.ndarray) -> tuple[float, float, Mix]:
    best: tuple[float, float, Mix] | None = None
    for v, p, ln, r, g in itertools.product(sets, ch.policies, ch.lines, ch.reserves, grid):
        mix = Mix(policy=p, variant=v, line_extra=ln, reserve=r, shares=tuple(g))
        m = measures(sets[v], ECON, mix, ch.level)
        if m["cost"] > budget:
            continue
        value = sum(w * m[k] for k, w in ch.weights.items())
        if best is None or (value, m["cost"]) < (best[0], best[1]):
            best = (value, m["cost"], mix)
    assert best is not None
    return best


@pytest.mark.parametrize("weights", [{"line_breach": 1.0}, {"cfar": 1.0},
                                     {"es": 1.0, "line_breach": 200.0}])
def test_choice_equals_brute_force(weights: dict[str, float]) -> None:
    rng = np.random.default_rng(3)
    # no action, collection spend 5, and an action policy that halves losses for
    # a simulated cost of about 8 a year plus a fixed 4
    variants = (Variant(), Variant("none", 5.0), Variant("tighten", 0.0))
    sets = {variants[0]: _path_set(rng, 400), variants[1]: _path_set(rng, 400, shift=3.0),
            variants[2]: _path_set(rng, 400, scale=0.5, action_cost=8.0)}
    ch = _choices(weights, variants)
    budgets = [0.0, 20.0, 45.0, 80.0]
    chosen = optimise(sets, ECON, ch, budgets)
    assert any(r is not None and r.mix.variant.action == "tighten" for r in chosen)
    for b, r in zip(budgets, chosen, strict=True):
        assert r is not None
        value, c, mix = _brute_force(sets, ch, b, share_grid(ECON, ch.share_step))
        assert r.value == pytest.approx(value, rel=1e-12)
        assert r.cost == pytest.approx(c, rel=1e-12)
        assert r.mix == mix


def test_es_linear_programme_beats_every_grid_point() -> None:
    rng = np.random.default_rng(5)
    v, act = Variant(), Variant("tighten")
    sets = {v: _path_set(rng, 600), act: _path_set(rng, 600, scale=0.5, action_cost=8.0)}
    ch = _choices({"es": 1.0}, (v, act))
    fine = share_grid(ECON, 0.05)
    for b in (15.0, 40.0, 200.0):
        r = optimise(sets, ECON, ch, [b])[0]
        assert r is not None
        assert r.cost <= b * (1 + 1e-7)
        # the LP's value is the ES of its retained losses (Acerbi–Tasche = Rockafellar–Uryasev)
        retained = mix_paths(sets[r.mix.variant], ECON, r.mix)["retained"]
        assert r.value == pytest.approx(expected_shortfall(retained, 0.95)[0], rel=1e-12)
        value, _, mix = _brute_force(sets, ch, b, fine)
        assert r.value <= value + 1e-6 * value
        # the grid's best is close: within the step's worth of ES
        assert r.value >= value - 0.05 * sets[v].sector_loss.max()
        if b == 200.0:  # everything affordable: the grid's corner is the optimum
            assert r.mix.shares == pytest.approx(mix.shares, abs=1e-6)
            assert r.mix.policy == mix.policy
            assert r.mix.variant == mix.variant == act


def test_frontier_never_rises_in_sample() -> None:
    rng = np.random.default_rng(9)
    v = Variant()
    sets = {v: _path_set(rng, 500)}
    for weights in ({"es": 1.0}, {"line_breach": 1.0}):
        res = optimise(sets, ECON, _choices(weights, (v,)), np.linspace(0, 120, 9))
        values = [r.value for r in res if r is not None]
        assert len(values) == 9
        assert all(b <= a * (1 + 1e-9) + 1e-12 for a, b in itertools.pairwise(values))


def test_fan_cash_adds_the_flows_before_the_line() -> None:
    """Cash 5 above the buffer 2 is cash before the line; cash at the buffer is taken as the
    whole line 3 drawn; a reserve of 4 then repays the line first."""
    rng = np.random.default_rng(1)
    ps = _path_set(rng, 2)
    ps = PathSet(**{**ps.__dict__, "cash": np.array([[5.0, 2.0], [1.0, 2.0]]),
                    "min_cash_buffer": 2.0, "credit_line": 3.0})
    got = mix_cash(ps, Economics(), Mix(reserve=4.0))
    # pre = [[5, -1], [-2, -1]] + 4 = [[9, 3], [2, 3]]: above the buffer, no line needed
    np.testing.assert_allclose(got, [[9.0, 3.0], [2.0, 3.0]])
    more = mix_cash(ps, Economics(), Mix(line_extra=1.0))
    # pre [[5, -1], [-2, -1]]: the line of 4 lifts -1 to 2 (buffer) and -2 to 2
    np.testing.assert_allclose(more, [[5.0, 2.0], [2.0, 2.0]])
