"""The Spark back-end: the store's SQL (written once, in the DuckDB spelling) rendered into Spark SQL.

Why sqlglot: the statements are ordinary SQL with a few dialect spellings (quoted identifiers,
``VARCHAR``, ``regexp_replace(..., 'g')``, ``regexp_matches``, ``string_agg ... ORDER BY``, ``ltrim(x, '0')``);
sqlglot parses them once and writes the Spark spelling of each, so no rule is written twice. What
sqlglot cannot translate is not spelling but semantics, and is done here on the parsed statement:

* tables are Spark DataFrames behind session temp views, named with a per-store prefix (one session
  serves many matches at once); ``CREATE TABLE ... AS`` materialises (``localCheckpoint``), a view stays lazy;
* ``INSERT INTO t SELECT`` is a union, ``UPDATE t SET ... [FROM s] WHERE c`` a rewrite of ``t``,
  ``DROP`` / ``ALTER ... RENAME`` move names;
* ``/`` divides as DuckDB does (in floating point: ``1.0 / 3`` is a double, not a Spark decimal) and a
  regex replacement's ``\\1`` becomes Java's ``$1``.
"""
from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from recon_helpers.errors import UsageError

READ, WRITE = "duckdb", "spark"


def _spark_errors() -> tuple[type[BaseException], ...]:
    from pyspark.errors import PySparkException

    try:
        from py4j.protocol import Py4JJavaError
    except ImportError:  # Spark Connect has no py4j
        return (PySparkException,)
    return (PySparkException, Py4JJavaError)


class SparkBackend:
    """Runs the store's statements in a SparkSession (local, a cluster, or Spark Connect)."""

    name = "spark"
    #: Spark's tables cannot delete rows: a snapshot of undecided rows is always rebuilt
    deletes_rows = False

    def __init__(self, spark: Any):
        self.spark = spark
        self.errors = _spark_errors()
        self.prefix = f"recon_{secrets.token_hex(4)}_"
        self.tables: dict[str, Any] = {}  # name as the SQL writes it (lower case) -> DataFrame

    # -- names -----------------------------------------------------------------------------------
    def _view(self, name: str) -> str:
        return self.prefix + name

    def _set(self, name: str, frame: Any) -> None:
        key = name.lower()
        self.tables[key] = frame
        frame.createOrReplaceTempView(self._view(key))

    def _forget(self, name: str) -> None:
        key = name.lower()
        if self.tables.pop(key, None) is not None:
            self.spark.catalog.dropTempView(self._view(key))

    # -- rendering -------------------------------------------------------------------------------
    def render(self, node: exp.Expression) -> str:
        """Spark SQL of one parsed (DuckDB-spelled) query: our tables renamed to their views."""
        node = node.copy()
        ctes = {c.alias_or_name.lower() for c in node.find_all(exp.CTE)}
        for table in list(node.find_all(exp.Table)):
            name = table.name.lower()
            if name in self.tables and name not in ctes and not table.args.get("db"):
                if not table.alias:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
                table.set("this", exp.to_identifier(self._view(name)))
        for div in list(node.find_all(exp.Div)):
            div.set("this", exp.cast(div.this, exp.DataType.build("double")))
        for rep in list(node.find_all(exp.RegexpReplace)):
            with_ = rep.args.get("replacement")
            if isinstance(with_, exp.Literal) and with_.is_string:
                java = re.sub(r"\\(\d)", r"$\1", with_.this.replace("$", "\\$"))
                rep.set("replacement", exp.Literal.string(java))
        return node.sql(dialect=WRITE)

    def query(self, sql: str) -> Any:
        """A DataFrame of one SELECT written in the store's spelling."""
        return self.spark.sql(self.render(sqlglot.parse_one(sql, read=READ)))

    # -- the back-end protocol -------------------------------------------------------------------
    def register(self, name: str, table: pa.Table) -> None:
        self._set(name, self.spark.createDataFrame(table))

    def register_frame(self, name: str, frame: Any) -> None:
        """A Spark DataFrame (a lake table, Parquet or Delta files) under a name the SQL can use."""
        self._set(name, frame)

    def unregister(self, name: str) -> None:
        self._forget(name)

    def run(self, sql: str) -> None:
        for statement in sqlglot.parse(sql, read=READ):
            if statement is not None:
                self._statement(statement)

    def arrow(self, sql: str) -> pa.Table:
        return self.query(sql).toArrow()

    def scalar(self, sql: str):
        rows = self.query(sql).take(1)
        return rows[0][0] if rows else None

    def relation(self, select_sql: str) -> pa.Table:
        """What write_csv writes: the (ordered) result as Arrow. Parquet is the output that stays in Spark."""
        return self.arrow(select_sql)

    def write_parquet(self, select_sql: str, path: Path) -> None:
        """One Parquet file at ``path`` (Spark writes a folder of parts: written as one part, then moved)."""
        folder = Path(f"{path}.parts")
        self.query(select_sql).coalesce(1).write.mode("overwrite").parquet(str(folder))
        parts = sorted(folder.glob("part-*.parquet"))
        if len(parts) != 1:
            raise UsageError(f"Spark wrote {len(parts)} Parquet parts into {folder}, expected one; "
                             "is the output folder on a file system the driver can read?")
        shutil.move(str(parts[0]), str(path))
        shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        for name in list(self.tables):
            self._forget(name)

    # -- statements --------------------------------------------------------------------------------
    def _statement(self, node: exp.Expression) -> None:
        if isinstance(node, exp.Create):
            self._create(node)
        elif isinstance(node, exp.Insert):
            self._insert(node)
        elif isinstance(node, exp.Update):
            self._update(node)
        elif isinstance(node, exp.Drop):
            for table in node.args.get("tables") or [node.this]:
                self._forget(table.name)
        elif isinstance(node, exp.Alter) and any(isinstance(a, exp.AlterRename) for a in node.args.get("actions", [])):
            rename = next(a for a in node.args["actions"] if isinstance(a, exp.AlterRename))
            frame = self.tables[node.this.name.lower()]
            self._forget(node.this.name)
            self._set(rename.this.name, frame)
        elif isinstance(node, exp.Set):
            return  # engine settings (threads, ...) mean nothing to Spark
        else:
            self.spark.sql(self.render(node)).collect()

    def _create(self, node: exp.Create) -> None:
        target = node.this
        if isinstance(target, exp.Schema):  # CREATE TABLE t (col type, ...): empty, with that schema
            ddl = ", ".join(c.sql(dialect=WRITE) for c in target.expressions)
            self._set(target.this.name, self.spark.createDataFrame([], schema=ddl))
            return
        frame = self.spark.sql(self.render(node.expression))
        if str(node.args.get("kind", "")).upper() == "VIEW":
            self._set(target.name, frame)  # lazy, like a DuckDB view
        else:
            self._set(target.name, self._keep(frame))

    @staticmethod
    def _keep(frame: Any) -> Any:
        """A table's rows computed now and held without their history (``localCheckpoint``): later
        statements read the rows, and dropping the tables they came from costs nothing. (A lazy cache
        instead recomputes a table's whole history once its sources are dropped.)"""
        return frame.localCheckpoint()

    def _insert(self, node: exp.Insert) -> None:
        from pyspark.sql import functions as F

        target = node.this
        columns = None
        if isinstance(target, exp.Schema):
            columns = [c.name for c in target.expressions]
            target = target.this
        old = self.tables[target.name.lower()]
        new = self.spark.sql(self.render(node.expression))
        names = columns or old.columns
        new = new.toDF(*names)
        aligned = new.select(*[(F.col(f"`{f.name}`") if f.name in names else F.lit(None)).cast(f.dataType).alias(f.name)
                               for f in old.schema.fields])
        self._set(target.name, self._keep(old.unionByName(aligned)))

    def _update(self, node: exp.Update) -> None:
        """UPDATE t SET c = e, ... [FROM s AS a] WHERE cond, as a new t (Spark views cannot be updated).

        With FROM: t LEFT JOIN s ON cond (at most one s row per t row, as the store's updates are
        written); without: the rows where cond holds, rewritten, UNION ALL the others unchanged.
        """
        name = node.this.name
        old = self.tables[name.lower()]
        sets = {e.this.name.lower(): e.expression for e in node.expressions}
        cond = node.args.get("where").this if node.args.get("where") else exp.true()
        source = node.args.get("from_") or node.args.get("from")
        view = exp.to_identifier(self._view(name.lower()))
        alias = exp.to_identifier(name)
        if source is not None:
            src = source.this
            src_alias = src.alias_or_name
            hit = exp.column("__hit", table=src_alias)
            inner = exp.select(exp.Star(), exp.alias_(exp.true(), "__hit")).from_(src.copy())
            picks = [exp.alias_(exp.If(this=hit.copy(), true=sets[c.lower()].copy(), false=exp.column(c, table=name))
                                if c.lower() in sets else exp.column(c, table=name), c) for c in old.columns]
            query = (exp.select(*picks).from_(exp.Table(this=view, alias=exp.TableAlias(this=alias)))
                     .join(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(src_alias))),
                           on=cond.copy(), join_type="left"))
            frame = self.spark.sql(self.render(query))
        else:
            table = exp.Table(this=exp.to_identifier(name))
            changed = exp.select(*[exp.alias_(sets[c.lower()].copy() if c.lower() in sets else exp.column(c), c)
                                   for c in old.columns]).from_(table.copy()).where(cond.copy())
            same = exp.select(exp.Star()).from_(table.copy()).where(
                exp.Not(this=exp.Is(this=exp.paren(cond.copy()), expression=exp.true())))
            frame = self.spark.sql(self.render(changed)).unionByName(self.spark.sql(self.render(same)))
        frame = frame.select(*[frame[f"`{f.name}`"].cast(f.dataType).alias(f.name) for f in old.schema.fields])
        self._set(name, self._keep(frame))


def spark_session(*, master: str | None = None, app_name: str = "recon-workbench") -> Any:
    """The active SparkSession, else one built from the standard Spark configuration.

    ``SPARK_REMOTE`` set: a Spark Connect session to that address. Run by spark-submit: the master it
    was given. Otherwise ``master`` (or ``RECON_SPARK_MASTER``), default ``local[2]``. A session built
    here reads timestamps in UTC; a local one uses few shuffle partitions (small data, two cores).
    """
    import os
    import sys

    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError("the Spark engine needs pyspark: pip install 'recon-workbench[spark]' "
                         "(and Java 17, e.g. Debian openjdk-17-jre-headless)") from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName(app_name).config("spark.sql.session.timeZone", "UTC")
    if os.environ.get("SPARK_REMOTE"):
        return builder.remote(os.environ["SPARK_REMOTE"]).getOrCreate()
    submitted = bool(os.environ.get("PYSPARK_GATEWAY_PORT"))  # spark-submit started the JVM, master chosen
    chosen = master or os.environ.get("RECON_SPARK_MASTER") or (None if submitted else "local[2]")
    if chosen:
        builder = builder.master(chosen)
    if chosen and chosen.startswith("local"):
        # the decisions run Python in Spark tasks: a local session's workers use this interpreter (and its pandas)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = (builder.config("spark.sql.shuffle.partitions", os.environ.get("RECON_SPARK_PARTITIONS", "2"))
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false"))
    return builder.getOrCreate()
