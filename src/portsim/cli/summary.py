"""The rich tables the commands print of a run's metrics and of a scenario batch's comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portsim.cli.common import console, fmt_amount, fmt_short


def print_summary(metrics: dict[str, Any], path: Path | None) -> None:
    """The run's metrics as tables (losses, cash, suppliers, insurance, CreditRisk+), its
    largest sectors and its folder ``path`` (when given)."""
    from rich.table import Table

    cur = metrics["currency"]
    t = Table(title=f"Credit loss over the horizon ({metrics['n_paths']:,} paths, {cur})")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("± s.e. / 95 % CI", justify="right")
    el = metrics["expected_loss"]
    t.add_row("total exposure", fmt_amount(metrics["total_exposure"]), "")
    t.add_row("expected loss", fmt_amount(el["value"]), f"± {fmt_amount(el['se'])}")
    t.add_row("loss std. dev.", fmt_amount(metrics["loss_sd"]["value"]),
              f"± {fmt_amount(metrics['loss_sd']['se'])}")
    t.add_row("expected defaults", f"{metrics['expected_defaults']['value']:.2f}",
              f"± {metrics['expected_defaults']['se']:.2f}")
    for key, v in metrics["var"].items():
        t.add_row(f"VaR {float(key):.1%}", fmt_amount(v["value"]),
                  f"[{fmt_amount(v['ci_low'])}, {fmt_amount(v['ci_high'])}]")
    for key, v in metrics["es"].items():
        t.add_row(f"ES {float(key):.1%}", fmt_amount(v["value"]), f"± {fmt_amount(v['se'])}")
    con = console()
    con.print(t)
    cash = metrics.get("cash")
    if cash:
        c = Table(title=f"Cash over the horizon ({cur})")
        c.add_column("metric")
        c.add_column("value", justify="right")
        c.add_column("± s.e. / 95 % CI", justify="right")
        for key, label in (("p_buffer_breach", "P(cash below buffer without the line)"),
                           ("p_line_breach", "P(line cannot keep the buffer)")):
            c.add_row(label, f"{cash[key]['value']:.2%}", f"± {cash[key]['se']:.2%}")
        for key, v in cash["cash_flow_at_risk"].items():
            c.add_row(f"cash-flow-at-risk {float(key):.1%}", fmt_amount(v["value"]),
                      f"[{fmt_amount(v['ci_low'])}, {fmt_amount(v['ci_high'])}]")
        for key, label in (("min_cash", "minimum cash (mean)"),
                           ("peak_line_usage", "peak line usage (mean)"),
                           ("cash_gap", "cash gap (mean)"), ("dso_avg", "DSO, average (days)"),
                           ("dso_end", "DSO at horizon (days)"),
                           ("peak_wcr", "peak working capital req. (mean)")):
            d = cash[key]
            q = d["quantiles"]
            c.add_row(label, fmt_amount(d["value"]),
                      f"± {fmt_amount(d['se'])}; 5-95 %: {fmt_amount(q.get('0.05'))} to "
                      f"{fmt_amount(q.get('0.95'))}")
        con.print(c)
    if metrics.get("suppliers"):
        from portsim.report.tables import supplier_table

        con.print(_rich(supplier_table(metrics), f"Suppliers ({cur}; defaults on the "
                        "customers' factors)"))
    if metrics.get("insurance"):
        con.print(_insurance_table(metrics))
    if metrics.get("actions"):
        con.print(_actions_table(metrics))
    if metrics.get("creditriskplus"):
        con.print(_creditriskplus_table(metrics))
    top = sorted(metrics["by_sector"], key=lambda s: -s["expected_loss"]["value"])[:5]
    con.print("largest sectors by expected loss: " + ", ".join(
        f"{s['sector']} {s['share_of_expected_loss']:.0%}" for s in top))
    if path is not None:
        con.print(f"run folder: {path}")


def _actions_table(metrics: dict[str, Any]) -> Any:
    """Credit management on the paths (:func:`portsim.results.metrics.action_metrics`): lost
    sales and margin, and with monitoring interest, costs, alerts and lead times."""
    from rich.table import Table

    act = metrics["actions"]
    t = Table(title=f"Credit management on the paths ({metrics['currency']}; mean per path)")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("± s.e.", justify="right")
    rows = [("lost_sales", "lost sales", fmt_amount), ("lost_margin", "lost margin", fmt_amount),
            ("late_interest", "late-payment interest collected", fmt_amount),
            ("collection_cost", "collection cost", fmt_amount),
            ("n_alerts", "alerts (customers at the top level)", "{:.2f}".format),
            ("n_true_alerts", "true alerts (default within the horizon)", "{:.2f}".format),
            ("n_false_alerts", "false alerts", "{:.2f}".format),
            ("hit_rate", "share of alerts that are true", "{:.1%}".format),
            ("lead_time_days", "lead time of true alerts (days)", "{:.1f}".format)]
    for key, label, fmt in rows:
        if key in act:
            d = act[key]
            t.add_row(label, fmt(d["value"]), f"± {fmt(d['se'])}")
    return t


def _warning_value_table(table: Any, baseline: str, level: float, cur: str) -> Any:
    """The value of early warning (:func:`portsim.report.tables.warning_value_table`) as a
    rich table."""
    from portsim.report.tables import warning_value_table
    from portsim.results.comparison import warning_value_frame

    return _rich(
        warning_value_table(warning_value_frame(table, baseline, level), level),
        f"Value of early warning: each action policy against {baseline} (no actions), {cur}; "
        f"± paired s.e.; net value = loss avoided − margin lost")


def _creditriskplus_table(metrics: dict[str, Any]) -> Any:
    """The run's expected loss, VaR and ES beside the CreditRisk+ model's of the same book."""
    from rich.table import Table

    crp = metrics["creditriskplus"]
    t = Table(title=f"CreditRisk+ of the same book ({metrics['currency']}, exact)")
    t.add_column("metric")
    t.add_column("this run", justify="right")
    t.add_column("CreditRisk+", justify="right")
    t.add_row("expected loss", fmt_amount(metrics["expected_loss"]["value"]),
              fmt_amount(crp["expected_loss"]))
    t.add_row("loss std. dev.", fmt_amount(metrics["loss_sd"]["value"]), fmt_amount(crp["loss_sd"]))
    for name, label in (("var", "VaR"), ("es", "ES")):
        for key, v in metrics[name].items():
            t.add_row(f"{label} {float(key):.1%}", fmt_amount(v["value"]),
                      fmt_amount(crp[name][key]))
    return t


def _insurance_table(metrics: dict[str, Any]) -> Any:
    """The report's table of the value of cover (:func:`portsim.report.tables.insurance_table`)
    as a rich table."""
    from portsim.report.tables import insurance_table

    return _rich(insurance_table(metrics), f"Credit insurance: value of cover against none "
                 f"({metrics['currency']}; ± s.e. of paired differences on the same paths)")


def _rich(tab: Any, title: str) -> Any:
    """A report table (:class:`portsim.report.tables.Table`) as a rich table."""
    from rich.table import Table

    t = Table(title=title)
    for i, name in enumerate(tab.header):
        t.add_column(name, justify="right" if i in tab.numeric else "left")
    for row in tab.rows:
        t.add_row(*row)
    return t


def print_comparison(table: Any, baseline: str, base_metrics: dict[str, Any]) -> None:
    """The comparison table (:func:`portsim.results.comparison.scenario_comparison`'s rows, one
    row per scenario by :func:`portsim.results.comparison.comparison_frame`): per scenario
    the headline metrics and, below each, the difference to the baseline ± its paired
    standard error."""
    from rich.table import Table

    from portsim.results.comparison import comparison_frame

    levels = sorted({str(x) for x in table["level"] if str(x) not in ("", "nan")}, key=float)
    key = "0.99" if "0.99" in levels else (levels[-1] if levels else "")
    cur = base_metrics.get("currency", "")
    n = base_metrics.get("n_paths", 0)

    def cell(r: Any, name: str, kind: str) -> str:
        if name not in r or r[name] != r[name]:  # metric or scenario not in the table
            return ""
        value, diff, se = r[name], r[f"{name}_change"], r[f"{name}_change_se"]
        if kind == "p":
            top, change, err = f"{value:.1%}", f"{diff:+.1%}", fmt_short(100 * se, 2) + "%"
        elif kind == "days":
            top, change, err = f"{value:.1f}", f"{diff:+.1f}", fmt_short(se, 1)
        else:
            top = fmt_short(value)
            change = ("+" if diff >= 0 else "-") + fmt_short(abs(diff))
            err = fmt_short(se, 2)
        if r["scenario"] == baseline:
            return top
        return f"{top}\n[dim]{change}\n±{err}[/dim]"

    def name(metric: str, level: str) -> str:
        return f"{metric}_{level}" if level else metric

    lv = f"{100 * float(key):g}%" if key else ""
    cols = [("EL", "expected_loss", "", "m"), (f"VaR {lv}", "var", key, "m"),
            (f"ES {lv}", "es", key, "m")]
    if (table["metric"] == "p_line_breach").any():
        cols += [("P(line)", "p_line_breach", "", "p"),
                 (f"CFaR {lv}", "cash_flow_at_risk", key, "m"),
                 ("DSO", "dso_avg", "", "days")]
    t = Table(title=f"Scenarios on common random numbers ({n:,} paths, {cur}): expected "
                    f"loss, VaR, ES, P(line cannot keep the buffer), cash-flow-at-risk, "
                    f"average DSO (days); below each value its difference to {baseline} "
                    f"and the paired s.e.")
    t.add_column("scenario", no_wrap=True)
    for label, *_ in cols:
        t.add_column(label, justify="right")
    frame = comparison_frame(table, [(m, level) for _, m, level, _ in cols], baseline)
    for _, r in frame.iterrows():
        t.add_row(str(r["scenario"]), *(cell(r, name(m, level), k) for _, m, level, k in cols))
    con = console()
    con.print(t)
    pols = [p for p in dict.fromkeys(table["policy"].fillna("")) if p]
    if pols:
        c = Table(title=f"With credit insurance: ES {lv} of the retained loss and P(line) "
                        f"with premiums and indemnities, by policy (a scenario without the "
                        f"policy has no cover)")
        c.add_column("scenario", no_wrap=True)
        for p in pols:
            c.add_column(f"{p} ES", justify="right")
            c.add_column(f"{p} P(line)", justify="right")
        frames = [comparison_frame(table, [("retained_es", key), ("policy_p_line_breach", "")],
                                   baseline, policy=p) for p in pols]
        for i, s in enumerate(frame["scenario"]):
            c.add_row(str(s), *(x for f in frames for x in (
                cell(f.iloc[i], name("retained_es", key), "m"),
                cell(f.iloc[i], "policy_p_line_breach", "p"))))
        con.print(c)
    if key and (table["metric"] == "lost_margin").any():
        con.print(_warning_value_table(table, baseline, float(key), cur))


def print_creditriskplus_batch(metrics: dict[str, dict[str, Any]]) -> None:
    """Each scenario's expected loss, loss standard deviation, VaR and ES (at 99 % or the
    highest level) beside CreditRisk+'s of the same book under the same scenario
    (:func:`portsim.results.comparison.creditriskplus_by_scenario`); nothing when no
    scenario has CreditRisk+ figures."""
    from rich.table import Table

    from portsim.results.comparison import creditriskplus_by_scenario

    crp = creditriskplus_by_scenario(metrics)
    if not crp:
        return
    first = next(iter(crp.values()))
    levels = sorted(first["var"], key=float)
    key = "0.99" if "0.99" in levels else levels[-1]
    lv = f"{100 * float(key):g}%"
    cur = next(iter(metrics.values())).get("currency", "")
    t = Table(title=f"CreditRisk+ of the same book under each scenario ({cur}, exact) beside "
                    "the run's (± s.e.)")
    t.add_column("scenario", no_wrap=True)
    for label in ("EL", "loss sd", f"VaR {lv}", f"ES {lv}"):
        t.add_column(f"{label}\nrun", justify="right")
        t.add_column(f"{label}\nCR+", justify="right")
    for name, row in crp.items():
        cells = [row["expected_loss"], row["loss_sd"], row["var"][key], row["es"][key]]
        t.add_row(name, *(x for c in cells for x in (
            f"{fmt_short(c['run'])}\n[dim]±{fmt_short(c['run_se'], 2)}[/dim]",
            fmt_short(c["creditriskplus"]))))
    console().print(t)
