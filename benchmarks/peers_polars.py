"""The polars peer of the matching benchmark: what a competent polars user writes (lazy API).

Each function reads the workload's parquet inputs with ``scan_parquet`` (projection pushed down), builds
the pairing as one lazy plan, collects the pairs once (they feed both output files) and writes links
and exceptions in the format the harness asks for. Same outputs and columns as the DuckDB and pandas
peers in ``bench_match.py``, so the scoring treats every peer alike.
"""
from __future__ import annotations

from pathlib import Path

import polars as pl

DAILY_CHANNELS = ("拼多多", "抖音")
WINDOW_DAYS = 3
MONEY = pl.Decimal(18, 2)  # the workloads' money type; a sum widens to 38 digits and would not join


def _write(frame: pl.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        frame.write_csv(path)


def courier(data: Path, links_path: Path, exceptions_path: Path) -> None:
    """Full join on the trimmed upper-case waybill; first bill line per waybill, later copies duplicates."""
    key = pl.col("waybill_no").str.strip_chars().str.to_uppercase().alias("k")
    left = pl.scan_parquet(data / "left.parquet").select("source_file", "source_row", key, "expected_fee")
    right = (pl.scan_parquet(data / "right.parquet").select("source_file", "source_row", key, "amount")
             .sort("source_row").with_columns(copy=pl.int_range(pl.len()).over("k")))
    joined = left.join(right.filter(pl.col("copy") == 0), on="k", how="full", coalesce=True, suffix="_r").collect()
    both = pl.col("source_row").is_not_null() & pl.col("source_row_r").is_not_null()
    same = both & (pl.col("expected_fee") == pl.col("amount"))
    ok = joined.filter(same)
    _write(pl.concat([
        ok.select(group_id="k", side=pl.lit("left"), source_file="source_file", source_row="source_row", key="k",
                  amount="expected_fee"),
        ok.select(group_id="k", side=pl.lit("right"), source_file="source_file_r", source_row="source_row_r",
                  key="k", amount="amount"),
    ]), links_path)
    bad_left = joined.filter(pl.col("source_row").is_not_null() & ~same.fill_null(False))
    bad_right = joined.filter(pl.col("source_row_r").is_not_null() & ~same.fill_null(False))
    dups = right.filter(pl.col("copy") > 0).collect()
    _write(pl.concat([
        bad_left.select(side=pl.lit("left"), source_file="source_file", source_row="source_row", key="k",
                        amount="expected_fee",
                        category=pl.when(pl.col("source_row_r").is_null()).then(pl.lit("missing_on_right"))
                        .otherwise(pl.lit("rate_card_violation"))),
        bad_right.select(side=pl.lit("right"), source_file="source_file_r", source_row="source_row_r", key="k",
                         amount="amount",
                         category=pl.when(pl.col("source_row").is_null()).then(pl.lit("missing_on_left"))
                         .otherwise(pl.lit("rate_card_violation"))),
        dups.select(side=pl.lit("right"), source_file="source_file", source_row="source_row", key="k",
                    amount="amount", category=pl.lit("duplicate_on_right")),
    ]), exceptions_path)


def collections(data: Path, links_path: Path, exceptions_path: Path) -> None:
    """Payouts (batch / day + channel / line) summed, joined to credits on channel and amount, +-3 days."""
    day = pl.col("txn_time").dt.date()
    payout = (pl.when(pl.col("batch_id").is_not_null()).then(pl.col("batch_id"))
              .when(pl.col("channel").is_in(DAILY_CHANNELS))
              .then(pl.col("channel") + "|" + day.dt.to_string("%Y-%m-%d"))
              .otherwise(pl.col("txn_id")).alias("payout"))
    lines = (pl.scan_parquet(data / "left.parquet")
             .select("source_file", "source_row", payout, "channel", "amount", day.alias("day")).collect().lazy())
    credits = pl.scan_parquet(data / "right.parquet").select("source_file", "source_row", "channel", "amount",
                                                             "value_date")
    payouts = lines.group_by("payout", "channel").agg(pl.col("amount").sum().cast(MONEY), pl.col("day").max())
    pairs = (payouts.join(credits, on=["channel", "amount"], how="inner")
             .filter((pl.col("value_date") - pl.col("day")).dt.total_days().abs() <= WINDOW_DAYS)
             .select("payout", credit_row="source_row").collect())
    linked = lines.join(pairs.lazy().select("payout").unique(), on="payout", how="semi")
    linked_credits = credits.join(pairs.lazy(), left_on="source_row", right_on="credit_row", how="inner")
    _write(pl.concat([
        linked.select(group_id="payout", side=pl.lit("left"), source_file="source_file", source_row="source_row",
                      key="payout", amount="amount").collect(),
        linked_credits.select(group_id="payout", side=pl.lit("right"), source_file="source_file",
                              source_row="source_row", key="payout", amount="amount").collect(),
    ]), links_path)
    _write(pl.concat([
        lines.join(pairs.lazy().select("payout").unique(), on="payout", how="anti")
        .select(side=pl.lit("left"), source_file="source_file", source_row="source_row", key="payout",
                amount="amount", category=pl.lit("missing_on_right")).collect(),
        credits.join(pairs.lazy(), left_on="source_row", right_on="credit_row", how="anti")
        .select(side=pl.lit("right"), source_file="source_file", source_row="source_row",
                key=pl.lit(None, dtype=pl.String), amount="amount", category=pl.lit("missing_on_left")).collect(),
    ]), exceptions_path)


def _mutual_nearest(pairs: pl.LazyFrame, a: str, b: str) -> pl.LazyFrame:
    """Keep a pair when each side is the other's nearest (gap, then row) candidate: each row used once."""
    best_a = pairs.sort("gap", b).group_by(a).first().select(a, b)
    best_b = pairs.sort("gap", a).group_by(b).first().select(a, b)
    return best_a.join(best_b, on=[a, b], how="inner")


def ambiguity(data: Path, links_path: Path, exceptions_path: Path) -> None:
    """Batches summed and paired to credits of that amount 0-3 days later, then every line without a
    batch to a leftover credit of its amount 0-3 days later, nearest date first (mutual best)."""
    day = pl.col("txn_time").dt.date().alias("day")
    lines = pl.scan_parquet(data / "left.parquet").select("source_file", "source_row", "batch_id", "amount",
                                                          day).collect().lazy()
    credits = (pl.scan_parquet(data / "right.parquet").select("source_file", "source_row", "amount", day)
               .filter(pl.col("amount") > 0).collect().lazy())
    gap = (pl.col("day_r") - pl.col("day")).dt.total_days().alias("gap")
    batches = lines.filter(pl.col("batch_id").is_not_null()).group_by("batch_id").agg(
        pl.col("amount").sum().cast(MONEY), pl.col("day").max())
    bpairs = (batches.join(credits.rename({"source_row": "credit_row", "day": "day_r"}).select(
        "credit_row", "amount", "day_r"), on="amount").with_columns(gap).filter(pl.col("gap").is_between(0, WINDOW_DAYS)))
    bone = _mutual_nearest(bpairs, "batch_id", "credit_row").collect()
    open_credits = credits.join(bone.lazy(), left_on="source_row", right_on="credit_row", how="anti")
    spairs = (lines.filter(pl.col("batch_id").is_null()).select(line_row="source_row", amount="amount", day="day")
              .join(open_credits.select(credit_row="source_row", amount="amount", day_r="day"), on="amount")
              .with_columns(gap).filter(pl.col("gap").is_between(0, WINDOW_DAYS)))
    sone = _mutual_nearest(spairs, "line_row", "credit_row").collect()
    batch_lines = lines.join(bone.lazy(), on="batch_id", how="inner").select(
        group_id="batch_id", side=pl.lit("left"), source_file="source_file", source_row="source_row", amount="amount")
    batch_credits = credits.join(bone.lazy(), left_on="source_row", right_on="credit_row", how="inner").select(
        group_id="batch_id", side=pl.lit("right"), source_file="source_file", source_row="source_row", amount="amount")
    single_id = pl.lit("S") + pl.col("line_row").cast(pl.String)
    single_lines = lines.join(sone.lazy(), left_on="source_row", right_on="line_row", how="inner").select(
        group_id=pl.lit("S") + pl.col("source_row").cast(pl.String), side=pl.lit("left"), source_file="source_file",
        source_row="source_row", amount="amount")
    single_credits = credits.join(sone.lazy(), left_on="source_row", right_on="credit_row", how="inner").select(
        group_id=single_id, side=pl.lit("right"), source_file="source_file", source_row="source_row", amount="amount")
    links = pl.concat([batch_lines, batch_credits, single_lines, single_credits]).collect()
    _write(links, links_path)
    linked = links.lazy().select("side", "source_row")
    _write(pl.concat([
        lines.with_columns(side=pl.lit("left")).join(linked, on=["side", "source_row"], how="anti")
        .select("side", "source_file", "source_row", "amount", category=pl.lit("missing_on_right")),
        credits.with_columns(side=pl.lit("right")).join(linked, on=["side", "source_row"], how="anti")
        .select("side", "source_file", "source_row", "amount", category=pl.lit("missing_on_left")),
    ]).collect(), exceptions_path)
