"""The single-agent Gymnasium view of Who-Is-the-Spy, with scripted opponents by default.

``gym.make("redqueen/WhoIsTheSpy-v0")`` makes a :class:`WhoIsTheSpyEnv`: a
:class:`~redqueen.envs.single.SingleAgentEnv` over the discrete view (clues from the attribute
vocabulary, votes), whose opponents are :class:`~redqueen.envs.spy.agents.ScriptedSpyAgent` players
unless ``opponent=`` names others: ``"scripted"``, the names :func:`~redqueen.agents.make_agent`
knows (``"random"``), any :class:`~redqueen.agents.Agent`, or a list with one per other seat. The
learner's role is drawn with the spy's seat by the seed, like everyone's. Everything else (seats,
masks, rewards, illegal moves) is the SingleAgentEnv's; game parameters (``payload="scenes"``,
``reward="clue"``, ...) pass through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from redqueen.agents import AGENT_NAMES, Agent, make_agent
from redqueen.envs.single import SeatSpec, SingleAgentEnv
from redqueen.envs.spy.agents import ScriptedSpyAgent
from redqueen.envs.spy.game import WhoIsTheSpy
from redqueen.game import Game
from redqueen.registry import make_game

__all__ = ["WhoIsTheSpyEnv", "check_discrete", "make_opponent"]


def check_discrete(game: WhoIsTheSpy) -> WhoIsTheSpy:
    """``game`` if its clue stage has discrete clues (an attribute vocabulary), else a clear error."""
    if game.vocabulary_size == 0:
        raise ValueError(
            f"{game.source!r} has no attribute vocabulary, so its clues are free text only and it has no "
            "discrete (RL) view; play it with the text env or the match runner, or give word pairs with "
            "features (the built-in list, or a file in its format) or payload='scenes'"
        )
    return game


def make_opponent(spec: str | Agent, game: WhoIsTheSpy, seed: int | None = None) -> Agent:
    """An agent from ``"scripted"``, a :func:`~redqueen.agents.make_agent` name, or ``spec`` itself."""
    if isinstance(spec, Agent):
        return spec
    if spec == "scripted":
        return ScriptedSpyAgent(game, seed=seed)
    try:
        return make_agent(spec, game, seed=seed)
    except ValueError:
        names = ["scripted", *(n for n in AGENT_NAMES if n != "human")]
        raise ValueError(
            f"unknown opponent {spec!r} for {game.id}; use an Agent object or one of {', '.join(names)}"
        ) from None


class WhoIsTheSpyEnv(SingleAgentEnv):
    """One seat of Who-Is-the-Spy against scripted (or any) opponents; see the module docstring.

    Args:
        game: ``"whoisthespy"`` or a :class:`~redqueen.envs.spy.game.WhoIsTheSpy` game.
        opponent: ``"scripted"`` (default), another short name, an Agent (plays every other seat) or a
            list of ``players - 1`` of them.
        seat, illegal_action, illegal_reward, render_mode: as :class:`SingleAgentEnv`.
        **game_params: the game's parameters (with a game id).
    """

    def __init__(
        self,
        game: str | Game = "whoisthespy",
        opponent: str | Agent | Sequence[str | Agent] = "scripted",
        seat: SeatSpec = 0,
        illegal_action: Literal["penalty", "raise"] = "penalty",
        illegal_reward: float | None = None,
        render_mode: str | None = None,
        **game_params: Any,
    ):
        the_game = make_game(game, **game_params)
        if not isinstance(the_game, WhoIsTheSpy):
            raise ValueError(f"WhoIsTheSpyEnv plays Who Is the Spy, not {the_game.id!r}")
        check_discrete(the_game)
        n_other = the_game.num_players - 1
        if isinstance(opponent, Agent):
            resolved: Agent | list[Agent] = opponent
        elif isinstance(opponent, str):
            resolved = [make_opponent(opponent, the_game) for _ in range(n_other)]
        elif isinstance(opponent, Sequence) and len(opponent) == n_other:
            resolved = [make_opponent(spec, the_game) for spec in opponent]
        else:
            raise ValueError(
                f"opponent must be an Agent, an agent name or a list of {n_other} of them; got {opponent!r}"
            )
        super().__init__(
            the_game,
            opponent=resolved,
            seat=seat,
            illegal_action=illegal_action,
            illegal_reward=illegal_reward,
            render_mode=render_mode,
        )
