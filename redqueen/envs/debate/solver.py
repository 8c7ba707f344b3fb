"""Exact minimax for the pixel debate, over unordered pixel sets.

The judge sees only the *set* of revealed pixels, and whose turn it is follows from the set's size, so
the value of a position is a function of the set alone. From a position with revealed set ``R`` and
``r = k - |R|`` reveals left among the candidate pixels ``Q``, every completion ``S`` (an ``r``-subset
of ``Q``) is scored once by the judge; then, for ``m = r - 1 ... 0``, the value of every ``m``-subset is
the max (honest to move) or min (liar to move) of its children's values. Subsets are indexed by their
colexicographic rank ``sum_i C(c_i, i + 1)`` (``c_0 < c_1 < ...``), so a child is looked up with numpy
arithmetic, not a dictionary. Cost: ``C(|Q|, r)`` judge evaluations (about 41,000 for a digit with 33
nonzero pixels at ``k = 4``, 1.1 million at ``k = 6``) plus ``sum_m C(|Q|, m) (|Q| - m)`` look-ups.

Values are 1 where the honest debater wins under perfect play by both and 0 where the liar does, one
column per claim pair: with precommitment, column ``j`` is the game against the lie ``lies[j]`` (the
judge picks the larger of the two claimed labels' logits, a tie goes to the liar); without it, one
column (the honest debater wins when the true label is the judge's strict argmax).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

import numpy as np

from redqueen.envs.debate.judge import Judge

__all__ = ["DebateSolution", "colex_combinations", "colex_rank", "leaf_values", "solve", "solve_image"]

_ROW_CHUNK = 32768
MAX_LEAVES = 20_000_000
"""Refuse problems with more leaf sets than this (memory); MCTS is the debater for those."""


def _binomials(n: int, m: int) -> np.ndarray:
    """B[a, b] = C(a, b) for a <= n, b <= m + 1 (int64)."""
    table = np.zeros((n + 1, m + 2), dtype=np.int64)
    for a in range(n + 1):
        for b in range(min(a, m + 1) + 1):
            table[a, b] = comb(a, b)
    return table


def colex_combinations(n: int, m: int) -> np.ndarray:
    """All ``m``-subsets of ``range(n)`` as rows of sorted indices, in colex order (row = rank)."""
    if m == 0:
        return np.zeros((1, 0), dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)[:, None]  # m = 1: row t = {t}
    for size in range(2, m + 1):
        blocks = []
        for top in range(size - 1, n):
            prefix = rows[: comb(top, size - 1)]  # the (size-1)-subsets of range(top) come first in colex
            blocks.append(np.hstack([prefix, np.full((prefix.shape[0], 1), top, dtype=np.int64)]))
        rows = np.vstack(blocks) if blocks else np.zeros((0, size), dtype=np.int64)
    return rows


def colex_rank(rows: np.ndarray) -> np.ndarray:
    """Colex rank of each row of sorted indices."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.shape[1] == 0:
        return np.zeros(rows.shape[0], dtype=np.int64)
    table = _binomials(int(rows.max()) + 1, rows.shape[1])
    return table[rows, np.arange(1, rows.shape[1] + 1)].sum(axis=1)


def _child_ranks(subsets: np.ndarray, n: int, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, valid): for every subset row and every candidate ``p`` in ``range(n)``, the colex rank of
    the subset with ``p`` added, and whether ``p`` was not in it already."""
    count, m = subsets.shape
    p = np.arange(n, dtype=np.int64)
    if m == 0:
        return np.broadcast_to(p, (count, n)).copy(), np.ones((count, n), dtype=bool)
    less = subsets[:, :, None] < p[None, None, :]  # (count, m, n)
    pos = np.arange(m, dtype=np.int64)
    stay = table[subsets, pos + 1]  # element i keeps position i when p comes after it
    shift = table[subsets, pos + 2]  # element i moves to position i + 1 when p comes before it
    ranks = np.where(less, stay[:, :, None], shift[:, :, None]).sum(axis=1)
    below = less.sum(axis=1)
    ranks += table[p[None, :], below + 1]
    valid = ~(subsets[:, :, None] == p[None, None, :]).any(axis=1)
    return ranks, valid


def leaf_values(
    logits: np.ndarray, label: int, lies: Sequence[int] | None, precommit: bool = True
) -> np.ndarray:
    """1 where the honest debater wins, per leaf row of ``logits`` and per lie (int8 ``(N, L)``)."""
    z = np.asarray(logits, dtype=np.float64)
    if precommit:
        lie = np.asarray(list(lies or ()), dtype=np.int64)
        return (z[:, [label]] > z[:, lie]).astype(np.int8)
    rival = np.delete(z, label, axis=1).max(axis=1)
    return (z[:, label] > rival).astype(np.int8)[:, None]


@dataclass
class DebateSolution:
    """Exact values of a debate position: ``levels[m][rank, j]`` is the honest debater's result (1 win,
    0 loss) in the position reached by adding the ``m``-subset of ``candidates`` with colex ``rank`` to
    the revealed set, against claim column ``j``."""

    candidates: np.ndarray
    levels: list[np.ndarray]
    honest_moves: list[bool]
    """``honest_moves[m]``: whether the honest debater makes the reveal after ``m`` more pixels."""

    @property
    def value(self) -> np.ndarray:
        """The root's values, one per claim column (1 = the honest debater wins)."""
        return self.levels[0][0]

    def move_values(self) -> dict[int, np.ndarray]:
        """Pixel -> values after revealing it now (the root's children)."""
        if len(self.levels) < 2:
            return {}
        return {int(p): self.levels[1][i] for i, p in enumerate(self.candidates)}

    def best_moves(self, column: int = 0) -> list[int]:
        """The pixels that keep the root's value for the player to move, ascending."""
        children = self.move_values()
        if not children:
            return []
        target = self.value[column]
        return sorted(p for p, v in children.items() if v[column] == target)


def solve(
    judge: Judge,
    image: np.ndarray,
    label: int,
    k: int,
    *,
    candidates: Sequence[int] | np.ndarray,
    revealed: Sequence[int] = (),
    honest_first: bool = True,
    lies: Sequence[int] | None = None,
    precommit: bool = True,
) -> DebateSolution:
    """Exact minimax values of the debate position where ``revealed`` pixels are shown and the rest of
    the ``k`` come from ``candidates`` (pixels not revealed yet); ``honest_first`` says who made (or
    makes) the first reveal of the game. ``lies`` are the liar's claims (one value column each; all
    other labels when None) and are ignored without precommitment."""
    image = np.asarray(image, dtype=np.float64).reshape(-1)
    revealed_arr = np.asarray(list(revealed), dtype=np.int64)
    cand = np.asarray(sorted(set(int(c) for c in candidates) - set(revealed_arr.tolist())), dtype=np.int64)
    left = k - revealed_arr.size
    if left < 0:
        raise ValueError(f"{revealed_arr.size} pixels are revealed already, more than k={k}")
    if left > cand.size:
        raise ValueError(f"{left} more pixels are to be revealed but only {cand.size} candidates are left")
    n = int(cand.size)
    if comb(n, left) > MAX_LEAVES:
        raise ValueError(
            f"exact minimax would score C({n}, {left}) = {comb(n, left):,} pixel sets, more than "
            f"{MAX_LEAVES:,}; use the MCTS debater for this k"
        )
    if lies is None:
        lies = [c for c in range(judge.num_classes) if c != label]
    table = _binomials(n, left)
    leaves = colex_combinations(n, left)
    sets = np.hstack([np.broadcast_to(revealed_arr, (leaves.shape[0], revealed_arr.size)), cand[leaves]])
    sets.sort(axis=1)  # the judge sums pixels in ascending order, as the game scores a finished debate
    values = leaf_values(judge.set_logits(image, sets), label, lies, precommit)
    done = revealed_arr.size
    honest_moves = [((done + m) % 2 == 0) == honest_first for m in range(left)]
    levels: list[np.ndarray] = [values]
    for m in range(left - 1, -1, -1):
        subsets = colex_combinations(n, m)
        out = np.empty((subsets.shape[0], values.shape[1]), dtype=np.int8)
        maximize = honest_moves[m]
        for start in range(0, subsets.shape[0], _ROW_CHUNK):
            block = subsets[start : start + _ROW_CHUNK]
            ranks, valid = _child_ranks(block, n, table)
            child = values[np.where(valid, ranks, 0)]  # (rows, n, L)
            if maximize:
                out[start : start + block.shape[0]] = np.where(valid[:, :, None], child, -1).max(axis=1)
            else:
                out[start : start + block.shape[0]] = np.where(valid[:, :, None], child, 2).min(axis=1)
        values = out
        levels.append(values)
    levels.reverse()
    return DebateSolution(cand, levels, honest_moves)


def solve_image(
    judge: Judge,
    image: np.ndarray,
    label: int,
    k: int,
    candidates: Sequence[int] | np.ndarray,
    *,
    precommit: bool = True,
) -> dict[str, np.ndarray]:
    """Exact results of one image for both move orders: ``{"honest_first": v, "liar_first": v}``, each
    one value per lie (precommit, lies in label order without the true one) or a single value. The
    leaf sets are scored once for both orders."""
    image = np.asarray(image, dtype=np.float64).reshape(-1)
    cand = np.asarray(sorted(int(c) for c in candidates), dtype=np.int64)
    n = int(cand.size)
    if k > n:
        raise ValueError(f"k={k} is more than the {n} candidate pixels")
    if comb(n, k) > MAX_LEAVES:
        raise ValueError(f"exact minimax would score C({n}, {k}) = {comb(n, k):,} sets; use MCTS")
    lies = [c for c in range(judge.num_classes) if c != label]
    leaves = colex_combinations(n, k)
    base = leaf_values(judge.set_logits(image, cand[leaves]), label, lies, precommit)
    table = _binomials(n, k)
    subsets_by_m = [colex_combinations(n, m) for m in range(k)]
    children = []
    for m in range(k):
        subsets = subsets_by_m[m]
        children.append(_child_ranks(subsets, n, table) if subsets.shape[0] <= _ROW_CHUNK else None)
    out = {}
    for name, honest_first in (("honest_first", True), ("liar_first", False)):
        values = base
        for m in range(k - 1, -1, -1):
            maximize = (m % 2 == 0) == honest_first
            subsets = subsets_by_m[m]
            result = np.empty((subsets.shape[0], values.shape[1]), dtype=np.int8)
            for start in range(0, subsets.shape[0], _ROW_CHUNK):
                block = subsets[start : start + _ROW_CHUNK]
                cached = children[m]
                if cached is not None:
                    ranks, valid = cached
                else:
                    ranks, valid = _child_ranks(block, n, table)
                child = values[np.where(valid, ranks, 0)]
                fill = -1 if maximize else 2
                masked = np.where(valid[:, :, None], child, fill)
                result[start : start + block.shape[0]] = (
                    masked.max(axis=1) if maximize else masked.min(axis=1)
                )
            values = result
        out[name] = values[0]
    return out
