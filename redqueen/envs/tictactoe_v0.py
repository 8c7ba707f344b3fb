"""TicTacToe as a PettingZoo AEC environment, with PettingZoo's classic conventions.

Usage::

    from redqueen.envs import tictactoe_v0

    env = tictactoe_v0.env(render_mode="ansi")
    env.reset(seed=0)
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        action = None if terminated or truncated else policy(obs["observation"], obs["action_mask"])
        env.step(action)

Agents ``player_0`` (X, moves first) and ``player_1`` (O). Observation ``{"observation": (3, 3, 2)
int8 planes (the observer's marks, then the opponent's), "action_mask": (9,) int8}``; actions are
cells 0-8 row by row (OpenSpiel's numbering; PettingZoo's ``tictactoe_v3`` numbers column by
column). Rewards at the end: +1 win, -1 loss, 0 draw.

Options: ``render_mode`` (None, "human", "ansi"), ``text_observations`` (add the LLM prompt as
``obs["text"]`` and ``info["legal_moves"]``), ``illegal_action`` ("terminate": the offender loses
with -1, the default; "raise": raise :class:`redqueen.IllegalAction`).

``env()`` and ``raw_env()`` return the same :class:`~redqueen.envs.aec.GameEnv`: its order and
action checks are built in (see :mod:`redqueen.envs.aec`), so no PettingZoo wrappers are stacked.
"""

from __future__ import annotations

from redqueen.envs.aec import GameEnv, IllegalActionMode
from redqueen.envs.tictactoe import TicTacToe

__all__ = ["env", "raw_env"]

NAME = "tictactoe_v0"


def raw_env(
    *,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: IllegalActionMode = "terminate",
) -> GameEnv:
    """A TicTacToe AEC environment (a :class:`GameEnv`; see the module docstring)."""
    return GameEnv(
        TicTacToe(),
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,
    )


# PettingZoo's classic envs wrap raw_env() in three checking wrappers; GameEnv has those checks built in
# (and is about 6x faster for it), so env() and raw_env() are the same.
env = raw_env
