"""Effective sample sizes of likelihood-ratio weights, worked by hand."""

from __future__ import annotations

import math

import numpy as np

from portsim.results.estimators import effective_sample_size, tail_effective_sample_size

LOSSES = np.array([0.0, 1.0, 2.0, 3.0, 1.0])
WEIGHTS = np.array([1.0, 1.0, 2.0, 4.0, 3.0])


def test_effective_sample_size_of_all_paths_by_hand() -> None:
    # (Σw)² / Σw² = (1 + 1 + 2 + 4 + 3)² / (1 + 1 + 4 + 16 + 9) = 121 / 31
    assert math.isclose(effective_sample_size(WEIGHTS), 121 / 31, rel_tol=1e-15)
    assert math.isclose(effective_sample_size(np.full(7, 0.3)), 7.0, rel_tol=1e-14)  # the count


def test_tail_effective_sample_size_counts_only_paths_beyond_the_threshold() -> None:
    # above 1: weights 2 and 4 (the path at exactly 1 is not beyond) → 6² / (4 + 16) = 1.8
    assert math.isclose(tail_effective_sample_size(LOSSES, WEIGHTS, 1.0), 1.8,
                        rel_tol=1e-15)
    # above 0.5: weights 1, 2, 4, 3 → 10² / (1 + 4 + 16 + 9) = 10 / 3
    assert math.isclose(tail_effective_sample_size(LOSSES, WEIGHTS, 0.5), 10 / 3,
                        rel_tol=1e-15)
    assert tail_effective_sample_size(LOSSES, WEIGHTS, 3.0) == 0.0  # no path beyond
    # equal weights: the number of tail paths, whatever the weight
    assert tail_effective_sample_size(LOSSES, np.full(5, 0.01), 1.0) == 2.0
