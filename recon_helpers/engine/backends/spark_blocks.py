"""Decisions on Spark: candidate pairs stay in Spark, are grouped into blocks there, and every block is
decided in a Spark task by the very functions the DuckDB path calls on the driver (``one_to_one`` and
the public pieces of :mod:`~recon_helpers.engine.one_to_one` it is built from; never its private ones).

Why: on DuckDB the keyless rules collect their candidate pairs and decide them in Python
(:func:`~recon_helpers.engine.one_to_one.one_to_one`, :func:`~recon_helpers.engine.subset_sum.subset_sum_many`).
On Spark the candidate table can be many times the input, so it must not travel to the driver.
What travels is only what was decided: one row per link, and the ranked candidates of the rows
that were refused.

* One-to-one: the blocks are the connected components of the candidate graph (a left and a right
  row are in one block when a chain of candidate pairs joins them), found by min-label propagation
  in Spark. ``one_to_one`` decides each component on its own exactly as it does inside the whole
  graph, so running it per component (``groupBy(block).applyInPandas``) gives the same links and
  the same refusals. A component with more rows than ``one_to_one`` would solve is all open there;
  here its rows are ranked row by row with ``rank_open_rows`` (each row's candidates are one small
  group), so no task ever holds a block bigger than one row's candidates.
* Subset sums: each problem (one row of the 'one' side and its nearest candidates) is already a
  block; problems are hashed into buckets so one task solves many at once, as ``subset_sum_many`` expects.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from recon_helpers.engine.one_to_one import (
    BlockResult,
    cheapest_edge_per_pair,
    edge_arrays,
    one_to_one,
    pair_frame,
    rank_open_rows,
    ranked_frame,
)
from recon_helpers.engine.subset_sum import SubsetResult

#: the rows a decision task hands back: a link (kind 'pair': left_rid, right_rid, cost) or one ranked
#: candidate of a refused row (kind 'rank': side, rid, cside, crid, cost, rank)
DECISION_SCHEMA = ("kind string, left_rid bigint, right_rid bigint, cost double, side string, rid bigint, "
                   "cside string, crid bigint, rank bigint")
SUBSET_SCHEMA = "orid bigint, status string, members array<bigint>, alternatives array<array<bigint>>, nodes bigint"

Costs = Callable[[pd.DataFrame], pd.DataFrame]


class SparkCandidates:
    """A candidate table kept in Spark: what a keyless candidate query returns on a Spark store.

    The rows are computed once (``localCheckpoint``): blocks, decisions and explanations read them
    several times, and the snapshots they were built from may be dropped meanwhile.
    """

    def __init__(self, frame: Any):
        self.frame = frame.localCheckpoint()

    @property
    def empty(self) -> bool:
        return self.frame.isEmpty()

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)


# ---------------------------------------------------------------------------------------------------
# blocks: connected components in Spark
# ---------------------------------------------------------------------------------------------------
def component_labels(edges: Any) -> Any:
    """The smallest node of each node's connected component, for undirected edges (columns a, b:
    bigint node ids): a DataFrame n (node), c (its component's label).

    Min-label propagation: every round each node takes the smallest label among itself and its
    neighbours, then jumps to its label's label (which halves chains, so a long run of same-amount
    rows settles in a few rounds instead of one round per row). Labels only ever fall, and stay
    nodes of the node's own component; when no edge joins two labels, each component has one.
    """
    from pyspark.sql import functions as F

    e = edges.select(F.col("a").cast("bigint").alias("a"), F.col("b").cast("bigint").alias("b")).distinct()
    e = e.localCheckpoint()
    label = (e.select(F.col("a").alias("n")).union(e.select(F.col("b").alias("n"))).distinct()
             .withColumn("c", F.col("n")).localCheckpoint())
    while True:
        ends = (e.join(label.withColumnRenamed("n", "a").withColumnRenamed("c", "ca"), "a")
                 .join(label.withColumnRenamed("n", "b").withColumnRenamed("c", "cb"), "b")
                 .select("a", "b", F.least("ca", "cb").alias("m")))
        offer = (ends.select(F.col("a").alias("n"), "m").union(ends.select(F.col("b").alias("n"), "m"))
                 .groupBy("n").agg(F.min("m").alias("m")))
        step = label.join(offer, "n", "left").select("n", F.least("c", F.coalesce("m", "c")).alias("c"))
        jump = step.alias("x").join(step.alias("y"), F.col("x.c") == F.col("y.n"), "left")
        new = jump.select(F.col("x.n").alias("n"),
                          F.least(F.col("x.c"), F.coalesce(F.col("y.c"), F.col("x.c"))).alias("c")).localCheckpoint()
        settled = (e.join(new.withColumnRenamed("n", "a").withColumnRenamed("c", "ca"), "a")
                    .join(new.withColumnRenamed("n", "b").withColumnRenamed("c", "cb"), "b")
                    .where(F.col("ca") != F.col("cb")).isEmpty())
        label = new
        if settled:
            return label


def with_blocks(cand: SparkCandidates, *, left: str, right: str) -> Any:
    """The candidate rows with ``_block`` (their component) and ``_size`` (its left plus right rows)."""
    from pyspark.sql import functions as F

    frame = cand.frame
    left_node, right_node = F.col(left).cast("bigint") * 2, F.col(right).cast("bigint") * 2 + 1
    label = component_labels(frame.select(left_node.alias("a"), right_node.alias("b")))
    sizes = label.groupBy("c").agg(F.count("*").alias("_size"))
    return (frame.join(label.select(F.col("n").alias("_node"), F.col("c").alias("_block")), left_node == F.col("_node"))
            .drop("_node").join(sizes.withColumnRenamed("c", "_block"), "_block"))


# ---------------------------------------------------------------------------------------------------
# one-to-one per block
# ---------------------------------------------------------------------------------------------------
def decide_one_to_one(cand: SparkCandidates, costs: Costs, *, left: str = "left_rid", right: str = "right_rid",
                      buckets: int = 2, max_block: int = 200) -> tuple[pd.DataFrame, BlockResult]:
    """:func:`one_to_one` of ``costs(cand)``, decided block by block in Spark tasks.

    ``costs`` maps candidate rows to the edges ``one_to_one`` reads (left_rid, right_rid, cost), row
    by row; ``left`` / ``right`` name the candidate columns that are its left and right rows. Whole
    blocks are hashed into ``buckets`` groups (one Python call decides many small blocks, as
    ``one_to_one`` does on the driver: it splits what it is given into the same blocks).
    Returns (the candidate rows of the ranked pairs, for the explanations; the BlockResult ``one_to_one``
    gives on the whole table).
    """
    from pyspark.sql import functions as F

    blocked = with_blocks(cand, left=left, right=right)
    columns = [c for c in blocked.columns if c not in ("_block", "_size")]
    n = F.lit(max(1, int(buckets)))
    small = (blocked.where(F.col("_size") <= max_block)
             .groupBy(F.pmod(F.xxhash64("_block"), n).alias("_bucket"))
             .applyInPandas(lambda part: _decide_blocks(part[columns], costs, max_block), DECISION_SCHEMA))
    big = blocked.where(F.col("_size") > max_block).select(*columns)
    rows = (big.select(*columns, F.lit("left").alias("_side"), F.col(left).cast("bigint").alias("_row"))
            .union(big.select(*columns, F.lit("right").alias("_side"), F.col(right).cast("bigint").alias("_row"))))
    ranked_big = (rows.groupBy(F.pmod(F.xxhash64("_side", "_row"), n).alias("_bucket"))
                  .applyInPandas(lambda part: _rank_rows_of_big_blocks(part, columns, costs), DECISION_SCHEMA))
    decisions = small.union(ranked_big).localCheckpoint()
    decided = decisions.toArrow().to_pandas()
    if not (decided["kind"] == "rank").any():
        shown = cand.frame.limit(0).toArrow().to_pandas()
        return shown, _block_result(decided, shown, left=left, right=right)
    is_left = F.col("side") == "left"
    seen = (decisions.where(F.col("kind") == "rank")
            .select(F.when(is_left, F.col("rid")).otherwise(F.col("crid")).alias("_l"),
                    F.when(is_left, F.col("crid")).otherwise(F.col("rid")).alias("_r")).distinct())
    shown = (cand.frame.join(seen, (F.col(left).cast("bigint") == F.col("_l")) & (F.col(right).cast("bigint") == F.col("_r")))
             .drop("_l", "_r")).toArrow().to_pandas()
    return shown, _block_result(decided, shown, left=left, right=right)


def _decide_blocks(part: pd.DataFrame, costs: Costs, max_block: int) -> pd.DataFrame:
    """Whole components, decided by ``one_to_one`` (in a Spark task)."""
    decided = one_to_one(costs(part), max_block=max_block)
    return _plain(pd.concat([_pair_rows(decided.pairs_frame()), _rank_rows(decided.ranked_candidates())],
                            ignore_index=True))


def _rank_rows_of_big_blocks(part: pd.DataFrame, columns: list[str], costs: Costs) -> pd.DataFrame:
    """The ranked candidates of rows of components too big to solve (all their rows are open, as in
    ``one_to_one``). ``part`` holds every candidate of each of its rows (``_side``, ``_row``); an
    edge may come twice (once for each of its rows): it is the same pair at the same cost."""
    left, right, cost = edge_arrays(costs(part[columns]))
    edges = cheapest_edge_per_pair(left, right, cost, np.arange(left.size))
    side, row = part["_side"].to_numpy(dtype=object), part["_row"].to_numpy(dtype=np.int64)
    open_left, open_right = np.unique(row[side == "left"]), np.unique(row[side == "right"])
    return _plain(_rank_rows(rank_open_rows(*edges, open_left, open_right)))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain Python objects: pandas 3 keeps text in Arrow arrays of several chunks
    after a concat, which Spark's conversion of a task's result does not take."""
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)]
    return frame.astype({c: object for c in text})


def _pair_rows(pairs: pd.DataFrame) -> pd.DataFrame:
    n = len(pairs)
    return pd.DataFrame({"kind": ["pair"] * n, "left_rid": pairs["left_rid"].to_numpy(np.int64),
                         "right_rid": pairs["right_rid"].to_numpy(np.int64), "cost": pairs["cost"].to_numpy(np.float64),
                         "side": [None] * n, "rid": pd.array([None] * n, dtype="Int64"), "cside": [None] * n,
                         "crid": pd.array([None] * n, dtype="Int64"), "rank": pd.array([None] * n, dtype="Int64")})


def _rank_rows(ranked: pd.DataFrame) -> pd.DataFrame:
    n = len(ranked)
    return pd.DataFrame({"kind": ["rank"] * n, "left_rid": pd.array([None] * n, dtype="Int64"),
                         "right_rid": pd.array([None] * n, dtype="Int64"), "cost": ranked["cost"].to_numpy(np.float64),
                         "side": ranked["side"].astype(object).to_numpy(), "rid": ranked["rid"].to_numpy(np.int64),
                         "cside": ranked["cside"].astype(object).to_numpy(), "crid": ranked["crid"].to_numpy(np.int64),
                         "rank": ranked["rank"].to_numpy(np.int64)})


def _block_result(decisions: pd.DataFrame, shown: pd.DataFrame, *, left: str, right: str) -> BlockResult:
    """The BlockResult of the whole graph from the blocks' decisions: pairs sorted by left row id,
    ranked candidates by side, row and rank (the order ``one_to_one`` gives), each ranked pair's
    ``edge`` its row in ``shown`` (the candidates that come back with it)."""
    pairs = decisions[decisions["kind"] == "pair"].sort_values("left_rid", kind="stable")
    ranked = decisions[decisions["kind"] == "rank"].sort_values(["side", "rid", "rank"], kind="stable")
    is_left = ranked["side"].to_numpy(dtype=object) == "left"
    rid, crid = ranked["rid"].to_numpy(dtype=np.int64), ranked["crid"].to_numpy(dtype=np.int64)
    where = pd.DataFrame({"l": shown[left].to_numpy(dtype=np.int64), "r": shown[right].to_numpy(dtype=np.int64),
                          "edge": np.arange(len(shown), dtype=np.int64)}).drop_duplicates(["l", "r"])
    asked = pd.DataFrame({"l": np.where(is_left, rid, crid), "r": np.where(is_left, crid, rid)})
    edge = asked.merge(where, how="left", on=["l", "r"], sort=False)["edge"].fillna(-1).to_numpy(dtype=np.int64)
    return BlockResult(
        pair_frame=pair_frame(pairs["left_rid"].to_numpy(dtype=np.int64), pairs["right_rid"].to_numpy(dtype=np.int64),
                              pairs["cost"].to_numpy(dtype=np.float64)),
        ranked=ranked_frame(ranked["side"].to_numpy(dtype=object), rid, ranked["cside"].to_numpy(dtype=object), crid,
                            ranked["cost"].to_numpy(dtype=np.float64), ranked["rank"].to_numpy(dtype=np.int64), edge))


# ---------------------------------------------------------------------------------------------------
# subset sums per problem
# ---------------------------------------------------------------------------------------------------
def decide_subsets(cand: SparkCandidates, decide: Callable[[pd.DataFrame], list[tuple[int, SubsetResult]]], *,
                   buckets: int) -> list[tuple[int, SubsetResult]]:
    """``decide`` (candidates sorted by orid, mrid -> [(orid, SubsetResult)]) run in Spark tasks,
    each on a bucket of whole problems; the results in orid order, as ``decide`` gives them on one table."""
    from pyspark.sql import functions as F

    bucket = F.pmod(F.xxhash64(F.col("orid")), F.lit(max(1, int(buckets))))
    columns = cand.columns  # (a computed grouping key is not among a group's columns)
    solved = cand.frame.groupBy(bucket.alias("_bucket")).applyInPandas(
        lambda part: _subset_rows(part[columns], decide), SUBSET_SCHEMA)
    got = solved.toArrow().to_pylist()
    got.sort(key=lambda r: r["orid"])
    return [(int(r["orid"]), SubsetResult(r["status"], tuple(int(m) for m in r["members"] or ()),
                                          [tuple(int(m) for m in alt) for alt in r["alternatives"] or ()],
                                          int(r["nodes"])))
            for r in got]


def _subset_rows(part: pd.DataFrame, decide) -> pd.DataFrame:
    part = part.sort_values(["orid", "mrid"], kind="stable").reset_index(drop=True)
    results = decide(part)
    return _plain(pd.DataFrame({"orid": [o for o, _ in results], "status": [r.status for _, r in results],
                         "members": [list(r.members) for _, r in results],
                         "alternatives": [[list(a) for a in r.alternatives] for _, r in results],
                         "nodes": [r.nodes for _, r in results]}).astype({"orid": "int64", "nodes": "int64"}))


# ---------------------------------------------------------------------------------------------------
# fuzzy text scores per left row
# ---------------------------------------------------------------------------------------------------
TEXT_SCHEMA = ("kind string, left_rid bigint, right_rid bigint, cost double, side string, rid bigint, cside string, "
               "crid bigint, score double, lrid bigint, seq bigint")


def score_texts(cand: SparkCandidates, score: Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]], *,
                buckets: int) -> tuple[SparkCandidates, pd.DataFrame]:
    """``score`` (text candidates -> accepted pairs, suggestions) run in Spark tasks on buckets of whole
    left rows. The accepted pairs stay in Spark (one_to_one decides them next); the suggestions come
    back in the order ``score`` gives on the whole table (by left row, then rank)."""
    from pyspark.sql import functions as F

    bucket = F.pmod(F.xxhash64(F.col("left_rid")), F.lit(max(1, int(buckets))))
    columns = cand.columns
    scored = cand.frame.groupBy(bucket.alias("_bucket")).applyInPandas(
        lambda part: _text_rows(part[columns], score), TEXT_SCHEMA).localCheckpoint()
    accepted = SparkCandidates(scored.where(F.col("kind") == "accept").select("left_rid", "right_rid", "cost"))
    got = scored.where(F.col("kind") == "suggest").toArrow().to_pandas().sort_values(["lrid", "seq"], kind="stable")
    suggested = pd.DataFrame({"side": got["side"].astype(object).to_numpy(), "rid": got["rid"].to_numpy(np.int64),
                              "cside": got["cside"].astype(object).to_numpy(), "crid": got["crid"].to_numpy(np.int64),
                              "score": got["score"].to_numpy(np.float64)})
    return accepted, suggested


def _text_rows(part: pd.DataFrame, score) -> pd.DataFrame:
    accepted, suggested = score(part)
    n, m = len(accepted), len(suggested)
    lrid = np.where(suggested["side"].to_numpy(dtype=object) == "left", suggested["rid"], suggested["crid"]) if m else []
    none = pd.array([None] * n, dtype="Int64")
    return _plain(pd.concat([
        pd.DataFrame({"kind": ["accept"] * n, "left_rid": accepted["left_rid"].to_numpy(np.int64),
                      "right_rid": accepted["right_rid"].to_numpy(np.int64), "cost": accepted["cost"].to_numpy(np.float64),
                      "side": [None] * n, "rid": none, "cside": [None] * n, "crid": none, "score": [None] * n,
                      "lrid": none, "seq": none}),
        pd.DataFrame({"kind": ["suggest"] * m, "left_rid": pd.array([None] * m, dtype="Int64"),
                      "right_rid": pd.array([None] * m, dtype="Int64"), "cost": [None] * m,
                      "side": suggested["side"].astype(object).to_numpy(), "rid": suggested["rid"].to_numpy(np.int64),
                      "cside": suggested["cside"].astype(object).to_numpy(), "crid": suggested["crid"].to_numpy(np.int64),
                      "score": suggested["score"].to_numpy(np.float64), "lrid": np.asarray(lrid, dtype=np.int64),
                      "seq": np.arange(m, dtype=np.int64)})], ignore_index=True))
