"""Game ids -> game factories, and the Gymnasium registration under the namespace ``redqueen``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import gymnasium

from redqueen.game import Game

_GAMES: dict[str, Callable[..., Game]] = {}
# gymnasium id -> registry game id
GYM_IDS: dict[str, str] = {}


def register_game(game_id: str, factory: Callable[..., Game], gym_name: str | None = None) -> None:
    """Add a game to the registry; ``gym_name`` (e.g. ``"KuhnPoker-v0"``) also registers
    ``redqueen/<gym_name>``, the single-agent Gymnasium view with ``opponent=``."""
    _GAMES[game_id] = factory
    if gym_name is not None:
        env_id = f"redqueen/{gym_name}"
        GYM_IDS[env_id] = game_id
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id,
                entry_point="redqueen.envs.single:SingleAgentEnv",
                kwargs={"game": game_id},
                disable_env_checker=False,
            )


def list_games() -> list[str]:
    return sorted(_GAMES)


def make_game(game: str | Game, **params: Any) -> Game:
    """A game instance from its registry id (``"kuhn_poker"``, ``"tictactoe"``), with parameters."""
    if isinstance(game, Game):
        if params:
            raise TypeError("parameters can only be given with a game id, not with a Game instance")
        return game
    try:
        factory = _GAMES[game]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(game), list(_GAMES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown game {game!r}; known games: {', '.join(list_games())}.{hint}") from None
    return factory(**params)


def _corewar(**params: Any) -> Game:
    from redqueen.envs.corewar.game import CoreWar  # numba and the warriors load only when used

    return CoreWar(**params)


def _register_builtins() -> None:
    from redqueen.envs.kuhn_poker import KuhnPoker
    from redqueen.envs.tictactoe import TicTacToe

    register_game("kuhn_poker", KuhnPoker, "KuhnPoker-v0")
    register_game("tictactoe", TicTacToe, "TicTacToe-v0")
    register_game("corewar", _corewar, "CoreWar-v0")


_register_builtins()
