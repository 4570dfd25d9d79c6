"""The small-block decisions of the matcher: optimal one-to-one pairing, exact subset sums, fuzzy text.

The relational layer (``relational.py``) does the bulk work in SQL: it builds every candidate pair that
lies inside the recipe's tolerances and windows. What is left are small connected blocks where a person
would have to choose. This module chooses only when the data force the choice - a pair that is part of
*every* optimal assignment, the *only* subset that sums to the target - and otherwise hands back ranked
candidates, so the row becomes an exception with suggestions instead of a guess.

All functions are pure (no DuckDB, no I/O) and deterministic: the same candidates in any order give the
same answer, because every block is sorted by row id before it is solved.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, combinations
from math import comb
from typing import Callable, Literal, Sequence

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from recon_helpers.errors import MatchInputError, UsageError

#: two costs closer than this are a tie (costs are small sums such as days + fen/100)
COST_TIE = 1e-9
#: how many ranked candidates an ambiguous row carries
MAX_CANDIDATES = 3

Candidate = tuple[str, int, float]


# ---------------------------------------------------------------------------------------------------
# one-to-one assignment
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockResult:
    """What ``one_to_one`` decided.

    ``pairs`` are the links it is sure of: ``(left_rid, right_rid, cost)`` sorted by left then right
    row id, each present in every optimal assignment of its block. ``ambiguous`` maps each row whose
    pairing is not forced, as ``("left"|"right", rid)``, to up to three ranked candidates
    ``(other_side, other_rid, cost)``, cheapest first. Rows of a block that appear in neither are
    unmatched in every optimal assignment: later rules (or the final sweep) deal with them.
    """

    pairs: list[tuple[int, int, float]]
    ambiguous: dict[tuple[str, int], list[Candidate]] = field(default_factory=dict)

    def pairs_frame(self) -> pd.DataFrame:
        """The accepted pairs as a DataFrame (left_rid, right_rid, cost) for a SQL layer to register."""
        if not self.pairs:
            return pd.DataFrame({"left_rid": np.array([], dtype=np.int64),
                                 "right_rid": np.array([], dtype=np.int64),
                                 "cost": np.array([], dtype=np.float64)})
        left, right, cost = zip(*self.pairs)
        return pd.DataFrame({"left_rid": np.asarray(left, dtype=np.int64),
                             "right_rid": np.asarray(right, dtype=np.int64),
                             "cost": np.asarray(cost, dtype=np.float64)})


def one_to_one(candidates: pd.DataFrame, *, max_block: int = 200) -> BlockResult:
    """Pair left and right rows one-to-one at minimum total cost, keeping only forced pairs.

    The candidate graph is split into connected blocks. A block of one left and one right row is
    accepted at once (vectorised: this is nearly every block on real data). Other blocks are solved
    optimally - most rows paired first, then least total cost - and a pair is kept only if forbidding
    it makes the optimum worse; otherwise another assignment is just as good, and guessing between
    them is what an analyst must never see. Blocks with more than ``max_block`` rows are not solved at
    all: every row in them is returned as ambiguous.

    Parameters
    ----------
    candidates : DataFrame with columns ``left_rid``, ``right_rid`` (integers) and ``cost`` (float >= 0,
        lower is better, e.g. ``|days| + |diff fen| / 100``). A pair listed twice keeps its lower cost.
    max_block : largest block (left + right rows) that is solved; larger ones are all ambiguous.

    Returns
    -------
    BlockResult

    Raises
    ------
    MatchInputError
        A column is missing, a row id is null, or a cost is negative or not finite.
    """
    left, right, cost = _edge_arrays(candidates)
    if left.size == 0:
        return BlockResult(pairs=[], ambiguous={})

    alone = _isolated_pair_mask(left, right)  # a pair listed twice is not alone, so no dedupe needed here
    pair_parts = [(left[alone], right[alone], cost[alone])]
    ambiguous: dict[tuple[str, int], list[Candidate]] = {}
    if not alone.all():
        rest = ~alone
        for block in _connected_blocks(*_cheapest_edge_per_pair(left[rest], right[rest], cost[rest])):
            pairs, block_ambiguous = _solve_block(*block, max_block=max_block)
            if pairs:
                pair_parts.append(tuple(np.asarray(col) for col in zip(*pairs)))
            ambiguous.update(block_ambiguous)
    return BlockResult(pairs=_sorted_pairs(pair_parts), ambiguous=dict(sorted(ambiguous.items())))


def _edge_arrays(candidates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the candidate frame and return its columns as numpy arrays (int64, int64, float64)."""
    missing = [c for c in ("left_rid", "right_rid", "cost") if c not in candidates.columns]
    if missing:
        raise MatchInputError(
            f"one_to_one: candidate pairs lack column(s) {', '.join(missing)}; "
            "pass a frame with left_rid, right_rid and cost")
    if candidates[["left_rid", "right_rid", "cost"]].isna().any().any():
        raise MatchInputError("one_to_one: candidate pairs contain a null left_rid, right_rid or cost; "
                              "every candidate must name both rows and a cost")
    left = candidates["left_rid"].to_numpy(dtype=np.int64)
    right = candidates["right_rid"].to_numpy(dtype=np.int64)
    cost = candidates["cost"].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MatchInputError(
            f"one_to_one: cost {float(cost[i])!r} for left_rid {left[i]}, right_rid {right[i]} is not a finite "
            "number >= 0; build costs from absolute differences (e.g. |days| + |diff fen| / 100)")
    return left, right, cost


def _cheapest_edge_per_pair(left: np.ndarray, right: np.ndarray,
                            cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort edges by (left, right, cost) and keep the cheapest of each (left, right): order-free."""
    order = np.lexsort((cost, right, left))
    left, right, cost = left[order], right[order], cost[order]
    first = np.ones(left.size, dtype=bool)
    first[1:] = (left[1:] != left[:-1]) | (right[1:] != right[:-1])
    return left[first], right[first], cost[first]


def _isolated_pair_mask(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Edges whose left and right rows have no other candidate: blocks of 1x1, decided without solving."""
    return (_degree(left) == 1) & (_degree(right) == 1)


def _degree(ids: np.ndarray) -> np.ndarray:
    """How many edges touch the row of each edge; a counting array when row ids are dense (the usual)."""
    low = int(ids.min())
    span = int(ids.max()) - low + 1
    if span <= 4 * ids.size + 1024:
        offset = ids - low
        return np.bincount(offset, minlength=span)[offset]
    _, code, count = np.unique(ids, return_inverse=True, return_counts=True)
    return count[code]


def _connected_blocks(left: np.ndarray, right: np.ndarray, cost: np.ndarray):
    """Yield (left, right, cost) arrays per connected block of the bipartite candidate graph."""
    left_ids, left_code = np.unique(left, return_inverse=True)
    right_ids, right_code = np.unique(right, return_inverse=True)
    n_left, n_nodes = left_ids.size, left_ids.size + right_ids.size
    graph = coo_matrix((np.ones(left.size, dtype=np.int8), (left_code, n_left + right_code)),
                       shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    edge_label = labels[left_code]
    order = np.argsort(edge_label, kind="stable")  # edges stay sorted by (left, right) inside a block
    bounds = np.flatnonzero(np.diff(edge_label[order])) + 1
    for idx in np.split(order, bounds):
        yield left[idx], right[idx], cost[idx]


def _sorted_pairs(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[tuple[int, int, float]]:
    """Concatenate accepted pairs and sort them by left row id (unique among pairs) in numpy."""
    left = np.concatenate([p[0] for p in parts]).astype(np.int64)
    right = np.concatenate([p[1] for p in parts]).astype(np.int64)
    cost = np.concatenate([p[2] for p in parts]).astype(np.float64)
    order = np.argsort(left, kind="stable")
    return list(zip(left[order].tolist(), right[order].tolist(), cost[order].tolist()))


def _solve_block(left: np.ndarray, right: np.ndarray, cost: np.ndarray, *,
                 max_block: int) -> tuple[list[tuple[int, int, float]], dict]:
    """Decide one connected block: forced pairs, and the rows whose pairing is open."""
    left_ids = np.unique(left)
    right_ids = np.unique(right)
    if left_ids.size + right_ids.size > max_block:
        return [], _candidates_of(left, right, cost, left_ids, right_ids)
    if left_ids.size == 1 or right_ids.size == 1:
        return _solve_star(left, right, cost)
    return _solve_general(left, right, cost, left_ids, right_ids)


def _solve_star(left: np.ndarray, right: np.ndarray, cost: np.ndarray) -> tuple[list, dict]:
    """One row facing several: the cheapest edge wins only if strictly cheaper than the next."""
    order = np.lexsort((right, left, cost))
    best = cost[order[0]]
    tied = order[cost[order] <= best + COST_TIE]
    if tied.size == 1:
        i = tied[0]
        return [(int(left[i]), int(right[i]), float(cost[i]))], {}
    involved_left = np.unique(left[tied])
    involved_right = np.unique(right[tied])
    return [], _candidates_of(left, right, cost, involved_left, involved_right)


@dataclass(frozen=True)
class _Optimum:
    """Value of an assignment, compared lexicographically: more pairs first, then lower cost."""

    pairs: int
    cost: float

    def same_as(self, other: "_Optimum") -> bool:
        return self.pairs == other.pairs and abs(self.cost - other.cost) <= COST_TIE * max(1.0, abs(self.cost))


def _assign(matrix: np.ndarray, is_edge: np.ndarray) -> tuple[np.ndarray, np.ndarray, _Optimum]:
    """Optimal assignment of a (rectangular) matrix; non-edges carry a cost larger than any edge sum."""
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        return np.array([], dtype=int), np.array([], dtype=int), _Optimum(0, 0.0)
    rows, cols = linear_sum_assignment(matrix)
    used = is_edge[rows, cols]
    rows, cols = rows[used], cols[used]
    return rows, cols, _Optimum(int(used.sum()), float(matrix[rows, cols].sum()))


def _solve_general(left: np.ndarray, right: np.ndarray, cost: np.ndarray,
                   left_ids: np.ndarray, right_ids: np.ndarray) -> tuple[list, dict]:
    """Solve a block with scipy's assignment, then test every chosen pair for being forced."""
    li = np.searchsorted(left_ids, left)
    ri = np.searchsorted(right_ids, right)
    no_edge = float(cost.sum()) + 1.0  # one missing pair outweighs every possible sum of real costs
    matrix = np.full((left_ids.size, right_ids.size), no_edge)
    matrix[li, ri] = cost
    is_edge = np.zeros(matrix.shape, dtype=bool)
    is_edge[li, ri] = True

    rows, cols, best = _assign(matrix, is_edge)
    forced, open_pairs = [], []
    for i, j in zip(rows.tolist(), cols.tolist()):
        (forced if _pair_is_forced(matrix, is_edge, i, j, best, no_edge) else open_pairs).append((i, j))
    pairs = [(int(left_ids[i]), int(right_ids[j]), float(matrix[i, j])) for i, j in forced]
    if not open_pairs:
        return pairs, {}  # every optimum equals this one, so the unassigned rows are unmatched in all

    paired_left, paired_right = set(rows.tolist()), set(cols.tolist())
    open_left = {i for i, _ in open_pairs}
    open_right = {j for _, j in open_pairs}
    open_left |= {i for i in range(left_ids.size) if i not in paired_left
                  and _row_in_some_optimum(matrix, is_edge, i, best, axis=0)}
    open_right |= {j for j in range(right_ids.size) if j not in paired_right
                   and _row_in_some_optimum(matrix, is_edge, j, best, axis=1)}
    ambiguous = _candidates_of(left, right, cost, left_ids[sorted(open_left)], right_ids[sorted(open_right)])
    return pairs, ambiguous


def _pair_is_forced(matrix: np.ndarray, is_edge: np.ndarray, i: int, j: int,
                    best: _Optimum, no_edge: float) -> bool:
    """A pair is forced when forbidding it leaves only worse assignments."""
    forbidden, forbidden_edges = matrix.copy(), is_edge.copy()
    forbidden[i, j], forbidden_edges[i, j] = no_edge, False
    _, _, alternative = _assign(forbidden, forbidden_edges)
    return not alternative.same_as(best)


def _row_in_some_optimum(matrix: np.ndarray, is_edge: np.ndarray, k: int, best: _Optimum, *,
                         axis: int) -> bool:
    """Is row ``k`` (axis 0 = left, 1 = right), unpaired in our optimum, paired in an equally good one?"""
    edges = np.flatnonzero(is_edge[k, :] if axis == 0 else is_edge[:, k])
    for other in edges.tolist():
        i, j = (k, other) if axis == 0 else (other, k)
        rest = np.delete(np.delete(matrix, i, axis=0), j, axis=1)
        rest_edges = np.delete(np.delete(is_edge, i, axis=0), j, axis=1)
        _, _, sub = _assign(rest, rest_edges)
        if _Optimum(sub.pairs + 1, sub.cost + float(matrix[i, j])).same_as(best):
            return True
    return False


def _candidates_of(left: np.ndarray, right: np.ndarray, cost: np.ndarray,
                   open_left: np.ndarray, open_right: np.ndarray) -> dict[tuple[str, int], list[Candidate]]:
    """Up to three ranked candidates (cheapest, then lowest row id) for each open row of a block."""
    frame = pd.DataFrame({"left": left, "right": right, "cost": cost})
    out: dict[tuple[str, int], list[Candidate]] = {}
    for own, other, rows in (("left", "right", open_left), ("right", "left", open_right)):
        picked = frame[frame[own].isin(rows)].sort_values([own, "cost", other], kind="stable")
        for rid, group in picked.groupby(own, sort=True):
            top = group.head(MAX_CANDIDATES)
            out[(own, int(rid))] = [(other, int(o), float(c)) for o, c in zip(top[other], top["cost"])]
    return out


# ---------------------------------------------------------------------------------------------------
# subset sum
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsetResult:
    """Outcome of ``subset_sum``.

    ``status`` is ``unique`` (``members`` is the one subset, by row id), ``ambiguous`` (several subsets
    fit; ``alternatives`` lists up to three of them, smallest first), ``none`` (the whole search space
    was covered and nothing fits) or ``gave_up`` (the node budget ran out before the search could prove
    uniqueness; ``alternatives`` holds what was found so far). ``nodes`` is the work done.
    """

    status: Literal["unique", "ambiguous", "none", "gave_up"]
    members: tuple[int, ...] = ()
    alternatives: list[tuple[int, ...]] = field(default_factory=list)
    nodes: int = 0


class _Stop(Exception):
    """Raised inside the search when it has found enough or spent its budget."""


def subset_sum(target_fen: int, items: Sequence[tuple[int, int]], *, max_items: int = 5,
               max_nodes: int = 200_000, max_alternatives: int = MAX_CANDIDATES) -> SubsetResult:
    """Find the subsets of 1..``max_items`` items whose amounts add up to exactly ``target_fen``.

    Used where a payment covers several invoices (or a credit several settlement lines) and no field
    says which. Only a subset that is provably the sole fit is ``unique``; a second fit makes the
    answer ``ambiguous``. Zero amounts are left out unless the target is zero, because adding a 0.00 row
    to a fitting subset is not a different explanation. Sizes are searched smallest first over items
    sorted by (amount, rid), skipping sizes whose least and greatest sums miss the target (valid for
    negative amounts, i.e. refunds, too), then meeting in the middle (half-size sums against sorted
    half-size sums) or, when that would exceed the budget, a bounded depth-first search.

    Parameters
    ----------
    target_fen : the amount to explain, in fen.
    items : ``(rid, amount_fen)`` pairs; amounts may be negative or zero; rids must be distinct.
    max_items : largest subset size tried.
    max_nodes : search budget; beyond it the answer is ``gave_up`` (never a hang).
    max_alternatives : how many fitting subsets to collect before stopping as ``ambiguous`` (>= 2).

    Returns
    -------
    SubsetResult

    Raises
    ------
    UsageError
        ``max_items`` < 1, ``max_nodes`` < 1 or ``max_alternatives`` < 2.
    MatchInputError
        An amount is not an integer number of fen, or a rid appears twice.
    """
    _check_subset_options(max_items, max_nodes, max_alternatives)
    rids, amounts = _subset_items(target_fen, items)
    search = _SubsetSearch(amounts, target_fen, max_nodes=max_nodes, enough=max_alternatives)
    finished = search.run(max_items)
    found = [tuple(sorted(rids[i] for i in combo)) for combo in search.found]
    if len(found) >= 2:
        return SubsetResult("ambiguous", (), found, search.nodes)
    if not finished:
        return SubsetResult("gave_up", (), found, search.nodes)
    if found:
        return SubsetResult("unique", found[0], [], search.nodes)
    return SubsetResult("none", (), [], search.nodes)


def _check_subset_options(max_items: int, max_nodes: int, max_alternatives: int) -> None:
    if max_items < 1:
        raise UsageError(f"subset_sum: max_items must be at least 1, got {max_items}")
    if max_nodes < 1:
        raise UsageError(f"subset_sum: max_nodes must be at least 1, got {max_nodes}")
    if max_alternatives < 2:
        raise UsageError(f"subset_sum: max_alternatives must be at least 2 to tell unique from ambiguous, "
                         f"got {max_alternatives}")


def subset_sum_many(targets: np.ndarray, starts: np.ndarray, rids: np.ndarray, amounts: np.ndarray, *,
                    max_items: int = 5, max_nodes: int = 200_000,
                    max_alternatives: int = MAX_CANDIDATES) -> list[SubsetResult]:
    """``subset_sum`` for many problems at once, with the same answers.

    Why: a recipe's subset-sum rule runs one search per unexplained credit (thousands at a million
    rows), and most of them find nothing - each small search costs more in per-call overhead than in
    work. Here every problem whose meet-in-the-middle pairs (all half-size sums against all other
    half-size sums, overlapping ones included) contain no exact fit at any size is answered ``none``
    by a few numpy operations over all problems of the same size together. Only the rest - those with
    a possible fit, or too big for the search to finish within ``max_nodes`` - run :func:`subset_sum`
    one by one. A problem is screened only where ``subset_sum`` would itself finish by meeting in the
    middle, so ``status`` and ``nodes`` are identical.

    Parameters
    ----------
    targets : the amount to explain per problem, in fen (int64, length P).
    starts : problem ``i``'s items are ``rids[starts[i]:starts[i+1]]`` (length P + 1).
    rids, amounts : the items (int64); amounts in fen.
    """
    _check_subset_options(max_items, max_nodes, max_alternatives)
    targets, starts = np.asarray(targets), np.asarray(starts)
    rids, amounts = np.asarray(rids), np.asarray(amounts)
    if not (np.issubdtype(amounts.dtype, np.integer) and np.issubdtype(targets.dtype, np.integer)):
        raise MatchInputError("subset_sum_many: amounts and targets must be integer numbers of fen; "
                              "convert money with int(Decimal * 100)")
    targets, rids, amounts = targets.astype(np.int64), rids.astype(np.int64), amounts.astype(np.int64)
    n_problems = len(targets)
    owner = np.repeat(np.arange(n_problems), np.diff(starts))
    keep = (amounts != 0) | (targets[owner] == 0)  # zero amounts explain nothing (see _subset_items)
    kept = np.bincount(owner[keep], minlength=n_problems)
    screened = _screen_no_fit(targets, owner[keep], amounts[keep], kept, _clean_rids(owner, rids, n_problems),
                              max_items=max_items, max_nodes=max_nodes)
    results: list[SubsetResult] = []
    for i in range(n_problems):
        if screened[i] >= 0:
            results.append(SubsetResult("none", (), [], int(screened[i])))
            continue
        a, b = int(starts[i]), int(starts[i + 1])
        items = list(zip(rids[a:b].tolist(), amounts[a:b].tolist()))
        results.append(subset_sum(int(targets[i]), items, max_items=max_items, max_nodes=max_nodes,
                                  max_alternatives=max_alternatives))
    return results


def _clean_rids(owner: np.ndarray, rids: np.ndarray, n_problems: int) -> np.ndarray:
    """Per problem: True when its rids are distinct (else subset_sum must run to raise its error)."""
    order = np.lexsort((rids, owner))
    o, r = owner[order], rids[order]
    twice = o[1:][(o[1:] == o[:-1]) & (r[1:] == r[:-1])]
    clean = np.ones(n_problems, dtype=bool)
    clean[twice] = False
    return clean


def _screen_no_fit(targets: np.ndarray, owner: np.ndarray, amounts: np.ndarray, sizes: np.ndarray,
                   clean: np.ndarray, *, max_items: int, max_nodes: int) -> np.ndarray:
    """Per problem: the node count of ``subset_sum`` when it provably finds nothing, else -1."""
    out = np.full(len(targets), -1, dtype=np.int64)
    order = np.lexsort((amounts, owner))  # each problem's amounts ascending, like _subset_items
    owner, amounts = owner[order], amounts[order]
    begin = np.concatenate([[0], np.cumsum(sizes)])
    for n in np.unique(sizes).tolist():
        if n == 0:
            continue
        todo = min(max_items, n)
        worst = sum(1 + (comb(n, (s + 1) // 2) + comb(n, s // 2) if s >= 2 else 0) for s in range(1, todo + 1))
        if worst > max_nodes or comb(n, (todo + 1) // 2) > 100_000:
            continue  # the search might stop on its budget or use depth-first: leave it to subset_sum
        probs = np.flatnonzero((sizes == n) & clean)
        if probs.size == 0:
            continue
        table = amounts[begin[probs][:, None] + np.arange(n)]  # (problems, n), rows ascending
        target = targets[probs]
        prefix = np.concatenate([np.zeros((len(probs), 1), np.int64), np.cumsum(table, axis=1)], axis=1)
        nodes = np.zeros(len(probs), dtype=np.int64)
        fits = np.zeros(len(probs), dtype=bool)
        for s in range(1, todo + 1):
            nodes += 1
            reach = (prefix[:, s] <= target) & (target <= prefix[:, n] - prefix[:, n - s])
            if s == 1:
                fits |= reach & (table == target[:, None]).any(axis=1)
                continue
            nodes += np.where(reach, comb(n, (s + 1) // 2) + comb(n, s // 2), 0)
            rows = np.flatnonzero(reach & ~fits)
            if rows.size:
                fits[rows] = _any_pair_sums_to(table[rows], target[rows], (s + 1) // 2, s // 2)
        out[probs[~fits]] = nodes[~fits]
    return out


def _any_pair_sums_to(table: np.ndarray, target: np.ndarray, half: int, rest: int) -> np.ndarray:
    """Per row: does some ``half``-combination sum plus some ``rest``-combination sum equal the target?
    (Overlapping combinations included: a superset of the real fits, so False proves there is none.)"""
    n = table.shape[1]
    first, second = _combinations(n, half), _combinations(n, rest)
    found = np.zeros(len(table), dtype=bool)
    step = max(1, 2_000_000 // (len(first) * half + len(second) * rest))
    for a in range(0, len(table), step):
        block, goal = table[a:a + step], target[a:a + step]
        need = goal[:, None] - block[:, first].sum(axis=2)          # (rows, C(n, half))
        have = np.sort(block[:, second].sum(axis=2), axis=1)          # (rows, C(n, rest))
        lo, hi = have[:, :1], have[:, -1:]
        span = int((hi - lo).max()) + 3  # each row's values shifted into its own range of the line
        if span * len(block) >= 2 ** 62:
            found[a:a + step] = [bool(np.isin(need[i], have[i]).any()) for i in range(len(block))]
            continue
        shift = lo - 1 - np.arange(len(block))[:, None] * span
        keys = (np.clip(need, lo - 1, hi + 1) - shift).ravel()
        line = (have - shift).ravel()  # ascending: rows in order, each sorted
        pos = np.minimum(np.searchsorted(line, keys), line.size - 1)
        found[a:a + step] = (line[pos] == keys).reshape(need.shape).any(axis=1)
    return found


def _subset_items(target_fen: int, items: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Validate items, drop zero amounts unless the target is zero, sort by (amount, rid)."""
    if not isinstance(target_fen, (int, np.integer)) or isinstance(target_fen, bool):
        raise MatchInputError(f"subset_sum: target {target_fen!r} is not an integer number of fen")
    seen: set[int] = set()
    kept: list[tuple[int, int]] = []
    for rid, amount in items:
        if not isinstance(amount, (int, np.integer)) or isinstance(amount, bool):
            raise MatchInputError(f"subset_sum: amount {amount!r} of rid {rid} is not an integer number of fen; "
                                  "convert money with int(Decimal * 100)")
        if rid in seen:
            raise MatchInputError(f"subset_sum: rid {rid} is listed twice; each item must be one row")
        seen.add(rid)
        if amount != 0 or target_fen == 0:
            kept.append((int(amount), int(rid)))
    kept.sort()
    return [rid for _, rid in kept], [amount for amount, _ in kept]


class _SubsetSearch:
    """Exact k-subsets over amounts sorted ascending, found in lexicographic order of positions.

    Each size is first checked against the least and greatest sums it can reach. A size that can fit
    is solved by meeting in the middle when that fits the node budget: all sums of the first half-size
    combinations against the sorted sums of the second half, keeping pairs whose positions do not
    overlap (numpy, a few thousand sums for 30 candidates). Otherwise a depth-first search with the
    same bounds spends the budget one node at a time. Both give the same subsets in the same order.
    """

    CHUNK = 65_536

    def __init__(self, amounts: list[int], target: int, *, max_nodes: int, enough: int, split: bool = True):
        self.amounts = amounts
        self.array = np.asarray(amounts, dtype=np.int64)
        self.target = target
        self.max_nodes = max_nodes
        self.enough = enough
        self.split = split
        self.prefix = [0]
        for a in amounts:
            self.prefix.append(self.prefix[-1] + a)
        self.nodes = 0
        self.found: list[tuple[int, ...]] = []

    def run(self, max_items: int) -> bool:
        """Search sizes 1..max_items; True when the search space was covered completely."""
        n = len(self.amounts)
        try:
            for size in range(1, min(max_items, n) + 1):
                self._tick()
                if not self.prefix[size] <= self.target <= self.prefix[n] - self.prefix[n - size]:
                    continue  # even the extreme subsets of this size miss the target
                half, rest = (size + 1) // 2, size // 2
                if self.split and size >= 2 and comb(n, half) + comb(n, rest) <= self.max_nodes - self.nodes:
                    self._meet_in_the_middle(half, rest)
                else:
                    self._extend(0, size, self.target, ())
        except _Stop:
            return False
        return True

    def _tick(self) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _Stop

    def _record(self, combo: tuple[int, ...]) -> None:
        self.found.append(combo)
        if len(self.found) >= self.enough:
            raise _Stop

    def _meet_in_the_middle(self, half: int, rest: int) -> None:
        """Subsets = a ``half``-combination followed by a ``rest``-combination of later positions."""
        n = len(self.amounts)
        first, second = _combinations(n, half), _combinations(n, rest)
        self.nodes += len(first) + len(second)
        first_sum = self.array[first].sum(axis=1)
        second_sum = self.array[second].sum(axis=1)
        order = np.argsort(second_sum, kind="stable")
        sorted_sum = second_sum[order]
        for begin in range(0, len(first), self.CHUNK):
            need = self.target - first_sum[begin:begin + self.CHUNK]
            lo = np.searchsorted(sorted_sum, need, side="left")
            counts = np.searchsorted(sorted_sum, need, side="right") - lo
            total = int(counts.sum())
            if total == 0:
                continue
            self.nodes += total
            if self.nodes > self.max_nodes:
                raise _Stop
            a_rows = np.repeat(np.arange(begin, begin + need.size), counts)
            within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            b_rows = order[np.repeat(lo, counts) + within]
            apart = second[b_rows, 0] > first[a_rows, -1]
            a_rows, b_rows = a_rows[apart], b_rows[apart]
            for k in np.lexsort((b_rows, a_rows)).tolist():
                self._record(tuple(first[a_rows[k]].tolist()) + tuple(second[b_rows[k]].tolist()))

    def _extend(self, start: int, todo: int, remaining: int, chosen: tuple[int, ...]) -> None:
        """Choose ``todo`` more positions >= start whose amounts sum to ``remaining``."""
        n, prefix, amounts = len(self.amounts), self.prefix, self.amounts
        if todo == 1:
            lo = bisect.bisect_left(amounts, remaining, start)
            hi = bisect.bisect_right(amounts, remaining, start)
            for i in range(lo, hi):
                self._tick()
                self._record(chosen + (i,))
            return
        largest_rest = prefix[n] - prefix[n - todo + 1]  # the todo-1 largest amounts
        for i in range(start, n - todo + 1):
            self._tick()
            if prefix[i + todo] - prefix[i] > remaining:  # the least sum starting here is already too big
                break
            if amounts[i] + largest_rest < remaining:  # even the largest companions fall short
                continue
            self._extend(i + 1, todo - 1, remaining - amounts[i], chosen + (i,))


@lru_cache(maxsize=64)
def _combinations(n: int, k: int) -> np.ndarray:
    """All k-combinations of range(n) in lexicographic order, one per row (cached: blocks repeat sizes)."""
    flat = np.fromiter(chain.from_iterable(combinations(range(n), k)), dtype=np.int32, count=comb(n, k) * k)
    table = flat.reshape(-1, k)
    table.setflags(write=False)
    return table


# ---------------------------------------------------------------------------------------------------
# fuzzy text
# ---------------------------------------------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
#: company-form words that say nothing about who paid; longest first so 股份有限公司 goes whole
_CN_COMPANY_FORMS = re.compile("股份有限公司|有限责任公司|有限公司|公司")
_EN_COMPANY_FORMS = re.compile(r"\b(?:co\s*ltd|company\s+limited|corporation|limited|ltd|inc|corp|llc)\b")
_SPACES = re.compile(r"\s+")

_SCORERS: dict[str, Callable[..., float]] = {
    "ratio": fuzz.ratio,
    "partial_ratio": fuzz.partial_ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "WRatio": fuzz.WRatio,
    "QRatio": fuzz.QRatio,
}


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
    try:
        return _SCORERS[scorer]
    except KeyError:
        raise UsageError(f"rank_text: unknown scorer {scorer!r}; use one of {', '.join(_SCORERS)}") from None
