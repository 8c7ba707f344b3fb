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

# scripted experts that live beside their game (reachable by short name, not re-exported here)
_GAME_AGENTS = {
    "GreedyProposer": "redqueen.envs.negotiation.agents",
    "FairSplitter": "redqueen.envs.negotiation.agents",
    "Conceder": "redqueen.envs.negotiation.agents",
    "ScriptedSpyAgent": "redqueen.envs.spy.agents",
    "GreedyDebater": "redqueen.envs.debate.agents",
    "MinimaxDebater": "redqueen.envs.debate.agents",
    "MCTSDebater": "redqueen.envs.debate.agents",
}
# classes whose constructor takes the game itself
_TAKES_GAME = {"CFRAgent", "ScriptedSpyAgent", "GreedyDebater", "MinimaxDebater", "MCTSDebater"}
_NEGOTIATION_GAMES = ("negotiation", "resource_trading", "price_bargaining")

# short name -> {game id or "*": (class name, kwargs)}
_BY_NAME: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "random": {"*": ("RandomAgent", {})},
    "nash": {"kuhn_poker": ("KuhnNashAgent", {}), "tictactoe": ("MinimaxAgent", {})},
    "minimax": {"tictactoe": ("MinimaxAgent", {}), "debate": ("MinimaxDebater", {})},
    "mcts": {"debate": ("MCTSDebater", {})},
    "cfr": {"kuhn_poker": ("CFRAgent", {"game": "kuhn_poker"})},
    "human": {"*": ("HumanAgent", {})},
    "greedy": {**{g: ("GreedyProposer", {}) for g in _NEGOTIATION_GAMES}, "debate": ("GreedyDebater", {})},
    "fair": {g: ("FairSplitter", {}) for g in _NEGOTIATION_GAMES},
    "conceder": {g: ("Conceder", {}) for g in _NEGOTIATION_GAMES},
    "scripted": {"whoisthespy": ("ScriptedSpyAgent", {"game": "whoisthespy"})},
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
    if cls_name == "RandomAgent":
        cls = RandomAgent
    elif cls_name in _GAME_AGENTS:
        cls = getattr(importlib.import_module(_GAME_AGENTS[cls_name]), cls_name)
    else:
        cls = __getattr__(cls_name)
    params = {**defaults, **kwargs}
    if cls_name in _TAKES_GAME and "game" not in kwargs:
        if isinstance(game, str):
            from redqueen.registry import make_game

            params["game"] = game if cls_name == "CFRAgent" else make_game(game)
        else:
            params["game"] = game
    return cls(seed=seed, **params)
