"""The small-block decisions of the matcher: optimal one-to-one pairing, exact subset sums, fuzzy text.

The relational layer (:mod:`recon_helpers.engine.store`) does the bulk work in SQL: it builds every candidate pair that
lies inside the recipe's tolerances and windows. What is left are small connected blocks where a person
would have to choose. This module chooses only when the data force the choice - a pair that is part of
*every* optimal assignment, the *only* subset that sums to the target - and otherwise hands back ranked
candidates, so the row becomes an exception with suggestions instead of a guess.

All functions are pure (no DuckDB, no I/O) and deterministic: the same candidates in any order give the
same answer, because every block is sorted by row id before it is solved.

Public besides :func:`one_to_one` and :class:`BlockResult` are the pieces it is built from that the
Spark back-end (:mod:`recon_helpers.engine.backends.spark_blocks`) calls inside its tasks to decide
blocks there: :func:`edge_arrays`, :func:`cheapest_edge_per_pair`, :func:`rank_open_rows`,
:func:`pair_frame` and :func:`ranked_frame`. ``one_to_one`` calls the same functions, so both engines
give the same pairs, candidates and refusals; a change to one of them is a change to both engines.
Names with an underscore are this module's own and may change without notice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from recon_helpers.errors import MatchInputError

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

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
    row id, each present in every optimal assignment of its block (``pairs_frame()`` holds them as
    columns; the list of tuples is built when first asked for, as the engine's path never needs it).
    ``ranked`` lists, for each row whose pairing is not forced, up to three ranked candidates
    (columns side, rid, cside, crid, cost, rank and edge, the pair's row in the candidates; rows
    sorted by side, rid and rank, cheapest first); ``ambiguous`` is the same as a dict
    ``("left"|"right", rid) -> [(other_side, other_rid, cost), ...]``, built when first asked for
    (half a million open rows make a dict of tuples that costs seconds, which the engine's own path
    never needs). Rows of a block that appear in neither are unmatched in every optimal assignment:
    later rules (or the final sweep) deal with them.
    """

    pair_frame: pd.DataFrame = field(default_factory=lambda: pair_frame([], [], []), repr=False, compare=False)
    ranked: pd.DataFrame = field(default_factory=lambda: ranked_frame([], [], [], [], [], []), repr=False,
                                 compare=False)

    @cached_property
    def pairs(self) -> list[tuple[int, int, float]]:
        return list(zip(self.pair_frame["left_rid"].tolist(), self.pair_frame["right_rid"].tolist(),
                        self.pair_frame["cost"].tolist()))

    @cached_property
    def ambiguous(self) -> dict[tuple[str, int], list[Candidate]]:
        return _candidates_dict(self.ranked)

    def ranked_candidates(self) -> pd.DataFrame:
        """The candidates of ``ambiguous`` as one frame: side, rid, cside, crid, cost, rank (0 = best), edge."""
        return self.ranked

    def pairs_frame(self) -> pd.DataFrame:
        """The accepted pairs as a DataFrame (left_rid, right_rid, cost) for a SQL layer to register."""
        return self.pair_frame


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
    left, right, cost = edge_arrays(candidates)
    if left.size == 0:
        return BlockResult()

    alone = _isolated_pair_mask(left, right)  # a pair listed twice is not alone, so no dedupe needed here
    pair_parts = [(left[alone], right[alone], cost[alone])]
    if alone.all():
        return BlockResult(pair_frame=_sorted_pairs(pair_parts))
    rest = ~alone
    *edges, edge_of = cheapest_edge_per_pair(left[rest], right[rest], cost[rest], np.flatnonzero(rest))
    pairs, open_left, open_right = _decide_blocks(*edges, max_block=max_block)
    return BlockResult(pair_frame=_sorted_pairs(pair_parts + pairs),
                       ranked=rank_open_rows(*edges, edge_of, open_left, open_right))


def _decide_blocks(left: np.ndarray, right: np.ndarray, cost: np.ndarray, *, max_block: int):
    """Decide every connected block of the (deduplicated) candidate graph.

    Why in bulk: ambiguous data make tens of thousands of small blocks, and one Python call per block
    cost more than the decisions themselves. The shapes that need no solver are decided for all
    blocks at once in numpy: stars (one row facing several), blocks too big to solve, and complete
    blocks whose edges all cost the same (every pairing is as good as any other, so no pair is forced
    and every row is open). Only the remaining blocks run the optimal assignment one by one.
    Returns (pair parts, open left row ids, open right row ids).
    """
    label, left_code, right_code = _block_labels(left, right)
    n_blocks = int(label.max()) + 1
    n_left = np.bincount(_block_of_each_row(label, left_code), minlength=n_blocks)
    n_right = np.bincount(_block_of_each_row(label, right_code), minlength=n_blocks)
    n_edges = np.bincount(label, minlength=n_blocks)
    low = np.full(n_blocks, np.inf)
    np.minimum.at(low, label, cost)
    high = np.full(n_blocks, -np.inf)
    np.maximum.at(high, label, cost)
    too_big = n_left + n_right > max_block
    star = ~too_big & ((n_left == 1) | (n_right == 1))
    all_open = too_big | (~star & (n_edges == n_left * n_right) & (low == high))

    pair_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    opened = all_open[label]
    open_left, open_right = [left[opened]], [right[opened]]
    in_star = star[label]
    tied = in_star & (cost <= low[label] + COST_TIE)  # _solve_star: ties with the cheapest edge
    n_tied = np.bincount(label[tied], minlength=n_blocks)
    won = tied & (n_tied[label] == 1)
    pair_parts.append((left[won], right[won], cost[won]))
    lost = tied & (n_tied[label] > 1)
    open_left.append(left[lost])
    open_right.append(right[lost])

    solve = ~(all_open | star)
    if solve.any():
        for b_left, b_right, b_cost in _blocks_of(left, right, cost, label, solve[label]):
            pairs, o_left, o_right = _solve_general(b_left, b_right, b_cost)
            if pairs:
                pair_parts.append(tuple(np.asarray(col) for col in zip(*pairs)))
            open_left.append(o_left)
            open_right.append(o_right)
    return pair_parts, _dense_codes(np.concatenate(open_left))[0], _dense_codes(np.concatenate(open_right))[0]


def edge_arrays(candidates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the candidate frame and return its columns as numpy arrays (int64, int64, float64).

    Public because the Spark back-end reads a task's candidates with it: the same checks, the same
    messages and the same dtypes as :func:`one_to_one` on the driver."""
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


def cheapest_edge_per_pair(left: np.ndarray, right: np.ndarray, cost: np.ndarray,
                            index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sort edges by (left, right, cost) and keep the cheapest of each (left, right): order-free.
    ``index`` (each edge's row in the candidates) is carried along.

    Public because :func:`rank_open_rows` expects its edges in this order and without duplicates,
    and the Spark back-end prepares a task's edges for it with this function, as ``one_to_one`` does."""
    order = np.lexsort((cost, right, left))
    left, right, cost, index = left[order], right[order], cost[order], index[order]
    first = np.ones(left.size, dtype=bool)
    first[1:] = (left[1:] != left[:-1]) | (right[1:] != right[:-1])
    return left[first], right[first], cost[first], index[first]


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


def _block_labels(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The connected block of every edge of the bipartite candidate graph, and each edge's left and
    right row codes (dense 0..n-1)."""
    left_ids, left_code = _dense_codes(left)
    right_ids, right_code = _dense_codes(right)
    root = _component_roots(left_ids.size + right_ids.size, left_code, left_ids.size + right_code)
    return _dense_codes(root[left_code])[1], left_code, right_code


def _dense_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.unique(ids, return_inverse=True)``: the distinct ids, ascending, and each id's position
    among them. Why not always ``unique``: it sorts, and row ids are dense (a side's rids are
    0..n-1), so a presence array and a running count give the same answer in two linear passes -
    a sort of the 1.35M edges of a month with 30% ambiguous lines took about a second, every call."""
    if ids.size == 0:
        return ids.copy(), ids.astype(np.intp)
    low = int(ids.min())
    span = int(ids.max()) - low + 1
    if span > 4 * ids.size + 1024:
        distinct, code = np.unique(ids, return_inverse=True)
        return distinct, code.ravel()
    offset = ids - low
    present = np.zeros(span, dtype=bool)
    present[offset] = True
    position = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, position[offset]


def _component_roots(n_nodes: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest node of each node's connected component, for the undirected edges a-b.

    Why not scipy's ``connected_components``: importing scipy.sparse cost a fresh process about
    50 MiB and a second, for what numpy does in a few passes: every round, each root hooks onto the
    smallest root it shares an edge with, then pointers are followed until every node points at its
    root. Roots only ever point at smaller roots, so this ends, in a few rounds on candidate graphs.
    """
    parent = np.arange(n_nodes)
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return parent
        low, high = np.minimum(ra[apart], rb[apart]), np.maximum(ra[apart], rb[apart])
        np.minimum.at(parent, high, low)
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def _block_of_each_row(label: np.ndarray, code: np.ndarray) -> np.ndarray:
    """The block of each distinct row code (all of a row's edges lie in one block): one entry per row."""
    block = np.empty(int(code.max()) + 1, dtype=label.dtype)
    block[code] = label
    return block


def _blocks_of(left: np.ndarray, right: np.ndarray, cost: np.ndarray, label: np.ndarray, chosen: np.ndarray):
    """Yield (left, right, cost) arrays per block for the chosen edges; edges stay sorted by (left,
    right) inside a block."""
    idx = np.flatnonzero(chosen)
    order = idx[np.argsort(label[idx], kind="stable")]
    bounds = np.flatnonzero(np.diff(label[order])) + 1
    for part in np.split(order, bounds):
        yield left[part], right[part], cost[part]


def _sorted_pairs(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Concatenate accepted pairs and sort them by left row id (unique among pairs) in numpy."""
    left = np.concatenate([p[0] for p in parts]).astype(np.int64)
    right = np.concatenate([p[1] for p in parts]).astype(np.int64)
    cost = np.concatenate([p[2] for p in parts]).astype(np.float64)
    order = np.argsort(left, kind="stable")
    return pair_frame(left[order], right[order], cost[order])


def pair_frame(left: ArrayLike, right: ArrayLike, cost: ArrayLike) -> pd.DataFrame:
    """The accepted-pairs frame of a :class:`BlockResult` with its dtypes (int64, int64, float64).

    Public because the Spark back-end builds the BlockResult of the whole graph from its tasks'
    decisions, and it must hold the same frame ``one_to_one`` gives."""
    import pandas as pd

    return pd.DataFrame({"left_rid": np.asarray(left, dtype=np.int64), "right_rid": np.asarray(right, dtype=np.int64),
                         "cost": np.asarray(cost, dtype=np.float64)}, copy=False)  # see ranked_frame


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
    from scipy.optimize import linear_sum_assignment  # here: a fresh process pays for scipy only when a block needs it

    rows, cols = linear_sum_assignment(matrix)
    used = is_edge[rows, cols]
    rows, cols = rows[used], cols[used]
    return rows, cols, _Optimum(int(used.sum()), float(matrix[rows, cols].sum()))


def _solve_general(left: np.ndarray, right: np.ndarray,
                   cost: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
    """Solve a block with scipy's assignment, then test every chosen pair for being forced.
    Returns the forced pairs and the ids of the left and right rows whose pairing is open."""
    left_ids = np.unique(left)
    right_ids = np.unique(right)
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
    if not open_pairs:  # every optimum equals this one, so the unassigned rows are unmatched in all
        return pairs, left_ids[:0], right_ids[:0]

    paired_left, paired_right = set(rows.tolist()), set(cols.tolist())
    open_left = {i for i, _ in open_pairs}
    open_right = {j for _, j in open_pairs}
    open_left |= {i for i in range(left_ids.size) if i not in paired_left
                  and _row_in_some_optimum(matrix, is_edge, i, best, axis=0)}
    open_right |= {j for j in range(right_ids.size) if j not in paired_right
                   and _row_in_some_optimum(matrix, is_edge, j, best, axis=1)}
    return pairs, left_ids[sorted(open_left)], right_ids[sorted(open_right)]


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


def rank_open_rows(left: np.ndarray, right: np.ndarray, cost: np.ndarray, edge_of: np.ndarray,
                   open_left: np.ndarray, open_right: np.ndarray) -> pd.DataFrame:
    """Up to three ranked candidates (cheapest, then lowest row id) for each open row, all rows at once:
    a frame side, rid, cside, crid, cost, rank, edge (the pair's row in the candidates), sorted by
    side (left first), rid and rank.

    A row's edges all lie inside its own block, so ranking its edges over the whole graph gives the
    same candidates as ranking them block by block. The edges come sorted by (left, right) (see
    :func:`cheapest_edge_per_pair`), so a stable sort by (row, cost) leaves the other row ascending
    among equal costs: two sort keys, not three (a third of the time on 800,000 edges).

    Public because the Spark back-end ranks the rows of blocks too big to solve with it, row by row
    in its tasks, and must rank them exactly as ``one_to_one`` does: the edges as
    :func:`cheapest_edge_per_pair` returns them, ``open_left`` / ``open_right`` the open rows' ids.
    """
    parts = []
    for side_code, own, other, rows in ((0, left, right, open_left), (1, right, left, open_right)):
        pick = np.flatnonzero(np.isin(own, rows))
        order = pick[np.lexsort((cost[pick], own[pick]))]  # stable: ``other`` stays ascending in ties
        o_own = own[order]
        start = np.flatnonzero(np.r_[True, o_own[1:] != o_own[:-1]]) if order.size else order
        rank = np.arange(order.size) - np.repeat(start, np.diff(np.r_[start, order.size]))
        keep = order[rank < MAX_CANDIDATES]
        parts.append((np.full(keep.size, side_code, dtype=np.int8), own[keep], other[keep], cost[keep],
                      rank[rank < MAX_CANDIDATES], edge_of[keep]))
    side, rid, crid, cost_, rank_, edge = (np.concatenate(cols) for cols in zip(*parts))
    return ranked_frame(side, rid, 1 - side, crid, cost_, rank_, edge)


def ranked_frame(side: ArrayLike, rid: ArrayLike, cside: ArrayLike, crid: ArrayLike, cost: ArrayLike,
                 rank: ArrayLike, edge: ArrayLike = ()) -> pd.DataFrame:
    """The ranked-candidates frame with its dtypes. Sides are categories of "left" and "right"
    (``side`` / ``cside`` given as their names or as codes 0 = left, 1 = right): a million open
    rows' side names as Python strings cost a second to build and to convert. ``edge``: each
    candidate pair's row in the candidates given to :func:`one_to_one` (-1 when not known).

    Public for the same reason as :func:`pair_frame`: the Spark back-end's BlockResult must hold
    the same frame, with the same dtypes, as the one ``one_to_one`` gives. ``copy=False``: the
    frame keeps the given arrays as its columns instead of copying them into one block per dtype
    (~0.25 s for ambiguity30's 1.4M ranked candidates at 1,000,000 rows)."""
    import pandas as pd

    rid = np.asarray(rid, dtype=np.int64)
    edge = np.asarray(edge, dtype=np.int64) if len(edge) else np.full(rid.size, -1, dtype=np.int64)
    return pd.DataFrame({"side": _sides(side), "rid": rid, "cside": _sides(cside),
                         "crid": np.asarray(crid, dtype=np.int64), "cost": np.asarray(cost, dtype=np.float64),
                         "rank": np.asarray(rank, dtype=np.int64), "edge": edge}, copy=False)


def _sides(values) -> pd.Categorical:
    """Side names (or codes 0 = left, 1 = right) as a categorical of "left" and "right"."""
    import pandas as pd

    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return pd.Categorical.from_codes(values.astype(np.int8), categories=["left", "right"])
    return pd.Categorical(values, categories=["left", "right"])


def _candidates_dict(ranked: pd.DataFrame) -> dict[tuple[str, int], list[Candidate]]:
    """The ranked frame as ``{(side, rid): [(other_side, other_rid, cost), ...]}``, keys in frame order."""
    out: dict[tuple[str, int], list[Candidate]] = {}
    for side, rid, cside, crid, c in zip(ranked["side"].tolist(), ranked["rid"].tolist(), ranked["cside"].tolist(),
                                         ranked["crid"].tolist(), ranked["cost"].tolist()):
        key = (side, rid)
        if key in out:
            out[key].append((cside, crid, c))
        else:
            out[key] = [(cside, crid, c)]
    return out
