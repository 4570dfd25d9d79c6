"""The match store on Spark: the same statements as on DuckDB, plus the few steps that must not bring
every row to the driver (the every-row-once figures, inputs that already live in Spark, and the keyless
decisions: their candidate pairs stay in Spark and are decided in Spark tasks, see :mod:`.spark_blocks`).

Only what differs is here; every rule's SQL is :class:`~recon_helpers.engine.store.MatchStore`'s.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd
import pyarrow as pa

from recon_helpers.engine.backends import spark_blocks
from recon_helpers.engine.backends.spark_backend import SparkBackend, spark_session
from recon_helpers.engine.backends.spark_blocks import SparkCandidates
from recon_helpers.engine.one_to_one import BlockResult
from recon_helpers.engine.store import MatchStore
from recon_helpers.errors import MatchInputError


class SparkInput:
    """A Spark DataFrame (a lake table, Parquet or Delta files) as a match input: the schema the
    recipe checks (as Arrow types) and the row count, without reading the rows on the driver."""

    def __init__(self, frame: Any, side: str):
        from pyspark.sql import functions as F

        if "source_file" not in frame.columns:
            frame = frame.withColumn("source_file", F.lit(f"<{side}>"))
        if "source_row" not in frame.columns:  # 1..n in the order Spark reads the frame (fixed once rows_<side> is built)
            from pyspark.sql import Window

            frame = frame.withColumn("source_row", F.row_number().over(
                Window.orderBy(F.monotonically_increasing_id())).cast("bigint"))
        self.frame, self.side, self._rows = frame, side, None
        self.schema = _arrow_schema(frame.schema)
        self.column_names = list(self.schema.names)

    @property
    def num_rows(self) -> int:
        if self._rows is None:
            self._rows = int(self.frame.count())
        return self._rows

    def select(self, columns: Sequence[str]) -> "SparkInput":
        return SparkInput(self.frame.select(*[f"`{c}`" for c in columns]), self.side)


def _arrow_schema(schema: Any) -> pa.Schema:
    try:
        from pyspark.sql.pandas.types import to_arrow_schema
    except ImportError:  # pragma: no cover - pyspark without its pandas helpers
        raise MatchInputError("this pyspark lacks pyspark.sql.pandas; install 'recon-workbench[spark]'") from None
    return to_arrow_schema(schema, timezone="UTC")  # only the types are read (timestamps are compared as days)


def is_spark_frame(table: Any) -> bool:
    """A Spark DataFrame (classic or Spark Connect), without importing pyspark when it is absent."""
    return type(table).__module__.startswith("pyspark.sql") and hasattr(table, "schema") and hasattr(table, "columns")


def spark_input(table: Any, side: str, *, spark: Any = None) -> SparkInput:
    """A Spark DataFrame, a Parquet file or folder, a Delta table folder, or a catalog table name."""
    if isinstance(table, SparkInput):
        return table
    if is_spark_frame(table):
        return SparkInput(table, side)
    session = spark or spark_session()
    text = str(table)
    path = Path(text)
    if (path / "_delta_log").is_dir():
        return SparkInput(session.read.format("delta").load(text), side)
    if path.exists() or "://" in text:
        return SparkInput(session.read.parquet(text), side)
    if session.catalog.tableExists(text):
        return SparkInput(session.table(text), side)
    raise MatchInputError(f"the {side} input {text!r} is neither a Spark DataFrame, a Parquet or Delta path "
                          "nor a table in the Spark catalog; pass one of these, or a loaded table")


class SparkMatchStore(MatchStore):
    """MatchStore whose back-end is a SparkSession."""

    @classmethod
    def open(cls, *, spark: Any = None) -> "SparkMatchStore":
        return cls(backend=SparkBackend(spark if spark is not None else spark_session()))

    @property
    def spark(self) -> Any:
        return self.backend.spark

    def with_rid(self, table: "pa.Table | SparkInput", columns: Sequence[str]) -> Any:
        """As on DuckDB; a Spark input gets its content rank (``_rid``: rank by source_file, source_row,
        from 0) in Spark, so its rows never pass through the driver."""
        if not isinstance(table, SparkInput):
            return super().with_rid(table, columns)
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        return table.frame.select(*[f"`{c}`" for c in columns]).withColumn("_rid", (F.row_number().over(
            Window.orderBy("source_file", "source_row")) - 1).cast("bigint"))

    def register(self, name: str, data: Any) -> None:
        if is_spark_frame(data):
            self.backend.register_frame(name, data)
        else:
            super().register(name, data)

    # -- decisions in Spark tasks (see spark_blocks): the candidate pairs never reach the driver --
    def candidate_frame(self, sql: str, *, exact: bool = False) -> SparkCandidates:
        """The candidate pairs kept in Spark (computed once)."""
        return SparkCandidates(self.backend.query(sql))

    def decide_one_to_one(self, cand: SparkCandidates, costs: Callable[[pd.DataFrame], pd.DataFrame], *,
                          left: str = "left_rid", right: str = "right_rid") -> tuple[pd.DataFrame, BlockResult]:
        """As on DuckDB, with each connected block of the candidates decided in a Spark task; returns
        only the candidates of the refused rows' ranked pairs (what their explanations show)."""
        return spark_blocks.decide_one_to_one(cand, costs, left=left, right=right, buckets=self._buckets())

    def decide_subsets(self, cand: SparkCandidates, decide: Callable[[pd.DataFrame], list]) -> list:
        """As on DuckDB, with buckets of whole problems solved in Spark tasks."""
        return spark_blocks.decide_subsets(cand, decide, buckets=self._buckets())

    def score_texts(self, cand: SparkCandidates, score: Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]
                    ) -> tuple[SparkCandidates, pd.DataFrame]:
        """As on DuckDB, with buckets of whole left rows scored in Spark tasks; the accepted pairs stay in Spark."""
        return spark_blocks.score_texts(cand, score, buckets=self._buckets())

    def _buckets(self) -> int:
        """How many groups a decision is split into: one per shuffle partition, so every core has work."""
        return int(self.spark.conf.get("spark.sql.shuffle.partitions", "2"))

    def side_figures(self, sides: Sequence[str]) -> pd.DataFrame:
        """The every-row-once figures as one LEFT JOIN aggregate per side, computed in Spark: only the
        per-side counts and totals come back (see :meth:`MatchStore.side_figures` for their meaning)."""
        frames = []
        for side in sides:
            frames.append(self.pandas(f"""
                WITH o AS (SELECT _rid, is_link FROM outcome WHERE side = '{side}'),
                     j AS (SELECT r._rid, r._amount, o._rid AS orid, o.is_link
                           FROM rows_{side} r LEFT JOIN o ON o._rid = r._rid)
                SELECT '{side}' AS side, (SELECT count(*) FROM rows_{side}) AS n_rows,
                       (SELECT count(*) FROM o) AS n_outcomes,
                       count(*) FILTER (WHERE orid IS NULL) AS n_missing, count(orid) AS n_joined,
                       (SELECT COALESCE(sum(_amount), 0) FROM rows_{side}) AS total,
                       count(*) FILTER (WHERE is_link) AS matched_rows,
                       COALESCE(sum(_amount) FILTER (WHERE is_link), 0) AS matched,
                       count(*) FILTER (WHERE NOT is_link) AS unmatched_rows,
                       COALESCE(sum(_amount) FILTER (WHERE NOT is_link), 0) AS unmatched
                FROM j"""))
        out = pd.concat(frames, ignore_index=True)
        for col in ("total", "matched", "unmatched"):
            out[col] = [Decimal(str(v)) for v in out[col]]
        return out
