"""Templates, recipes, rate cards and scenario entries are read as safe YAML and validated (#16 item 6).

A hostile catalog file (a Python object tag, an alias bomb, a key nobody defined) is refused with a
TemplateError naming the file, never run or followed; each is tried on a real file of each kind.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from recon_helpers.engine.recipe import load_recipe
from recon_helpers.errors import TemplateError
from recon_helpers.scenarios.courier_bill.rate_card import load_rate_card
from recon_helpers.scenarios.registry import read_scenario
from recon_helpers.sources.templates import get_template

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
KINDS = {
    "source template": (TEMPLATES / "sources" / "erp_shipments.yaml", get_template),
    "recipe": (TEMPLATES / "recipes" / "courier_bill.yaml", load_recipe),
    "rate card": (TEMPLATES / "rate_cards" / "sf.yaml", load_rate_card),
    "scenario entry": (TEMPLATES / "scenarios" / "courier_bill.yaml", read_scenario),
}


def _alias_bomb(levels: int = 9) -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{k}: &lol{k} [" + ", ".join([f"*lol{k - 1}"] * 10) + "]" for k in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.fixture(params=sorted(KINDS))
def kind(request):
    return request.param


def _copy(kind: str, tmp_path: Path, extra: str) -> tuple[Path, object]:
    source, reader = KINDS[kind]
    path = tmp_path / source.name
    path.write_text(source.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return path, reader


def test_the_untouched_files_load(kind, tmp_path):
    path, reader = _copy(kind, tmp_path, "")
    assert reader(path) is not None


def test_a_python_object_tag_is_refused_and_never_run(kind, tmp_path):
    marker = tmp_path / "pwned"
    path, reader = _copy(kind, tmp_path, f'evil: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(TemplateError, match=r"(?s)not valid YAML.*python/object") as caught:
        reader(path)
    assert path.name in str(caught.value)
    assert not marker.exists()


def test_an_alias_bomb_is_refused_quickly(kind, tmp_path):
    path, reader = _copy(kind, tmp_path, _alias_bomb())
    start = time.perf_counter()
    with pytest.raises(TemplateError) as caught:
        reader(path)
    assert time.perf_counter() - start < 10
    assert path.name in str(caught.value) and len(str(caught.value)) < 2000


def test_an_unknown_key_is_refused_naming_it(kind, tmp_path):
    path, reader = _copy(kind, tmp_path, "colour_of_the_sky: blue\n")
    with pytest.raises(TemplateError, match="colour_of_the_sky"):
        reader(path)
