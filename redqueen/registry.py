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


def register_game(
    game_id: str,
    factory: Callable[..., Game],
    gym_name: str | None = None,
    entry_point: str = "redqueen.envs.single:SingleAgentEnv",
) -> None:
    """Add a game to the registry; ``gym_name`` (e.g. ``"KuhnPoker-v0"``) also registers
    ``redqueen/<gym_name>``, the single-agent Gymnasium view with ``opponent=`` (made by
    ``entry_point``, a SingleAgentEnv or a subclass that gives the game's own default opponent)."""
    _GAMES[game_id] = factory
    if gym_name is not None:
        env_id = f"redqueen/{gym_name}"
        GYM_IDS[env_id] = game_id
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id,
                entry_point=entry_point,
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


_NEGOTIATION_ENV = "redqueen.envs.negotiation.single:NegotiationEnv"  # a scripted default opponent


def _negotiation(**params: Any) -> Game:
    from redqueen.envs.negotiation.deal_or_no_deal import DealOrNoDeal

    return DealOrNoDeal(**params)


def _resource_trading(**params: Any) -> Game:
    from redqueen.envs.negotiation.trading import ResourceTrading

    return ResourceTrading(**params)


def _price_bargaining(**params: Any) -> Game:
    from redqueen.envs.negotiation.bargaining import PriceBargaining

    return PriceBargaining(**params)


def _whoisthespy(**params: Any) -> Game:
    from redqueen.envs.spy.game import WhoIsTheSpy  # the word list and Pillow load only when used

    return WhoIsTheSpy(**params)


def _debate(**params: Any) -> Game:
    from redqueen.envs.debate.game import PixelDebate  # torch, scikit-learn and the judge load only when used

    return PixelDebate(**params)


def _textdebate(**params: Any) -> Game:
    from redqueen.envs.debate.text_debate import TextDebate

    return TextDebate(**params)


def _register_builtins() -> None:
    from redqueen.envs.kuhn_poker import KuhnPoker
    from redqueen.envs.tictactoe import TicTacToe

    register_game("kuhn_poker", KuhnPoker, "KuhnPoker-v0")
    register_game("tictactoe", TicTacToe, "TicTacToe-v0")
    register_game("corewar", _corewar, "CoreWar-v0")
    register_game("negotiation", _negotiation, "Negotiation-v0", _NEGOTIATION_ENV)
    register_game("resource_trading", _resource_trading, "ResourceTrading-v0", _NEGOTIATION_ENV)
    register_game("price_bargaining", _price_bargaining, "PriceBargaining-v0", _NEGOTIATION_ENV)
    register_game("whoisthespy", _whoisthespy, "WhoIsTheSpy-v0", "redqueen.envs.spy.single:WhoIsTheSpyEnv")
    register_game("debate", _debate, "Debate-v0", "redqueen.envs.debate.single:DebateEnv")
    register_game("textdebate", _textdebate, "TextDebate-v0", "redqueen.envs.debate.single:TextDebateEnv")


_register_builtins()
