# %% [markdown]
# # A tour of portsim in Python
#
# Load the shipped example, simulate it, look at the results Dataset, draw the figures and
# compare a batch of scenarios on common random numbers. Each `# %%` is a notebook cell
# (Jupyter with jupytext, VS Code and Spyder run them one by one); `python docs/tour.py` runs
# them all, from any folder, and saves the figures in `docs/_build/tour/` (or the folder
# given as its argument). A few thousand paths keep it quick; the CLI's default is the
# config's 100,000.

# %%
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are saved, not shown
import matplotlib.pyplot as plt

import portsim
from portsim.config import load_scenario
from portsim.report.cash_figures import plot_cash_fan
from portsim.report.comparison_figures import plot_scenarios
from portsim.report.figures import plot_exceedance, plot_loss_histogram
from portsim.results.comparison import comparison_frame
from portsim.workflow.batch import run_batch

ROOT = Path(__file__).resolve().parent.parent if "__file__" in globals() else Path.cwd()
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "_build" / "tour"
OUT.mkdir(parents=True, exist_ok=True)
PATHS = 4_000

# %% [markdown]
# ## Load a config
#
# `load_config` reads the TOML file (following `extends`) and validates every key; its
# tables are typed models (the config reference lists every key).

# %%
cfg = portsim.load_config(ROOT / "configs" / "example.toml")
print(cfg.name, cfg.simulation.paths, "paths,", cfg.timeline.horizon_months, "months from",
      cfg.timeline.as_of)
print("policies:", list(cfg.insurance.policies))

# %% [markdown]
# ## Run
#
# `portsim.run` simulates in memory and returns an `xarray.Dataset`; nothing is written
# (`portsim.run_folder` writes a run folder as the CLI does). The same seed gives the same
# numbers on any number of threads.

# %%
ds = portsim.run(cfg, paths=PATHS, seed=1)
m = portsim.summarize(ds)
print(f"expected loss {m['expected_loss']['value']:,.0f} ± {m['expected_loss']['se']:,.0f}")
print(f"ES 99 %       {m['es']['0.99']['value']:,.0f} ± {m['es']['0.99']['se']:,.0f}")
print(f"P(line breach) {m['cash']['p_line_breach']['value']:.1%}")

# %% [markdown]
# ## The Dataset
#
# Per-path variables (dim `path`), per-customer and per-sector results, and with a timeline
# the cash series by period. Every variable carries its units and a long name.

# %%
print(ds)
print(ds["loss"].attrs)
loss = ds["loss"]
print("share of paths with a loss above 1m:", float((loss > 1e6).mean()))
print(ds["cash_band"].sel(band=0.5).to_series().head())  # median cash at each period end

# %% [markdown]
# ## Figures
#
# Each figure function takes the Dataset (and an optional `ax`) and returns the Axes.

# %%
fig, axs = plt.subplots(1, 3, figsize=(15, 4))
plot_loss_histogram(ds, ax=axs[0])
plot_exceedance(ds, ax=axs[1])
plot_cash_fan(ds, ax=axs[2])
fig.tight_layout()
fig.savefig(OUT / "run.png", dpi=80)
plt.close(fig)

# %% [markdown]
# ## A scenario batch, compared
#
# Every scenario runs on the same paths (common random numbers), so its change against the
# baseline is estimated path by path, with the standard error of a paired difference.

# %%
names = ["baseline", "mild_recession", "delays_plus_30"]
scenarios = [load_scenario(ROOT / "scenarios" / f"{n}.toml", cfg.book.sectors) for n in names]
batch = run_batch(cfg, scenarios, options=portsim.RunOptions(paths=PATHS, seed=1))
wide = comparison_frame(batch.comparison, [("expected_loss", ""), ("es", "0.99")],
                        batch.baseline)
print(wide[["scenario", "expected_loss", "expected_loss_change", "expected_loss_change_se",
            "es_0.99", "es_0.99_change_se"]].round(0).to_string(index=False))

fig, ax = plt.subplots(figsize=(8, 4))
plot_scenarios(batch.paths, ax=ax)
fig.tight_layout()
fig.savefig(OUT / "scenarios.png", dpi=80)
plt.close(fig)
print("figures in", OUT)
