"""Matching benchmark: our engine against what a competent user writes by hand, measured in one run.

Workloads (``workloads.py``, seeded, written to ``benchmarks/data/``): 1,000,000 shipments vs courier-bill
lines, and 1,000,000 platform settlement lines vs bank credits (batch payouts, daily payouts, one credit
per line), each with about 5% injected discrepancies and the truth kept.

Contestants, each in a fresh Python process so that its peak memory is its own (``os.wait4`` rusage);
the clock (``time.perf_counter``) runs from reading the parquet inputs to the last output file written:

* ``duckdb_key_join`` - the baseline for the 1.5x target: only the join that pairs the rows, result
  materialised (courier: join on waybill_no; collections: payouts grouped by batch / day+channel / line
  and joined to credits on channel and amount - that table has no shared key);
* ``duckdb_sql`` - DuckDB SQL as a competent user writes it: full outer join on the (trimmed, upper-cased)
  key, then compare, write links.csv and exceptions.csv;
* ``pandas`` - ``merge(how="outer", indicator=True)``, then compare, write the same two CSV files;
* ``ours`` - ``recon_helpers.match(left.parquet, right.parquet, recipe)`` + ``result.write(out)``: every rule, links,
  exceptions and summary written (recipes ``courier_bill`` and ``collections_settlement_bank``).

Every contestant that writes links/exceptions is then scored against the truth: injected discrepancies
found (all their rows among the exceptions), false links (a link group whose rows are not exactly one true
group), exceptions that are no discrepancy, and rows not accounted for exactly once.

Run:  .venv/bin/python benchmarks/bench_match.py [--rows 1000000] [--workload courier|collections|all]
      [--contestants ours,pandas,...] [--profile]   (--rows 20000 for a quick try)
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# contestant ``base`` is ours from another checkout (--base), for a before/after paired in one run
sys.path.insert(0, os.environ.get("BENCH_ENGINE_ROOT") or str(HERE.parent))

# The harness process imports nothing heavy and does no data work itself: on Linux a child's peak RSS
# (ru_maxrss) starts from its parent's size at fork, so generating, scoring and every contestant run
# in their own processes.
OUT_DIR = HERE / "out"
DATA_DIR = HERE / "data"
AMBIGUITY_NAMES = ("ambiguity1", "ambiguity10", "ambiguity30")  # workloads.AMBIGUITY_LEVELS
WORKLOAD_NAMES = ("courier", "collections", *AMBIGUITY_NAMES)
CONTESTANTS = ("duckdb_key_join", "duckdb_sql", "polars", "pandas", "ours")
RECIPES = {"courier": "courier_bill", "collections": "collections_settlement_bank",
           **{name: "store_settlement_bank" for name in AMBIGUITY_NAMES}}
DAILY_CHANNELS = ("拼多多", "抖音")  # workloads.DAILY_CHANNELS: paid once a day per channel
WINDOW_DAYS = 3


# =================================================================================================
# contestants (run inside the child process)
# =================================================================================================
# Every contestant writes links and exceptions in the format chosen with --format (csv by default:
# what the CLI writes; parquet: what a user would pick for a million-row result). Same for all, so
# the comparison stays fair.
FORMAT = "csv"


def out_file(out: Path, name: str) -> Path:
    return out / f"{name}.{FORMAT}"


def duck_copy_options() -> str:
    return "(FORMAT PARQUET)" if FORMAT == "parquet" else "(HEADER)"


def write_frame(frame, path: Path) -> None:
    if FORMAT == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)



def courier_key_join(data: Path, out: Path) -> None:
    import duckdb
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE joined AS
        SELECT l.source_row AS left_row, r.source_row AS right_row, l.waybill_no, l.expected_fee, r.amount
        FROM read_parquet('{data / "left.parquet"}') l
        JOIN read_parquet('{data / "right.parquet"}') r ON l.waybill_no = r.waybill_no""")


def courier_duckdb_sql(data: Path, out: Path) -> None:
    import duckdb
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE l AS SELECT source_file, source_row, upper(trim(waybill_no)) AS k, expected_fee
        FROM read_parquet('{data / "left.parquet"}');
        CREATE TABLE r AS SELECT source_file, source_row, upper(trim(waybill_no)) AS k, amount,
               row_number() OVER (PARTITION BY upper(trim(waybill_no)) ORDER BY source_row) AS copy
        FROM read_parquet('{data / "right.parquet"}');
        CREATE TABLE j AS
        SELECT coalesce(l.k, r.k) AS k, l.source_file AS lfile, l.source_row AS lrow, l.expected_fee,
               r.source_file AS rfile, r.source_row AS rrow, r.amount
        FROM l FULL OUTER JOIN (SELECT * FROM r WHERE copy = 1) r ON l.k = r.k;
        COPY (
            SELECT k AS group_id, 'left' AS side, lfile AS source_file, lrow AS source_row, k AS key,
                   expected_fee AS amount, 'key' AS rule, 'matched' AS status
            FROM j WHERE lrow IS NOT NULL AND rrow IS NOT NULL AND expected_fee = amount
            UNION ALL
            SELECT k, 'right', rfile, rrow, k, amount, 'key', 'matched'
            FROM j WHERE lrow IS NOT NULL AND rrow IS NOT NULL AND expected_fee = amount
        ) TO '{out_file(out, "links")}' {duck_copy_options()};
        COPY (
            SELECT 'left' AS side, lfile AS source_file, lrow AS source_row, k AS key, expected_fee AS amount,
                   CASE WHEN rrow IS NULL THEN 'missing_on_right' ELSE 'rate_card_violation' END AS category
            FROM j WHERE lrow IS NOT NULL AND (rrow IS NULL OR expected_fee <> amount)
            UNION ALL
            SELECT 'right', rfile, rrow, k, amount,
                   CASE WHEN lrow IS NULL THEN 'missing_on_left' ELSE 'rate_card_violation' END
            FROM j WHERE rrow IS NOT NULL AND (lrow IS NULL OR expected_fee <> amount)
            UNION ALL
            SELECT 'right', source_file, source_row, k, amount, 'duplicate_on_right' FROM r WHERE copy > 1
        ) TO '{out_file(out, "exceptions")}' {duck_copy_options()};""")


def courier_pandas(data: Path, out: Path) -> None:
    import pandas as pd
    left = pd.read_parquet(data / "left.parquet", dtype_backend="pyarrow",
                           columns=["source_file", "source_row", "waybill_no", "expected_fee"])
    right = pd.read_parquet(data / "right.parquet", dtype_backend="pyarrow",
                            columns=["source_file", "source_row", "waybill_no", "amount"])
    left["k"] = left["waybill_no"].str.strip().str.upper()
    right["k"] = right["waybill_no"].str.strip().str.upper()
    right = right.sort_values("source_row")
    dup = right.duplicated("k", keep="first")
    m = left.merge(right[~dup], on="k", how="outer", indicator=True, suffixes=("_l", "_r"))
    both = m["_merge"] == "both"
    same = both & (m["expected_fee"] == m["amount"]).fillna(False)
    ok = m[same]
    links = pd.concat([
        pd.DataFrame({"group_id": ok["k"], "side": "left", "source_file": ok["source_file_l"],
                      "source_row": ok["source_row_l"], "key": ok["k"], "amount": ok["expected_fee"]}),
        pd.DataFrame({"group_id": ok["k"], "side": "right", "source_file": ok["source_file_r"],
                      "source_row": ok["source_row_r"], "key": ok["k"], "amount": ok["amount"]}),
    ])
    write_frame(links, out_file(out, "links"))
    bad_left = m[m["_merge"].isin(["left_only"]) | (both & ~same)]
    bad_right = m[m["_merge"].isin(["right_only"]) | (both & ~same)]
    dups = right[dup]
    exceptions = pd.concat([
        pd.DataFrame({"side": "left", "source_file": bad_left["source_file_l"], "source_row": bad_left["source_row_l"],
                      "key": bad_left["k"], "amount": bad_left["expected_fee"],
                      "category": (bad_left["_merge"] == "left_only").map({True: "missing_on_right",
                                                                            False: "rate_card_violation"})}),
        pd.DataFrame({"side": "right", "source_file": bad_right["source_file_r"], "source_row": bad_right["source_row_r"],
                      "key": bad_right["k"], "amount": bad_right["amount"],
                      "category": (bad_right["_merge"] == "right_only").map({True: "missing_on_left",
                                                                              False: "rate_card_violation"})}),
        pd.DataFrame({"side": "right", "source_file": dups["source_file"], "source_row": dups["source_row"],
                      "key": dups["k"], "amount": dups["amount"], "category": "duplicate_on_right"}),
    ])
    write_frame(exceptions, out_file(out, "exceptions"))


def _payout_key_sql() -> str:
    daily = ", ".join(f"'{c}'" for c in DAILY_CHANNELS)
    return (f"CASE WHEN batch_id IS NOT NULL THEN batch_id "
            f"WHEN channel IN ({daily}) THEN channel || '|' || CAST(CAST(txn_time AS DATE) AS VARCHAR) "
            f"ELSE txn_id END")


def collections_key_join(data: Path, out: Path) -> None:
    import duckdb
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE joined AS
        WITH payouts AS (
            SELECT {_payout_key_sql()} AS payout, channel, sum(amount) AS amount
            FROM read_parquet('{data / "left.parquet"}') GROUP BY ALL)
        SELECT p.payout, p.amount, c.source_row AS credit_row
        FROM payouts p JOIN read_parquet('{data / "right.parquet"}') c
          ON p.channel = c.channel AND p.amount = c.amount""")


def collections_duckdb_sql(data: Path, out: Path) -> None:
    import duckdb
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE lines AS SELECT source_file, source_row, {_payout_key_sql()} AS payout, channel, amount,
               CAST(txn_time AS DATE) AS day
        FROM read_parquet('{data / "left.parquet"}');
        CREATE TABLE credits AS SELECT source_file, source_row, channel, amount, value_date
        FROM read_parquet('{data / "right.parquet"}');
        CREATE TABLE payouts AS SELECT payout, channel, sum(amount) AS amount, max(day) AS day
        FROM lines GROUP BY payout, channel;
        CREATE TABLE j AS
        SELECT p.payout, c.source_row AS credit_row
        FROM payouts p JOIN credits c
          ON p.channel = c.channel AND p.amount = c.amount
         AND abs(date_diff('day', p.day, c.value_date)) <= {WINDOW_DAYS};
        COPY (
            SELECT j.payout AS group_id, 'left' AS side, l.source_file, l.source_row, l.payout AS key, l.amount,
                   'payout' AS rule, 'matched' AS status
            FROM lines l JOIN j USING (payout)
            UNION ALL
            SELECT j.payout, 'right', c.source_file, c.source_row, j.payout, c.amount, 'payout', 'matched'
            FROM credits c JOIN j ON c.source_row = j.credit_row
        ) TO '{out_file(out, "links")}' {duck_copy_options()};
        COPY (
            SELECT 'left' AS side, l.source_file, l.source_row, l.payout AS key, l.amount,
                   'missing_on_right' AS category
            FROM lines l ANTI JOIN j USING (payout)
            UNION ALL
            SELECT 'right', c.source_file, c.source_row, NULL, c.amount, 'missing_on_left'
            FROM credits c ANTI JOIN j ON c.source_row = j.credit_row
        ) TO '{out_file(out, "exceptions")}' {duck_copy_options()};""")


def collections_pandas(data: Path, out: Path) -> None:
    import pandas as pd
    lines = pd.read_parquet(data / "left.parquet", dtype_backend="pyarrow",
                            columns=["source_file", "source_row", "txn_id", "batch_id", "channel", "txn_time", "amount"])
    credits = pd.read_parquet(data / "right.parquet", dtype_backend="pyarrow",
                              columns=["source_file", "source_row", "channel", "amount", "value_date"])
    day = lines["txn_time"].dt.floor("D")
    daily = lines["channel"].isin(DAILY_CHANNELS)
    lines["payout"] = lines["batch_id"].fillna(
        (lines["channel"] + "|" + day.dt.strftime("%Y-%m-%d")).where(daily, lines["txn_id"]))
    lines["day"] = day
    payouts = lines.groupby(["payout", "channel"], as_index=False).agg(amount=("amount", "sum"), day=("day", "max"))
    credits["credit_day"] = pd.to_datetime(credits["value_date"].astype("datetime64[s]"))
    m = payouts.merge(credits, on=["channel", "amount"], how="outer", indicator=True, suffixes=("_p", "_c"))
    both = m["_merge"] == "both"
    gap = (m["credit_day"] - m["day"].astype("datetime64[s]")).dt.days.abs()
    ok = m[both & (gap <= WINDOW_DAYS).fillna(False)]
    linked_lines = lines[lines["payout"].isin(ok["payout"])]
    linked_credits = credits[credits["source_row"].isin(ok["source_row"])].merge(
        ok[["source_row", "payout"]], on="source_row")
    write_frame(pd.concat([
        pd.DataFrame({"group_id": linked_lines["payout"], "side": "left", "source_file": linked_lines["source_file"],
                      "source_row": linked_lines["source_row"], "key": linked_lines["payout"],
                      "amount": linked_lines["amount"]}),
        pd.DataFrame({"group_id": linked_credits["payout"], "side": "right",
                      "source_file": linked_credits["source_file"], "source_row": linked_credits["source_row"],
                      "key": linked_credits["payout"], "amount": linked_credits["amount"]}),
    ]), out_file(out, "links"))
    open_lines = lines[~lines["payout"].isin(ok["payout"])]
    open_credits = credits[~credits["source_row"].isin(ok["source_row"])]
    write_frame(pd.concat([
        pd.DataFrame({"side": "left", "source_file": open_lines["source_file"], "source_row": open_lines["source_row"],
                      "key": open_lines["payout"], "amount": open_lines["amount"], "category": "missing_on_right"}),
        pd.DataFrame({"side": "right", "source_file": open_credits["source_file"],
                      "source_row": open_credits["source_row"], "key": None, "amount": open_credits["amount"],
                      "category": "missing_on_left"}),
    ]), out_file(out, "exceptions"))


# --- ambiguity workloads: store settlement lines vs bank credits, many same-amount keyless credits ---


def ambiguity_key_join(data: Path, out: Path) -> None:
    import duckdb
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE joined AS
        WITH l AS (SELECT source_row, batch_id, amount, CAST(txn_time AS DATE) AS day
                   FROM read_parquet('{data / "left.parquet"}')),
             payouts AS (SELECT coalesce(batch_id, CAST(source_row AS VARCHAR)) AS payout, sum(amount) AS amount,
                                max(day) AS day FROM l GROUP BY ALL),
             r AS (SELECT source_row, amount, CAST(txn_time AS DATE) AS day FROM read_parquet('{data / "right.parquet"}'))
        SELECT p.payout, r.source_row AS credit_row
        FROM payouts p JOIN r ON r.amount = p.amount AND r.day - p.day BETWEEN 0 AND {WINDOW_DAYS}""")


def ambiguity_duckdb_sql(data: Path, out: Path) -> None:
    """Batches summed and paired on amount 0-3 days later, then lines without a batch to leftover credits
    of their amount, nearest date first, each row used once (a pair both sides rank first)."""
    import duckdb
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE l AS SELECT source_file, source_row, batch_id, amount, CAST(txn_time AS DATE) AS day
        FROM read_parquet('{data / "left.parquet"}');
        CREATE TABLE r AS SELECT source_file, source_row, amount, CAST(txn_time AS DATE) AS day
        FROM read_parquet('{data / "right.parquet"}') WHERE amount > 0;
        CREATE TABLE b AS SELECT batch_id, sum(amount) AS amount, max(day) AS day
        FROM l WHERE batch_id IS NOT NULL GROUP BY batch_id;
        CREATE TABLE bone AS SELECT batch_id, credit_row FROM (
            SELECT b.batch_id, r.source_row AS credit_row,
                   row_number() OVER (PARTITION BY r.source_row ORDER BY r.day - b.day, b.batch_id) AS rc,
                   row_number() OVER (PARTITION BY b.batch_id ORDER BY r.day - b.day, r.source_row) AS rb
            FROM b JOIN r ON r.amount = b.amount AND r.day - b.day BETWEEN 0 AND {WINDOW_DAYS})
        WHERE rc = 1 AND rb = 1;
        CREATE TABLE sone AS SELECT line_row, credit_row FROM (
            SELECT l.source_row AS line_row, r.source_row AS credit_row,
                   row_number() OVER (PARTITION BY r.source_row ORDER BY r.day - l.day, l.source_row) AS rc,
                   row_number() OVER (PARTITION BY l.source_row ORDER BY r.day - l.day, r.source_row) AS rl
            FROM l JOIN r ON r.amount = l.amount AND r.day - l.day BETWEEN 0 AND {WINDOW_DAYS}
            WHERE l.batch_id IS NULL AND r.source_row NOT IN (SELECT credit_row FROM bone))
        WHERE rc = 1 AND rl = 1;
        CREATE TABLE links AS
            SELECT o.batch_id AS group_id, 'left' AS side, l.source_file, l.source_row, l.amount
            FROM l JOIN bone o USING (batch_id)
            UNION ALL
            SELECT o.batch_id, 'right', r.source_file, r.source_row, r.amount FROM r JOIN bone o ON r.source_row = o.credit_row
            UNION ALL
            SELECT 'S' || o.line_row, 'left', l.source_file, l.source_row, l.amount
            FROM l JOIN sone o ON l.source_row = o.line_row
            UNION ALL
            SELECT 'S' || o.line_row, 'right', r.source_file, r.source_row, r.amount
            FROM r JOIN sone o ON r.source_row = o.credit_row;
        COPY links TO '{out_file(out, "links")}' {duck_copy_options()};
        COPY (
            SELECT 'left' AS side, source_file, source_row, amount, 'missing_on_right' AS category
            FROM l WHERE source_row NOT IN (SELECT source_row FROM links WHERE side = 'left')
            UNION ALL
            SELECT 'right', source_file, source_row, amount, 'missing_on_left'
            FROM r WHERE source_row NOT IN (SELECT source_row FROM links WHERE side = 'right')
        ) TO '{out_file(out, "exceptions")}' {duck_copy_options()};""")


def _mutual_nearest_pandas(pairs, a: str, b: str):
    """Pairs that both sides rank first (gap, then the other's row): each row used at most once."""
    best_a = pairs.sort_values(["gap", b], kind="stable").drop_duplicates(a)[[a, b]]
    best_b = pairs.sort_values(["gap", a], kind="stable").drop_duplicates(b)[[a, b]]
    return best_a.merge(best_b, on=[a, b])


def ambiguity_pandas(data: Path, out: Path) -> None:
    import pandas as pd
    lines = pd.read_parquet(data / "left.parquet", dtype_backend="pyarrow",
                            columns=["source_file", "source_row", "batch_id", "amount", "txn_time"])
    credits = pd.read_parquet(data / "right.parquet", dtype_backend="pyarrow",
                              columns=["source_file", "source_row", "amount", "txn_time"])
    credits = credits[credits["amount"] > 0]
    lines["day"] = lines["txn_time"].astype("datetime64[s]").dt.floor("D")
    credits["day"] = credits["txn_time"].astype("datetime64[s]").dt.floor("D")
    in_batch = lines["batch_id"].notna()
    batches = lines[in_batch].groupby("batch_id", as_index=False).agg(amount=("amount", "sum"), day=("day", "max"))
    bp = batches.merge(credits[["source_row", "amount", "day"]].rename(columns={"source_row": "credit_row"}),
                       on="amount", suffixes=("", "_r"))
    bp["gap"] = (bp["day_r"] - bp["day"]).dt.days
    bone = _mutual_nearest_pandas(bp[bp["gap"].between(0, WINDOW_DAYS)], "batch_id", "credit_row")
    open_credits = credits[~credits["source_row"].isin(bone["credit_row"])]
    sp = lines.loc[~in_batch, ["source_row", "amount", "day"]].rename(columns={"source_row": "line_row"}).merge(
        open_credits[["source_row", "amount", "day"]].rename(columns={"source_row": "credit_row"}),
        on="amount", suffixes=("", "_r"))
    sp["gap"] = (sp["day_r"] - sp["day"]).dt.days
    sone = _mutual_nearest_pandas(sp[sp["gap"].between(0, WINDOW_DAYS)], "line_row", "credit_row")
    bl = lines.merge(bone, on="batch_id")
    bc = credits.merge(bone, left_on="source_row", right_on="credit_row")
    sl = lines.merge(sone, left_on="source_row", right_on="line_row")
    sc = credits.merge(sone, left_on="source_row", right_on="credit_row")
    cols = ["group_id", "side", "source_file", "source_row", "amount"]
    links = pd.concat([
        bl.assign(group_id=bl["batch_id"], side="left")[cols],
        bc.assign(group_id=bc["batch_id"], side="right")[cols],
        sl.assign(group_id="S" + sl["line_row"].astype(str), side="left")[cols],
        sc.assign(group_id="S" + sc["line_row"].astype(str), side="right")[cols],
    ])
    write_frame(links, out_file(out, "links"))
    linked_left = set(links.loc[links["side"] == "left", "source_row"].tolist())
    linked_right = set(links.loc[links["side"] == "right", "source_row"].tolist())
    open_l = lines[~lines["source_row"].isin(linked_left)]
    open_r = credits[~credits["source_row"].isin(linked_right)]
    write_frame(pd.concat([
        open_l.assign(side="left", category="missing_on_right")[["side", "source_file", "source_row", "amount", "category"]],
        open_r.assign(side="right", category="missing_on_left")[["side", "source_file", "source_row", "amount", "category"]],
    ]), out_file(out, "exceptions"))


def polars_peer(workload: str):
    """The polars peer of a workload (``peers_polars.py``), writing the files this run's format names."""
    def run(data: Path, out: Path) -> None:
        import peers_polars
        fn = getattr(peers_polars, "ambiguity" if workload.startswith("ambiguity") else workload)
        fn(data, out_file(out, "links"), out_file(out, "exceptions"))
    return run


def run_ours(workload: str, data: Path, out: Path, recipe: str, *, paths: bool = True) -> None:
    """Match and write as a user with Parquet files does: ``match`` is given the files' paths and
    reads only the columns the recipe uses, as the peers read only theirs. ``paths=False`` (contestant
    ``base``: an engine from before Parquet paths) reads those columns into Arrow tables first."""
    import pyarrow.parquet as pq

    import recon_helpers
    from recon_helpers.engine import input_columns

    def read(side: str):
        path = data / f"{side}.parquet"
        if paths:
            return path
        return pq.read_table(path, columns=input_columns(recipe, side, available=pq.read_schema(path).names))

    result = recon_helpers.match(read("left"), read("right"), recipe)
    result.write(out, format=FORMAT)


PEERS = {
    ("courier", "duckdb_key_join"): courier_key_join,
    ("courier", "duckdb_sql"): courier_duckdb_sql,
    ("courier", "pandas"): courier_pandas,
    ("collections", "duckdb_key_join"): collections_key_join,
    ("collections", "duckdb_sql"): collections_duckdb_sql,
    ("collections", "pandas"): collections_pandas,
    **{(name, peer): fn for name in AMBIGUITY_NAMES for peer, fn in (
        ("duckdb_key_join", ambiguity_key_join), ("duckdb_sql", ambiguity_duckdb_sql), ("pandas", ambiguity_pandas))},
    **{(name, "polars"): polars_peer(name) for name in WORKLOAD_NAMES},
}


def child(args: argparse.Namespace) -> None:
    """Run one contestant and print its wall time as JSON on the last line of stdout."""
    global FORMAT
    FORMAT = args.format
    data, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("links.csv", "exceptions.csv", "links.parquet", "exceptions.parquet", "summary.json"):
        (out / name).unlink(missing_ok=True)
    import duckdb  # noqa: F401  - imports are not part of the timed work
    import pandas  # noqa: F401
    if args.child == "polars":
        import peers_polars  # noqa: F401
        import polars  # noqa: F401
    if args.child in ("ours", "base"):
        import recon_helpers.engine.cascade  # noqa: F401
        engine_root = Path(os.environ.get("BENCH_ENGINE_ROOT") or HERE.parent).resolve()
        if not Path(recon_helpers.engine.cascade.__file__).resolve().is_relative_to(engine_root):
            raise SystemExit(f"{args.child}: imported the engine from {recon_helpers.engine.cascade.__file__}, "
                             f"not from {engine_root}")

        def work() -> None:
            run_ours(args.workload, data, out, args.recipe, paths=args.child == "ours")
    else:
        def work() -> None:
            PEERS[(args.workload, args.child)](data, out)

    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    if profiler is not None:
        import pstats
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
    print(json.dumps({"seconds": seconds}))


# =================================================================================================
# harness (parent process)
# =================================================================================================


def run_contestant(workload: str, contestant: str, data: Path, *, recipe: str, profile: bool, fmt: str,
                   base: str | None = None) -> dict:
    """Start a fresh interpreter for one contestant; return seconds, peak RSS and any error."""
    out = OUT_DIR / data.name / contestant
    cmd = [sys.executable, __file__, "--child", contestant, "--workload", workload, "--data", str(data),
           "--out", str(out), "--recipe", recipe, "--format", fmt] + (["--profile"] if profile else [])
    env = dict(os.environ)
    if contestant == "base":
        if not base:
            raise SystemExit("contestant base needs --base CHECKOUT (e.g. git worktree add --detach DIR main)")
        env["BENCH_ENGINE_ROOT"] = str(Path(base).resolve())
        env["PYTHONPATH"] = env["BENCH_ENGINE_ROOT"]
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: its peak RSS in KiB
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        stdout = out_file.read().decode("utf-8", "replace")
        stderr = err_file.read().decode("utf-8", "replace")
    rss_mib = usage.ru_maxrss / 1024
    if profile and stderr:
        print(f"--- profile: {workload} / {contestant} ---\n{stderr}", file=sys.stderr)
    row = {"workload": workload, "contestant": contestant, "out": out, "rss_mib": rss_mib}
    if proc.returncode != 0:
        last = (stderr.strip().splitlines() or ["(no message)"])[-1]
        row["error"] = last[:70]
        return row
    row["seconds"] = json.loads(stdout.strip().splitlines()[-1])["seconds"]
    return row


def ensure_workload(name: str, rows: int, *, regenerate: bool) -> Path:
    """Generate a workload (in a child process) unless it is there already."""
    data = DATA_DIR / f"{name}_{rows}"
    if regenerate or not (data / "meta.json").exists():
        subprocess.run([sys.executable, str(HERE / "workloads.py"), "--rows", str(rows), "--workload", name],
                       check=True, stdout=subprocess.DEVNULL)
    return data


def score_in_child(workload: str, data: Path, out: Path, fmt: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--score", "--workload", workload, "--data", str(data),
                           "--out", str(out), "--format", fmt], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def score(workload: str, data: Path, out: Path, fmt: str = "csv") -> dict:
    """Compare a contestant's links / exceptions files with the truth."""
    import duckdb
    con = duckdb.connect()
    links, exceptions = out / f"links.{fmt}", out / f"exceptions.{fmt}"
    if not links.exists() or not exceptions.exists():
        return {}

    def read(path: Path) -> str:
        if fmt == "parquet":
            return f"read_parquet('{path}')"
        return f"read_csv('{path}', header = true, all_varchar = true)"

    con.execute(f"""
        CREATE TABLE truth AS
            SELECT 'left' AS side, source_row, true_group, event_id FROM read_parquet('{data / "truth_left.parquet"}')
            UNION ALL
            SELECT 'right', source_row, true_group, event_id FROM read_parquet('{data / "truth_right.parquet"}');
        CREATE TABLE links AS SELECT CAST(group_id AS VARCHAR) AS group_id, CAST(side AS VARCHAR) AS side,
               CAST(source_row AS BIGINT) AS source_row
            FROM {read(links)};
        CREATE TABLE exc AS SELECT CAST(side AS VARCHAR) AS side, CAST(source_row AS BIGINT) AS source_row
            FROM {read(exceptions)};""")
    false_links, true_links, linkable = con.execute(f"""
        WITH g AS (
            SELECT l.group_id, count(DISTINCT t.true_group) AS groups, min(t.true_group) AS true_group,
                   count(*) FILTER (WHERE l.side = 'left') AS nl, count(*) FILTER (WHERE l.side = 'right') AS nr
            FROM links l JOIN truth t USING (side, source_row) GROUP BY l.group_id),
        e AS (SELECT * FROM read_parquet('{data / "groups.parquet"}'))
        SELECT count(*) FILTER (WHERE g.groups > 1 OR g.nl <> e.exp_left OR g.nr <> e.exp_right),
               count(*) FILTER (WHERE NOT (g.groups > 1 OR g.nl <> e.exp_left OR g.nr <> e.exp_right)),
               (SELECT count(*) FROM e WHERE exp_left > 0 AND exp_right > 0)
        FROM g JOIN e USING (true_group)""").fetchone()
    found, injected = con.execute(f"""
        WITH hits AS (
            SELECT t.event_id, count(*) FILTER (WHERE x.side = 'left') AS hl,
                   count(*) FILTER (WHERE x.side = 'right') AS hr
            FROM exc x JOIN truth t USING (side, source_row) WHERE t.event_id >= 0 GROUP BY t.event_id)
        SELECT count(*) FILTER (WHERE coalesce(h.hl, 0) >= e.need_left AND coalesce(h.hr, 0) >= e.need_right),
               count(*)
        FROM read_parquet('{data / "events.parquet"}') e LEFT JOIN hits h USING (event_id)""").fetchone()
    extra = con.execute("""
        SELECT count(*) FROM exc x JOIN truth t USING (side, source_row) WHERE t.event_id < 0""").fetchone()[0]
    unaccounted = con.execute("""
        WITH seen AS (SELECT side, source_row FROM links UNION ALL SELECT side, source_row FROM exc),
             n AS (SELECT t.side, t.source_row, count(s.source_row) AS times
                   FROM truth t LEFT JOIN seen s USING (side, source_row) GROUP BY ALL)
        SELECT count(*) FILTER (WHERE times <> 1) FROM n""").fetchone()[0]
    return {"found": found, "injected": injected, "false_links": false_links, "extra": extra,
            "not_once": unaccounted, "recall": true_links / linkable if linkable else 1.0}


def print_table(rows: list[dict]) -> None:
    """One line per (workload, contestant); ratios against the same workload's DuckDB SQL and polars
    peers of this run (time and peak memory: ours / theirs, so above 1 means slower or bigger)."""
    header = ("workload", "contestant", "seconds", "x duckdb_sql", "x polars", "x key join", "peak RSS MiB",
              "RSS x duckdb_sql", "found/injected", "false links", "recall", "extra exc", "rows not once")
    lines = [header]

    def peer(r: dict, name: str, field: str):
        return next((x.get(field) for x in rows if x["workload"] == r["workload"] and x["contestant"] == name), None)

    def ratio(a, b) -> str:
        return f"{a / b:.2f}" if a and b else "-"

    for r in rows:
        s = r.get("seconds")
        sc = r.get("score") or {}
        lines.append((
            r["workload"], r["contestant"],
            f"{s:.2f}" if s else ("error: " + r.get("error", "?")),
            ratio(s, peer(r, "duckdb_sql", "seconds")), ratio(s, peer(r, "polars", "seconds")),
            ratio(s, peer(r, "duckdb_key_join", "seconds")),
            f"{r['rss_mib']:.0f}", ratio(r["rss_mib"] if s else None, peer(r, "duckdb_sql", "rss_mib")),
            f"{sc['found']}/{sc['injected']}" if sc else "-",
            str(sc.get("false_links", "-")), f"{sc['recall']:.4f}" if sc else "-",
            str(sc.get("extra", "-")), str(sc.get("not_once", "-")),
        ))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def machine() -> str:
    import duckdb
    import pandas
    import polars
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, pandas {pandas.__version__}, duckdb {duckdb.__version__}, "
            f"polars {polars.__version__}; "
            f"load average at the end {load} (other work on the machine skews every figure alike)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the matching engine against pandas and DuckDB peers.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="left rows per workload (default 1,000,000)")
    parser.add_argument("--workload", default="all",
                        help=f"comma-separated subset of {', '.join(WORKLOAD_NAMES)} (default all)")
    parser.add_argument("--contestants", default=",".join(CONTESTANTS), help="comma-separated subset to run")
    parser.add_argument("--regenerate", action="store_true", help="write the workload files again")
    parser.add_argument("--profile", action="store_true", help="cProfile each contestant (stderr)")
    parser.add_argument("--recipe", default=None, help="recipe for ours (default: the workload's built-in)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv",
                        help="file format every contestant writes its links and exceptions in (default csv)")
    parser.add_argument("--base", help="checkout whose engine runs as contestant 'base' (ours before a change)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--score", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.score:
        print(json.dumps(score(args.workload, Path(args.data), Path(args.out), args.format)))
        return

    names = list(WORKLOAD_NAMES) if args.workload == "all" else [w.strip() for w in args.workload.split(",")]
    unknown = [w for w in names if w not in WORKLOAD_NAMES]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOAD_NAMES)}")
    chosen = [c.strip() for c in args.contestants.split(",") if c.strip()]
    rows = []
    for name in names:
        data = ensure_workload(name, args.rows, regenerate=args.regenerate)
        for contestant in chosen:
            recipe = args.recipe or RECIPES[name]
            row = run_contestant(name, contestant, data, recipe=recipe, profile=args.profile, fmt=args.format,
                                 base=args.base)
            if "seconds" in row and contestant != "duckdb_key_join":
                row["score"] = score_in_child(name, data, row["out"], args.format)
            rows.append(row)
            print(f"  {name} / {contestant}: " + (f"{row['seconds']:.2f} s, {row['rss_mib']:.0f} MiB"
                                                  if "seconds" in row else row["error"]), file=sys.stderr)
    print(f"\nMatching benchmark, {args.rows:,} rows per workload, results written as {args.format}, "
          f"{dt.date.today().isoformat()}")
    print(machine())
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
