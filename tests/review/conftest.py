"""Review fixtures: one courier check of the small demo month, and a fresh workspace per test."""
from __future__ import annotations

from pathlib import Path

import pytest

DEMO_PERIOD = "2026-10"


@pytest.fixture(scope="session")
def sf_check(demo_dir: Path):
    """The demo month's SF courier check (21 exceptions)."""
    from recon_helpers.scenarios import courier_bill

    return courier_bill.check(period=DEMO_PERIOD, data_dir=demo_dir, carrier="sf")


@pytest.fixture
def workspace(tmp_path: Path):
    from recon_helpers.review.workspace import Workspace

    return Workspace(tmp_path / "ws", timeout=20)


@pytest.fixture
def session(sf_check, workspace):
    from recon_helpers.review.session import ReviewSession

    return ReviewSession(sf_check, workspace, actor="王会计")
