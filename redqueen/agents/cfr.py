"""An agent playing the average policy of OpenSpiel's C++ CFR or CFR+ solver.

The solver runs on ``game.openspiel_game()`` when the agent is made (Kuhn poker: about 30k iterations
per second). Observations are mapped to OpenSpiel information states by their ``info_state`` key when
the solver knows it, else by the observation tensor: its first numbers are looked up among OpenSpiel's
``information_state_tensor`` of every information state. So the agent plays PettingZoo observations
that carry only ``observation`` and ``action_mask``, and every hand of multi-hand Kuhn poker (whose
tensor starts with the current hand's information-state tensor; the one-hand game is solved).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from redqueen.agents.base import Agent
from redqueen.game import Game
from redqueen.registry import make_game

ALGORITHMS = ("cfr", "cfr+")


def _solver_game(game: Game) -> Any:
    """The OpenSpiel game to solve for ``game``; multi-hand Kuhn poker is solved hand by hand."""
    og = game.openspiel_game()
    if og is None and game.id == "kuhn_poker":
        og = make_game("kuhn_poker").openspiel_game()
    if og is None:
        raise ValueError(f"{game!r} has no OpenSpiel counterpart; CFRAgent cannot solve it")
    return og


class CFRAgent(Agent):
    """Plays the average policy of ``iterations`` iterations of CFR (``"cfr"``) or CFR+ (``"cfr+"``)."""

    name = "cfr"
    view = "tensor"

    def __init__(
        self,
        game: str | Game = "kuhn_poker",
        iterations: int = 1000,
        algorithm: str = "cfr",
        name: str | None = None,
        seed: int | None = None,
    ):
        import pyspiel

        if isinstance(iterations, bool) or not isinstance(iterations, int | np.integer) or iterations < 1:
            raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
        self.game = make_game(game)
        self.iterations = int(iterations)
        self.algorithm = algorithm
        if name is None:
            name = f"{algorithm}-{self.iterations}"
        super().__init__(name, seed)

        self.openspiel_game = _solver_game(self.game)
        solver_cls = pyspiel.CFRPlusSolver if algorithm == "cfr+" else pyspiel.CFRSolver
        solver = solver_cls(self.openspiel_game)
        start = time.perf_counter()
        for _ in range(self.iterations):
            solver.evaluate_and_update_policy()
        self.solve_seconds = time.perf_counter() - start
        self.average_policy = solver.tabular_average_policy()
        """The solver's average policy (``pyspiel.TabularPolicy``)."""
        self._table: dict[str, dict[int, float]] = {}
        for key, pairs in self.average_policy.policy_table().items():
            total = sum(p for _, p in pairs)
            self._table[key] = {int(a): float(p) / total for a, p in sorted(pairs)}
        self._tensors: dict[tuple[float, ...], str | None] | None = None
        self._tensor_size = 0
        self._exploitability: float | None = None

    # ---- the solved policy ---------------------------------------------------------------------------
    @property
    def policy(self) -> dict[str, dict[int, float]]:
        """The average policy as ``{OpenSpiel information state: {action: probability}}`` (a copy)."""
        return {key: dict(probs) for key, probs in self._table.items()}

    @property
    def exploitability(self) -> float:
        """OpenSpiel's exploitability of the average policy (``pyspiel.exploitability``)."""
        if self._exploitability is None:
            import pyspiel

            self._exploitability = float(pyspiel.exploitability(self.openspiel_game, self.average_policy))
        return self._exploitability

    # ---- observations -> information states -------------------------------------------------------
    def _tensor_lookup(self) -> dict[tuple[float, ...], str | None]:
        """information_state_tensor of every decision state -> its information state (None if ambiguous)."""
        if self._tensors is None:
            og = self.openspiel_game
            if not og.get_type().provides_information_state_tensor:
                self._tensors = {}
                return self._tensors
            self._tensor_size = og.information_state_tensor_size()
            lookup: dict[tuple[float, ...], str | None] = {}
            stack = [og.new_initial_state()]
            while stack:
                state = stack.pop()
                if state.is_terminal():
                    continue
                if state.is_chance_node():
                    stack.extend(state.child(a) for a, _ in state.chance_outcomes())
                    continue
                player = state.current_player()
                if player >= 0:
                    key = state.information_state_string(player)
                    tensor = tuple(float(x) for x in state.information_state_tensor(player))
                    if lookup.setdefault(tensor, key) != key:
                        lookup[tensor] = None
                stack.extend(state.child(a) for a in state.legal_actions())
            self._tensors = lookup
        return self._tensors

    def info_state(self, observation: Mapping[str, Any]) -> str:
        """The OpenSpiel information state of ``observation``."""
        if not isinstance(observation, Mapping):
            raise ValueError(f"CFRAgent needs an observation dict, got {type(observation).__name__}")
        key = observation.get("info_state")
        if isinstance(key, str) and key in self._table:
            return key
        tensor = observation.get("observation")
        if tensor is not None:
            lookup = self._tensor_lookup()
            flat = np.asarray(tensor, dtype=np.float64).ravel()
            if lookup and flat.size >= self._tensor_size:
                found = lookup.get(tuple(flat[: self._tensor_size].tolist()))
                if found is not None and found in self._table:
                    return found
        raise ValueError(
            f"{self!r} cannot map this observation to an information state of {self.openspiel_game}: "
            f"info_state {key!r} is unknown to the solver and the observation tensor matches no "
            "information_state_tensor; is it this agent's turn, in the game it was solved for?"
        )

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[int, float]:
        probs = dict(self._table[self.info_state(observation)])
        mask = observation.get("action_mask")
        if mask is not None:
            legal = {int(a) for a in np.flatnonzero(np.asarray(mask))}
            if legal != set(probs):
                raise ValueError(
                    f"{self!r}: the action mask allows {sorted(legal)} but the solved information state "
                    f"has actions {sorted(probs)}"
                )
        return probs

    def act(self, observation: Mapping[str, Any]) -> int:
        return int(self.sample(self.action_probabilities(observation)))

    def __repr__(self) -> str:
        return f"CFRAgent(game={self.game.id!r}, iterations={self.iterations}, algorithm={self.algorithm!r})"
