"""Where the matcher's SQL runs: a back-end is a small object the match store hands every statement to.

Why a seam here: the rules are SQL text built once (:mod:`recon_helpers.engine.sql` and the store);
only *where* it runs differs. DuckDB embedded (:mod:`.duckdb_backend`) is the default and needs nothing
but the package; Apache Spark (:mod:`.spark_backend`, the ``[spark]`` extra plus Java 17) runs the same
statements, rendered into Spark SQL, where the data already live.

A back-end offers ``register`` / ``unregister`` (an Arrow table as a named relation), ``run`` (statements
without a result), ``arrow`` (a query's result as Arrow), ``scalar``, ``relation`` (something
:func:`recon_helpers.export.write_csv` can write), ``write_parquet``, ``close`` and ``errors`` (the
exception classes a bad user-written condition raises, so the cascade can name the rule). Optional:
``deletes_rows`` (tables take ``DELETE``; without it a snapshot is rebuilt), ``keeping_order()``
(a context in which a writer's projection of a sorted query keeps its order), ``compact()``
(make the tables written so far smaller: a match calls it once its inputs are in and once its
rules are done), ``home(table)`` and ``create_table(name, select_sql)`` (where and how the store's
long-lived tables are created; default: under their own name, by ``CREATE TABLE ... AS``),
``writers()`` (a context yielding connections that write a result's parts side by side, each with
``run`` and ``relation``; default: the store's own, one part after another).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from recon_helpers.errors import UsageError

ENGINES = ("duckdb", "spark")

#: the engine (and Spark session) a match uses when its caller names none: set by :func:`use_engine`
_default: dict[str, Any] = {"engine": "duckdb", "spark": None}


def check_engine(engine: str) -> str:
    """The engine name, or a UsageError naming the choices."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    return engine


def use_engine(engine: str = "duckdb", *, spark: Any = None) -> str:
    """Make ``engine`` the one every later ``match`` of this process uses unless told otherwise.

    Why: a notebook's checks call ``match`` deep inside scenario code; its ``engine`` parameter is
    set once, here (``recon.use_engine(engine)``), rather than passed through every scenario.
    Returns the engine name, so a cell shows it.
    """
    _default["engine"], _default["spark"] = check_engine(engine), spark
    return engine


def default_engine() -> tuple[str, Any]:
    """(engine, spark session or None) a match without an ``engine`` argument runs on."""
    return _default["engine"], _default["spark"]


def open_store(engine: str = "duckdb", *, threads: int | None = None, spark: Any = None):
    """A fresh match store on ``engine`` ("duckdb" or "spark"; ``spark``: a SparkSession to use, else
    one is built from the standard Spark configuration, see :func:`.spark_backend.spark_session`)."""
    from recon_helpers.engine.store import MatchStore

    if check_engine(engine) == "duckdb":
        from recon_helpers.engine.backends.duckdb_backend import DuckDBBackend

        return MatchStore(backend=DuckDBBackend(threads=threads))
    from recon_helpers.engine.backends.spark_store import SparkMatchStore

    return SparkMatchStore.open(spark=spark)


def is_engine_input(table: Any) -> bool:
    """An input already in a back-end's own form (a Spark input: schema and rows stay in Spark)."""
    return type(table).__name__ == "SparkInput" and type(table).__module__.endswith("spark_store")


def spark_inputs(recipe: Any, left: Any, right: Any, third: Any, *, spark: Any = None) -> tuple[Any, Any, Any]:
    """The inputs of a Spark match: Spark DataFrames, Parquet/Delta paths and table names become
    Spark inputs (read where they live); loaded pandas or Arrow tables are left as they are.

    Raises MatchInputError when a Spark input meets a recipe with ``prepare:`` or ``units:`` steps:
    those run on pandas, i.e. on the driver, which is what a lake input must not do.
    """
    from recon_helpers.engine.backends.spark_store import is_spark_frame, spark_input
    from recon_helpers.errors import MatchInputError

    out = []
    for side, table in (("left", left), ("right", right), ("third", third)):
        if table is not None and (is_spark_frame(table) or isinstance(table, (str, Path))):
            if recipe.prepare or recipe.units:
                raise MatchInputError(
                    f"recipe {recipe.name!r} has prepare/units steps, which run on pandas; the {side} input "
                    "lives in Spark. Prepare it first (recon_helpers.prepare_tables on a loaded table, or the "
                    "same steps in Spark) and match with a recipe without those steps")
            table = spark_input(table, side, spark=spark)
        out.append(table)
    return out[0], out[1], out[2]
