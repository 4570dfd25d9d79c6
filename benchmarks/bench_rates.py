"""How long pricing.price() takes on 1,000,000 shipments (goal: a few seconds on a laptop).

Run: .venv/bin/python benchmarks/bench_rates.py [rows]
"""
from __future__ import annotations

import sys
import time
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from recon_helpers.canonical import MEASURE_DTYPE, MEASURE_TYPE
from recon_helpers.scenarios.courier_bill import pricing, rate_card


def shipments(rows: int, seed: int = 1) -> pd.DataFrame:
    """Random parcels with decimal weights/dims (as the loader yields them) to real provinces."""
    rng = np.random.default_rng(seed)

    def measure(milli: np.ndarray) -> pd.Series:
        return pd.Series(pd.array(pa.array([Decimal(int(v)).scaleb(-3) for v in milli[:1000]] * (rows // 1000),
                                           type=MEASURE_TYPE), dtype=MEASURE_DTYPE))

    return pd.DataFrame({
        "weight": measure(rng.integers(50, 30_000, rows)),
        "length_cm": measure(rng.integers(5_000, 80_000, rows)),
        "width_cm": measure(rng.integers(5_000, 60_000, rows)),
        "height_cm": measure(rng.integers(1_000, 50_000, rows)),
        "destination": pd.Series(rng.choice(list(rate_card.PROVINCES) + ["广东省", "香港"], rows)).astype("string[pyarrow]"),
    })


def main(rows: int = 1_000_000) -> None:
    table = shipments(rows)
    card = rate_card.load_rate_card("sf")
    start = time.perf_counter()
    priced = pricing.price(table, card)
    took = time.perf_counter() - start
    print(f"price(): {rows:,} rows in {took:.2f} s ({rows / took:,.0f} rows/s); "
          f"problems: {int(priced['pricing_problem'].notna().sum())}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
