"""The single-agent Gymnasium view of the negotiation games, with their scripted opponents by name.

``gym.make("redqueen/Negotiation-v0")`` (and ``redqueen/ResourceTrading-v0``,
``redqueen/PriceBargaining-v0``) make a :class:`NegotiationEnv`: a
:class:`~redqueen.envs.single.SingleAgentEnv` whose default opponent is a scripted negotiator (the
fair splitter for Deal or No Deal and resource trading, the conceder for price bargaining), and whose
``opponent=`` also takes the scripted agents' short names ``"greedy"``, ``"fair"`` and ``"conceder"``
besides any :class:`~redqueen.agents.Agent` and the names :func:`~redqueen.agents.make_agent` knows
(``"random"``). Everything else (seats, masks, rewards, illegal moves) is the SingleAgentEnv's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from redqueen.agents import AGENT_NAMES, Agent, make_agent
from redqueen.envs.negotiation.agents import SCRIPTED_AGENTS
from redqueen.envs.single import SeatSpec, SingleAgentEnv
from redqueen.game import Game
from redqueen.registry import make_game

__all__ = ["DEFAULT_OPPONENTS", "NegotiationEnv", "make_opponent"]

#: game id -> the opponent ``gym.make`` gives when none is named
DEFAULT_OPPONENTS = {"negotiation": "fair", "resource_trading": "fair", "price_bargaining": "conceder"}


def make_opponent(spec: str | Agent, game: Game, seed: int | None = None) -> Agent:
    """An agent from a scripted negotiator's short name, a :func:`~redqueen.agents.make_agent` name, or
    ``spec`` itself when it is an Agent."""
    if isinstance(spec, Agent):
        return spec
    if isinstance(spec, str) and spec in SCRIPTED_AGENTS:
        return SCRIPTED_AGENTS[spec](seed=seed)
    try:
        return make_agent(spec, game, seed=seed)
    except ValueError:
        names = sorted({*SCRIPTED_AGENTS, *(n for n in AGENT_NAMES if n != "human")})
        raise ValueError(
            f"unknown opponent {spec!r} for {game.id}; use an Agent object or one of {', '.join(names)}"
        ) from None


class NegotiationEnv(SingleAgentEnv):
    """One seat of a negotiation game against a scripted (or any) opponent; see the module docstring.

    Args:
        game: ``"negotiation"``, ``"resource_trading"``, ``"price_bargaining"`` or such a Game.
        opponent: None (the game's default scripted opponent), a short name or an Agent.
        seat, illegal_action, illegal_reward, render_mode: as :class:`SingleAgentEnv`.
        **game_params: the game's parameters, e.g. ``lambda_=-1.0`` or ``variant="fair"``.
    """

    def __init__(
        self,
        game: str | Game = "negotiation",
        opponent: str | Agent | Sequence[str | Agent] | None = None,
        seat: SeatSpec = 0,
        illegal_action: Literal["penalty", "raise"] = "penalty",
        illegal_reward: float | None = None,
        render_mode: str | None = None,
        **game_params: Any,
    ):
        the_game = make_game(game, **game_params)
        if the_game.id not in DEFAULT_OPPONENTS:
            raise ValueError(
                f"NegotiationEnv plays {', '.join(DEFAULT_OPPONENTS)}, not {the_game.id!r}; "
                "use redqueen.envs.single.SingleAgentEnv for other games"
            )
        if opponent is None:
            opponent = DEFAULT_OPPONENTS[the_game.id]
        if isinstance(opponent, str | Agent):
            resolved: Agent | list[Agent] = make_opponent(opponent, the_game)
        elif isinstance(opponent, Sequence):
            resolved = [make_opponent(spec, the_game) for spec in opponent]
        else:
            raise ValueError(f"opponent must be an Agent or an agent name, got {opponent!r}")
        super().__init__(
            the_game,
            opponent=resolved,
            seat=seat,
            illegal_action=illegal_action,
            illegal_reward=illegal_reward,
            render_mode=render_mode,
        )
