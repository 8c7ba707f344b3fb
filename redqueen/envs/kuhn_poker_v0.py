"""Kuhn poker as a PettingZoo AEC environment, with PettingZoo's classic conventions.

Usage::

    from redqueen.envs import kuhn_poker_v0

    env = kuhn_poker_v0.env(rounds=3)
    env.reset(seed=0)
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        action = None if terminated or truncated else policy(obs["observation"], obs["action_mask"])
        env.step(action)

Agents ``player_0`` and ``player_1``. Actions as in OpenSpiel: 0 = pass (check or fold), 1 = bet
(bet or call). Observation ``{"observation": float32 vector, "action_mask": (2,) int8}``; the vector
starts with OpenSpiel's 11-number ``information_state_tensor`` of the current hand (plus the hand
index and the observer's chips when ``rounds > 1``, see :mod:`redqueen.envs.kuhn_poker`). The
cards are dealt from the generator seeded by ``reset(seed=...)``: the same seed deals the same cards.

Options: ``rounds`` (hands per game, default 1 = OpenSpiel's ``kuhn_poker``), ``render_mode``
(None, "human", "ansi"), ``text_observations`` (add the LLM prompt as ``obs["text"]`` and
``info["legal_moves"]``), ``illegal_action`` ("terminate": the offender loses ``2 * rounds``
chips, the default; "raise": raise :class:`redqueen.IllegalAction`), ``dense_rewards`` (reward each
hand's chips when it ends instead of the total at the end of the game).

``env()`` and ``raw_env()`` return the same :class:`~redqueen.envs.aec.GameEnv`: its order and
action checks are built in (see :mod:`redqueen.envs.aec`), so no PettingZoo wrappers are stacked.
"""

from __future__ import annotations

from redqueen.envs.aec import GameEnv, IllegalActionMode
from redqueen.envs.kuhn_poker import KuhnPoker

__all__ = ["env", "raw_env"]

NAME = "kuhn_poker_v0"


def raw_env(
    *,
    rounds: int = 1,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: IllegalActionMode = "terminate",
    dense_rewards: bool = False,
) -> GameEnv:
    """A Kuhn poker AEC environment (a :class:`GameEnv`; see the module docstring)."""
    return GameEnv(
        KuhnPoker(rounds=rounds),
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,
        dense_rewards=dense_rewards,
    )


# PettingZoo's classic envs wrap raw_env() in three checking wrappers; GameEnv has those checks built in
# (and is about 6x faster for it), so env() and raw_env() are the same.
env = raw_env
