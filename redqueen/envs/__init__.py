"""Games and the generic adapters.

* ``redqueen.envs.kuhn_poker_v0`` / ``tictactoe_v0`` / ``corewar_v0`` / ``negotiation_v0`` /
  ``resource_trading_v0`` / ``price_bargaining_v0`` / ``whoisthespy_v0`` / ``debate_v0`` /
  ``textdebate_v0``: PettingZoo envs (``env()``, ``raw_env()``; ``parallel_env()`` for Core War);
* :mod:`redqueen.envs.aec` (any Game -> PettingZoo), :mod:`redqueen.envs.single` (any Game + opponent
  -> Gymnasium), :mod:`redqueen.envs.text` (any Game -> text env for language models);
* :mod:`redqueen.envs.kuhn_poker`, :mod:`redqueen.envs.tictactoe`: the rules engines.

Submodules load on first attribute access, so ``redqueen.envs.kuhn_poker_v0.env()`` works after a
plain ``import redqueen``.
"""

import importlib

_SUBMODULES = (
    "aec",
    "single",
    "text",
    "parallel",
    "kuhn_poker",
    "tictactoe",
    "kuhn_poker_v0",
    "tictactoe_v0",
    "corewar_v0",
    "negotiation_v0",
    "resource_trading_v0",
    "price_bargaining_v0",
    "whoisthespy_v0",
    "debate_v0",
    "textdebate_v0",
)

__all__ = list(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"redqueen.envs.{name}")
    raise AttributeError(f"module 'redqueen.envs' has no attribute {name!r}")
