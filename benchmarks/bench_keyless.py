"""Keyless one-to-one benchmark: false links and recall per rule, ours beside pandas and DuckDB peers.

Workload (seeded, generated here): a month of store settlement lines against bank credits.

* batch stores: lines carry a ``batch_id``; each batch is paid as one credit 0-3 days after its last
  line; 10% of batches are never paid (their lines stay open all month);
* single stores: each line is paid alone, 0-3 days after it, by a credit that names nothing;
* retail price points (59.90, 99.00, 129.00, 199.00, 299.00) make 40% of all line amounts, so the
  same amount repeats many times a day, in single lines and in the lines of unpaid batches alike.

Truth: every credit pays one batch or one line. Candidates of a single credit: lines of the same
amount 0..3 days before it.

Contestants:

* ``ours[none+where]`` - the built-in recipe ``store_settlement_bank``: group_sum by batch, then
  amount_date ``days: {min: 0, max: 3}, prefer: none, where: {left: "batch_id IS NULL OR ..."}``
  (lines meant for the batch rule never enter the keyless pool);
* ``ours[none]`` - the same without ``where`` (unpaid batch lines fall into the keyless pool);
* ``ours[nearest]`` - ``prefer: nearest_date``, no ``where`` (the engine's rule before #9);
* ``pandas`` / ``duckdb`` - what a competent analyst writes: batches summed and joined to credits on
  amount within the window (nearest first), then every leftover line joined to leftover credits on
  amount within the window, nearest date first, each row used once (greedy).

Per contestant and rule kind (batch, single): links made, false links (a link whose rows are not
exactly one true group), precision and recall. *Undecidable* single pairs are counted independently
of the engine, by alternating paths in the candidate graph (same amount, 0..3 days): a true pair is
undecidable when another complete pairing inside the window contradicts it (see ``undecidable``).
Counted for both pools (with and without the unpaid batch lines).

Run:  PYTHONPATH=. .venv/bin/python benchmarks/bench_keyless.py [--days 30] [--singles 300] [--batches 60]
"""
from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from recon_helpers.canonical import MONEY_DTYPE, TEXT_DTYPE  # noqa: E402
from recon_helpers.engine import match  # noqa: E402
from recon_helpers.engine.recipe import get_recipe, recipe_from_dict  # noqa: E402

PRICE_POINTS = ("59.90", "99.00", "129.00", "199.00", "299.00")
WINDOW = (0, 3)


# =================================================================================================
# workload
# =================================================================================================
def line_amount(rng: np.random.Generator) -> Decimal:
    if rng.random() < 0.4:
        return Decimal(PRICE_POINTS[rng.integers(len(PRICE_POINTS))])
    return Decimal(int(rng.integers(1000, 99999))).scaleb(-2)


def generate(days: int, singles_per_day: int, batches_per_day: int, seed: int = 9):
    """(lines, credits, truth: credit txn_id -> frozenset of order_ids, kind: txn_id -> batch|single)."""
    rng = np.random.default_rng(seed)
    lines, credits, truth, kind = [], [], {}, {}
    for day in range(1, days + 1):
        for _ in range(singles_per_day):
            oid = f"S{len(lines):07d}"
            amount = line_amount(rng)
            lines.append((oid, None, amount, day))
            txn = f"C{len(credits):07d}"
            credits.append((txn, amount, day + int(rng.integers(WINDOW[0], WINDOW[1] + 1))))
            truth[txn], kind[txn] = frozenset([oid]), "single"
        for b in range(batches_per_day):
            batch = f"B{day:02d}{b:03d}"
            members, total = [], Decimal("0")
            for _ in range(int(rng.integers(5, 20))):
                oid = f"L{len(lines):07d}"
                amount = line_amount(rng)
                lines.append((oid, batch, amount, day))
                members.append(oid)
                total += amount
            if rng.random() >= 0.10:  # 10% of batches are never paid
                txn = f"C{len(credits):07d}"
                credits.append((txn, total, day + int(rng.integers(WINDOW[0], WINDOW[1] + 1))))
                truth[txn], kind[txn] = frozenset(members), "batch"
    return lines, credits, truth, kind


def frames(lines, credits) -> tuple[pd.DataFrame, pd.DataFrame]:
    def times(days):
        return pd.Series(pd.to_datetime(["2026-10-01 10:00"] * len(days)) + pd.to_timedelta(
            [d - 1 for d in days], unit="D")).astype("timestamp[s][pyarrow]")

    left = pd.DataFrame({
        "source_file": pd.array(["settlement.csv"] * len(lines), dtype=TEXT_DTYPE),
        "source_row": pd.array(range(2, len(lines) + 2), dtype="int64[pyarrow]"),
        "order_id": pd.array([x[0] for x in lines], dtype=TEXT_DTYPE),
        "batch_id": pd.array([x[1] for x in lines], dtype=TEXT_DTYPE),
        "amount": pd.array([x[2] for x in lines], dtype=MONEY_DTYPE),
        "txn_time": times([x[3] for x in lines]),
    })
    right = pd.DataFrame({
        "source_file": pd.array(["bank.csv"] * len(credits), dtype=TEXT_DTYPE),
        "source_row": pd.array(range(2, len(credits) + 2), dtype="int64[pyarrow]"),
        "txn_id": pd.array([x[0] for x in credits], dtype=TEXT_DTYPE),
        "amount": pd.array([x[1] for x in credits], dtype=MONEY_DTYPE),
        "txn_time": times([x[2] for x in credits]),
    })
    return left, right


# =================================================================================================
# contestants: each returns a list of (kind, frozenset(order_ids), txn_id)
# =================================================================================================
def recipe(prefer: str, where: bool):
    """The built-in ``store_settlement_bank`` recipe, or a variant of it (``prefer``, without ``where``)."""
    data = get_recipe("store_settlement_bank").model_dump(by_alias=True, exclude={"source"}, exclude_defaults=True)
    single = next(r for r in data["rules"] if r["type"] == "amount_date")
    single["prefer"] = prefer
    if not where:
        single.pop("where", None)
    return recipe_from_dict(data, source=f"store_settlement_bank[{prefer}{'+where' if where else ''}]")


def ours(left, right, *, prefer: str, where: bool):
    res = match(left, right, recipe(prefer, where))
    out = []
    for _, g in res.links.groupby("group_id"):
        lefts = frozenset(g.loc[g["side"] == "left", "order_id"])
        txn = g.loc[g["side"] == "right", "txn_id"].iloc[0]
        out.append(("batch" if g["rule"].iloc[0] == "batch_payout" else "single", lefts, txn))
    return out


def _greedy(pairs: pd.DataFrame, left_key: str) -> pd.DataFrame:
    """Nearest first, each left and each credit used once (what a hand-written script does)."""
    pairs = pairs.sort_values(["gap", "txn_id", left_key], kind="stable")
    pairs = pairs.drop_duplicates("txn_id", keep="first")
    return pairs.drop_duplicates(left_key, keep="first")


def peer_pandas(left, right):
    lf = left.assign(day=left["txn_time"].astype("datetime64[s]").dt.day, amt=left["amount"].astype(str))
    rt = right.assign(day=right["txn_time"].astype("datetime64[s]").dt.day, amt=right["amount"].astype(str))
    batches = lf.dropna(subset=["batch_id"]).groupby("batch_id").agg(
        total=("amount", lambda s: str(sum(s, Decimal("0")))), last=("day", "max")).reset_index()
    bp = batches.merge(rt, left_on="total", right_on="amt")
    bp = bp.assign(gap=bp["day"] - bp["last"])
    bp = _greedy(bp[(bp["gap"] >= WINDOW[0]) & (bp["gap"] <= WINDOW[1])], "batch_id")
    members = lf.dropna(subset=["batch_id"]).groupby("batch_id")["order_id"].apply(frozenset).to_dict()
    out = [("batch", members[b], t) for b, t in zip(bp["batch_id"], bp["txn_id"])]
    rest_l = lf[~lf["batch_id"].isin(set(bp["batch_id"]))]
    rest_r = rt[~rt["txn_id"].isin(set(bp["txn_id"]))]
    sp = rest_l.merge(rest_r, on="amt", suffixes=("_l", "_r"))
    sp = sp.assign(gap=sp["day_r"] - sp["day_l"])
    sp = _greedy(sp[(sp["gap"] >= WINDOW[0]) & (sp["gap"] <= WINDOW[1])], "order_id")
    out += [("single", frozenset([o]), t) for o, t in zip(sp["order_id"], sp["txn_id"])]
    return out


def peer_duckdb(left, right):
    con = duckdb.connect()
    con.register("l", left)
    con.register("r", right)
    lo, hi = WINDOW
    con.execute(f"""
        CREATE TABLE bsum AS SELECT batch_id, sum(amount) AS total, max(CAST(txn_time AS DATE)) AS last
          FROM l WHERE batch_id IS NOT NULL GROUP BY batch_id;
        CREATE TABLE bpair AS SELECT * FROM (
          SELECT b.batch_id, r.txn_id, row_number() OVER (PARTITION BY r.txn_id
                 ORDER BY CAST(r.txn_time AS DATE) - b.last, b.batch_id) AS rn
          FROM bsum b JOIN r ON r.amount = b.total
           AND CAST(r.txn_time AS DATE) - b.last BETWEEN {lo} AND {hi}) WHERE rn = 1;
        CREATE TABLE bone AS SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY batch_id ORDER BY txn_id) AS k
          FROM bpair) WHERE k = 1;
        CREATE TABLE spair AS SELECT * FROM (
          SELECT l.order_id, r.txn_id, row_number() OVER (PARTITION BY r.txn_id
                 ORDER BY CAST(r.txn_time AS DATE) - CAST(l.txn_time AS DATE), l.order_id) AS rn
          FROM l JOIN r ON r.amount = l.amount
           AND CAST(r.txn_time AS DATE) - CAST(l.txn_time AS DATE) BETWEEN {lo} AND {hi}
          WHERE (l.batch_id IS NULL OR l.batch_id NOT IN (SELECT batch_id FROM bone))
            AND r.txn_id NOT IN (SELECT txn_id FROM bone)) WHERE rn = 1;
        CREATE TABLE sone AS SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY order_id ORDER BY txn_id) AS k
          FROM spair) WHERE k = 1;""")
    members = left.dropna(subset=["batch_id"]).groupby("batch_id")["order_id"].apply(frozenset).to_dict()
    out = [("batch", members[b], t) for b, t in con.execute("SELECT batch_id, txn_id FROM bone").fetchall()]
    out += [("single", frozenset([o]), t) for o, t in con.execute("SELECT order_id, txn_id FROM sone").fetchall()]
    con.close()
    return out


# =================================================================================================
# scoring
# =================================================================================================
def undecidable(lines, credits, truth, kind, *, with_unpaid_batch_lines: bool) -> tuple[int, int]:
    """(true single pairs, of which undecidable) in the keyless pool.

    The truth pairs every credit, so it is a maximum matching M of the candidate graph. A true pair
    (u, v) is in *every* maximum matching unless an M-alternating cycle runs through it, or an
    alternating path from an unpaid line reaches it (Berge): then swapping along it gives another
    complete pairing inside the window where u and v are paired otherwise. Both are graph searches
    on the directed graph "other candidate: line -> credit, true pair: credit -> line": same strongly
    connected component, or the credit reachable from a line nobody pays.
    """
    paid_batches = set()
    by_order = {x[0]: x for x in lines}
    for txn, members in truth.items():
        if kind[txn] == "batch":
            paid_batches.add(by_order[next(iter(members))][1])
    pool = [x for x in lines if x[1] is None or (with_unpaid_batch_lines and x[1] not in paid_batches)]
    singles = [c for c in credits if kind[c[0]] == "single"]
    lf = pd.DataFrame({"li": range(len(pool)), "amt": [str(x[2]) for x in pool], "day": [x[3] for x in pool],
                       "order_id": [x[0] for x in pool]})
    rt = pd.DataFrame({"ri": range(len(singles)), "amt": [str(x[1]) for x in singles], "day": [x[2] for x in singles],
                       "txn_id": [x[0] for x in singles]})
    e = lf.merge(rt, on="amt", suffixes=("_l", "_r"))
    e = e[(e["day_r"] - e["day_l"] >= WINDOW[0]) & (e["day_r"] - e["day_l"] <= WINDOW[1])].reset_index(drop=True)
    true_edge = np.array([truth[t] == frozenset([o]) for o, t in zip(e["order_id"], e["txn_id"])], dtype=bool)
    nl, nr = len(lf), len(rt)
    source = nl + nr
    li, ri = e["li"].to_numpy(), nl + e["ri"].to_numpy()
    paid_lines = np.zeros(nl, dtype=bool)
    paid_lines[li[true_edge]] = True
    free = np.flatnonzero(~paid_lines)
    rows = np.concatenate([np.where(true_edge, ri, li), np.full(free.size, source)])
    cols = np.concatenate([np.where(true_edge, li, ri), free])
    graph = csr_matrix((np.ones(rows.size), (rows, cols)), shape=(source + 1, source + 1))
    _, scc = connected_components(graph, directed=True, connection="strong")
    reached = np.zeros(source + 1, dtype=bool)
    reached[breadth_first_order(graph, source, directed=True, return_predecessors=False)] = True
    open_pair = true_edge & ((scc[li] == scc[ri]) | reached[ri])
    return int(true_edge.sum()), int(open_pair.sum())


def score(links, truth, kind) -> dict[str, dict[str, int]]:
    out = {k: {"links": 0, "false": 0, "true": 0, "truth": sum(1 for v in kind.values() if v == k)}
           for k in ("batch", "single")}
    for k, lefts, txn in links:
        out[k]["links"] += 1
        if truth.get(txn) == lefts:
            out[k]["true"] += 1
        else:
            out[k]["false"] += 1
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--singles", type=int, default=300, help="single-paid lines per day")
    ap.add_argument("--batches", type=int, default=20, help="batches per day (5-19 lines each)")
    args = ap.parse_args(argv)
    lines, credits, truth, kind = generate(args.days, args.singles, args.batches)
    left, right = frames(lines, credits)
    print(f"{len(lines)} settlement lines, {len(credits)} credits "
          f"({sum(v == 'single' for v in kind.values())} single, {sum(v == 'batch' for v in kind.values())} batch)")
    for unpaid in (False, True):
        n_true, n_open = undecidable(lines, credits, truth, kind, with_unpaid_batch_lines=unpaid)
        print(f"keyless pool {'with' if unpaid else 'without'} unpaid batch lines: {n_true} true single pairs, "
              f"{n_open} undecidable (another maximum pairing inside the window contradicts them)")
    contestants = {
        "ours[none+where]": lambda: ours(left, right, prefer="none", where=True),
        "ours[none]": lambda: ours(left, right, prefer="none", where=False),
        "ours[nearest]": lambda: ours(left, right, prefer="nearest_date", where=False),
        "pandas": lambda: peer_pandas(left, right),
        "duckdb": lambda: peer_duckdb(left, right),
    }
    print("\n| contestant | rule | links | false links | precision | recall | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, run in contestants.items():
        start = time.perf_counter()
        links = run()
        took = time.perf_counter() - start
        for k, s in score(links, truth, kind).items():
            precision = s["true"] / s["links"] if s["links"] else 1.0
            recall = s["true"] / s["truth"] if s["truth"] else 1.0
            print(f"| {name} | {k} | {s['links']} | {s['false']} | {precision:.4f} | {recall:.4f} | {took:.1f} |")


if __name__ == "__main__":
    main()
