"""Customers per level over time and the level migration matrix, worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portsim.earlywarning import level_counts, level_migration

LEVELS = ["green", "amber", "red"]


def _panel() -> pd.DataFrame:
    d = pd.Timestamp
    # a: green -> amber -> red; b: green -> green -> amber; c: red -> red (gone at the third
    # date); d: amber at the first date only, e: new at the second (no pair for either)
    return pd.DataFrame({
        "customer": ["a", "b", "c", "d", "a", "b", "c", "e", "a", "b"],
        "date": [d("2025-01-31")] * 4 + [d("2025-02-28")] * 4 + [d("2025-03-31")] * 2,
        "level": ["green", "green", "red", "amber", "amber", "green", "red", "green", "red",
                  "amber"]})


def test_customers_per_level_at_each_date() -> None:
    counts = level_counts(_panel().sample(frac=1.0, random_state=0), LEVELS)
    assert counts.columns.tolist() == LEVELS
    assert counts.index.tolist() == [pd.Timestamp("2025-01-31"), pd.Timestamp("2025-02-28"),
                                     pd.Timestamp("2025-03-31")]
    np.testing.assert_array_equal(counts.to_numpy(), [[2, 1, 1], [2, 1, 1], [0, 1, 1]])


def test_the_migration_pools_consecutive_dates_of_customers_at_both() -> None:
    m = level_migration(_panel(), LEVELS).set_index(["from_level", "to_level"])
    # pairs: Jan->Feb a g->a, b g->g, c r->r; Feb->Mar a a->r, b g->a (e and d have none)
    count = m["count"].unstack().loc[LEVELS, LEVELS].to_numpy()
    np.testing.assert_array_equal(count, [[1, 2, 0], [0, 0, 1], [0, 0, 1]])
    share = m["share"].unstack().loc[LEVELS, LEVELS].to_numpy()
    np.testing.assert_allclose(share, [[1 / 3, 2 / 3, 0], [0, 0, 1], [0, 0, 1]])
    assert m["count"].sum() == 5


def test_a_level_nobody_leaves_has_no_shares() -> None:
    panel = _panel()
    m = level_migration(panel[panel["customer"] != "c"], LEVELS).set_index("from_level")
    assert m.loc["red", "count"].sum() == 0
    assert m.loc["red", "share"].isna().all()


def test_bad_panels_are_told() -> None:
    panel = _panel()
    with pytest.raises(ValueError, match=r"levels \['black'\] are not among"):
        level_counts(panel.assign(level=panel["level"].replace("red", "black")), LEVELS)
    with pytest.raises(ValueError, match="customer twice at one date"):
        level_migration(pd.concat([panel, panel.head(1)]), LEVELS)
