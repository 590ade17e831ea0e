"""An empty scenario (nothing set, or a scenario file with only a name) reproduces the run
without a scenario bit for bit: every variable, coordinate and attribute, except the
provenance attributes that name the scenario and hash the config holding it. (Without the
tail attribution's second pass, which is slow for timeline runs and reads only the loss.)"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import portsim
from portsim.config import RunConfig, ScenarioConfig, load_scenario
from properties.strategies import book_columns, model_sections, policy_terms, timeline_sections

PATHS = 100
PROVENANCE = ("scenario", "config_hash", "simulate_seconds")  # simulate_seconds: a timing


def _result(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    out.attrs = {k: v for k, v in ds.attrs.items() if k not in PROVENANCE}
    return out


def _with(cfg: RunConfig, scenario: ScenarioConfig) -> RunConfig:
    return cfg.model_copy(update={"scenario": scenario})


@st.composite
def _sections(draw: st.DrawFn) -> dict[str, Any]:
    """A default-only run, or one with a timeline, with or without credit insurance."""
    kind = draw(st.sampled_from(["default_only", "timeline", "insured"]))
    # the skip kernel draws no default days, so a timeline refuses it
    sections = draw(model_sections() if kind == "default_only"
                    else model_sections(kernels=("grouped", "per_customer")))
    if kind != "default_only":
        sections.update(draw(timeline_sections()))
    if kind == "insured":
        sections["insurance"] = {"policies": {"p": draw(policy_terms())}}
    return sections


@settings(max_examples=15)
@given(cols=book_columns(trade=True), sections=_sections())
def test_empty_scenario_changes_nothing(cols: dict[str, Any], sections: dict[str, Any],
                                        make_book: Any, make_config: Any) -> None:
    book = make_book(**cols)
    cfg = make_config(base=sections, simulation={"paths": PATHS})
    base = _result(portsim.run(cfg, book, contributions=False))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "named.toml"
        path.write_text('name = "only_a_name"\n', encoding="utf-8")
        from_file = load_scenario(path)
    assert from_file.is_identity
    for scenario in (ScenarioConfig(), ScenarioConfig(name="empty"), from_file):
        xr.testing.assert_identical(_result(portsim.run(_with(cfg, scenario), book,
                                                  contributions=False)), base)
