"""Core War as PettingZoo environments.

Usage::

    from redqueen.envs import corewar_v0

    env = corewar_v0.parallel_env(text_observations=True)
    observations, infos = env.reset(seed=0)
    actions = {agent: "```redcode\\nmov 0, 1\\n```" for agent in env.agents}   # or library indices
    observations, rewards, terminations, truncations, infos = env.step(actions)

Every player submits a warrior in one simultaneous move; the battle is played and the rewards are
the players' score shares (see :mod:`redqueen.envs.corewar.game`). An action is a library warrior's
index (``Discrete(len(library))``, the view for RL agents) or a string of Redcode (the view for LLM
agents). ``env()`` / ``raw_env()`` give the AEC view: PettingZoo's ``parallel_to_aec`` of the parallel
env, or, with ``order="sequential"`` (later players see the earlier warriors), a
:class:`~redqueen.envs.aec.GameEnv`.

Options: ``players`` (2), ``rounds`` (1), ``settings`` (a :class:`~redqueen.envs.corewar.Settings`
or a dict; default the 94nop hill), ``library`` (warrior names or a name -> Redcode mapping),
``text_observations``, ``illegal_action`` ("terminate" or "raise"), ``render_mode``.
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils.conversions import parallel_to_aec

from redqueen.envs.aec import GameEnv
from redqueen.envs.corewar.game import CoreWar
from redqueen.envs.parallel import ParallelGameEnv

__all__ = ["env", "parallel_env", "raw_env"]

NAME = "corewar_v0"


def parallel_env(
    *,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: str = "terminate",
    **game_params: Any,
) -> ParallelGameEnv:
    """The simultaneous Core War game as a PettingZoo ``ParallelEnv`` (see the module docstring)."""
    if game_params.get("order", "simultaneous") != "simultaneous":
        raise ValueError("parallel_env() is the simultaneous game; use env(order='sequential') for turns")
    return ParallelGameEnv(
        CoreWar(**game_params),
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,  # type: ignore[arg-type]
    )


def raw_env(
    *,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: str = "terminate",
    **game_params: Any,
) -> Any:
    """The AEC view: ``parallel_to_aec(parallel_env(...))``, or a GameEnv for ``order='sequential'``."""
    if game_params.get("order", "simultaneous") == "sequential":
        return GameEnv(
            CoreWar(**game_params),
            name=NAME,
            render_mode=render_mode,
            text_observations=text_observations,
            illegal_action=illegal_action,  # type: ignore[arg-type]
        )
    return parallel_to_aec(
        parallel_env(
            render_mode=render_mode,
            text_observations=text_observations,
            illegal_action=illegal_action,
            **game_params,
        )
    )


env = raw_env
