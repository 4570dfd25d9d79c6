"""`recon close`: refuses listing what is unexplained (exit 1), closes when explained, reopens on the record."""
from __future__ import annotations

from recon_helpers.cli import main
from recon_helpers.review import journal
from recon_helpers.review.session import ReviewSession
from recon_helpers.review.workspace import Workspace


def test_close_refuses_and_lists_the_unexplained_exceptions(demo_dir, tmp_path, capsys, sf_check):
    ws = tmp_path / "ws"
    code = main(["close", "--period", "2026-10", "--scenario", "courier_bill", "--run", "sf", "--by", "王会计",
                 "--data", str(demo_dir), "--workspace", str(ws)])
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot be closed" in err
    assert err.count("courier/sf_bill.xlsx") + err.count("erp/shipments.csv") == len(sf_check.exceptions())
    assert journal.read(Workspace(ws)).empty


def test_close_then_reopen_through_the_command(demo_dir, tmp_path, capsys, sf_check):
    ws = Workspace(tmp_path / "ws")
    session = ReviewSession(sf_check, ws, actor="王会计")
    session.wait(session.queue()["fingerprint"], note="all sent to SF")
    args = ["--period", "2026-10", "--scenario", "courier_bill", "--run", "sf", "--by", "王会计", "--workspace", str(ws.folder)]
    assert main(["close", *args, "--data", str(demo_dir), "--note", "signed"]) == 0
    out = capsys.readouterr().out
    assert f"{len(sf_check.exceptions())} open items carried" in out
    assert main(["close", *args, "--reopen"]) == 2
    assert "say why" in capsys.readouterr().err
    assert main(["close", *args, "--reopen", "--note", "corrected bill"]) == 0
    assert journal.read(ws)["action"].tolist()[-2:] == ["close", "reopen"]
    assert main(["close", *args, "--run", "nowhere", "--data", str(demo_dir)]) == 2


def test_close_of_a_scenario_without_a_check_module_says_so(demo_dir, tmp_path, capsys, monkeypatch, repo_root):
    import shutil

    catalog = tmp_path / "templates"
    shutil.copytree(repo_root / "templates", catalog)
    (catalog / "scenarios" / "ghost.yaml").write_text(
        "name: ghost\ntitle: {zh: 幽灵, en: Ghost}\nrecipes: [courier_bill]\n", encoding="utf-8")
    monkeypatch.setenv("RECON_TEMPLATES", str(catalog))
    from recon_helpers import catalog as catalogs
    from recon_helpers.scenarios import registry

    # a shelf of its own, so the made-up entry does not stay registered for the tests after this one
    monkeypatch.setattr(registry, "SCENARIOS", catalogs.Shelf("scenarios", read=registry.read_scenario,
                                                              name_of=lambda s: s.name, noun="scenario"))
    code = main(["close", "--period", "2026-10", "--scenario", "ghost", "--by", "王会计", "--data", str(demo_dir),
                 "--workspace", str(tmp_path / "ws")])
    assert code == 2 and "has no check module yet" in capsys.readouterr().err
