"""Price bargaining (after Fu et al. 2023) as a PettingZoo AEC environment.

Usage::

    from redqueen.envs import price_bargaining_v0

    env = price_bargaining_v0.env(first="seller")
    env.reset(seed=0)

Agents ``player_0`` (the seller) and ``player_1`` (the buyer). Actions (42): ``0..39`` offer $1..$40,
``40`` accepts the other side's live offer, ``41`` sends no offer. Observation ``{"observation":
float32 vector (12 + max_turns), "action_mask": (42,) int8}``; layout in
:mod:`redqueen.envs.negotiation.bargaining`. The private limits are drawn from the generator seeded by
``reset(seed=...)``. Rewards at the end: price - cost for the seller, value - price for the buyer, 0
without a deal.

Options: ``max_turns`` (default 10), ``first`` ("seller" or "buyer"), ``limits`` (fixed ``(cost,
value)``), ``item``, ``render_mode``, ``text_observations``, ``illegal_action`` ("terminate" or
"raise").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from redqueen.envs.aec import GameEnv, IllegalActionMode
from redqueen.envs.negotiation.bargaining import PriceBargaining

__all__ = ["env", "raw_env"]

NAME = "price_bargaining_v0"


def raw_env(
    *,
    max_turns: int = 10,
    first: Literal["seller", "buyer"] = "seller",
    limits: Sequence[int] | None = None,
    item: str = "balloon",
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: IllegalActionMode = "terminate",
) -> GameEnv:
    """A price bargaining AEC environment (a :class:`GameEnv`; see the module docstring)."""
    return GameEnv(
        PriceBargaining(max_turns=max_turns, first=first, limits=limits, item=item),
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,
    )


env = raw_env
