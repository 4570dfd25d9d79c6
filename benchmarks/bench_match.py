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
* ``ours`` - ``recon_helpers.match(left, right, recipe)`` + ``result.write(out)``: every rule, links,
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
sys.path.insert(0, str(HERE.parent))

# The harness process imports nothing heavy and does no data work itself: on Linux a child's peak RSS
# (ru_maxrss) starts from its parent's size at fork, so generating, scoring and every contestant run
# in their own processes.
OUT_DIR = HERE / "out"
DATA_DIR = HERE / "data"
WORKLOAD_NAMES = ("courier", "collections")
CONTESTANTS = ("duckdb_key_join", "duckdb_sql", "pandas", "ours")
RECIPES = {"courier": "courier_bill", "collections": "collections_settlement_bank"}
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


def run_ours(workload: str, data: Path, out: Path, recipe: str) -> None:
    """Like the peers, read only the columns the recipe uses (``input_columns``), then match and write."""
    import pandas as pd
    import pyarrow.parquet as pq

    import recon_helpers
    from recon_helpers.engine import input_columns

    def read(side: str) -> pd.DataFrame:
        path = data / f"{side}.parquet"
        cols = input_columns(recipe, side, available=pq.read_schema(path).names)
        return pd.read_parquet(path, columns=cols, dtype_backend="pyarrow")

    result = recon_helpers.match(read("left"), read("right"), recipe)
    result.write(out, format=FORMAT)


PEERS = {
    ("courier", "duckdb_key_join"): courier_key_join,
    ("courier", "duckdb_sql"): courier_duckdb_sql,
    ("courier", "pandas"): courier_pandas,
    ("collections", "duckdb_key_join"): collections_key_join,
    ("collections", "duckdb_sql"): collections_duckdb_sql,
    ("collections", "pandas"): collections_pandas,
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
    if args.child == "ours":
        import recon_helpers.engine.cascade  # noqa: F401

        def work() -> None:
            run_ours(args.workload, data, out, args.recipe)
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


def run_contestant(workload: str, contestant: str, data: Path, *, recipe: str, profile: bool, fmt: str) -> dict:
    """Start a fresh interpreter for one contestant; return seconds, peak RSS and any error."""
    out = OUT_DIR / data.name / contestant
    cmd = [sys.executable, __file__, "--child", contestant, "--workload", workload, "--data", str(data),
           "--out", str(out), "--recipe", recipe, "--format", fmt] + (["--profile"] if profile else [])
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file)
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
    false_links = con.execute(f"""
        WITH g AS (
            SELECT l.group_id, count(DISTINCT t.true_group) AS groups, min(t.true_group) AS true_group,
                   count(*) FILTER (WHERE l.side = 'left') AS nl, count(*) FILTER (WHERE l.side = 'right') AS nr
            FROM links l JOIN truth t USING (side, source_row) GROUP BY l.group_id)
        SELECT count(*) FROM g JOIN read_parquet('{data / "groups.parquet"}') e USING (true_group)
        WHERE g.groups > 1 OR g.nl <> e.exp_left OR g.nr <> e.exp_right""").fetchone()[0]
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
            "not_once": unaccounted}


def print_table(rows: list[dict]) -> None:
    header = ("workload", "contestant", "seconds", "x key join", "pandas/this", "peak RSS MiB",
              "found/injected", "false links", "extra exc", "rows not once")
    lines = [header]
    for r in rows:
        base = next((x.get("seconds") for x in rows if x["workload"] == r["workload"]
                     and x["contestant"] == "duckdb_key_join"), None)
        pandas_s = next((x.get("seconds") for x in rows if x["workload"] == r["workload"]
                         and x["contestant"] == "pandas"), None)
        s = r.get("seconds")
        sc = r.get("score") or {}
        lines.append((
            r["workload"], r["contestant"],
            f"{s:.2f}" if s else ("error: " + r.get("error", "?")),
            f"{s / base:.2f}" if s and base else "-",
            f"{pandas_s / s:.2f}" if s and pandas_s else "-",
            f"{r['rss_mib']:.0f}",
            f"{sc['found']}/{sc['injected']}" if sc else "-",
            str(sc.get("false_links", "-")), str(sc.get("extra", "-")), str(sc.get("not_once", "-")),
        ))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def machine() -> str:
    import duckdb
    import pandas
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, pandas {pandas.__version__}, duckdb {duckdb.__version__}; "
            f"load average at the end {load} (other work on the machine skews every figure alike)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the matching engine against pandas and DuckDB peers.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="left rows per workload (default 1,000,000)")
    parser.add_argument("--workload", choices=[*WORKLOAD_NAMES, "all"], default="all", help="which workload")
    parser.add_argument("--contestants", default=",".join(CONTESTANTS), help="comma-separated subset to run")
    parser.add_argument("--regenerate", action="store_true", help="write the workload files again")
    parser.add_argument("--profile", action="store_true", help="cProfile each contestant (stderr)")
    parser.add_argument("--recipe", default=None, help="recipe for ours (default: the workload's built-in)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv",
                        help="file format every contestant writes its links and exceptions in (default csv)")
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

    names = list(WORKLOAD_NAMES) if args.workload == "all" else [args.workload]
    chosen = [c.strip() for c in args.contestants.split(",") if c.strip()]
    rows = []
    for name in names:
        data = ensure_workload(name, args.rows, regenerate=args.regenerate)
        for contestant in chosen:
            recipe = args.recipe or RECIPES[name]
            row = run_contestant(name, contestant, data, recipe=recipe, profile=args.profile, fmt=args.format)
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
