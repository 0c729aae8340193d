"""Report the default scenarios against the calibration bands of EVIDENCE.md.

Usage: python experiments/calibrate.py [--seeds 20]

Runs scenarios/baseline.toml and scenarios/ips.toml over the seeds and prints
each target with its band, plus the outcomes that explain where it lands.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from introsim.outcomes import OUTCOMES
from introsim.runner import replicate_seed, simulate
from introsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE_BAND = (0.40, 0.60)  # EVIDENCE.md: baseline work_or_education_at_exit


def run(name: str, seeds: int, root: int) -> pd.DataFrame:
    """Outcomes of one scenario file over ``seeds`` replicates, plus exit routes."""
    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    rows = []
    for r in range(seeds):
        res = simulate(sc, replicate_seed(root, r))
        row = dict(res.summary)
        exits = res.participants["exit_status"].astype(str)
        for route in ("employed", "subsidised", "education", "unemployed", "inactive"):
            row[f"exit_to_{route}"] = float((exits == route).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    """Print the calibration report."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--root", type=int, default=20261122)
    ap.add_argument("--scenarios", nargs="*", default=["baseline", "ips"])
    a = ap.parse_args()
    res = {name: run(name, a.seeds, a.root) for name in a.scenarios}
    table = pd.DataFrame({n: d.mean() for n, d in res.items()}).loc[
        [*OUTCOMES, *(c for c in next(iter(res.values())).columns if c.startswith("exit_to_"))]
    ]
    pd.set_option("display.width", 200)
    print(f"means over {a.seeds} seeds (root {a.root})")
    print(table.round(3).to_string())
    b = res["baseline"]["work_or_education_at_exit"]
    lo, hi = BASELINE_BAND
    mean = b.mean()
    ok = lo <= mean <= hi
    print(
        f"\nbaseline work_or_education_at_exit = {mean:.3f}; band {lo}-{hi}: "
        f"{'in' if ok else 'OUT'}"
    )
    if "ips" in res:
        d = res["ips"]["employed_12m"].to_numpy() - res["baseline"]["employed_12m"].to_numpy()
        se = d.std(ddof=1) / np.sqrt(len(d))
        print(
            f"ips - baseline employed_12m = {d.mean():+.3f} (paired 95 % CI "
            f"{d.mean() - 1.96 * se:+.3f} to {d.mean() + 1.96 * se:+.3f})"
        )


if __name__ == "__main__":
    main()
