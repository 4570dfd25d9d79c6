"""The batch starts the runs that took longest last time first, so two workers stay busy to the end."""
from __future__ import annotations

import json
import os
from pathlib import Path

from recon_helpers.report.batch import PlannedRun, longest_first, previous_seconds


def _planned(*runs: tuple[str, str]) -> list[PlannedRun]:
    return [PlannedRun(Path(f"{name}.ipynb"), name, run, {}) for name, run in runs]


def _manifest(folder: Path, seconds: dict[tuple[str, str], float], mtime: int) -> None:
    folder.mkdir(parents=True)
    runs = [{"name": n, "run": r, "seconds": s, "status": "ok"} for (n, r), s in seconds.items()]
    (folder / "manifest.json").write_text(json.dumps({"notebooks": runs}), encoding="utf-8")
    os.utime(folder / "manifest.json", (mtime, mtime))


def test_the_longest_run_of_the_last_report_starts_first_and_an_untimed_one_before_it(tmp_path):
    _manifest(tmp_path / "2026-09", {("collections", "taobao"): 10.0}, mtime=1_000)
    _manifest(tmp_path / "2026-10", {("cashier", "all"): 40.0, ("collections", "taobao"): 300.0,
                                     ("collections", "wechat"): 55.0, ("returns", "all"): 35.0}, mtime=2_000)
    seconds = previous_seconds(tmp_path)
    assert seconds[("collections", "taobao")] == 300.0, "the newest report's times"
    planned = _planned(("cashier", "all"), ("collections", "taobao"), ("collections", "wechat"), ("outbound", "all"),
                       ("returns", "all"))
    assert [planned[i].scenario + "/" + planned[i].run for i in longest_first(planned, seconds)] == \
           ["outbound/all", "collections/taobao", "collections/wechat", "cashier/all", "returns/all"]


def test_without_a_previous_report_the_plan_order_stays(tmp_path):
    (tmp_path / "2026-10").mkdir()
    (tmp_path / "2026-10" / "manifest.json").write_text("{not json", encoding="utf-8")
    assert previous_seconds(tmp_path) == {} and previous_seconds(tmp_path / "nothing") == {}
    assert longest_first(_planned(("b", "all"), ("a", "all"), ("c", "x")), {}) == [0, 1, 2]
