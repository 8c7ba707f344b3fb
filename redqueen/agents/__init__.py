"""Agents: the Agent protocol, random play, scripted experts, CFR, SB3 models and humans.

``make_agent("random" | "nash" | "minimax" | "cfr" | "human", game)`` resolves the short names that
``gym.make(..., opponent=...)`` and the command line accept.
"""

from __future__ import annotations

import importlib
from typing import Any

from redqueen.agents.base import Agent, AgentError, RandomAgent
from redqueen.game import Game

_LAZY = {
    "MinimaxAgent": "redqueen.agents.minimax",
    "KuhnNashAgent": "redqueen.agents.kuhn",
    "CFRAgent": "redqueen.agents.cfr",
    "SB3Agent": "redqueen.agents.sb3",
    "HumanAgent": "redqueen.agents.human",
    "BestResponseAgent": "redqueen.agents.best_response",
    "LLMAgent": "redqueen.agents.llm",
}

__all__ = ["AGENT_NAMES", "Agent", "AgentError", "RandomAgent", "agent_games", "make_agent", *_LAZY]

# short name -> {game id or "*": (class name, kwargs)}
_BY_NAME: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "random": {"*": ("RandomAgent", {})},
    "nash": {"kuhn_poker": ("KuhnNashAgent", {}), "tictactoe": ("MinimaxAgent", {})},
    "minimax": {"tictactoe": ("MinimaxAgent", {})},
    "cfr": {"kuhn_poker": ("CFRAgent", {"game": "kuhn_poker"})},
    "human": {"*": ("HumanAgent", {})},
}
AGENT_NAMES = tuple(_BY_NAME)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'redqueen.agents' has no attribute {name!r}")


def agent_games() -> dict[str, tuple[str, ...]]:
    """Short agent name -> the game ids it is defined for ("*" = any game)."""
    return {name: tuple(table) for name, table in _BY_NAME.items()}


def make_agent(spec: str | Agent, game: str | Game, seed: int | None = None, **kwargs: Any) -> Agent:
    """An agent from a short name (``"random"``, ``"nash"``, ``"minimax"``, ``"cfr"``, ``"human"``)
    for ``game``, or ``spec`` itself when it already is an Agent."""
    if isinstance(spec, Agent):
        return spec
    game_id = game if isinstance(game, str) else game.id
    if not isinstance(spec, str) or spec not in _BY_NAME:
        raise ValueError(f"unknown agent {spec!r}; use an Agent object or one of {', '.join(AGENT_NAMES)}")
    table = _BY_NAME[spec]
    entry = table.get(game_id, table.get("*"))
    if entry is None:
        usable = [n for n, t in _BY_NAME.items() if game_id in t or "*" in t]
        raise ValueError(f"agent {spec!r} is not defined for {game_id!r}; available: {', '.join(usable)}")
    cls_name, defaults = entry
    cls = globals()["RandomAgent"] if cls_name == "RandomAgent" else __getattr__(cls_name)
    params = {**defaults, **kwargs}
    if cls_name == "CFRAgent" and not isinstance(game, str) and "game" in params:
        params["game"] = game
    return cls(seed=seed, **params)
