"""Scripted Who-Is-the-Spy players: playable and testable without a model.

:class:`ScriptedSpyAgent` reads the tensor view (:class:`~redqueen.envs.spy.game.Layout`) and plays
whatever role it is dealt:

* as a civilian (or when it is not told its role) it is a **describer**: it names a true attribute of
  its own payload that nobody has said yet in this cycle (any true one once all are said);
* as a known spy it **echoes common attributes**: among the attributes the others said, the one said
  most often that is also true of its own payload (``truthful=True``, the default; with False, any
  attribute said), and when there is none (it speaks first) a true attribute of its own payload;
* when it votes it picks **the most inconsistent clue**: the player whose clues say most things that
  are false of its own payload (ties drawn at random); with no evidence it picks among everyone, and
  it answers "n/a" when the most suspicious players are ``abstain_from`` or more (a uniform guess
  among 4 scores -0.5 on average: no better than n/a).

Random choices come from the agent's generator, which the match runner and the Gymnasium env reset
with a seed per game. :class:`RoleAgent` plays one agent as civilian and another as spy (for games
where the players know their role), e.g. scripted civilians against a random spy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from redqueen.agents.base import Agent
from redqueen.agents.llm.prompts import PromptTemplate
from redqueen.envs.spy.game import WhoIsTheSpy
from redqueen.game import Game

__all__ = ["SPY_PROMPT", "RoleAgent", "ScriptedSpyAgent", "features_of"]

SPY_PROMPT = PromptTemplate(
    system=(
        "You are playing Who Is the Spy?, a game of hidden roles for several players. Follow the rules "
        "in each message. Think briefly if you like, then give your final answer (your clue or your "
        "vote) within \\boxed{{}}."
    ),
    user="{observation}",
)
"""A prompt template for language models playing Who-Is-the-Spy: ``LLMAgent(backend, SPY_PROMPT)``
(the game's own text says what to answer, so the prompt adds no move list)."""

_CIVILIAN, _SPY, _UNTOLD = 0, 1, 2
_CLUE, _VOTE = 0, 1


def features_of(observation: Mapping[str, Any]) -> np.ndarray:
    """The feature vector of a tensor-view observation (also with ``image_observation=True``)."""
    try:
        x = observation["observation"]
    except (KeyError, TypeError):
        raise ValueError(
            "a Who-Is-the-Spy tensor agent needs an observation dict with 'observation'"
        ) from None
    if isinstance(x, Mapping):
        x = x["features"]
    return np.asarray(x)


def _check_game(game: Any) -> WhoIsTheSpy:
    if not isinstance(game, WhoIsTheSpy):
        got = game.id if isinstance(game, Game) else type(game).__name__
        raise TypeError(f"a Who-Is-the-Spy agent needs the WhoIsTheSpy game it plays (its layout), got {got}")
    return game


class ScriptedSpyAgent(Agent):
    """Describer, echoing spy and inconsistency voter in one (see the module docstring).

    Args:
        game: the :class:`~redqueen.envs.spy.game.WhoIsTheSpy` game (its tensor layout).
        truthful: as spy, echo only attributes that are also true of its own payload.
        abstain_from: vote "n/a" when this many players or more are equally suspicious.
    """

    name = "scripted"
    view = "tensor"

    def __init__(
        self,
        game: WhoIsTheSpy,
        name: str | None = None,
        seed: int | None = None,
        truthful: bool = True,
        abstain_from: int = 4,
    ):
        super().__init__(name, seed)
        self.game = _check_game(game)
        self.layout = game.layout
        self.truthful = bool(truthful)
        if isinstance(abstain_from, bool) or not isinstance(abstain_from, int) or abstain_from < 1:
            raise ValueError(f"abstain_from must be a positive integer, got {abstain_from!r}")
        self.abstain_from = abstain_from

    def _choose(self, options: list[int] | np.ndarray) -> int:
        return int(options[int(self.rng.integers(len(options)))])

    def act(self, observation: Mapping[str, Any]) -> int:
        x = features_of(observation)
        lay, game = self.layout, self.game
        if x.shape != (lay.size,):
            raise ValueError(
                f"the observation has shape {x.shape}, but this agent's game has a ({lay.size},) tensor "
                "view; make the agent with the game it plays"
            )
        mask = np.asarray(observation["action_mask"])
        legal = np.flatnonzero(mask)
        if legal.size == 0:
            raise ValueError("the action mask has no legal action; is it this agent's turn?")
        phase = int(np.argmax(x[lay.phase]))
        role = int(np.argmax(x[lay.role]))
        me = int(np.argmax(x[lay.seat]))
        v, n = game.vocabulary_size, game.num_players
        own = x[lay.own] > 0
        said = x[lay.said].reshape(n, v) > 0
        if phase == _VOTE or legal[0] >= v:
            return self._vote(legal, own, said, me)
        clues = legal[legal < v]
        if clues.size == 0:
            return self._choose(legal)
        if role == _SPY:
            return self._echo(clues, own, said, me)
        return self._describe(clues, own, said)

    def _describe(self, clues: np.ndarray, own: np.ndarray, said: np.ndarray) -> int:
        true = clues[own[clues]]
        fresh = true[~said[:, true].any(axis=0)]
        if fresh.size:
            return self._choose(fresh)
        return self._choose(true if true.size else clues)

    def _echo(self, clues: np.ndarray, own: np.ndarray, said: np.ndarray, me: int) -> int:
        others = np.delete(said, me, axis=0).sum(axis=0)
        keep = (others[clues] > 0) & ~said[me, clues]
        if self.truthful and own.any():
            keep &= own[clues]
        echoes = clues[keep]
        if echoes.size:
            counts = others[echoes]
            return self._choose(echoes[counts == counts.max()])
        return self._describe(clues, own, said)

    def _vote(self, legal: np.ndarray, own: np.ndarray, said: np.ndarray, me: int) -> int:
        v, n = self.game.vocabulary_size, self.game.num_players
        targets = legal[(legal >= v) & (legal < v + n)] - v
        if targets.size == 0:
            return self._choose(legal)
        false_of_mine = said[:, ~own].sum(axis=1)
        scores = false_of_mine[targets]
        suspects = targets[scores == scores.max()]
        if len(suspects) >= self.abstain_from and v + n in legal:
            return v + n
        return v + self._choose(suspects)


class RoleAgent(Agent):
    """One agent for the civilian seats and another for the spy's: it reads the role from the tensor
    view, so the game must tell players their role (``spy_knows_role=True``)."""

    view = "tensor"

    def __init__(self, game: WhoIsTheSpy, civilian: Agent, spy: Agent, name: str | None = None):
        self.game = _check_game(game)
        if not game.spy_knows_role:
            raise ValueError("RoleAgent needs a game whose players know their role (spy_knows_role=True)")
        for what, agent in (("civilian", civilian), ("spy", spy)):
            if not isinstance(agent, Agent) or agent.view != "tensor":
                raise TypeError(f"the {what} agent must be a tensor-view Agent, got {agent!r}")
        super().__init__(name or f"{civilian.name}|{spy.name}")
        self.civilian, self.spy = civilian, spy

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        seeds = self.rng.integers(2**31 - 1, size=2)
        self.civilian.reset(int(seeds[0]))
        self.spy.reset(int(seeds[1]))

    def act(self, observation: Mapping[str, Any]) -> int | str:
        x = features_of(observation)
        is_spy = x[self.game.layout.role][_SPY] > 0
        return (self.spy if is_spy else self.civilian).act(observation)
