"""Resource trading (SPIRAL's SimpleNegotiation, rules fixed) as a PettingZoo AEC environment.

Usage::

    from redqueen.envs import resource_trading_v0

    env = resource_trading_v0.env(max_turns=10)
    env.reset(seed=0)

Agents ``player_0`` (writes first) and ``player_1``. Actions (183): ``0..179`` the offers "give 1-3 of
one resource for 1-3 of another" (see :data:`redqueen.envs.negotiation.trading.OFFERS`), ``180``
accepts the partner's offer, ``181`` denies it, ``182`` sends no offer. Observation ``{"observation":
float32 vector (26 + max_turns), "action_mask": (183,) int8}``; layout in
:mod:`redqueen.envs.negotiation.trading`. The inventories and values are drawn from the generator
seeded by ``reset(seed=...)``. Rewards at the end: +1 / -1 / 0 by the larger gain in own inventory
value (``scoring="winner"``) or the gains themselves (``scoring="gain"``).

Options: ``max_turns`` (exactly this many messages, default 10), ``scoring``, ``scenario`` (a fixed
:class:`~redqueen.envs.negotiation.TradingScenario`), ``render_mode``, ``text_observations``,
``illegal_action`` ("terminate" or "raise").
"""

from __future__ import annotations

from redqueen.envs.aec import GameEnv, IllegalActionMode
from redqueen.envs.negotiation.trading import ResourceTrading, Scoring, TradingScenario

__all__ = ["env", "raw_env"]

NAME = "resource_trading_v0"


def raw_env(
    *,
    max_turns: int = 10,
    scoring: Scoring = "winner",
    scenario: TradingScenario | None = None,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: IllegalActionMode = "terminate",
) -> GameEnv:
    """A resource trading AEC environment (a :class:`GameEnv`; see the module docstring)."""
    return GameEnv(
        ResourceTrading(max_turns=max_turns, scoring=scoring, scenario=scenario),
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,
    )


env = raw_env
