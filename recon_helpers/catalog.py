"""The catalog of data-as-code: source templates, recipes, rate cards, scenarios and report templates.

All of them are files under one folder, ``templates/`` at the top of the repository, which also ships
inside the installed package (``recon_helpers/templates/`` in a wheel). This module is the one place
that knows where that folder is, how its YAML is read and how its schemas report problems, so every
kind of entry behaves alike:

* :func:`folder` finds ``templates/<kind>/``; a missing catalog is a loud :class:`CatalogError`,
  never an empty list;
* :func:`read_yaml` is safe YAML that keeps ``2026-10`` and ``2026-10-01`` as text (papermill's
  no-dates loader idea), with errors that name the file;
* :class:`StrictModel` refuses unknown keys, and :func:`schema_error` turns every problem pydantic
  found into one error naming the file and each field in the user's spelling
  (``rules[2].days``), never an internal class name;
* :class:`Shelf` is the one registry shape: built-ins loaded lazily from a folder, looked up by name or
  by a path to a user's own file, with "did you mean" for a misspelt name.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from recon_helpers.errors import TemplateError

#: the kinds of entry the catalog holds, each in its own sub-folder
KINDS = ("sources", "recipes", "rate_cards", "scenarios", "report", "fees", "statements", "ledger", "review")

#: environment variable that points the workbench at another catalog folder (tests, deployments)
CATALOG_ENV = "RECON_TEMPLATES"
#: environment variable that points the batch report at another notebooks folder
NOTEBOOKS_ENV = "RECON_NOTEBOOKS"

_PACKAGE_DIR = Path(__file__).resolve().parent


class CatalogError(TemplateError):
    """The catalog folder (templates/) cannot be found: the installation is incomplete."""

    code = "no_catalog"


def root() -> Path:
    """The catalog folder: ``$RECON_TEMPLATES``, else the copy inside the installed package, else the
    repository's ``templates/`` next to the package (an editable install or a checkout)."""
    override = os.environ.get(CATALOG_ENV)
    candidates = [Path(override)] if override else [_PACKAGE_DIR / "templates", _PACKAGE_DIR.parent / "templates"]
    for candidate in candidates:
        if (candidate / "sources").is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise CatalogError(f"the workbench's templates folder is missing (looked in {tried}); reinstall the "
                       f"workbench (`pip install recon-workbench`) or set {CATALOG_ENV} to the templates folder")


def notebooks_folder() -> Path:
    """The report notebooks: ``$RECON_NOTEBOOKS``, else the copy inside the installed package, else the
    repository's ``notebooks/``; a missing folder is a CatalogError."""
    override = os.environ.get(NOTEBOOKS_ENV)
    candidates = [Path(override)] if override else [_PACKAGE_DIR / "notebooks", _PACKAGE_DIR.parent / "notebooks"]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise CatalogError(f"the workbench's report notebooks are missing (looked in {tried}); reinstall the workbench, "
                       f"pass --notebooks, or set {NOTEBOOKS_ENV}")


def folder(kind: str) -> Path:
    """``templates/<kind>/`` (one of :data:`KINDS`); raises CatalogError when it is not there."""
    if kind not in KINDS:
        raise ValueError(f"unknown catalog kind {kind!r}; one of {', '.join(KINDS)}")
    path = root() / kind
    if not path.is_dir():
        raise CatalogError(f"the catalog has no {kind}/ folder at {path}; reinstall the workbench")
    return path


def display_path(path: str | Path) -> str:
    """How a catalog file is named in messages: relative to the catalog (``templates/recipes/x.yaml``)
    for built-ins, as given for a user's own file."""
    p = Path(path)
    try:
        return "templates/" + p.resolve().relative_to(root().resolve()).as_posix()
    except (ValueError, CatalogError):
        return p.as_posix()


def looks_like_path(text: str | Path) -> bool:
    """A name (``sf_bill``) or a file (``my_bank.yaml``, ``./cards/sf.yml``)?"""
    if isinstance(text, Path):
        return True
    return text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text


# ------------------------------------------------------------------------------------------- YAML
_NO_TIMESTAMPS = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _NoDatesSafeLoader(yaml.SafeLoader):
    """SafeLoader that keeps ``2026-03`` and ``2026-03-01`` as strings."""

    yaml_implicit_resolvers = _NO_TIMESTAMPS


if getattr(yaml, "__with_libyaml__", False):
    class _NoDatesFastLoader(yaml.CSafeLoader):
        """The same safe, no-dates loader on libyaml's C parser: ~10x faster than the pure-Python one,
        which read every built-in template on a fresh process's first lookup."""

        yaml_implicit_resolvers = _NO_TIMESTAMPS
else:  # PyYAML built without libyaml
    _NoDatesFastLoader = _NoDatesSafeLoader


def parse_yaml(text: str, *, origin: str, error: type[TemplateError] = TemplateError) -> Any:
    """Safe YAML from text; a syntax error names ``origin``.

    Parsed by libyaml when PyYAML has it; text it refuses is parsed again by the pure-Python parser,
    whose message quotes the offending line (``line 2, column 8: rules: [a ^``), so a broken file is
    reported as before and the C parser only makes the good ones fast.
    """
    try:
        return yaml.load(text, Loader=_NoDatesFastLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        pass
    try:
        return yaml.load(text, Loader=_NoDatesSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise error(f"not valid YAML: {' '.join(str(exc).split())}", template_file=origin) from None


def read_yaml(path: str | Path, *, error: type[TemplateError] = TemplateError) -> Any:
    """Read one catalog file as safe YAML; a missing, unreadable or broken file names itself."""
    p = Path(path)
    origin = display_path(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("file not found; check the path", template_file=origin) from None
    except UnicodeDecodeError:
        raise error("the file is not UTF-8 text; save it as UTF-8", template_file=origin) from None
    except OSError as exc:
        raise error(f"cannot read the file ({exc.strerror or exc}); check the path", template_file=origin) from None
    return parse_yaml(text, origin=origin, error=error)


# ----------------------------------------------------------------------------------------- schema
def written_decimal(value: Any) -> Any:
    """A YAML number as the decimal that was written: ``0.5`` -> Decimal("0.5"), never the binary float
    (pydantic's own float -> Decimal gives 0.5000000000000000277...). Other values pass through."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


class StrictModel(BaseModel):
    """Base of every catalog schema: unknown keys are refused (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FrozenModel(StrictModel):
    """A strict schema whose values cannot change once validated (recipes, rate cards)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


_UNION_BRANCH = re.compile(r"^[A-Z]\w*$|^(?:str|int|float|bool|list|dict|tuple)(?:\[.*\])?$|^function-|^literal\[")


def field_path(loc: tuple[Any, ...]) -> str:
    """pydantic's error location in the user's spelling: ``rules[2].days``; union branch names
    (class names such as ``DeriveStep``, ``str``, ``dict[str,list[str]]``) are left out."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _UNION_BRANCH.match(str(part)) or str(part) in _TAGGED_BRANCHES:
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


#: discriminator values pydantic puts in locations of tagged unions (rule and step types)
_TAGGED_BRANCHES: set[str] = set()


def register_branch_names(*names: str) -> None:
    """Tell :func:`field_path` which location parts are tagged-union branches, not fields."""
    _TAGGED_BRANCHES.update(names)


def _branch_at(loc: tuple[Any, ...]) -> int | None:
    """Where a union branch (a class name such as ``DeriveStep``) stands in an error location."""
    return next((i for i, part in enumerate(loc) if isinstance(part, str) and part[:1].isupper()
                 and _UNION_BRANCH.match(part)), None)


def _meant_branches(errors: list[dict]) -> list[dict]:
    """Keep only the union branches the user meant: a branch whose own key is missing (``extract:`` when
    the user wrote ``derive:``) says nothing about the user's entry, so its errors are left out."""
    unmeant = set()
    for err in errors:
        k = _branch_at(tuple(err["loc"]))
        if k is not None and err["type"] == "missing" and len(err["loc"]) == k + 2:
            unmeant.add(tuple(err["loc"][: k + 1]))
    kept = [e for e in errors if (k := _branch_at(tuple(e["loc"]))) is None or tuple(e["loc"][: k + 1]) not in unmeant]
    return kept or errors


def schema_error(exc: ValidationError, *, origin: str, error: type[TemplateError] = TemplateError,
                 what: str = "file") -> TemplateError:
    """Every problem of one file in one error: ``file: field a: ...; field b: ...; fix the <what>``."""
    parts: list[str] = []
    first: str | None = None
    for err in _meant_branches(exc.errors()):
        where = field_path(tuple(err["loc"]))
        first = first or where or None
        message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        parts.append(f"{where}: {message}" if where else message)
    unique = list(dict.fromkeys(parts))
    return error("; ".join(unique) + f"; fix the {what}", template_file=origin, field=first)


M = TypeVar("M", bound=BaseModel)


def read_entry(path: str | Path, model: type[M], *, what: str, keys: str,
               error: type[TemplateError] = TemplateError) -> M:
    """Read one catalog file and validate it as ``model``: a mapping, every problem in one error."""
    origin = display_path(path)
    raw = read_yaml(path, error=error)
    if not isinstance(raw, dict):
        raise error(f"a {what} must be a YAML mapping ({keys})", template_file=origin)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise schema_error(exc, origin=origin, error=error, what=what) from None


# ------------------------------------------------------------------------------------------ shelf
T = TypeVar("T")


class Shelf(Generic[T]):
    """The built-in entries of one kind plus those a user registers, by name or by path.

    ``read(path)`` turns a file into an entry (and raises the kind's own error); ``name_of(entry)``
    gives its name, which must equal the file name of a built-in.
    """

    def __init__(self, kind: str, *, read: Callable[[Path], T], name_of: Callable[[T], str],
                 error: type[TemplateError] = TemplateError, noun: str = "entry", pattern: str = "*.yaml"):
        self.kind, self.read, self.name_of, self.error, self.noun, self.pattern = kind, read, name_of, error, noun, pattern
        self._items: dict[str, T] = {}
        self._loaded_from: Path | None = None
        self._read_alone: dict[tuple[Path, str], T] = {}  # built-ins looked up by name before a full load

    def _load(self) -> None:
        where = folder(self.kind)
        if self._loaded_from == where:
            return
        found = sorted(where.glob(self.pattern))
        if not found:
            raise CatalogError(f"the catalog folder {where} holds no {self.noun} files; reinstall the workbench")
        items: dict[str, T] = {}
        for path in found:
            alone = (where, path.stem)
            items[path.stem] = self._read_alone[alone] if alone in self._read_alone else self._read_builtin(path)
        self._items = {**items, **{k: v for k, v in self._items.items() if k not in items}}
        self._loaded_from = where

    def _read_builtin(self, path: Path) -> T:
        """One built-in file as an entry; its name must be its file name."""
        item = self.read(path)
        name = self.name_of(item)
        if name != path.stem:
            raise self.error(f"name {name!r} differs from the file name {path.stem!r}; make them equal",
                             template_file=display_path(path), field="name")
        return item

    def _get_alone(self, where: Path, name: str) -> T | None:
        """The built-in ``name`` read from its own file in ``where`` (``recipes/<name>.yaml``) without
        reading the others; None when there is no such file (the full load then finds a registered entry,
        or lists what exists).

        Why: a fresh process's first ``match(..., "courier_bill")`` read and validated all 14 recipes.
        """
        if self.pattern.count("*") != 1 or not name or name.startswith(".") or any(c in name for c in "*?[]/\\"):
            return None
        if (where, name) not in self._read_alone:
            path = where / self.pattern.replace("*", name)
            if not path.is_file():
                return None
            self._read_alone[(where, name)] = self._read_builtin(path)
        return self._read_alone[(where, name)]

    def register(self, item: T) -> None:
        """Add (or replace) an entry, e.g. a user's own template, for lookups by name."""
        self._load()
        self._items[self.name_of(item)] = item

    def all(self) -> list[T]:
        """Every entry, sorted by name."""
        self._load()
        return [self._items[name] for name in sorted(self._items)]

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def get(self, name_or_path: str | Path) -> T:
        """An entry by name, or read from a path (a user's own file)."""
        if looks_like_path(name_or_path):
            return self.read(Path(name_or_path))
        name = str(name_or_path).strip()
        where = folder(self.kind)
        if self._loaded_from != where and (alone := self._get_alone(where, name)) is not None:
            return alone  # before the first full load: only this entry's file is read
        self._load()
        if name not in self._items:
            raise self.error(f"no {self.noun} named {name!r}; {self._suggest(name)}")
        return self._items[name]

    def _suggest(self, name: str) -> str:
        from difflib import get_close_matches

        names = sorted(self._items)
        close = get_close_matches(name, names, n=3, cutoff=0.6)
        lead = f"did you mean {', '.join(close)}? " if close else ""
        known = f"known {self.noun}s: {', '.join(names)}" if len(names) <= 15 else f"`recon` lists all {len(names)}"
        return f"{lead}({known}; or pass a path to a .yaml file)"
