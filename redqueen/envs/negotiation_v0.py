"""Deal or No Deal as a PettingZoo AEC environment, with PettingZoo's classic conventions.

Usage::

    from redqueen.envs import negotiation_v0

    env = negotiation_v0.env(lambda_=0.0, variant="accept", text_observations=True)
    env.reset(seed=0)
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        action = None if terminated or truncated else policy(obs["observation"], obs["action_mask"])
        env.step(action)

Agents ``player_0`` (writes first) and ``player_1``. Actions (127): ``0..124`` propose that the mover
takes ``books * 25 + hats * 5 + balls`` items (or, in the fair variant's selection phase, select
them), ``125`` accepts the partner's live proposal, ``126`` sends no proposal. Observation
``{"observation": float32 vector (37 + max_turns), "action_mask": (127,) int8}``; the vector's layout
is in :mod:`redqueen.envs.negotiation.deal_or_no_deal`. The scenario is drawn from the generator
seeded by ``reset(seed=...)``: the same seed gives the same items and values. Rewards at the end:
``points_i + lambda_ * points_other`` (0 without a deal).

Options: ``lambda_`` (the objective dial in [-1, 1]: 1 cooperative, 0 self-interested, -1
competitive), ``max_turns`` (messages in all, default 10), ``variant`` ("accept": an accept ends the
game, OpenSpiel-style; "fair": final complementary selections, FAIR-style), ``scenario`` (a fixed
:class:`~redqueen.envs.negotiation.Scenario`), ``render_mode`` (None, "human", "ansi"),
``text_observations`` (add the LLM prompt as ``obs["text"]``), ``illegal_action`` ("terminate" or
"raise").

Free-text messages (talk with tagged proposals) are played through the text env or the match runner,
which read them with the state's ``parse_action``; this env is the discrete view.
"""

from __future__ import annotations

from typing import Any

from redqueen.envs.aec import GameEnv, IllegalActionMode
from redqueen.envs.negotiation.deal_or_no_deal import DealOrNoDeal, Scenario, Variant

__all__ = ["env", "raw_env"]

NAME = "negotiation_v0"


def raw_env(
    *,
    lambda_: float = 0.0,
    max_turns: int = 10,
    variant: Variant = "accept",
    scenario: Scenario | dict[str, Any] | None = None,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: IllegalActionMode = "terminate",
) -> GameEnv:
    """A Deal or No Deal AEC environment (a :class:`GameEnv`; see the module docstring)."""
    return GameEnv(
        DealOrNoDeal(lambda_=lambda_, max_turns=max_turns, variant=variant, scenario=scenario),
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,
    )


# GameEnv has PettingZoo's order, bounds and illegal-move checks built in, so env() is raw_env()
env = raw_env
