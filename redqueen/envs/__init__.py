"""Games and the generic adapters.

* ``redqueen.envs.kuhn_poker_v0`` / ``tictactoe_v0``: PettingZoo AEC envs (``env()``, ``raw_env()``);
* :mod:`redqueen.envs.aec` (any Game -> PettingZoo), :mod:`redqueen.envs.single` (any Game + opponent
  -> Gymnasium), :mod:`redqueen.envs.text` (any Game -> text env for language models);
* :mod:`redqueen.envs.kuhn_poker`, :mod:`redqueen.envs.tictactoe`: the rules engines.

Submodules load on first attribute access, so ``redqueen.envs.kuhn_poker_v0.env()`` works after a
plain ``import redqueen``.
"""

import importlib

_SUBMODULES = ("aec", "single", "text", "kuhn_poker", "tictactoe", "kuhn_poker_v0", "tictactoe_v0")

__all__ = list(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"redqueen.envs.{name}")
    raise AttributeError(f"module 'redqueen.envs' has no attribute {name!r}")
