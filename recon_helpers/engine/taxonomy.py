"""The exception taxonomy: every category a match can give a row, with its meaning and bilingual label.

One place for the words: the engine's own categories are defined here; a recipe adds its own
(``categories:`` in the recipe file, written ``中文 — English meaning``) and may rename engine categories
for its scenario (``category_names:``); a scenario may word a label for its readers (its registry
entry's ``labels:``). :func:`labels` merges the three, in that order, for charts and tables.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Category:
    """One exception category: a stable code, a label in English and Chinese, and what it means."""

    code: str
    en: str
    zh: str
    meaning: str

    @property
    def label(self) -> str:
        return f"{self.en} {self.zh}"


def _c(code: str, en: str, zh: str, meaning: str) -> Category:
    return Category(code, en, zh, meaning)


#: categories the engine itself produces
ENGINE_CATEGORIES: dict[str, Category] = {c.code: c for c in (
    _c("missing_on_right", "missing on right", "右侧缺失", "a left row with no counterpart on the right"),
    _c("missing_on_left", "missing on left", "左侧缺失", "a right row with no counterpart on the left"),
    _c("missing_on_third", "missing on third", "第三方缺失", "a linked pair whose third row is missing"),
    _c("duplicate_on_left", "duplicate on left", "左侧重复",
       "the key occurs again on the left; the best row was linked, this one was not"),
    _c("duplicate_on_right", "duplicate on right", "右侧重复",
       "the key occurs again on the right; the best row was linked, this one was not"),
    _c("duplicate_on_third", "duplicate on third", "第三方重复", "the key occurs again on the third side"),
    _c("amount_mismatch", "amount mismatch", "金额不符", "paired rows whose amounts differ by more than the tolerance"),
    _c("qty_mismatch", "qty mismatch", "数量不符", "paired rows whose quantities differ"),
    _c("date_out_of_window", "date out of window", "日期超窗", "paired rows whose dates are further apart than the window"),
    _c("status_mismatch", "status mismatch", "状态不符", "paired rows whose statuses do not correspond"),
    _c("ambiguous", "ambiguous", "多个候选", "several equally good counterparts: not linked, candidates listed"),
    _c("out_of_scope", "out of scope", "不在范围", "outside the recipe's filters: not matched on purpose"),
)}

#: the categories as code -> meaning (what recipes are validated against)
BUILTIN_CATEGORIES: dict[str, str] = {code: c.meaning for code, c in ENGINE_CATEGORIES.items()}

OUT_OF_SCOPE = "out_of_scope"
AMBIGUOUS = "ambiguous"


def missing_on(side: str) -> str:
    """The category of a row whose counterpart on ``side`` is missing (``missing_on_right``)."""
    return f"missing_on_{side}"


def duplicate_on(side: str) -> str:
    """The category of a further row of a key already linked on ``side`` (``duplicate_on_right``)."""
    return f"duplicate_on_{side}"


def _recipe_label(text: str) -> str:
    """A recipe category's label: ``账单金额与运价卡不符 — billed fee differs ...`` reads as its first part."""
    return text.split(" — ", 1)[0].strip() or text


def labels(recipe: Any | None = None, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """code -> label for charts and tables: engine labels, then the recipe's own categories (and the
    engine categories it renamed), then a scenario's wording (``overrides``)."""
    out = {code: c.label for code, c in ENGINE_CATEGORIES.items()}
    if recipe is not None:
        for old, new in (getattr(recipe, "category_names", None) or {}).items():
            out.setdefault(new, out.get(old, new))
        for code, text in (getattr(recipe, "categories", None) or {}).items():
            out[code] = _recipe_label(str(text))
    out.update(overrides or {})
    return out


def label(code: str, recipe: Any | None = None, overrides: Mapping[str, str] | None = None) -> str:
    """The label of one category (the code itself when nothing names it)."""
    return labels(recipe, overrides).get(code, code)
