"""The early-warning report sections: the ROC curve's points, the calibration chart, the alert
list and the pages ``portsim warn`` and ``portsim backtest`` write."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from portsim.earlywarning import auc_delong, jeffreys_test
from portsim.report.warn import (
    plot_calibration,
    plot_level_counts,
    plot_roc,
    roc_points,
    warn_section,
)


def test_roc_points_by_hand_and_their_area_is_the_auc() -> None:
    y = [True, False, True, False, False]
    s = [0.9, 0.8, 0.8, 0.3, 0.1]
    fpr, tpr = roc_points(y, s)
    # thresholds 0.9 (1 hit), 0.8 (tie: one hit, one alarm), 0.3, 0.1
    np.testing.assert_allclose(fpr, [0, 0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1, 1])
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(11 / 12, rel=1e-12)  # 5.5 of the 6 pairs ordered right
    assert area == pytest.approx(auc_delong(y, s).auc, rel=1e-12)


def test_figures_draw_the_curve_and_the_grades() -> None:
    y = np.array([True, False, True, False, False, False])
    p = np.array([0.3, 0.01, 0.2, 0.02, 0.01, 0.3])
    ax = plot_roc(y, p, Figure().add_subplot())
    (roc,) = [line for line in ax.get_lines() if line.get_gid() == "roc"]
    np.testing.assert_allclose(roc.get_xdata(), roc_points(y, p)[0])
    grades = jeffreys_test(["a", "a", "b", "b", "a", "b"], y, p)
    ax = plot_calibration(grades, Figure().add_subplot())
    (points,) = ax.containers  # the error bars of the grades
    np.testing.assert_allclose(points.lines[0].get_xdata(), grades["mean_pd"])
    np.testing.assert_allclose(points.lines[0].get_ydata(), grades["default_rate"])


def test_the_levels_are_stacked_per_date_least_severe_at_the_bottom() -> None:
    counts = pd.DataFrame({"green": [5, 4], "amber": [2, 0], "red": [1, 3]},
                          index=pd.to_datetime(["2025-01-31", "2025-02-28"]))
    ax = plot_level_counts(counts, Figure().add_subplot())
    bars = {name: [p for p in ax.patches if p.get_gid() == f"level-{name}"]
            for name in counts.columns}
    assert [p.get_height() for p in bars["red"]] == [1, 3]
    assert [p.get_y() for p in bars["red"]] == [7, 4]  # on green and amber
    assert [p.get_y() for p in bars["amber"]] == [5, 4]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025-01", "2025-02"]


def test_the_alert_list_puts_the_most_severe_first() -> None:
    w = pd.DataFrame({"pd": [0.01, 0.30, 0.03, 0.05, 0.10], "grade": ["4", "9", "6", "6", "7"],
                      "level": ["green", "red", "amber", "amber", "red"],
                      "pd_source": "model", "rules": ["", "pd_red", "pd_amber", "pd_amber",
                                                      "overdue_60"],
                      "top_features": ""}, index=pd.Index(list("abcde"), name="customer_id"))
    sec = warn_section(w, ["green", "amber", "red"], "2026-12-31")
    (_, counts), (caption, alerts) = sec.tables
    assert [row[1] for row in counts.rows] == ["1", "2", "2"]
    assert [row[0] for row in alerts.rows] == ["b", "e", "d", "c"]
    assert caption.startswith("Alert list (all")
