"""The installed package carries its catalog: a wheel installed outside the checkout lists every template,
recipe, rate card and scenario, and finds its notebooks; a missing catalog is a loud error."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "recon_helpers").rglob("__init__.py")}
    assert folders <= listed and {"recon_helpers.templates", "recon_helpers.notebooks"} <= listed


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, installed (without dependencies) into a folder of its own."""
    base = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(base / "dist"),
                    str(REPO)], check=True, capture_output=True, cwd=base)
    wheel = next((base / "dist").glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(base / "site"), str(wheel)],
                   check=True, capture_output=True, cwd=base)
    return base


def recon(installed: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    code = ("import sys, recon_helpers, recon_helpers.cli as cli\n"
            f"assert recon_helpers.__file__.startswith({str(installed / 'site')!r}), recon_helpers.__file__\n"
            "sys.exit(cli.main(sys.argv[1:]))")
    environment = {**os.environ, "PYTHONPATH": str(installed / "site"), **(env or {})}
    environment.pop("RECON_TEMPLATES", None) if not env else None
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=installed, env=environment)


def test_an_installed_wheel_lists_every_template_and_recipe(installed):
    templates = recon(installed, "templates")
    assert templates.returncode == 0, templates.stderr
    names = {line.split()[0] for line in templates.stdout.splitlines() if line.strip()}
    assert names == {p.stem for p in (REPO / "templates" / "sources").glob("*.yaml")}
    recipes = recon(installed, "recipes")
    assert recipes.returncode == 0, recipes.stderr
    assert {line.split()[0] for line in recipes.stdout.splitlines() if line.strip()} == {
        p.stem for p in (REPO / "templates" / "recipes").glob("*.yaml")}
    copy = installed / "site" / "recon_helpers"
    assert (copy / "notebooks" / "courier_bill.ipynb").is_file()
    assert (copy / "templates" / "scenarios" / "courier_bill.yaml").is_file()
    assert (copy / "templates" / "rate_cards" / "sf.yaml").is_file()


def test_a_missing_catalog_is_a_loud_error(installed, tmp_path):
    done = recon(installed, "templates", env={"RECON_TEMPLATES": str(tmp_path / "nowhere")})
    assert done.returncode == 2 and done.stdout == ""
    assert "templates folder is missing" in done.stderr and "RECON_TEMPLATES" in done.stderr
