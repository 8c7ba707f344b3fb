"""Perfect TicTacToe play by exhaustive minimax.

The game is solved once per process, on the first :class:`MinimaxAgent` built, and kept in a
module-level table keyed by bitboards ``(mover's marks, opponent's marks)`` (cells 0-8, bit ``c``
set when cell ``c`` holds a mark). About 5,500 positions are reachable; solving them takes a fraction
of a second, after which building agents and choosing moves cost a table lookup.

Scores are from the point of view of the player to move: ``1 + e`` for a win, ``-(1 + e)`` for a
loss and ``0`` for a draw, where ``e`` is the number of cells still empty when the game ends under
perfect play by both sides. The sign is the minimax value (win / draw / loss); the magnitude only
breaks ties among moves of the same value, so the agent takes the fastest win and, when lost,
the slowest loss. Among moves with the same best score it picks uniformly with its own seeded
generator (every drawing move is equally likely, e.g. all first moves of the empty board).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from redqueen.agents.base import Agent
from redqueen.envs.tictactoe import EMPTY, FULL, WINS

GAME_ID = "tictactoe"

# (mine, theirs) -> score for the player to move (see the module docstring)
_SCORES: dict[tuple[int, int], int] = {}
# (mine, theirs) -> the cells with the best score, ascending
_BEST: dict[tuple[int, int], tuple[int, ...]] = {}
_POW2 = (1 << np.arange(9)).astype(np.int64)


def _score(mine: int, theirs: int) -> int:
    """Score of the position for the player to move (``mine``); neither side has a line yet."""
    key = (mine, theirs)
    cached = _SCORES.get(key)
    if cached is not None:
        return cached
    occupied = mine | theirs
    if occupied == FULL:
        _SCORES[key] = 0
        _BEST[key] = ()
        return 0
    empty_after = len(EMPTY[occupied]) - 1  # empty cells left once the mover has played
    best = -100
    best_moves: list[int] = []
    for cell in EMPTY[occupied]:
        after = mine | (1 << cell)
        if WINS[after]:
            value = 1 + empty_after
        else:
            value = -_score(theirs, after)
        if value > best:
            best, best_moves = value, [cell]
        elif value == best:
            best_moves.append(cell)
    _SCORES[key] = best
    _BEST[key] = tuple(best_moves)
    return best


def solve() -> int:
    """Solve TicTacToe from the empty board (once per process) and return its score for X: 0, a draw."""
    return _score(0, 0)


def position_value(mine: int, theirs: int) -> int:
    """Minimax value (+1 win, 0 draw, -1 loss) for the player to move, from bitboards."""
    _check_bitboards(mine, theirs)
    return int(np.sign(_score(mine, theirs)))


def best_moves(mine: int, theirs: int) -> tuple[int, ...]:
    """The optimal cells (best value, fastest win / slowest loss) for the player to move."""
    _check_bitboards(mine, theirs)
    _score(mine, theirs)
    return _BEST[(mine, theirs)]


def _check_bitboards(mine: int, theirs: int) -> None:
    if not (0 <= mine <= FULL and 0 <= theirs <= FULL):
        raise ValueError(f"bitboards must be 9-bit masks, got mine={mine!r}, theirs={theirs!r}")
    if mine & theirs:
        raise ValueError("invalid TicTacToe position: a cell holds both players' marks")
    n_mine, n_theirs = mine.bit_count(), theirs.bit_count()
    if n_theirs not in (n_mine, n_mine + 1):
        raise ValueError(
            f"invalid TicTacToe position for the player to move: {n_mine} own marks and {n_theirs} "
            "opponent marks (the mover has as many marks as the opponent, or one fewer)"
        )
    if WINS[mine] or WINS[theirs]:
        raise ValueError("the TicTacToe game is already over: a player has three in a row")
    if mine | theirs == FULL:
        raise ValueError("the TicTacToe game is already over: the board is full")


def decode_observation(observation: Mapping[str, Any] | np.ndarray) -> tuple[int, int]:
    """Bitboards ``(own marks, opponent's marks)`` of a TicTacToe tensor observation.

    Accepts the agent observation dict (key ``observation``) or the (3, 3, 2) array itself; plane 0
    holds the observer's marks and plane 1 the opponent's. Raises ValueError for anything else.
    """
    if isinstance(observation, Mapping):
        game_id = observation.get("game_id", GAME_ID)
        if game_id != GAME_ID:
            raise ValueError(f"MinimaxAgent plays TicTacToe only; got an observation of {game_id!r}")
        if "observation" not in observation:
            keys = ", ".join(map(repr, observation))
            hint = (
                " (a text-view observation? MinimaxAgent uses the tensor view)"
                if "text" in observation
                else ""
            )
            raise ValueError(
                f"MinimaxAgent needs an observation dict with key 'observation'; got {keys}{hint}"
            )
        array = observation["observation"]
    else:
        array = observation
    array = np.asarray(array)
    if array.shape != (3, 3, 2):
        raise ValueError(
            f"MinimaxAgent expects a TicTacToe observation of shape (3, 3, 2), got shape {array.shape}"
        )
    flat = array.reshape(9, 2)
    if not np.isin(flat, (0, 1)).all():
        raise ValueError("a TicTacToe observation holds only 0s and 1s")
    mine = int(flat[:, 0].astype(np.int64) @ _POW2)
    theirs = int(flat[:, 1].astype(np.int64) @ _POW2)
    return mine, theirs


class MinimaxAgent(Agent):
    """Perfect TicTacToe player (tensor view): never loses, takes the fastest win.

    Picks uniformly, with its seeded generator, among the moves of best score (see the module
    docstring); :meth:`action_probabilities` reports that uniform distribution.
    """

    name = "minimax"
    view = "tensor"

    def __init__(self, name: str | None = None, seed: int | None = None):
        super().__init__(name, seed)
        solve()  # fills the module-level table on the first agent; free afterwards

    def optimal_moves(self, observation: Mapping[str, Any] | np.ndarray) -> tuple[int, ...]:
        """The cells this agent may play in ``observation`` (all of equal, best score)."""
        mine, theirs = decode_observation(observation)
        moves = best_moves(mine, theirs)
        if isinstance(observation, Mapping) and "action_mask" in observation:
            mask = np.asarray(observation["action_mask"])
            if mask.shape != (9,) or any(not mask[c] for c in EMPTY[mine | theirs]):
                raise ValueError(
                    "the action mask does not match the board (every empty cell should be legal); "
                    "is it this agent's turn?"
                )
        return moves

    def act(self, observation: Mapping[str, Any]) -> int:
        moves = self.optimal_moves(observation)
        if len(moves) == 1:
            return moves[0]
        return moves[int(self.rng.integers(len(moves)))]

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[int, float]:
        moves = self.optimal_moves(observation)
        return {m: 1.0 / len(moves) for m in moves}

    def value(self, observation: Mapping[str, Any] | np.ndarray) -> int:
        """Minimax value of the observed position for the player to move: +1, 0 or -1."""
        return position_value(*decode_observation(observation))
