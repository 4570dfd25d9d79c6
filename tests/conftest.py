"""Shared fixtures: the repository paths, the real-format corpus, and one small demo month.

The demo month is generated once per test session (once per xdist worker) with the same arguments
the README uses, only smaller (300 orders), so tests read the very files a user would get.
"""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_PERIOD = "2026-10"
DEMO_SEED = 7
DEMO_ORDERS = 300


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def notebooks_dir() -> Path:
    return REPO / "notebooks"


@pytest.fixture(scope="session")
def real_corpus() -> Path:
    """Public real-format samples (shared/corpus/real beside the repo); skip when CI lacks them."""
    folder = REPO.parent / "shared" / "corpus" / "real"
    if not folder.is_dir():
        pytest.skip(f"real-format samples not found at {folder} (the shared/ folder is not beside the repo)")
    return folder


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small deterministic demo month (period 2026-10, seed 7, 300 orders), generated once."""
    from recon_helpers.demo import generate

    out = tmp_path_factory.mktemp("demo") / "demo"
    generate(out, period=DEMO_PERIOD, seed=DEMO_SEED, orders=DEMO_ORDERS)
    return out
