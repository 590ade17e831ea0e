"""The risk budget: which mix of levers (credit insurance, factoring, a larger credit line, a
cash reserve, collection spend, action policies) buys the most protection for a yearly budget,
priced on the same simulated paths.

:mod:`.paths` takes a run's per-path outputs (:class:`PathSet`), :mod:`.mix` prices a mix of
levers on them (cost and risk measures with standard errors), :mod:`.search` finds the best mix
at each budget (the Rockafellar–Uryasev linear programme for the factoring shares under an ES
objective, enumeration otherwise). Nothing here simulates, writes files or prints:
:mod:`portsim.workflow.optimise` runs the simulations and writes the folder.
"""

from portsim.budget.mix import MEASURES, Economics, Mix, Variant, cost, measures, objective
from portsim.budget.paths import ACTION_COST_VARS, PathSet, headroom, path_set
from portsim.budget.search import Choices, Result, best, es_shares, optimise, reprice, share_grid

__all__ = ["ACTION_COST_VARS", "MEASURES", "Choices", "Economics", "Mix", "PathSet", "Result",
           "Variant", "best", "cost", "es_shares", "headroom", "measures", "objective",
           "optimise", "path_set", "reprice", "share_grid"]
