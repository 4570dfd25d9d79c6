"""The small-block decisions of the matcher: optimal one-to-one pairing, exact subset sums, fuzzy text.

The relational layer (:mod:`recon_helpers.engine.store`) does the bulk work in SQL: it builds every candidate pair that
lies inside the recipe's tolerances and windows. What is left are small connected blocks where a person
would have to choose. This module chooses only when the data force the choice - a pair that is part of
*every* optimal assignment, the *only* subset that sums to the target - and otherwise hands back ranked
candidates, so the row becomes an exception with suggestions instead of a guess.

All functions are pure (no DuckDB, no I/O) and deterministic: the same candidates in any order give the
same answer, because every block is sorted by row id before it is solved.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from recon_helpers.errors import MatchInputError

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


