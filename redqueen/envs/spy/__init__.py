"""Who-Is-the-Spy: Vision-Zero's game from any picture pair, and the classic word game.

Public API::

    from redqueen.envs.spy import WhoIsTheSpy, ScriptedSpyAgent, evaluate
    from redqueen.envs.spy import WordPairs, ImagePairs, SceneGenerator

* :mod:`redqueen.envs.spy.game`: the rules engine (:class:`WhoIsTheSpy`, :class:`SpyState`);
* :mod:`redqueen.envs.spy.payloads`: word pairs (built-in list, user files), picture pairs from folders;
* :mod:`redqueen.envs.spy.scenes`: procedural CLEVR-like scenes whose spy copy changes ``m`` objects;
* :mod:`redqueen.envs.spy.agents`: scripted players (describer, echoing spy, inconsistency voter);
* :mod:`redqueen.envs.spy.evaluation`: spy-caught rate, per-role win rates and ratings;
* :mod:`redqueen.envs.spy.single`: the Gymnasium view ``redqueen/WhoIsTheSpy-v0``;
* ``redqueen.envs.whoisthespy_v0``: the PettingZoo AEC env (``env()``, ``raw_env()``).
"""

from __future__ import annotations

import importlib

_LAZY = {
    "WhoIsTheSpy": "redqueen.envs.spy.game",
    "SpyState": "redqueen.envs.spy.game",
    "Layout": "redqueen.envs.spy.game",
    "Deal": "redqueen.envs.spy.payloads",
    "WordPairs": "redqueen.envs.spy.payloads",
    "WordPair": "redqueen.envs.spy.payloads",
    "ImagePairs": "redqueen.envs.spy.payloads",
    "SceneGenerator": "redqueen.envs.spy.scenes",
    "Scene": "redqueen.envs.spy.scenes",
    "ScriptedSpyAgent": "redqueen.envs.spy.agents",
    "RoleAgent": "redqueen.envs.spy.agents",
    "SpyEvaluation": "redqueen.envs.spy.evaluation",
    "evaluate": "redqueen.envs.spy.evaluation",
    "summarize": "redqueen.envs.spy.evaluation",
    "chance_catch_rate": "redqueen.envs.spy.evaluation",
    "WhoIsTheSpyEnv": "redqueen.envs.spy.single",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'redqueen.envs.spy' has no attribute {name!r}")
