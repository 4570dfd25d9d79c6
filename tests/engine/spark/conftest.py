"""Spark tests: one local[2] SparkSession per test process (starting one takes seconds), reused.

They skip, saying why, when pyspark or Java is missing; under CI (CI=true) a missing Java or pyspark
fails them instead, because CI installs both (``make test`` installs ``.[dev,spark]`` and
``.ci/system-packages`` installs Java 17).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest


def spark_missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return ("Java is not installed (Debian: apt-get install openjdk-17-jre-headless; "
                ".ci/system-packages installs it when run as root)")
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.spark)


def require_spark() -> None:
    """Skip (saying why) when Spark cannot run here; under CI fail instead."""
    why = spark_missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the Spark tests must run under CI, but {why}")
        pytest.skip(f"Spark tests skipped: {why}")


@pytest.fixture
def spark_can_run() -> None:
    """For a test that starts Spark in another process (a notebook kernel): skips like ``spark``."""
    require_spark()


@pytest.fixture(scope="session")
def spark():
    require_spark()
    from recon_helpers.engine.backends.spark_backend import spark_session

    session = spark_session(master="local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _sorted_text(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.astype("string").fillna("<null>")
    return text.sort_values(list(text.columns)).reset_index(drop=True)


def assert_same_result(duck, on_spark) -> None:
    """Links and exceptions equal cell by cell (as text, sorted), summaries equal as JSON."""
    for table in ("links", "exceptions"):
        a, b = getattr(duck, table), getattr(on_spark, table)
        assert list(a.columns) == list(b.columns), table
        pd.testing.assert_frame_equal(_sorted_text(a), _sorted_text(b), obj=table)
    assert duck.summary.to_dict() == on_spark.summary.to_dict()


@pytest.fixture
def same_result():
    return assert_same_result
