"""redqueen: multi-agent games where LLM text agents and classic RL agents play, train and are ranked.

Importing the package registers the Gymnasium ids ``redqueen/KuhnPoker-v0`` and
``redqueen/TicTacToe-v0`` (``gym.make("redqueen:redqueen/KuhnPoker-v0")`` imports it for you).
"""

from redqueen.game import CHANCE, SIMULTANEOUS, TERMINAL, Game, IllegalAction, State
from redqueen.registry import list_games, make_game

__version__ = "0.1.0"

__all__ = [
    "CHANCE",
    "SIMULTANEOUS",
    "TERMINAL",
    "Game",
    "IllegalAction",
    "MatchResult",
    "State",
    "list_games",
    "make_game",
    "play",
]


def __getattr__(name: str):
    # the match runner pulls in the agents; load it on first use so `import redqueen` stays light
    if name in ("play", "MatchResult"):
        from redqueen import match

        return getattr(match, name)
    if name in ("evaluation", "agents", "envs"):
        import importlib

        return importlib.import_module(f"redqueen.{name}")
    raise AttributeError(f"module 'redqueen' has no attribute {name!r}")
