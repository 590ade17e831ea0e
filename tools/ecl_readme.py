"""Write the README's provision matrix of the shipped example: historical against model.

Runs ``portsim ecl configs/example.toml --as-of 2026-12-31 --history
configs/example_history.csv`` (the config's paths and seed) and renders the matrix by bucket
as a Markdown table, with the expected insurance recoveries below it. The table sits in
README.md between :data:`START` and :data:`END`; ``tests/provisions/test_readme_ecl.py``
checks that it matches a fresh run.

Usage::

    python tools/ecl_readme.py            # print the table
    python tools/ecl_readme.py --write    # replace it in README.md

Importable without side effects: ``render() -> str``, ``replace(readme_text, table) -> str``.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from portsim.provisions import EclResult, disclosure_table, run_ecl

__all__ = ["END", "START", "render", "replace"]

ROOT = Path(__file__).resolve().parents[1]
START = "<!-- ecl-matrix:start (tools/ecl_readme.py) -->"
END = "<!-- ecl-matrix:end -->"
AS_OF = date(2026, 12, 31)


def _pct(x: float, digits: int = 3) -> str:
    return "—" if x != x else f"{100 * x:.{digits}f} %"  # NaN: no rate


def _money(x: float) -> str:
    return f"{x:,.0f}"


def table(result: EclResult) -> str:
    """The Markdown provision matrix of one result (with a history and a model)."""
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
        lines.append(f"| {bucket} | {_money(row['gross_carrying_amount'])} | "
                     f"{_pct(rate[bucket])}{obs} | {_money(hist_ecl[bucket])} | "
                     f"{_pct(model_rate)} | {_money(row['model_ecl'])} ± "
                     f"{_money(row['model_se'])} |")
    for ins in result.model.insurance.itertuples(index=False):
        lines.append(f"| expected insurance recovery, {ins.policy} | | | | "
                     f"| −{_money(ins.recovery)} ± {_money(ins.se)} |")
    return "\n".join(lines)


def render() -> str:
    """The README table from a fresh run of the shipped example."""
    (result,) = run_ecl(ROOT / "configs" / "example.toml", [AS_OF],
                        history_path=ROOT / "configs" / "example_history.csv")
    return table(result)


def replace(readme: str, new_table: str) -> str:
    """``readme`` with the text between :data:`START` and :data:`END` set to ``new_table``."""
    head, sep, rest = readme.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"README.md lacks the markers {START} … {END}")
    return f"{head}{START}\n{new_table}\n{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the table in README.md")
    args = parser.parse_args()
    text = render()
    if args.write:
        path = ROOT / "README.md"
        path.write_text(replace(path.read_text(encoding="utf-8"), text), encoding="utf-8")
    else:
        print(text)


if __name__ == "__main__":
    main()
