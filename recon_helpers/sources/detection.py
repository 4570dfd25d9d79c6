"""Detection: which template fits a file, by header fingerprint and markers; refuse to guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from recon_helpers.errors import DetectionError
from recon_helpers.sources import limits
from recon_helpers.sources.headers import cell_keys, name_key
from recon_helpers.sources.opening import Candidate, open_candidates
from recon_helpers.sources.templates import SourceTemplate, list_templates

# =========================================================================== detection

def _eligible(template: SourceTemplate, cand: Candidate) -> bool:
    if template.parser is not None:
        return cand.file_type == "csv" and "text" in template.file_types or cand.file_type in template.file_types
    if cand.file_type not in template.file_types:
        return False
    return True


def _fit(template: SourceTemplate, cand: Candidate) -> HeaderFit:
    # a row of 100,000 cells is scored on its first max_columns (no header is wider); loading refuses it
    cap = limits.get("max_columns")
    rows = [r.cells[:cap] for r in cand.head]
    return score_rows(template, rows, [r.line for r in cand.head], cand.head_text)


def _preferred(template: SourceTemplate, cands: list[Candidate]) -> list[Candidate]:
    if template.sheet:
        named = [c for c in cands if c.sheet == template.sheet]
        if named:
            return named
    return cands


def pick_candidate(cands: list[Candidate], templates: list[SourceTemplate], source_file: str) -> tuple[Candidate, HeaderFit]:
    fits: list[tuple[Candidate, HeaderFit]] = []
    for template in templates:
        for cand in _preferred(template, cands):
            if _eligible(template, cand):
                fits.append((cand, _fit(template, cand)))
    if not fits:
        types = sorted({c.file_type for c in cands})
        raise DetectionError(f"no template reads {'/'.join(types)} files like this one", source_file=source_file,
                             candidates=[t.name for t in templates[:3]])
    # the best fit per template (a template may fit several members/sheets)
    per_template: dict[str, tuple[Candidate, HeaderFit]] = {}
    for cand, f in fits:
        best = per_template.get(f.template.name)
        if best is None or (f.fits, f.score) > (best[1].fits, best[1].score):
            per_template[f.template.name] = (cand, f)
        elif f.fits and best[1].fits and f.score == best[1].score:
            raise DetectionError(f"{best[0].source_file} {best[0].sheet or ''} and {cand.source_file} "
                                 f"{cand.sheet or ''} both fit template {f.template.name}; load them one by one",
                                 source_file=source_file, candidates=[f.template.name])
    chosen = choose([f for _, f in per_template.values()], source_file=source_file)
    return per_template[chosen.template.name][0], chosen


def rank(path: str | Path) -> list[HeaderFit]:
    """Every template scored against the file, best first: which fit, and what the others miss."""
    cands = open_candidates(path)
    best: dict[str, HeaderFit] = {}
    for template in list_templates():
        for cand in _preferred(template, cands):
            if _eligible(template, cand):
                f = _fit(template, cand)
                if template.name not in best or (f.fits, f.score) > (best[template.name].fits, best[template.name].score):
                    best[template.name] = f
    return sorted(best.values(), key=lambda f: (f.fits, f.score), reverse=True)


def detect(path: str | Path) -> Detection:
    """Recognise a file by its content (header fingerprint, markers); see :func:`choose`."""
    cands = open_candidates(path)
    cand, fit = pick_candidate(cands, list_templates(), Path(path).as_posix())
    return Detection(fit.template, cand.source_file, fit.line, fit.reason)



# --------------------------------------------------------------------------- fingerprint scoring

@dataclass
class HeaderFit:
    """How well one template fits one file: the best header row and what it matched or missed."""

    template: SourceTemplate
    row_index: int | None            # index into the scanned rows
    line: int | None                 # the physical line / sheet row of the header
    score: int                       # header cells this template knows
    fits: bool
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    reason: str = ""


def score_rows(template: SourceTemplate, rows: list[list[str]], lines: list[int], head_text: str) -> HeaderFit:
    """Score a template against the first rows of a file (cells already cleaned).

    The header row is the scanned row with all the fingerprint columns and the most cells the
    template knows; the score is that number of known cells, so a layout that explains more of
    the header wins over a look-alike that explains fewer.
    """
    markers_missing = [m for m in template.recognise.markers if not re.search(m, head_text, re.M)]
    if template.parser is not None:
        ok = bool(template.recognise.markers) and not markers_missing
        return HeaderFit(template, None, None, 1000 if ok else 0, ok,
                         matched=list(template.recognise.markers) if ok else [],
                         missing=[f"marker /{m}/" for m in markers_missing],
                         reason=("the text matches " + ", ".join(template.recognise.markers)) if ok else "")
    vocab = template.vocabulary
    required = template.required_columns
    absent = {name_key(n) for n in template.recognise.absent}
    best: HeaderFit | None = None
    best_key: tuple = ()
    for i, cells in enumerate(rows[: template.header.max_scan]):
        keys = [cell_keys(c) for c in cells if c]
        keyset = {k for pair in keys for k in pair}
        have = [entry[0] for entry in required if keyset & set(entry)]
        miss = [template.recognise.columns[j] for j, entry in enumerate(required) if not keyset & set(entry)]
        known = sum(1 for pair in keys if vocab.intersection(pair))
        fits = not miss and not markers_missing and not (keyset & absent)
        candidate = HeaderFit(template, i, lines[i], known, fits,
                              matched=[c for c in cells if c and vocab.intersection(cell_keys(c))], missing=miss)
        key = (candidate.fits, len(have), known)
        if best is None or key > best_key:
            best, best_key = candidate, key
    if best is None:
        return HeaderFit(template, None, None, 0, False, missing=list(template.recognise.columns))
    if markers_missing:
        best.missing = best.missing + [f"marker /{m}/" for m in markers_missing]
    if best.fits:
        shown = ", ".join(best.matched[:6]) + (", …" if len(best.matched) > 6 else "")
        best.reason = f"header row {best.line} has {shown}"
    return best


def choose(fits: Iterable[HeaderFit], *, source_file: str) -> HeaderFit:
    """The single best-fitting template, or a DetectionError that refuses to guess."""
    ranked = sorted(fits, key=lambda f: (f.fits, f.score, -len(f.missing)), reverse=True)
    good = [f for f in ranked if f.fits]
    if not good:
        near = ranked[:3]
        detail = "; ".join(
            f"{f.template.name} misses {', '.join(f.missing) or 'nothing but fits no row'}" for f in near)
        raise DetectionError(
            f"no source template fits this file. Closest: {detail}. Pass template=NAME or a YAML mapping "
            "(see templates/sources/EXAMPLE_generic.yaml.txt)",
            source_file=source_file, candidates=[f.template.name for f in near])
    if len(good) > 1 and good[0].score == good[1].score:
        tied = [f.template.name for f in good if f.score == good[0].score]
        raise DetectionError(
            f"the file fits {len(tied)} templates equally well ({', '.join(tied)}); refusing to guess - "
            "pass template=NAME", source_file=source_file, candidates=tied)
    return good[0]


@dataclass
class Detection:
    """Which template a file is, where its header is, and why (for ``LoadReport.detected_because``)."""

    template: SourceTemplate
    source_file: str
    header_line: int | None
    because: str
    runner_up: str | None = None
