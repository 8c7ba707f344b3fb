"""Debaters for the pixel debate: greedy, exact minimax and MCTS (PUCT), all with full judge access.

Every debater is a tensor-view :class:`~redqueen.agents.Agent` built for one
:class:`~redqueen.envs.debate.game.PixelDebate` (it reads the image, the revealed pixels, the claims
and its role from the observation, and asks the game's judge):

* :class:`GreedyDebater` ("minimax-lite", the default opponent of ``redqueen/Debate-v0``): reveals the
  pixel that most improves its own claim's margin with the judge, looking one reveal ahead.
* :class:`MinimaxDebater`: exact play over unordered pixel sets (:mod:`redqueen.envs.debate.solver`);
  among the moves that keep the game value it picks uniformly. Feasible for ``k <= 4`` on 8x8 images
  (a fraction of a second per first move); it refuses positions with more than
  :data:`~redqueen.envs.debate.solver.MAX_LEAVES` leaf sets.
* :class:`MCTSDebater`: Monte-Carlo tree search with the PUCT rule of Silver et al. (uniform priors,
  no learned policy) and random playouts to a full set scored by the judge; ``rollouts`` per move.

Strength is what matters when reporting debate accuracy: see :mod:`redqueen.envs.debate.evaluation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from redqueen.agents.base import Agent, legal_from_mask
from redqueen.envs.debate.game import PixelDebate
from redqueen.envs.debate.solver import solve

__all__ = ["DEBATERS", "GreedyDebater", "MCTSDebater", "MinimaxDebater", "make_debater"]


class _Debater(Agent):
    """Shared decoding of a pixel-debate observation."""

    view = "tensor"

    def __init__(self, game: PixelDebate, name: str | None = None, seed: int | None = None):
        if not isinstance(game, PixelDebate):
            raise TypeError(
                f"a debater needs the PixelDebate it plays, got {type(game).__name__} {game!r:.60}"
            )
        super().__init__(name, seed)
        self.game = game

    def _decode(self, observation: Mapping[str, Any]) -> dict[str, Any]:
        game_id = observation.get("game_id", PixelDebate.id) if isinstance(observation, Mapping) else None
        if game_id != PixelDebate.id or "observation" not in observation:
            raise ValueError(
                f"{type(self).__name__} plays the pixel debate from its tensor view (an observation dict "
                f"with 'observation' and 'action_mask'); got {type(observation).__name__}"
            )
        game = self.game
        obs = np.asarray(observation["observation"], dtype=np.float64)
        p, c = game.num_pixels, game.num_classes
        if obs.shape != (2 * p + 2 * c + 3,):
            raise ValueError(
                f"expected a pixel-debate observation of shape ({2 * p + 2 * c + 3},), got {obs.shape}"
            )
        legal = legal_from_mask(observation)
        revealed = np.flatnonzero(obs[p : 2 * p] > 0.5)
        own = obs[2 * p : 2 * p + c]
        other = obs[2 * p + c : 2 * p + 2 * c]
        own_claim = int(own.argmax()) if own.max() > 0.5 else None
        other_claim = int(other.argmax()) if other.max() > 0.5 else None
        honest = bool(obs[-1] > 0.5)
        label = own_claim if honest else other_claim
        lie = other_claim if honest else own_claim
        if label is None:
            raise ValueError("the observation has no honest claim; is it a pixel-debate observation?")
        # this debater makes reveal number len(revealed); the first reveal was its own if that is even
        i_first = revealed.size % 2 == 0
        return {
            "image": obs[:p],
            "revealed": revealed,
            "legal": legal,
            "label": label,
            "lie": lie,
            "honest": honest,
            "honest_first": i_first == honest,
        }

    def _winner_margin(self, logits: np.ndarray, d: dict[str, Any]) -> np.ndarray:
        """How far each row of logits is in this debater's favour (> 0: it would win now)."""
        y, lie = d["label"], d["lie"]
        if lie is not None:
            margin = logits[:, y] - logits[:, lie]
        else:
            margin = logits[:, y] - np.delete(logits, y, axis=1).max(axis=1)
        return margin if d["honest"] else -margin

    def _pick(self, moves: np.ndarray) -> int:
        return int(moves[int(self.rng.integers(len(moves)))]) if len(moves) > 1 else int(moves[0])


class GreedyDebater(_Debater):
    """Reveals the legal pixel after which the judge favours its own claim most (one reveal ahead,
    as if the debate ended there); ties are broken uniformly with its seeded generator."""

    name = "greedy"

    def _best(self, observation: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        d = self._decode(observation)
        legal = d["legal"]
        sets = np.sort(
            np.hstack([np.broadcast_to(d["revealed"], (legal.size, d["revealed"].size)), legal[:, None]]),
            axis=1,
        )
        margin = self._winner_margin(self.game.judge.set_logits(d["image"], sets), d)
        return legal[margin >= margin.max()], d

    def act(self, observation: Mapping[str, Any]) -> int:
        return self._pick(self._best(observation)[0])

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[int, float]:
        best = self._best(observation)[0]
        return {int(a): 1.0 / len(best) for a in best}


class MinimaxDebater(_Debater):
    """Exact play: a move that keeps the game value (win if it can be won), uniformly among them."""

    name = "minimax"

    def optimal_moves(self, observation: Mapping[str, Any]) -> tuple[list[int], int]:
        """(the value-keeping pixels, the value for this debater: 1 win, 0 loss under exact play)."""
        d = self._decode(observation)
        lies = [d["lie"]] if d["lie"] is not None else None
        solution = solve(
            self.game.judge,
            d["image"],
            d["label"],
            self.game.k,
            candidates=d["legal"],
            revealed=d["revealed"].tolist(),
            honest_first=d["honest_first"],
            lies=lies,
            precommit=d["lie"] is not None,
        )
        honest_value = int(solution.value[0])
        return solution.best_moves(0), honest_value if d["honest"] else 1 - honest_value

    def act(self, observation: Mapping[str, Any]) -> int:
        return self._pick(np.asarray(self.optimal_moves(observation)[0]))

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[int, float]:
        moves = self.optimal_moves(observation)[0]
        return {int(a): 1.0 / len(moves) for a in moves}

    def value(self, observation: Mapping[str, Any]) -> int:
        """1 if this debater wins under exact play from here, else 0."""
        return self.optimal_moves(observation)[1]


class _Node:
    __slots__ = ("children", "moves", "n", "visits", "w")

    def __init__(self, moves: np.ndarray):
        self.moves = moves
        self.n = np.zeros(moves.size)
        self.w = np.zeros(moves.size)  # wins of the player to move here, per edge
        self.children: list[_Node | None] = [None] * moves.size
        self.visits = 0


class MCTSDebater(_Debater):
    """PUCT Monte-Carlo tree search (uniform priors) with random playouts scored by the judge.

    Args:
        game: the pixel debate.
        rollouts: simulations per move (the paper used 10,000; each ends in one judge evaluation,
            cached per set).
        c_puct: exploration constant of ``Q + c_puct * P * sqrt(N) / (1 + n)``, with ``P = 1 / moves``.
        seed: the generator of playouts and tie-breaks.

    The value of a playout is 1 for a win of the player to move at each node, 0 for a loss; an edge's
    ``Q`` is its win rate with one virtual draw, ``(wins + 0.5) / (visits + 1)``. The move played is
    the most visited one (ties: the higher win rate, then uniformly).
    """

    name = "mcts"

    def __init__(
        self,
        game: PixelDebate,
        rollouts: int = 1000,
        c_puct: float = 1.0,
        name: str | None = None,
        seed: int | None = None,
    ):
        if isinstance(rollouts, bool) or not isinstance(rollouts, int) or rollouts < 1:
            raise ValueError(f"rollouts must be a positive integer, got {rollouts!r}")
        if not c_puct >= 0:
            raise ValueError(f"c_puct must be >= 0, got {c_puct!r}")
        super().__init__(game, name or f"mcts{rollouts}", seed)
        self.rollouts = int(rollouts)
        self.c_puct = float(c_puct)

    def search(self, observation: Mapping[str, Any]) -> dict[int, tuple[int, float]]:
        """Run the search; pixel -> (visits, win rate for this debater) at the root."""
        d = self._decode(observation)
        k = self.game.k
        score = self.game.judge.scorer(d["image"])
        start = [int(p) for p in d["revealed"]]
        honest_first = d["honest_first"]
        rng = self.rng
        cache: dict[tuple[int, ...], float] = {}
        root = _Node(np.asarray(d["legal"], dtype=np.int64))
        c = self.c_puct

        def honest_wins(pixels: list[int]) -> float:
            key = tuple(sorted(pixels))
            value = cache.get(key)
            if value is None:
                z = score(np.asarray([key]))[0]
                y, lie = d["label"], d["lie"]
                rival = z[lie] if lie is not None else np.delete(z, y).max()
                value = cache[key] = 1.0 if z[y] > rival else 0.0
            return value

        for _ in range(self.rollouts):
            node = root
            pixels = list(start)
            path: list[tuple[_Node, int, bool]] = []
            while len(pixels) < k:
                honest_to_move = (len(pixels) % 2 == 0) == honest_first
                count = node.moves.size
                n = node.n
                # unvisited edges count as a draw (0.5); tiny noise breaks ties at random
                q = (node.w + 0.5) / (n + 1.0)
                scores = q + (c * np.sqrt(node.visits + 1) / count) / (1.0 + n) + rng.random(count) * 1e-9
                a = int(scores.argmax())
                path.append((node, a, honest_to_move))
                pixels.append(int(node.moves[a]))
                child = node.children[a]
                if child is None:
                    child = node.children[a] = _Node(np.delete(node.moves, a))
                    node = child
                    break
                node = child
            if len(pixels) < k:  # random playout from the new node
                extra = rng.choice(node.moves, size=k - len(pixels), replace=False)
                pixels.extend(int(p) for p in extra)
            v = honest_wins(pixels)
            node.visits += 1
            for parent, a, honest_to_move in path:
                parent.visits += 1
                parent.n[a] += 1
                parent.w[a] += v if honest_to_move else 1.0 - v
        return {
            int(p): (int(root.n[i]), float(root.w[i] / root.n[i]) if root.n[i] else 0.0)
            for i, p in enumerate(root.moves)
        }

    def act(self, observation: Mapping[str, Any]) -> int:
        stats = self.search(observation)
        top = max(stats.values())
        best = np.asarray(sorted(p for p, s in stats.items() if s == top))
        return self._pick(best)


DEBATERS = ("greedy", "minimax", "mcts", "random")


def make_debater(spec: str | Agent, game: PixelDebate, seed: int | None = None, **kwargs: Any) -> Agent:
    """A debater by name (``"greedy"``, ``"minimax"``, ``"mcts"`` or ``"mctsN"`` for N rollouts,
    ``"random"``) for ``game``, or ``spec`` itself when it is an Agent."""
    if isinstance(spec, Agent):
        return spec
    from redqueen.agents.base import RandomAgent

    if spec == "greedy":
        return GreedyDebater(game, seed=seed, **kwargs)
    if spec == "minimax":
        return MinimaxDebater(game, seed=seed, **kwargs)
    if isinstance(spec, str) and spec.startswith("mcts"):
        tail = spec[4:]
        if tail and not tail.isdigit():
            raise ValueError(f"an MCTS debater is 'mcts' or 'mctsN' (N rollouts per move), got {spec!r}")
        if tail:
            kwargs.setdefault("rollouts", int(tail))
        return MCTSDebater(game, seed=seed, **kwargs)
    if spec == "random":
        return RandomAgent(seed=seed, **kwargs)
    raise ValueError(f"unknown debater {spec!r}; use an Agent or one of greedy, minimax, mcts, mctsN, random")
