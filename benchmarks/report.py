"""Turn a pytest-benchmark JSON file into the throughput and ratio table of the README.

    python benchmarks/report.py benchmarks/results/engine.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    data = json.loads(open(path, encoding="utf-8").read())
    rows = []
    for b in data["benchmarks"]:
        info = b["extra_info"]
        cp = info.get("customer_paths")
        if not cp:
            continue
        best = b["stats"]["min"]
        rows.append((b["name"], info.get("label", ""), cp, best, cp / best))
    def group(name: str) -> str:
        return "10factors" if "10factors" in name else "1factor"

    ref: dict[str, dict[str, float]] = defaultdict(dict)
    for name, label, _cp, _t, tput in rows:
        ref[group(name)][label] = tput
    print(f"machine: {data['machine_info'].get('cpu', {}).get('brand_raw', '?')}; "
          f"{data['datetime']}")
    print()
    print("| case | customer-paths/s (best round) | × numpy baseline | ÷ floor |")
    print("|---|---:|---:|---:|")
    for name, _label, _cp, _t, tput in rows:
        num = ref[group(name)].get("numpy")
        flo = ref[group(name)].get("floor")
        cells = [f"{tput / num:.1f}" if num else "", f"{tput / flo:.2f}" if flo else ""]
        print(f"| {name} | {tput:.3g} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main(sys.argv[1])
