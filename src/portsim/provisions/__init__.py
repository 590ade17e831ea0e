"""Loss allowances of trade receivables (IFRS 9 simplified approach): ageing, provision
matrices with given, historical (roll-rate) and simulated loss rates, disclosures.

``from portsim.provisions import run_ecl, write_outputs`` — the modules are :mod:`.ageing`,
:mod:`.matrix`, :mod:`.rollrates`, :mod:`.model`, :mod:`.ecl` and :mod:`.tables`.
"""

from portsim.provisions.ageing import DEFAULT_BOUNDS, bucket_labels, parse_bounds
from portsim.provisions.ecl import EclOptions, EclResult, compute_ecl, parse_scenarios, run_ecl
from portsim.provisions.matrix import allowance, parse_rates
from portsim.provisions.tables import disclosure_table, ecl_frame, movement_table, write_outputs

__all__ = [
    "DEFAULT_BOUNDS",
    "EclOptions",
    "EclResult",
    "allowance",
    "bucket_labels",
    "compute_ecl",
    "disclosure_table",
    "ecl_frame",
    "movement_table",
    "parse_bounds",
    "parse_rates",
    "parse_scenarios",
    "run_ecl",
    "write_outputs",
]
