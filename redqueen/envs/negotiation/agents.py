"""Scripted negotiators: the games are playable and testable without a language model.

Each agent is a tensor-view :class:`~redqueen.agents.Agent` that plays all three games (it reads the
observation tensor back with the game's ``decode_observation``), so it is an opponent of the
single-agent Gymnasium envs, a seat in :func:`redqueen.play` and a league member
(``spec = "redqueen.envs.negotiation.agents:FairSplitter"``). They are deterministic: the same
observation gives the same move. None of them knows the partner's private values; where they need a
guess (resource trading) they use the public base values.

* :class:`GreedyProposer` ("greedy"): asks for the most it can get and concedes little.
  Deal or No Deal: proposes the split best for itself that leaves the partner at least one item
  (the partner gets what is worth least to it), accepts a proposal worth ``accept_at`` (7) or more,
  and, at its last chance, anything worth more than 0 to it. Trading: offers the trades with the
  largest gain for itself that the partner might take at base values; accepts a gain of
  ``trade_margin`` (10) or more. Bargaining: a Boulware bargainer that holds out near its opening
  price and concedes at the end.
* :class:`FairSplitter` ("fair"): Deal or No Deal: proposes splits worth about half (5) to itself that
  give the partner as many items as possible, one after another, and accepts anything worth 5 or more.
  Trading: offers the trades that share the gain most evenly at base values; accepts any trade that
  gains it something. Bargaining: splits the difference between the last two offers, never past its
  own limit, and accepts an offer within $1 of its own next one.
* :class:`Conceder` ("conceder"): a time-dependent concession tactic (Faratin et al. 1998). Its target
  falls from its best outcome to a reserve as the messages run out, ``target = best - (best -
  reserve) * f ** (1 / e)`` with ``f`` the share of the talk used, ``e = 2`` by default (concede early);
  it accepts whatever meets the current target and proposes the option closest to it. In bargaining
  the target is a price from $40 (seller) or $1 (buyer) to its own limit.

:data:`SCRIPTED_AGENTS` maps the short names to the classes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from redqueen.agents.base import Agent, legal_from_mask
from redqueen.envs.negotiation import bargaining, deal_or_no_deal, trading

__all__ = [
    "SCRIPTED_AGENTS",
    "Conceder",
    "FairSplitter",
    "GreedyProposer",
    "NegotiationAgent",
    "scripted_agent",
]

_GAMES = ("negotiation", "resource_trading", "price_bargaining")
Vector = tuple[int, int, int]


@functools.cache
def _splits(counts: Vector, values: Vector) -> tuple[tuple[Vector, int, int], ...]:
    """Every split ``(take, my points, items left to the partner)`` of the pool ``counts``."""
    out = []
    for a in range(counts[0] + 1):
        for b in range(counts[1] + 1):
            for c in range(counts[2] + 1):
                take = (a, b, c)
                points = a * values[0] + b * values[1] + c * values[2]
                out.append((take, points, sum(counts) - a - b - c))
    return tuple(out)


def _points(values: Vector, take: Vector) -> int:
    return take[0] * values[0] + take[1] * values[1] + take[2] * values[2]


def _progress(turn: int | None, max_turns: int) -> float:
    """The share of the talk used before the message ``turn`` (0 at the first message, 1 at the last)."""
    if turn is None or max_turns <= 1:
        return 1.0
    return min(turn / (max_turns - 1), 1.0)


class NegotiationAgent(Agent):
    """Base of the scripted negotiators: decodes the observation and dispatches to the game's rule."""

    view = "tensor"

    def act(self, observation: Mapping[str, Any]) -> int:
        legal_from_mask(observation)  # a clear error without a mask or a legal move
        allowed = np.asarray(observation["action_mask"]).astype(bool)
        game_id = observation.get("game_id")
        obs = observation.get("observation")
        if obs is None:
            raise ValueError(f"{self.name} needs the tensor view (an 'observation' array)")
        if game_id == "negotiation":
            action = self._deal(deal_or_no_deal.decode_observation(obs), allowed)
        elif game_id == "resource_trading":
            action = self._trade(trading.decode_observation(obs), allowed)
        elif game_id == "price_bargaining":
            action = self._bargain(bargaining.decode_observation(obs), allowed)
        else:
            raise ValueError(f"{self.name} plays {', '.join(_GAMES)}, not {game_id!r}")
        if not allowed[action]:  # a rule that found nothing it likes talks instead (the last action)
            action = int(np.flatnonzero(allowed)[-1])
        return int(action)

    # ---- Deal or No Deal -------------------------------------------------------------------------
    def _deal(self, view: deal_or_no_deal.DealView, legal: np.ndarray) -> int:
        if view.selecting:  # fair variant: take my side of the live proposal, else my best split
            take = view.receive if view.receive is not None else self._deal_propose(view, 0)
            return deal_or_no_deal.proposal_action(take)
        if (
            view.live_theirs
            and view.receive is not None
            and legal[deal_or_no_deal.ACCEPT_ACTION]
            and self._deal_accepts(view, _points(view.values, view.receive))
        ):
            return deal_or_no_deal.ACCEPT_ACTION
        return deal_or_no_deal.proposal_action(self._deal_propose(view, (view.turn or 0) // 2))

    def _deal_accepts(self, view: deal_or_no_deal.DealView, points: int) -> bool:
        raise NotImplementedError

    def _deal_propose(self, view: deal_or_no_deal.DealView, k: int) -> Vector:
        raise NotImplementedError

    # ---- resource trading ------------------------------------------------------------------------
    def _trade(self, view: trading.TradeView, legal: np.ndarray) -> int:
        if view.offer_gives is not None and view.offer_gets is not None:
            gain = _worth(view.values, view.offer_gets) - _worth(view.values, view.offer_gives)
            if legal[trading.ACCEPT_ACTION] and self._trade_accepts(view, gain):
                return trading.ACCEPT_ACTION
        ranked = self._trade_ranking(view, legal)
        if not ranked:
            return trading.PASS_ACTION
        return ranked[((view.turn or 0) // 2) % len(ranked)]

    def _trade_accepts(self, view: trading.TradeView, gain: int) -> bool:
        raise NotImplementedError

    def _trade_ranking(self, view: trading.TradeView, legal: np.ndarray) -> list[int]:
        raise NotImplementedError

    # ---- price bargaining ------------------------------------------------------------------------
    #: a bargaining offer this close (dollars) to the agent's own next price is good enough
    price_tolerance: float = 0.0

    def _bargain(self, view: bargaining.BargainView, legal: np.ndarray) -> int:
        price = self._bargain_price(view)
        if view.live is not None and not view.live_mine and legal[bargaining.ACCEPT_ACTION]:
            slack = self.price_tolerance
            good = (
                view.live >= price - slack if view.role == bargaining.SELLER else view.live <= price + slack
            )
            if good and self._within_limit(view, view.live):
                return bargaining.ACCEPT_ACTION
        return bargaining.price_action(self._whole(view, price))

    @staticmethod
    def _within_limit(view: bargaining.BargainView, price: float) -> bool:
        return price >= view.limit if view.role == bargaining.SELLER else price <= view.limit

    @staticmethod
    def _whole(view: bargaining.BargainView, price: float) -> int:
        """A discrete price: rounded in the agent's favour, within the game's prices."""
        whole = math.ceil(price - 1e-9) if view.role == bargaining.SELLER else math.floor(price + 1e-9)
        return min(max(whole, bargaining.MIN_PRICE), bargaining.MAX_PRICE)

    def _bargain_price(self, view: bargaining.BargainView) -> float:
        raise NotImplementedError


def _worth(values: tuple[int, ...], bundle: tuple[int, ...]) -> int:
    return int(sum(q * v for q, v in zip(bundle, values, strict=True)))


_OFFERS = np.array(trading.OFFERS)
_N_OFFERS = len(trading.OFFERS)
# the partner's gain of each discrete offer at base values: what it gets minus what it gives
_BASE_GAIN = _OFFERS[:, 1] * np.take(trading.BASE_VALUES, _OFFERS[:, 0]) - _OFFERS[:, 3] * np.take(
    trading.BASE_VALUES, _OFFERS[:, 2]
)


def _trade_gains(view: trading.TradeView, legal: np.ndarray) -> list[tuple[int, int, int]]:
    """``(action, my gain, the partner's gain at base values)`` of every legal discrete offer."""
    values = np.asarray(view.values)
    mine = _OFFERS[:, 3] * values[_OFFERS[:, 2]] - _OFFERS[:, 1] * values[_OFFERS[:, 0]]
    actions = np.flatnonzero(legal[:_N_OFFERS])
    return list(zip(actions.tolist(), mine[actions].tolist(), _BASE_GAIN[actions].tolist(), strict=True))


class GreedyProposer(NegotiationAgent):
    """Asks for the most it can get (see the module docstring).

    Args:
        accept_at: the least a Deal or No Deal proposal must be worth to it (points, default 7).
        last_chance: at its last chance to accept (no later message of its own), accept any proposal
            worth more than 0 to it.
        trade_margin: the least gain a trade must bring it (resource trading, default 10).
        e: the concession exponent of its bargaining (small: Boulware, holds out; default 0.25).
    """

    name = "greedy"

    def __init__(
        self,
        name: str | None = None,
        seed: int | None = None,
        accept_at: int = 7,
        last_chance: bool = True,
        trade_margin: int = 10,
        e: float = 0.25,
    ):
        super().__init__(name, seed)
        if e <= 0:
            raise ValueError(f"e must be > 0, got {e}")
        self.accept_at = int(accept_at)
        self.last_chance = bool(last_chance)
        self.trade_margin = int(trade_margin)
        self.e = float(e)

    def _deal_accepts(self, view: deal_or_no_deal.DealView, points: int) -> bool:
        if points >= self.accept_at:
            return True
        return self.last_chance and view.turns_left <= 2 and points > 0

    def _deal_propose(self, view: deal_or_no_deal.DealView, k: int) -> Vector:
        options = [s for s in _splits(view.counts, view.values) if s[2] >= 1]
        best = max(options, key=lambda s: (s[1], s[2]))
        return best[0]

    def _trade_accepts(self, view: trading.TradeView, gain: int) -> bool:
        return gain >= self.trade_margin

    def _trade_ranking(self, view: trading.TradeView, legal: np.ndarray) -> list[int]:
        options = [
            (a, mine, theirs) for a, mine, theirs in _trade_gains(view, legal) if mine > 0 and theirs >= 0
        ]
        options.sort(key=lambda o: (-o[1], -o[2], o[0]))
        return [a for a, _, _ in options[:3]]

    def _bargain_price(self, view: bargaining.BargainView) -> float:
        return _concession(view, self.e)


class FairSplitter(NegotiationAgent):
    """Looks for an even split (see the module docstring).

    Args:
        fair_share: the points a Deal or No Deal split must be worth to it (default 5, half of 10).
    """

    name = "fair"
    price_tolerance = 1.0

    def __init__(self, name: str | None = None, seed: int | None = None, fair_share: int = 5):
        super().__init__(name, seed)
        self.fair_share = int(fair_share)

    def _deal_accepts(self, view: deal_or_no_deal.DealView, points: int) -> bool:
        return points >= self.fair_share

    def _deal_propose(self, view: deal_or_no_deal.DealView, k: int) -> Vector:
        share = self.fair_share
        options = [s for s in _splits(view.counts, view.values) if s[1] >= share]
        options.sort(key=lambda s: (s[1] - share, -s[2], s[0]))
        return options[k % len(options)][0]

    def _trade_accepts(self, view: trading.TradeView, gain: int) -> bool:
        return gain > 0

    def _trade_ranking(self, view: trading.TradeView, legal: np.ndarray) -> list[int]:
        options = [
            (a, mine, theirs) for a, mine, theirs in _trade_gains(view, legal) if mine > 0 and theirs > 0
        ]
        options.sort(key=lambda o: (-min(o[1], o[2]), abs(o[1] - o[2]), o[0]))
        return [a for a, _, _ in options[:5]]

    def _bargain_price(self, view: bargaining.BargainView) -> float:
        seller = view.role == bargaining.SELLER
        if view.their_last is None:  # open half again above (seller) or below (buyer) the limit
            opening = view.limit * 1.5 if seller else view.limit / 1.5
            return opening if view.my_last is None else view.my_last
        mine = (
            view.my_last if view.my_last is not None else (view.limit * 1.5 if seller else view.limit / 1.5)
        )
        middle = (mine + view.their_last) / 2.0
        return max(middle, view.limit) if seller else min(middle, view.limit)


class Conceder(NegotiationAgent):
    """Concedes as the messages run out (see the module docstring).

    Args:
        e: the concession exponent (> 1 concedes early, 1 linearly, < 1 late; default 2).
        reserve: the least a Deal or No Deal split must be worth to it at the end (default 2).
        trade_start: the gain it asks of a trade at first (resource trading, default 40; falls to 1).
    """

    name = "conceder"

    def __init__(
        self,
        name: str | None = None,
        seed: int | None = None,
        e: float = 2.0,
        reserve: int = 2,
        trade_start: int = 40,
    ):
        super().__init__(name, seed)
        if e <= 0:
            raise ValueError(f"e must be > 0, got {e}")
        self.e = float(e)
        self.reserve = int(reserve)
        self.trade_start = int(trade_start)

    def _target(self, best: float, reserve: float, turn: int | None, max_turns: int) -> float:
        return best - (best - reserve) * _progress(turn, max_turns) ** (1.0 / self.e)

    def _deal_accepts(self, view: deal_or_no_deal.DealView, points: int) -> bool:
        return points >= self._target(deal_or_no_deal.TOTAL_VALUE, self.reserve, view.turn, view.max_turns)

    def _deal_propose(self, view: deal_or_no_deal.DealView, k: int) -> Vector:
        target = self._target(deal_or_no_deal.TOTAL_VALUE, self.reserve, view.turn, view.max_turns)
        splits = _splits(view.counts, view.values)
        options = [s for s in splits if s[1] >= target and s[2] >= 1] or [max(splits, key=lambda s: s[1])]
        options.sort(key=lambda s: (s[1] - target, -s[2], s[0]))
        return options[0][0]

    def _trade_accepts(self, view: trading.TradeView, gain: int) -> bool:
        return gain >= self._target(self.trade_start, 1, view.turn, view.max_turns)

    def _trade_ranking(self, view: trading.TradeView, legal: np.ndarray) -> list[int]:
        target = self._target(self.trade_start, 1, view.turn, view.max_turns)
        options = [(a, mine, theirs) for a, mine, theirs in _trade_gains(view, legal) if mine >= target]
        if not options:
            options = [o for o in _trade_gains(view, legal) if o[1] > 0]
        options.sort(key=lambda o: (-o[2], -o[1], o[0]))
        return [a for a, _, _ in options[:1]]

    def _bargain_price(self, view: bargaining.BargainView) -> float:
        return _concession(view, self.e)


def _concession(view: bargaining.BargainView, e: float) -> float:
    """A price falling (seller) or rising (buyer) from the game's end of the range to the own limit."""
    f = _progress(view.turn, view.max_turns) ** (1.0 / e)
    start = float(bargaining.MAX_PRICE if view.role == bargaining.SELLER else bargaining.MIN_PRICE)
    return start + (view.limit - start) * f


#: short name -> scripted agent class
SCRIPTED_AGENTS: dict[str, type[NegotiationAgent]] = {
    "greedy": GreedyProposer,
    "fair": FairSplitter,
    "conceder": Conceder,
}


def scripted_agent(name: str, seed: int | None = None, **kwargs: Any) -> NegotiationAgent:
    """A scripted negotiator by short name (``"greedy"``, ``"fair"``, ``"conceder"``)."""
    try:
        cls = SCRIPTED_AGENTS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown negotiation agent {name!r}; the scripted ones are {', '.join(SCRIPTED_AGENTS)}"
        ) from None
    return cls(seed=seed, **kwargs)
