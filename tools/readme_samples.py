"""Write or check every sample of the shipped example's output in README.md and docs/.

Each sample is a block between ``<!-- NAME:start (tools/readme_samples.py) -->`` and
``<!-- NAME:end -->`` in one of the Markdown pages (:func:`pages`: README.md and
``docs/**/*.md``, wherever the block was put: it is found by its markers), rendered by a
function of :data:`BLOCKS` from a fresh run of the shipped example through the ``portsim``
command (the commands, paths and seed the pages show), run once each in a scratch folder:
``portsim run configs/example.toml``, ``portsim report`` of that run folder, ``portsim ecl``,
``portsim warn`` and the run on its book, ``portsim backtest``,
``portsim run configs/example_crp.toml`` (CreditRisk+), the scenario batch, the batch of
action policies, the two reverse stress tests and the risk budget (``portsim optimise``). The
report's screenshot ``docs/report-example.png`` (headless Chromium) is taken from the same
run, and the headline figures it shows are kept next to it in ``docs/report-example.json``,
checked like a block.

What varies between runs is normalised, not left out: the time stamp of a run folder's name
is printed as :data:`STAMP`, rich tables are drawn :data:`WIDTH` columns wide and trailing
spaces are dropped. ``tests/test_readme_samples.py`` checks every block against a fresh run.

Usage::

    python tools/readme_samples.py --write          # rewrite the blocks, the PNG and the JSON
    python tools/readme_samples.py --check          # exit 1 naming every stale block
    python tools/readme_samples.py --check --fast   # without the batch and the stress tests

Importable without side effects: :class:`Samples`, :data:`BLOCKS`, :func:`pages`,
:func:`read_pages`, :func:`locate`, :func:`block`, :func:`replace`, :func:`normalise`,
:func:`stale`.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

__all__ = ["BLOCKS", "STAMP", "WIDTH", "Block", "Samples", "block", "locate", "normalise",
           "pages", "read_pages", "replace", "stale"]

ROOT = Path(__file__).resolve().parents[1]
SHOT = ROOT / "docs" / "report-example.png"
FIGURES = ROOT / "docs" / "report-example.json"
CONFIG = "configs/example.toml"
WIDTH = 120
STAMP = "YYYYMMDD-HHMMSS"
ECL_AS_OF = date(2026, 12, 31)
WARN_CONFIG = "configs/example_warn.toml"
CRP_CONFIG = "configs/example_crp.toml"
SUPPLIER_CONFIG = "configs/example_suppliers.toml"
WARN_ARGS = ("--as-of", "2026-12-31", "--out", "runs/warn")
BACKTEST_ARGS = ("--out", "runs/backtest")
BATCH_ARGS = ("--scenario", "scenarios/*.toml", "--paths", "20000")
STRESS_RUNS = (
    ("--target", "p_line_breach>0.10", "--direction", "delay_shift", "--paths", "5000"),
    ("--target", "es_0.99>5m", "--direction", "pd_multiplier", "--paths", "5000"),
)
ACTIONS_CONFIG = "configs/example_actions.toml"
ACTIONS_ARGS = ("--scenario", "scenarios/actions/*.toml", "--paths", "5000")
OPTIMISE_ARGS = ("--levers", "configs/example_levers.toml", "--scenario", "scenarios/*.toml",
                 "--scenario", "scenarios/actions/insurer_cancels_red.toml",
                 "--out", "runs/optimise", "--quiet")
SHOT_SIZE = (1280, 1120)


def normalise(text: str) -> str:
    """Console output as the pages show it: run-folder time stamps as :data:`STAMP`,
    no trailing spaces, one final newline."""
    text = re.sub(r"-\d{8}-\d{6}\b", f"-{STAMP}", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def _quoted(args: Sequence[str]) -> str:
    return " ".join(f"'{a}'" if set(a) & set("*>") else a for a in args)


class Samples:
    """The runs the samples come from, each made once, on first use, under ``workdir``.

    Commands run in-process in ``workdir`` (so run folders land in ``workdir/runs``, as the
    config's ``[output] dir = "runs"`` puts them under the working directory) with the
    config and scenarios of this checkout.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def cli(self, *args: str) -> str:
        """The standard output of ``portsim ARGS`` at :data:`WIDTH` columns, normalised."""
        from typer.testing import CliRunner

        from portsim.cli import app

        absolute = [str(ROOT / a) if a.startswith(("configs/", "scenarios/")) else a
                    for a in args]
        env = {"COLUMNS": str(WIDTH), "FORCE_COLOR": None, "TTY_COMPATIBLE": None}
        with contextlib.chdir(self.workdir):
            res = CliRunner().invoke(app, absolute, env=env)
        if res.exit_code != 0:
            raise RuntimeError(f"portsim {' '.join(args)} failed ({res.exit_code}):\n"
                               f"{res.output}")
        return normalise(res.stdout)

    @cached_property
    def run_output(self) -> str:
        """``portsim run configs/example.toml``."""
        return self.cli("run", CONFIG)

    @property
    def run_dir(self) -> Path:
        """The run folder of :attr:`run_output`."""
        self.run_output  # noqa: B018 - the run makes the folder
        (folder,) = (self.workdir / "runs").glob("example-baseline-*")
        return folder

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """``metrics`` of the run's ``summary.json``."""
        summary = json.loads((self.run_dir / "summary.json").read_text(encoding="utf-8"))
        return dict(summary["metrics"])

    @cached_property
    def report(self) -> Path:
        """``portsim report RUN_DIR``: the HTML report of the run."""
        self.cli("report", str(self.run_dir))
        return self.run_dir / "report.html"

    @cached_property
    def ecl(self) -> Any:
        """``portsim ecl configs/example.toml --as-of 2026-12-31 --history
        configs/example_history.csv`` as an ``EclResult`` (the Python API of the command)."""
        from portsim.provisions import run_ecl

        (result,) = run_ecl(ROOT / CONFIG, [ECL_AS_OF],
                            history_path=ROOT / "configs" / "example_history.csv")
        return result

    @cached_property
    def warn_output(self) -> str:
        """``portsim warn configs/example_warn.toml --as-of 2026-12-31 --out runs/warn``
        (this checkout's folder left out of the paths it prints)."""
        return self.cli("warn", WARN_CONFIG, *WARN_ARGS).replace(f"{ROOT}/", "")

    @cached_property
    def backtest_output(self) -> str:
        """``portsim backtest configs/example_warn.toml --out runs/backtest``."""
        return self.cli("backtest", WARN_CONFIG, *BACKTEST_ARGS)

    @cached_property
    def warn_metrics(self) -> dict[str, Any]:
        """``metrics`` of ``portsim run configs/example_warn.toml --book runs/warn/book.csv``
        (after :attr:`warn_output`)."""
        self.warn_output  # noqa: B018 - writes the book
        self.cli("run", WARN_CONFIG, "--book", "runs/warn/book.csv")
        (folder,) = (self.workdir / "runs").glob("example_warn-baseline-*")
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return dict(summary["metrics"])

    @cached_property
    def creditriskplus_metrics(self) -> dict[str, Any]:
        """``metrics`` of ``portsim run configs/example_crp.toml`` (CreditRisk+ simulated,
        with the exact figures beside)."""
        self.cli("run", CRP_CONFIG)
        (folder,) = (self.workdir / "runs").glob("example_crp-baseline-*")
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return dict(summary["metrics"])

    @cached_property
    def supplier_metrics(self) -> dict[str, Any]:
        """``metrics`` of ``portsim run configs/example_suppliers.toml``."""
        self.cli("run", SUPPLIER_CONFIG)
        (folder,) = (self.workdir / "runs").glob("example_suppliers-baseline-*")
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return dict(summary["metrics"])

    @cached_property
    def batch_output(self) -> str:
        """The scenario batch of the guide on common random numbers."""
        return self.cli("run", CONFIG, *BATCH_ARGS)

    @cached_property
    def optimise_output(self) -> str:
        """``portsim optimise`` of the README (this checkout's folder left out of the
        paths it prints)."""
        return self.cli("optimise", ACTIONS_CONFIG, *OPTIMISE_ARGS).replace(f"{ROOT}/", "")

    @cached_property
    def actions_output(self) -> str:
        """The batch of the shipped action policies against no actions."""
        return self.cli("run", ACTIONS_CONFIG, *ACTIONS_ARGS)

    @cached_property
    def stress_outputs(self) -> list[str]:
        """The guide's two reverse stress tests."""
        return [self.cli("stress", CONFIG, *args) for args in STRESS_RUNS]


# ------------------------------------------------------------------------------- formatting

def _money(x: float) -> str:
    """Three or four significant figures with k / m: 651.9k, 1.85m, 742."""
    ax = abs(x)
    text = f"{ax / 1e6:.2f}m" if ax >= 1e6 else f"{ax / 1e3:.1f}k" if ax >= 1e3 else f"{ax:.0f}"
    return ("−" if x < 0 else "") + text


def _err(x: float) -> str:
    """A standard error to two figures: 23k, 1.9k, 990."""
    return f"{x / 1e3:.0f}k" if x >= 1e4 else f"{x / 1e3:.1f}k" if x >= 1e3 else f"{x:.0f}"


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "") + _money(x)


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %".replace("-", "−")


def _rate(x: float, digits: int = 3) -> str:
    return "—" if x != x else f"{100 * x:.{digits}f} %"  # NaN: no rate


def _whole(x: float) -> str:
    return f"{x:,.0f}"


def _console(text: str) -> str:
    return f"```\n{text}```"


# ----------------------------------------------------------------------------------- blocks

def render_run(s: Samples) -> str:
    """The console output of ``portsim run configs/example.toml`` with the book in a line."""
    import portsim

    cfg = portsim.load_config(ROOT / CONFIG)
    book = pd.read_csv(ROOT / "configs" / str(cfg.book.path))
    m = s.metrics
    cur = m["currency"]
    intro = (f"`portsim run {CONFIG}` on the shipped book ({len(book):,} customers, "
             f"{book['sector'].nunique()} sectors, {book['country'].nunique()} countries, "
             f"{cur} {m['total_exposure'] / 1e6:.1f}m of open invoices, "
             f"{cur} {book['annual_sales'].sum() / 1e6:.0f}m of annual sales, "
             f"{len(cfg.insurance.policies)} insurance policies; {m['n_paths']:,} paths, "
             f"seed {cfg.simulation.seed}), as a terminal {WIDTH} columns wide shows it; the "
             f"run folder's name ends in the time of the run, shown here as `{STAMP}`:")
    return f"{textwrap.fill(intro, 95)}\n\n{_console(s.run_output)}"


def render_insurance(s: Samples) -> str:
    """The value of cover of the example's two policies, from the run's ``summary.json``."""
    import portsim

    m = s.metrics
    policies: dict[str, dict[str, Any]] = m["insurance"]["policies"]
    months = portsim.load_config(ROOT / CONFIG).timeline.horizon_months
    rows: list[tuple[str, str, list[str]]] = []

    def row(label: str, none: str, cell: Callable[[dict[str, Any]], str]) -> None:
        rows.append((label, none, [cell(p) for p in policies.values()]))

    def pm(d: dict[str, float]) -> str:
        return f"{_money(d['value'])} ± {_err(d['se'])}"

    def tail(kind: str, level: str) -> Callable[[dict[str, Any]], str]:
        def cell(p: dict[str, Any]) -> str:
            delta = p[f"delta_{kind}"][level]
            return (f"{_money(p[f'retained_{kind}'][level]['value'])} "
                    f"(Δ {_money(delta['value'])} ± {_err(delta['se'])})")
        return cell

    row(f"premium ({months} months)", "—", lambda p: (
        f"{_money(p['premium'])} ({_pct(p['premium_rate_on_insured_turnover'], 2)} of "
        f"{_money(p['insured_turnover'])})"))
    row("expected net indemnity", "—", lambda p: pm(p["expected_indemnity"]))
    row("expected loss ratio", "—", lambda p: (
        f"{_pct(p['expected_loss_ratio']['value'])} ± {_pct(p['expected_loss_ratio']['se'])}"))
    row("net cost of cover", "—", lambda p: pm(p["net_cost_of_cover"]))
    row("expected retained loss", pm(m["expected_loss"]),
        lambda p: pm(p["expected_retained_loss"]))
    row("VaR 99 % of retained loss", _money(m["var"]["0.99"]["value"]), tail("var", "0.99"))
    for level in ("0.99", "0.999"):
        row(f"ES {_pct(float(level), 1 if level == '0.999' else 0)} of retained loss",
            _money(m["es"][level]["value"]), tail("es", level))
    row("ES 99 % reduction per unit of premium", "—", lambda p: (
        f"{p['es_reduction_per_premium']['0.99']['value']:.2f} ± "
        f"{p['es_reduction_per_premium']['0.99']['se']:.2f}"))
    cash = m["cash"]
    row(f"Δ cash-flow-at-risk 99 % (base {_money(cash['cash_flow_at_risk']['0.99']['value'])})",
        "—", lambda p: (f"{_money(p['delta_cash_flow_at_risk']['0.99']['value'])} ± "
                        f"{_err(p['delta_cash_flow_at_risk']['0.99']['se'])}"))
    row(f"Δ P(credit line cannot keep the buffer) "
        f"(base {_pct(cash['p_line_breach']['value'], 2)})", "—", lambda p: (
            ("+" if p["delta_p_line_breach"]["value"] >= 0 else "")
            + f"{_pct(p['delta_p_line_breach']['value'], 2)} ± "
            f"{_pct(p['delta_p_line_breach']['se'], 2)}"))
    lines = ["| | none | " + " | ".join(policies) + " |",
             "|---|" + "---:|" * (len(policies) + 1)]
    lines += [f"| {label} | {none} | " + " | ".join(cells) + " |"
              for label, none, cells in rows]
    return "\n".join(lines)


def render_ecl(s: Samples) -> str:
    """The provision matrix at 2026-12-31: historical against model, by bucket."""
    from portsim.provisions import disclosure_table

    result = s.ecl
    assert result.historical is not None
    assert result.model is not None
    disc = disclosure_table(result)
    hist = result.historical
    gross = disc["gross_carrying_amount"]
    rate = hist["loss_rate"].reindex(disc.index)
    hist_ecl = gross * rate.fillna(0.0)
    hist_ecl["total"] = hist_ecl.drop("total").sum()
    rate["total"] = hist_ecl["total"] / gross["total"]
    n_obs = hist["n_observations"].reindex(disc.index)
    lines = [
        f"| bucket | gross ({result.currency}) | historical rate (invoice-months) | "
        "historical ECL | model rate | model ECL ± s.e. |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for bucket, row in disc.iterrows():
        obs = "" if bucket == "total" else f" ({n_obs[bucket]:,.0f})"
        gross_b = row["gross_carrying_amount"]
        model_rate = row["model_ecl"] / gross_b if gross_b > 0 else float("nan")
        lines.append(f"| {bucket} | {_whole(gross_b)} | {_rate(rate[bucket])}{obs} | "
                     f"{_whole(hist_ecl[bucket])} | {_rate(model_rate)} | "
                     f"{_whole(row['model_ecl'])} ± {_whole(row['model_se'])} |")
    for ins in result.model.insurance.itertuples(index=False):
        lines.append(f"| expected insurance recovery, {ins.policy} | | | | "
                     f"| −{_whole(ins.recovery)} ± {_whole(ins.se)} |")
    return "\n".join(lines)


def render_warn(s: Samples) -> str:
    """The two commands of "score, then simulate": the console output of ``portsim warn``
    and the headline of the run on its book against the run on the book's own PDs."""
    base, new = s.metrics, s.warn_metrics
    cur = base["currency"]

    def money(m: dict[str, Any], key: str, level: str | None = None) -> str:
        x = m[key] if level is None else m[key][level]
        return f"{_money(x['value'])} ± {_err(x['se'])}"

    lines = [f"| {cur} | `{CONFIG}` (the book's PDs) | `--book runs/warn/book.csv` |",
             "|---|--:|--:|",
             f"| expected loss | {money(base, 'expected_loss')} | "
             f"{money(new, 'expected_loss')} |"]
    lines += [f"| {name} 99 % | {money(base, key, '0.99')} | {money(new, key, '0.99')} |"
              for name, key in (("VaR", "var"), ("ES", "es"))]
    command = f"$ portsim warn {WARN_CONFIG} {_quoted(WARN_ARGS)}\n"
    return (f"{_console(command + s.warn_output)}\n\nthen `portsim run {WARN_CONFIG} --book "
            "runs/warn/book.csv` (the example's paths and seed):\n\n" + "\n".join(lines))


def render_backtest(s: Samples) -> str:
    """The console output of ``portsim backtest`` after its command."""
    return _console(f"$ portsim backtest {WARN_CONFIG} {_quoted(BACKTEST_ARGS)}\n"
                    f"{s.backtest_output}")


def render_creditriskplus(s: Samples) -> str:
    """CreditRisk+ by Monte Carlo on the shipped book beside its exact figures."""
    m = s.creditriskplus_metrics
    crp = m["creditriskplus"]
    lines = [f"| {m['currency']} | Monte Carlo, {m['n_paths']:,} paths | exact |",
             "|---|--:|--:|",
             f"| expected loss | {_money(m['expected_loss']['value'])} ± "
             f"{_err(m['expected_loss']['se'])} | {_money(crp['expected_loss'])} |",
             f"| loss sd | {_money(m['loss_sd']['value'])} ± {_err(m['loss_sd']['se'])} | "
             f"{_money(crp['loss_sd'])} |"]
    for name, key in (("VaR", "var"), ("ES", "es")):
        for level in ("0.99", "0.999"):
            x = m[key][level]
            err = (f"[{_money(x['ci_low'])}, {_money(x['ci_high'])}]" if key == "var"
                   else f"± {_err(x['se'])}")
            lines.append(f"| {name} {_pct(float(level), 1 if level == '0.999' else 0)} | "
                         f"{_money(x['value'])} {err} | {_money(crp[key][level])} |")
    return "\n".join(lines)


def render_batch(s: Samples) -> str:
    """The console output of the scenario batch."""
    return _console(s.batch_output)


def render_warning_value(s: Samples) -> str:
    """The value-of-early-warning table of the action-policy batch, after its command."""
    lines = s.actions_output.splitlines()
    start = next(i for i, line in enumerate(lines) if "Value of early warning" in line)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("└"))
    table = "\n".join(lines[start:end + 1])
    return _console(f"$ portsim run {ACTIONS_CONFIG} {_quoted(ACTIONS_ARGS)}\n...\n{table}\n")


def render_stress(s: Samples) -> str:
    """The two reverse stress tests, each after its command."""
    parts = [f"$ portsim stress {CONFIG} {_quoted(args)}\n{out}"
             for args, out in zip(STRESS_RUNS, s.stress_outputs, strict=True)]
    return _console("\n".join(parts))


def report_figures(report_html: str) -> list[list[str]]:
    """The rows of the report's headline table (metric, value, error) as its HTML shows them."""
    section = re.search(r'<section id="headline">(.*?)</section>', report_html, re.S)
    if section is None:
        raise ValueError("the report has no headline section")
    rows = re.findall(r"<tr>(.*?)</tr>", section.group(1), re.S)[1:]  # after the header
    cells = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
             for r in rows]
    return [c[:3] for c in cells]


def render_figures(s: Samples) -> str:
    """``docs/report-example.json``: the headline figures of the screenshot's report."""
    about = ("the headline figures (metric, value, Monte Carlo error) shown in "
             f"docs/report-example.png: the report of `portsim run {CONFIG}`, written by "
             "tools/readme_samples.py --write")
    figures = report_figures(s.report.read_text(encoding="utf-8"))
    rows = ",\n  ".join(json.dumps(r, ensure_ascii=False) for r in figures)
    return f'{{\n "about": {json.dumps(about)},\n "headline": [\n  {rows}\n ]\n}}\n'


def render_suppliers(s: Samples) -> str:
    """The supplier risk of ``portsim run configs/example_suppliers.toml``, from its
    ``summary.json``."""
    m = s.supplier_metrics
    sup = m["suppliers"]

    def pm(d: dict[str, float]) -> str:
        return f"{_money(d['value'])} ± {_err(d['se'])}"

    rows = [("expected supplier defaults", f"{sup['expected_defaults']['value']:.3f} ± "
             f"{sup['expected_defaults']['se']:.3f}"),
            ("prepayments lost", pm(sup["expected_prepayments_lost"])),
            ("replacement cost premium", pm(sup["expected_premium_cost"])),
            ("sales lost while replacing", pm(sup["expected_lost_sales"])),
            ("margin of the lost sales", pm(sup["expected_lost_margin"])),
            ("supplier cost (prepayments + premium + margin)", pm(sup["expected_cost"])),
            *((f"supplier cost VaR {_pct(float(q), 1)}", _money(d["value"]))
              for q, d in sup["cost_var"].items() if q == "0.999")]
    lines = [f"| supplier risk ({m['currency']}, {m['n_paths']:,} paths) | value |",
             "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)]
    return "\n".join(lines)


def render_optimise(s: Samples) -> str:
    """The risk budget's recommendation, after its command."""
    return _console(f"$ portsim optimise {ACTIONS_CONFIG} {_quoted(OPTIMISE_ARGS)}\n"
                    f"{s.optimise_output}")


class Block(NamedTuple):
    """One generated sample: its marker name, whether its runs are slow, how it is drawn.

    ``file`` is None for a block between markers in one of the :func:`pages`, else the file
    it is the whole text of.
    """

    name: str
    render: Callable[[Samples], str]
    slow: bool = False
    file: Path | None = None


BLOCKS: tuple[Block, ...] = (
    Block("example-run", render_run),
    Block("insurance-value", render_insurance),
    Block("ecl-matrix", render_ecl),
    Block("report-figures", render_figures, file=FIGURES),
    Block("warn-flow", render_warn),
    Block("backtest", render_backtest),
    Block("creditriskplus-mc", render_creditriskplus),
    Block("scenario-batch", render_batch, slow=True),
    Block("supplier-risk", render_suppliers, slow=True),
    Block("warning-value", render_warning_value, slow=True),
    Block("reverse-stress", render_stress, slow=True),
    Block("optimise", render_optimise, slow=True),
)


# ------------------------------------------------------------------------------ page blocks

def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start (tools/readme_samples.py) -->", f"<!-- {name}:end -->"


def pages(root: Path = ROOT) -> list[Path]:
    """The Markdown pages that may hold blocks: README.md, then ``docs/**/*.md`` in path order
    (a docs build under ``docs/_build`` left out)."""
    docs = sorted(p for p in (root / "docs").rglob("*.md")
                  if "_build" not in p.relative_to(root / "docs").parts)
    return [root / "README.md", *docs]


def read_pages(root: Path = ROOT) -> dict[Path, str]:
    """The text of every page of :func:`pages`."""
    return {p: p.read_text(encoding="utf-8") for p in pages(root)}


def locate(texts: Mapping[Path, str], name: str) -> Path:
    """The page of ``texts`` that holds the start marker of block ``name``; ValueError when
    no page or more than one does."""
    start, _ = _markers(name)
    found = [p for p, text in texts.items() if start in text]
    if len(found) != 1:
        where = ", ".join(str(p) for p in found) or "no page"
        raise ValueError(f"the marker {start} must be in exactly one page of README.md and "
                         f"docs/**/*.md, found in {where}")
    return found[0]


def block(text: str, name: str) -> str:
    """The text of block ``name`` of a page's ``text`` (between its markers, without the
    newlines next to them); ValueError when the markers are missing."""
    start, end = _markers(name)
    _, sep, rest = text.partition(start)
    inner, sep2, _ = rest.partition(end)
    if not sep or not sep2:
        raise ValueError(f"the page lacks the markers {start} … {end}")
    return inner.removeprefix("\n").removesuffix("\n")


def replace(text: str, name: str, new: str) -> str:
    """A page's ``text`` with block ``name`` set to ``new``."""
    start, end = _markers(name)
    block(text, name)  # the markers must exist
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{new}\n{end}{tail}"


def current(b: Block, texts: Mapping[Path, str]) -> str:
    """What the repository holds for block ``b`` now (``texts``: the pages' text)."""
    if b.file is None:
        return block(texts[locate(texts, b.name)], b.name)
    return b.file.read_text(encoding="utf-8") if b.file.exists() else ""


def stale(blocks: Sequence[Block], samples: Samples,
          texts: Mapping[Path, str]) -> dict[str, str]:
    """A unified diff (held → fresh) for every block of ``blocks`` that differs from what the
    pages' ``texts`` (or the block's own file) hold."""
    out = {}
    for b in blocks:
        held, fresh = current(b, texts), b.render(samples)
        if held != fresh:
            out[b.name] = "".join(difflib.unified_diff(
                held.splitlines(keepends=True), fresh.splitlines(keepends=True),
                f"{b.name} (held)", f"{b.name} (fresh run)"))
    return out


def screenshot(report: Path, png: Path) -> None:
    """The top of ``report`` in headless Chromium, :data:`SHOT_SIZE` pixels, to ``png``."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise RuntimeError("the screenshot needs chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
             f"--window-size={SHOT_SIZE[0]},{SHOT_SIZE[1]}", report.as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
    if res.returncode != 0 or not png.exists():
        raise RuntimeError(f"chromium failed: {res.stderr[-2000:]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true",
                      help="rewrite the blocks, docs/report-example.png and .json")
    mode.add_argument("--check", action="store_true", help="exit 1 when a block is stale")
    parser.add_argument("--fast", action="store_true",
                        help="leave out the slow blocks (scenario batch, reverse stress, "
                        "risk budget)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=[b.name for b in BLOCKS],
                        help="just these blocks (and, with --write, no screenshot)")
    args = parser.parse_args(argv)
    blocks = [b for b in BLOCKS if not (args.fast and b.slow)
              and (args.only is None or b.name in args.only)]
    with tempfile.TemporaryDirectory() as work:
        samples = Samples(Path(work))
        texts = read_pages()
        if args.check:
            diffs = stale(blocks, samples, texts)
            for diff in diffs.values():
                sys.stdout.write(diff)
            if diffs:
                print(f"stale: {', '.join(diffs)}; run python tools/readme_samples.py --write")
            return 1 if diffs else 0
        written = dict(texts)
        for b in blocks:
            text = b.render(samples)
            if b.file is None:
                page = locate(written, b.name)
                written[page] = replace(written[page], b.name, text)
            else:
                b.file.write_text(text, encoding="utf-8")
        for page, text in written.items():
            if text != texts[page]:
                page.write_text(text, encoding="utf-8")
        if args.only is None:
            screenshot(samples.report, SHOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
