"""The text debate as a PettingZoo AEC environment (its discrete moves), with PettingZoo's classic
conventions.

Usage::

    from redqueen.envs import textdebate_v0

    env = textdebate_v0.env(rounds=3, text_observations=True)
    env.reset(seed=0)
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        action = None if terminated or truncated else policy(obs["observation"], obs["action_mask"])
        env.step(action)

Agents ``player_0`` (Debater A) and ``player_1`` (Debater B). Actions ``quote i``, ``assert``,
``fabricate`` (see :mod:`redqueen.envs.debate.text_debate`); the judge (``judge=``, the scripted one by
default) decides at the end and the rewards are +1/-1 (0 each without a valid verdict). Written
arguments (LLM debaters) go through the text env, ``redqueen.envs.text.TextEnv("textdebate")``, or the
match runner, which read them with the game's ``parse_action``.

Options: every :class:`~redqueen.envs.debate.text_debate.TextDebate` parameter (``questions``,
``rounds``, ``word_limit``, ``judge``, ``question``, ``swap``, ``show_evidence``, ``check_quotes``,
``max_sentences``), and ``render_mode``, ``text_observations``, ``illegal_action``.
"""

from __future__ import annotations

from typing import Any

from redqueen.envs.aec import GameEnv, IllegalActionMode
from redqueen.envs.debate.text_debate import TextDebate

__all__ = ["env", "raw_env"]

NAME = "textdebate_v0"


def raw_env(
    *,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: IllegalActionMode = "terminate",
    **game_params: Any,
) -> GameEnv:
    """A text-debate AEC environment (a :class:`GameEnv`; see the module docstring)."""
    return GameEnv(
        TextDebate(**game_params),
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,
    )


env = raw_env
