"""environment.yml (conda users) and pyproject.toml (pip users) must declare the same runtime deps.

The comparison parses both files: names are compared PEP 503-normalised, version specifiers as
specifier sets, and the Python requirement too. A drift in either direction fails with a list of
every difference.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def pyproject_requirements(text: str) -> tuple[dict[str, str], str]:
    """name -> specifier set, and requires-python, from pyproject.toml text."""
    project = tomllib.loads(text)["project"]
    reqs = {}
    for line in project["dependencies"]:
        req = Requirement(line)
        reqs[canonicalize_name(req.name)] = str(req.specifier)
    return reqs, str(SpecifierSet(project["requires-python"]))


def environment_requirements(text: str) -> tuple[dict[str, str], str]:
    """name -> specifier set from the ``pip:`` list, and the python spec, from environment.yml text.

    Pip options such as ``-e .[dev]`` (the project itself) are not runtime requirements and are skipped.
    """
    env = yaml.safe_load(text)
    pip_lines: list[str] = []
    python_spec = ""
    for dep in env["dependencies"]:
        if isinstance(dep, dict) and "pip" in dep:
            pip_lines.extend(dep["pip"])
        elif isinstance(dep, str) and canonicalize_name(Requirement(dep.replace(" ", "")).name) == "python":
            python_spec = str(Requirement(dep.replace(" ", "")).specifier)
    reqs = {}
    for line in pip_lines:
        if line.strip().startswith("-"):
            continue
        req = Requirement(line)
        reqs[canonicalize_name(req.name)] = str(req.specifier)
    return reqs, str(SpecifierSet(python_spec))


def dependency_drift(pyproject_text: str, environment_text: str) -> list[str]:
    """Every difference between the two files' runtime requirements; [] when they agree."""
    project, project_python = pyproject_requirements(pyproject_text)
    env, env_python = environment_requirements(environment_text)
    problems = [f"{name}: in pyproject.toml, missing from environment.yml" for name in sorted(project.keys() - env.keys())]
    problems += [f"{name}: in environment.yml, missing from pyproject.toml" for name in sorted(env.keys() - project.keys())]
    problems += [
        f"{name}: pyproject.toml says {project[name] or 'any'}, environment.yml says {env[name] or 'any'}"
        for name in sorted(project.keys() & env.keys())
        if SpecifierSet(project[name]) != SpecifierSet(env[name])
    ]
    if SpecifierSet(project_python) != SpecifierSet(env_python):
        problems.append(f"python: pyproject.toml requires {project_python}, environment.yml says {env_python or 'any'}")
    return problems


@pytest.fixture(scope="module")
def pyproject_text() -> str:
    return (REPO / "pyproject.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def environment_text() -> str:
    return (REPO / "environment.yml").read_text(encoding="utf-8")


def test_environment_and_pyproject_declare_the_same_runtime_dependencies(pyproject_text, environment_text):
    assert dependency_drift(pyproject_text, environment_text) == []


def test_the_issue_core_dependencies_are_declared(pyproject_text):
    project = tomllib.loads(pyproject_text)["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    dev = {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["dev"]}
    assert {"jupyterlab", "pandas", "ipywidgets", "plotly", "papermill"} <= runtime
    assert {"pytest", "nbval"} <= dev


def test_environment_installs_the_project_with_dev_extras(environment_text):
    env = yaml.safe_load(environment_text)
    assert env["name"] == "recon-workbench"
    pip = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    assert "-e .[dev]" in pip


def test_a_changed_version_is_detected(pyproject_text, environment_text):
    drifted = environment_text.replace("pandas>=2.2", "pandas>=2.1")
    assert drifted != environment_text
    assert dependency_drift(pyproject_text, drifted) == [
        "pandas: pyproject.toml says >=2.2, environment.yml says >=2.1"
    ]


def test_a_dependency_missing_on_either_side_is_detected(pyproject_text, environment_text):
    without_duckdb = environment_text.replace("      - duckdb>=1.1\n", "")
    assert dependency_drift(pyproject_text, without_duckdb) == ["duckdb: in pyproject.toml, missing from environment.yml"]
    with_extra = environment_text.replace("      - -e .[dev]\n", "      - requests>=2.31\n      - -e .[dev]\n")
    assert dependency_drift(pyproject_text, with_extra) == ["requests: in environment.yml, missing from pyproject.toml"]


def test_names_are_compared_normalised_and_python_is_checked(pyproject_text, environment_text):
    spelled_differently = environment_text.replace("charset-normalizer>=3.3", "Charset_Normalizer >= 3.3")
    assert dependency_drift(pyproject_text, spelled_differently) == []
    older_python = environment_text.replace("python>=3.11", "python>=3.10")
    assert dependency_drift(pyproject_text, older_python) == [
        "python: pyproject.toml requires >=3.11, environment.yml says >=3.10"
    ]
