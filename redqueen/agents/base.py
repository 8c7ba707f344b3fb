"""The Agent protocol: anything that picks moves from an observation."""

from __future__ import annotations

import abc
import copy
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from redqueen.game import RedqueenError, make_rng

View = Literal["tensor", "text"]


class AgentError(RedqueenError, RuntimeError):
    """An agent could not give an answer at all (its model server is down, timed out after every
    retry, or refused the request). Not an invalid answer: a game it happens in is not played."""


class Agent(abc.ABC):
    """A player of redqueen games.

    ``view`` names the observation the agent consumes (see :func:`redqueen.game.agent_observation`):

    * ``"tensor"``: a dict with ``observation`` (np.ndarray) and ``action_mask``; ``act`` returns an int;
    * ``"text"``: a dict with ``text`` (the prompt) and ``legal_moves``; ``act`` returns free text,
      which the match runner turns into an action with the game's ``parse_action``.

    Both views also carry ``player``, ``game_id`` and, for games with information states,
    ``info_state``. Agents that can say how likely each move is implement
    :meth:`action_probabilities`; those can be scored exactly (exploitability).
    """

    name: str = "agent"
    view: View = "tensor"

    def __init__(self, name: str | None = None, seed: int | None = None):
        if name is not None:
            self.name = name
        self.rng = make_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Start a new game. A seed makes the agent's own random choices reproducible."""
        if seed is not None:
            self.rng = make_rng(seed)

    @abc.abstractmethod
    def act(self, observation: Mapping[str, Any]) -> int | str:
        """The move to play: an action index (tensor view) or a text answer (text view)."""

    def action_probabilities(self, observation: Mapping[str, Any]) -> Mapping[Any, float]:
        """Probability of each legal move, keyed by action index (or, for text agents, by legal-move
        text). Agents that cannot tell raise NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} does not report action probabilities")

    def fork(self) -> Agent:
        """A copy of this agent for another thread (see ``redqueen.play(..., concurrency=N)``): a deep
        copy, or a shallow one when the agent holds something that cannot be copied (a solver's C++
        policy), which is then shared read-only. Agents holding something big or shared (a model, a
        client) override it to share that and copy only their per-game state."""
        try:
            return copy.deepcopy(self)
        except (TypeError, copy.Error):
            return self.shallow_fork()

    def shallow_fork(self) -> Agent:
        """A shallow copy with a generator of its own (drawn from this agent's): what :meth:`fork`
        overrides build on when they share everything else."""
        twin = copy.copy(self)
        twin.rng = np.random.default_rng(self.rng.integers(2**63 - 1))
        return twin

    def sample(self, probs: Mapping[Any, float]) -> Any:
        """Draw a move from ``probs`` with the agent's own generator."""
        keys = list(probs)
        p = np.asarray([probs[k] for k in keys], dtype=np.float64)
        p = p / p.sum()
        return keys[int(self.rng.choice(len(keys), p=p))]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def legal_from_mask(observation: Mapping[str, Any]) -> np.ndarray:
    """Legal action indices of a tensor observation, with a clear error when there is no mask."""
    try:
        mask = observation["action_mask"]
    except (KeyError, TypeError):
        raise ValueError(
            "a tensor-view agent needs an observation dict with an 'action_mask' "
            f"(got {type(observation).__name__})"
        ) from None
    legal = np.flatnonzero(mask)
    if legal.size == 0:
        raise ValueError("the action mask has no legal action; is it this agent's turn?")
    return legal


class RandomAgent(Agent):
    """Uniformly random legal moves, from either view."""

    name = "random"

    def __init__(self, name: str | None = None, seed: int | None = None, view: View = "tensor"):
        super().__init__(name, seed)
        if view not in ("tensor", "text"):
            raise ValueError(f"view must be 'tensor' or 'text', got {view!r}")
        self.view = view

    def act(self, observation: Mapping[str, Any]) -> int | str:
        if self.view == "text":
            moves = observation["legal_moves"]
            return str(moves[int(self.rng.integers(len(moves)))])
        legal = legal_from_mask(observation)
        return int(legal[int(self.rng.integers(legal.size))])

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[Any, float]:
        if self.view == "text":
            moves = list(observation["legal_moves"])
            return {m: 1.0 / len(moves) for m in moves}
        legal = legal_from_mask(observation)
        return {int(a): 1.0 / legal.size for a in legal}
