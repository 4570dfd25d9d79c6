"""Fuzzy text: counterparty names and memos reduced to what identifies them, ranked as candidates."""
from __future__ import annotations

import re
import unicodedata
from typing import Callable, Sequence

from recon_helpers.errors import UsageError

# ---------------------------------------------------------------------------------------------------
# fuzzy text
# ---------------------------------------------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
#: company-form words that say nothing about who paid; longest first so 股份有限公司 goes whole
_CN_COMPANY_FORMS = re.compile("股份有限公司|有限责任公司|有限公司|公司")
_EN_COMPANY_FORMS = re.compile(r"\b(?:co\s*ltd|company\s+limited|corporation|limited|ltd|inc|corp|llc)\b")
_SPACES = re.compile(r"\s+")

#: the rapidfuzz ``fuzz`` scorers a caller may name (rapidfuzz is imported when text is first ranked:
#: most recipes have no fuzzy rule, and a fresh process should not pay for it)
_SCORERS = ("ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio", "WRatio", "QRatio")


def normalise_text(s: str | None) -> str:
    """Reduce a counterparty name or memo to what identifies it.

    NFKC (full-width letters, digits and brackets become half-width), zero-width characters removed,
    case folded, company forms dropped (股份有限公司, 有限责任公司, 有限公司, 公司, Co. Ltd, Inc...),
    punctuation and symbols turned into spaces, runs of spaces collapsed. ``None`` gives ``""``.
    """
    if s is None or (isinstance(s, float) and s != s):
        return ""
    text = unicodedata.normalize("NFKC", str(s)).translate(_ZERO_WIDTH).casefold()
    text = _CN_COMPANY_FORMS.sub(" ", text)
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    text = _EN_COMPANY_FORMS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def rank_text(query: str, choices: Sequence[tuple[int, str]], *, limit: int = 3,
              scorer: str | Callable[..., float] = "token_set_ratio",
              min_score: float = 0.0) -> list[tuple[int, float]]:
    """Rank candidate rows by how closely their text matches ``query`` (both normalised first).

    Returns up to ``limit`` ``(rid, score)`` pairs, score 0-100, best first, ties by lower rid. Choices
    scoring 0 or below ``min_score`` are left out; an empty query ranks nothing. The caller decides
    what to accept: a fuzzy score only ever suggests unless it reaches the recipe's ``accept``.

    Parameters
    ----------
    query : counterparty or memo text of the row to explain.
    choices : ``(rid, text)`` of the candidate rows.
    limit : how many to return.
    scorer : a rapidfuzz ``fuzz`` scorer name (ratio, partial_ratio, token_sort_ratio, token_set_ratio,
        WRatio, QRatio) or a callable with the same signature.
    min_score : drop choices scoring below this.
    """
    from rapidfuzz import process

    scorer_fn = _scorer(scorer)
    wanted = normalise_text(query)
    if not wanted or not choices or limit < 1:
        return []
    texts = [normalise_text(text) for _, text in choices]
    scored = process.extract(wanted, texts, scorer=scorer_fn, processor=None, limit=None)
    ranked = sorted(((int(choices[index][0]), float(score)) for _, score, index in scored
                     if score > 0 and score >= min_score),
                    key=lambda pair: (-pair[1], pair[0]))
    return ranked[:limit]


def _scorer(scorer: str | Callable[..., float]) -> Callable[..., float]:
    """Resolve a scorer name; an unknown name is a usage error that lists the known ones."""
    if callable(scorer):
        return scorer
    if scorer not in _SCORERS:
        raise UsageError(f"rank_text: unknown scorer {scorer!r}; use one of {', '.join(_SCORERS)}")
    from rapidfuzz import fuzz

    return getattr(fuzz, scorer)
