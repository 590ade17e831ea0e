"""The commands on a book's own credit data: ``portsim calibrate`` (payment delays from a
payment history), ``ecl`` (the IFRS 9 loss allowance), ``warn`` (PDs and alert levels from
the credit files) and ``backtest`` (of the PD model and the alert levels)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from portsim.cli.common import ConfigArg, console, handled_errors

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd


def calibrate_cmd(
    history: Annotated[Path, typer.Argument(
        help="payment history: invoice_id, customer_id, amount, issue_date, due_date, "
        "paid_date (blank while unpaid); .csv, .parquet or .xlsx")],
    book: Annotated[Path, typer.Option(help="customers table the history belongs to")],
    out: Annotated[Path, typer.Option(
        help="book to write, with delay_mean_days, delay_sd_days, delay_noise_days filled")],
    config: Annotated[Path | None, typer.Option(
        help="run config whose [book] ratings, sectors, CSV dialect keys and FX rates are "
        "used to read the book and the history")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="cut-off date YYYY-MM-DD: invoices unpaid then are right-censored "
        "(default: the latest issue or payment date in the history)")] = None,
    min_invoices: Annotated[int, typer.Option(
        min=2, help="paid invoices a customer needs for its own estimates")] = 3,
    min_customers: Annotated[int, typer.Option(
        min=2, help="customers with own estimates a sector needs for its own estimates")] = 3,
) -> None:
    """Estimate payment-delay parameters per customer from a payment history and write a
    book with them."""
    from portsim.config import RunConfig, load_config
    from portsim.data import estimate_delays, write_calibrated_book
    from portsim.data.configured import load_book, load_history

    cutoff = None if as_of is None else _iso_date(as_of)
    with handled_errors():
        cfg = load_config(config) if config is not None else RunConfig()
        customers = load_book(cfg, book)
        hist = load_history(cfg, history, customers, as_of=cutoff)
        est = estimate_delays(hist, customers, min_invoices=min_invoices,
                              min_customers=min_customers, as_of=cutoff, source=history.name)
        written = write_calibrated_book(customers, est.customers, out)
    _print_calibration(est, written)


def _print_calibration(est: Any, path: Path) -> None:
    from rich import box
    from rich.table import Table

    def pm(value: float, se: float) -> str:
        if value != value:  # NaN
            return "—"
        return f"{value:.1f}±{se:.1f}" if se == se else f"{value:.1f}"

    t = Table(title=f"Payment delays in days after due ({est.n_paid:,} paid invoices; "
                    f"{est.n_unpaid:,} unpaid at {est.as_of.isoformat()}, treated as censored)",
              box=box.SIMPLE_HEAD)
    longest = max((len(str(x)) for x in est.sectors["sector"]), default=6)
    t.add_column("sector", min_width=min(longest, 24))
    for col in ("customers", "own", "paid/unpaid", "mean", "noise sd", "prop. sd"):
        t.add_column(col, justify="right", no_wrap=True)
    for row in est.sectors.sort_values("sector").itertuples(index=False):
        sd = pm(row.delay_sd_days, row.delay_sd_se)
        if row.source == "book":
            sd += " (book)"
        t.add_row(row.sector, f"{row.n_customers:,}", f"{row.n_own:,}",
                  f"{row.n_paid:,}/{row.n_unpaid:,}",
                  pm(row.delay_mean_days, row.delay_mean_se),
                  pm(row.delay_noise_days, row.delay_noise_se), sd)
    con = console()
    con.print(t)
    counts = est.customers["source"].value_counts()
    own = int(counts.get("customer", 0))
    shrunk = int(counts.get("sector", 0) + counts.get("book", 0))
    con.print(f"{own:,} customers with their own mean and noise sd ('own'); {shrunk:,} with "
              "too few paid invoices get their sector's values. prop. sd: the spread of the "
              "customers' mean delays within the sector ('(book)': too few customers in the "
              "sector, book-level values)")
    con.print(f"wrote {path}")


def ecl_cmd(
    config: ConfigArg,
    as_of: Annotated[list[str], typer.Option(
        "--as-of", help="as-of date YYYY-MM-DD; give two for the movement of the allowance")],
    history: Annotated[Path | None, typer.Option(
        help="payment history (as for calibrate): open items at other dates than [timeline] "
        "as_of, and historical loss rates by roll rates")] = None,
    rates: Annotated[str | None, typer.Option(
        help="given loss rate per bucket, fractions, e.g. 0.003,0.016,0.036,0.066,0.106")] = None,
    buckets: Annotated[str, typer.Option(
        help="upper bounds of the past-due buckets, days")] = "30,60,90",
    segment: Annotated[str, typer.Option(
        help="all, sector, country, rating, customer_id or another column of the book")
    ] = "sector",
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", "-s", help="FILE=WEIGHT, repeated: weighted scenarios of the model ECL "
        "(weights sum to 1)")] = None,
    window_months: Annotated[int, typer.Option(help="months of roll rates")] = 12,
    write_off_days: Annotated[int, typer.Option(
        help="days past due after which an unpaid invoice of the history is written off")] = 180,
    model: Annotated[bool, typer.Option(help="simulate the model ECL (needs [timeline])")] = True,
    paths: Annotated[int | None, typer.Option(min=2, help="paths per scenario")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="threads (default: all)")] = None,
    out: Annotated[Path, typer.Option(help="folder for ecl.csv and the other tables")] = Path(
        "ecl"),
) -> None:
    """Lifetime expected credit loss of the open invoices (IFRS 9 provision matrix)."""
    from datetime import date

    from rich.table import Table

    from portsim import provisions as prov
    from portsim.report.ecl import ecl_section, render_ecl_html

    try:
        dates = [date.fromisoformat(d) for d in as_of]
    except ValueError:
        raise typer.BadParameter(f"{as_of} are not dates YYYY-MM-DD",
                                 param_hint="--as-of") from None
    if not 1 <= len(set(dates)) == len(dates) <= 2:
        raise typer.BadParameter("give one or two different dates", param_hint="--as-of")
    with handled_errors():
        bounds = prov.parse_bounds(buckets)
        given = None if rates is None else prov.parse_rates(rates, prov.bucket_labels(bounds))
        options = prov.EclOptions(
            bounds=bounds, segment=segment, window_months=window_months,
            rates=None if given is None else tuple(given), write_off_days=write_off_days,
            model=model, n_paths=paths, threads=threads)
        results = prov.run_ecl(config, dates, history_path=history, scenarios=scenario or [],
                               options=options)
        written = prov.write_outputs(results, out)
        written.append(out / "report.html")
        written[-1].write_text(render_ecl_html(results), encoding="utf-8")
    con = console()
    section = ecl_section(results)
    for caption, t in section.tables:
        shown = Table(title=caption)
        for i, head in enumerate(t.header):
            shown.add_column(head, justify="right" if i in t.numeric else "left")
        for row in t.rows:
            shown.add_row(*row)
        con.print(shown)
    con.print(section.text[0])
    con.print(f"wrote {', '.join(str(p) for p in written)}")


def _iso_date(text: str, flag: str = "--as-of") -> date:
    """The date ``text`` (YYYY-MM-DD), or a usage error of ``flag``."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint=flag) from None


def _print_frame(con: Any, caption: str, frame: pd.DataFrame) -> None:
    """Print ``frame`` as a table, its index first; numbers to 4 significant digits."""
    from rich.table import Table

    shown = Table(title=caption)
    shown.add_column(str(frame.index.name or ""))
    for column in frame.columns:
        numeric = frame[column].dtype.kind in "fiu"
        shown.add_column(str(column), justify="right" if numeric else "left")
    for key, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        shown.add_row(str(key), *(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    con.print(shown)


def warn_cmd(
    config: ConfigArg,
    as_of: Annotated[str, typer.Option("--as-of", help="score date YYYY-MM-DD: no data "
                                       "dated after it is used")],
    out: Annotated[Path | None, typer.Option(
        help="folder to create (default: a new one under [output] dir)")] = None,
) -> None:
    """Score each customer's 12-month PD and alert level from the credit files of [warn];
    write warnings.csv, model.json and book.csv (the book with the new PDs)."""
    from portsim.config import load_config
    from portsim.workflow.warn import WARN_FILES, run_warn

    day = _iso_date(as_of)
    with handled_errors():
        res = run_warn(load_config(config), day, out)
    w = res.warnings
    con = console()
    _print_frame(con, f"alert levels as of {day}", w.groupby("level", sort=False).agg(
        customers=("pd", "size"), mean_pd=("pd", "mean"), max_pd=("pd", "max")))
    _print_frame(con, "highest PDs of the model (rules and responses: warnings.csv)",
                 w[w["pd_source"] == "model"].nlargest(8, "pd")[
                     ["pd", "grade", "level", "top_features"]])
    con.print(f"wrote {res.folder}: {', '.join(WARN_FILES)}\n"
              f"simulate on the new PDs: portsim run {config} --book {res.folder / 'book.csv'}")


def backtest_cmd(
    config: ConfigArg,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="end of the observed outcomes YYYY-MM-DD (default: [timeline] "
        "as_of, else the latest date in the credit files)")] = None,
    out: Annotated[Path | None, typer.Option(
        help="folder to create (default: a new one under [output] dir)")] = None,
) -> None:
    """Walk-forward backtest of the PD model and the alert levels of [warn]: every month-end
    scored with the data known then; write backtest.csv, migration.csv, backtest.json and
    report.html."""
    from portsim.config import load_config
    from portsim.workflow.backtest import run_backtest

    end = None if as_of is None else _iso_date(as_of)
    with handled_errors():
        res = run_backtest(load_config(config), out, end)
    con = console()
    m, scored = res.metrics["model"], res.metrics["scored"]
    con.print(f"scored {scored['rows']} customer-months at {scored['dates']} month-ends "
              f"({scored['first_date']} to {scored['last_date']}), {scored['defaults']} "
              f"followed by a default within 12 months\n"
              f"AUC {m['auc']:.3f} (95 % {m['auc_low']:.3f}–{m['auc_high']:.3f}), Gini "
              f"{m['gini']:.3f}, KS {m['ks']:.3f} ({m['ks_low']:.3f}–{m['ks_high']:.3f}), Brier "
              f"{m['brier']:.4f} ({m['brier_low']:.4f}–{m['brier_high']:.4f}), Hosmer–Lemeshow "
              f"p {m['hosmer_lemeshow']['p_value']:.3g}, PSI {m['psi']:.3f}")
    _print_frame(con, "alert levels (signal: this level or worse)", res.metrics["levels"])
    _print_frame(con, "grades: Jeffreys test", res.metrics["grades"])
    counts = res.metrics["level_counts"]
    _print_frame(con, "customers per level",
                 counts.set_axis(counts.index.strftime("%Y-%m-%d"), axis=0))
    mig = res.metrics["migration"]
    _print_frame(con, "level migration (row shares)",
                 mig.pivot(index="from_level", columns="to_level", values="share").loc[
                     list(counts.columns), list(counts.columns)].rename_axis(
                         index="from / to", columns=None))
    con.print(f"wrote {res.folder}: backtest.csv, migration.csv, backtest.json, report.html")
