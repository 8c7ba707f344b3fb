"""The pixel debate as a PettingZoo AEC environment, with PettingZoo's classic conventions.

Usage::

    from redqueen.envs import debate_v0

    env = debate_v0.env(k=4, first="liar")
    env.reset(seed=0)
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        action = None if terminated or truncated else policy(obs["observation"], obs["action_mask"])
        env.step(action)

Agents ``player_0`` (the honest debater) and ``player_1`` (the liar); the one named by ``first``
reveals first. An action is a pixel ``row * W + col``; ``obs["action_mask"]`` marks the pixels that
may be revealed now. The image and the lie are drawn from the generator seeded by
``reset(seed=...)``. Observation layout, rules and text view: :mod:`redqueen.envs.debate.game`.

Options: every :class:`~redqueen.envs.debate.game.PixelDebate` parameter (``k``, ``first``,
``precommit``, ``pixels``, ``split``, ``dataset``, ``judge``, ``lie``), and ``render_mode`` (None,
"human", "ansi"), ``text_observations``, ``illegal_action`` ("terminate" or "raise").
``env()`` and ``raw_env()`` return the same :class:`~redqueen.envs.aec.GameEnv`.
"""

from __future__ import annotations

from typing import Any

from redqueen.envs.aec import GameEnv, IllegalActionMode

__all__ = ["env", "raw_env"]

NAME = "debate_v0"


def raw_env(
    *,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: IllegalActionMode = "terminate",
    **game_params: Any,
) -> GameEnv:
    """A pixel-debate AEC environment (a :class:`GameEnv`; see the module docstring)."""
    from redqueen.envs.debate.game import PixelDebate

    return GameEnv(
        PixelDebate(**game_params),
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,
    )


env = raw_env
