"""Price bargaining (after Fu et al. 2023, "Improving Language Model Negotiation with Self-Play and In-Context
Learning from AI Feedback"): ``redqueen/PriceBargaining-v0``.

A seller (Player 0) and a buyer (Player 1) bargain over the price of one item. Each has a private
limit, drawn from the state's generator: the seller's cost ``s`` (5-20 dollars, the least it would sell
for) and the buyer's value ``b = s + 1..15`` (the most it would pay), so a price both can live with
always exists, but neither knows where. Fixed limits may be given (``limits=(s, b)``).

Talk: alternating messages, the seller first (``first="buyer"`` lets the buyer open), at most
``max_turns`` in all. A message is free text and may carry one move:

* ``[Offer: $X]``: a price between $1 and $40 (cents allowed in text: ``[Offer: $12.50]``); it becomes
  the live offer, replacing any earlier one;
* ``[Accept]``: accept the other side's live offer (a player cannot accept its own); the game ends
  with a deal at that price.

Returns: with a deal at price ``p``, the seller gets ``p - s`` and the buyer ``b - p`` (dollars; a
price outside one's own limit is a loss, but the rules allow it); no deal pays 0 to both.

Discrete view: actions ``0..39`` offer $1..$40, ``40`` accepts, ``41`` is "no offer" (talk only). The
observation (float32 in [0, 1]): the role one-hot (seller, buyer), the observer's limit / 40, the live
offer / 40 and whether it is the observer's or the other side's, the observer's last offer / 40 (and
whether there is one), the other side's last offer / 40 (and whether there is one), whether the
observer is to write, whether the game is over, then the message index one-hot (``max_turns``).
:func:`decode_observation` reads it back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from redqueen.envs.negotiation.base import (
    ACCEPT,
    PASS,
    Message,
    Move,
    NegotiationGame,
    NegotiationState,
    check_max_turns,
    turn_one_hot,
)
from redqueen.game import IllegalAction, check_player, make_rng

__all__ = [
    "ACCEPT_ACTION",
    "BUYER",
    "MAX_PRICE",
    "NUM_ACTIONS",
    "PASS_ACTION",
    "SELLER",
    "BargainView",
    "PriceBargaining",
    "PriceBargainingState",
    "decode_observation",
    "price_action",
]

SELLER, BUYER = 0, 1
ROLES = ("seller", "buyer")
MIN_PRICE, MAX_PRICE = 1, 40
SELLER_LIMITS = (5, 20)
BUYER_MARGINS = (1, 15)
ACCEPT_ACTION = MAX_PRICE - MIN_PRICE + 1
PASS_ACTION = ACCEPT_ACTION + 1
NUM_ACTIONS = ACCEPT_ACTION + 2
PREFIX_SIZE = 12

_PRICE = re.compile(
    r"^(?:at\s+|of\s+)?(?:\$|usd\s*)?\s*(?P<n>[-+]?\d+(?:[.,]\d+)?)\s*(?:\$|dollars?|usd|bucks)?$"
)


def price_action(dollars: int) -> int:
    """The action index of the discrete offer of ``dollars`` ($1..$40)."""
    if (
        isinstance(dollars, bool)
        or not isinstance(dollars, int | np.integer)
        or not MIN_PRICE <= dollars <= MAX_PRICE
    ):
        raise ValueError(
            f"a discrete offer is a whole number of dollars {MIN_PRICE}-{MAX_PRICE}, got {dollars!r}"
        )
    return int(dollars) - MIN_PRICE


def dollars(cents: int) -> str:
    """``1250`` -> ``"$12.50"``, ``1200`` -> ``"$12"``."""
    return f"${cents // 100}" if cents % 100 == 0 else f"${cents // 100}.{cents % 100:02d}"


def _check_limits(limits: Any) -> tuple[int, int]:
    try:
        s, b = (int(x) for x in limits)
    except (TypeError, ValueError):
        raise ValueError(
            f"limits must be (seller's cost, buyer's value) in whole dollars, got {limits!r}"
        ) from None
    if not (MIN_PRICE <= s <= MAX_PRICE and MIN_PRICE <= b <= MAX_PRICE):
        raise ValueError(f"limits must be within ${MIN_PRICE}-${MAX_PRICE}, got {limits!r}")
    return s, b


class PriceBargainingState(NegotiationState):
    """A price bargaining game in progress (see the module docstring)."""

    game: PriceBargaining
    KEYWORDS: ClassVar[Mapping[str, str]] = {
        "no offer": "pass",
        "counter": "offer",
        "accept": "accept",
        "offer": "offer",
        "price": "offer",
        "agree": "accept",
        "deal": "accept",
        "pass": "pass",
        "ask": "offer",
        "bid": "offer",
    }
    BARE_MOVES: ClassVar[Mapping[str, Move]] = {
        "accept": ACCEPT,
        "i accept": ACCEPT,
        "deal": ACCEPT,
        "agree": ACCEPT,
        "pass": PASS,
        "no offer": PASS,
    }

    def __init__(self, game: PriceBargaining, limits: tuple[int, int]):
        super().__init__(game, first=SELLER if game.first == "seller" else BUYER)
        self.limits = limits  # (seller's cost, buyer's value), dollars
        self.live: tuple[int, int] | None = None  # (proposer, price in cents)
        self.last_offers: list[int | None] = [None, None]  # each player's latest offer, cents
        self.price: int | None = None  # the agreed price, cents

    # ---- rules -----------------------------------------------------------------------------------
    def legal_actions(self, player: int | None = None) -> list[int]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        actions = list(range(ACCEPT_ACTION))
        if self.live is not None and self.live[0] != p:
            actions.append(ACCEPT_ACTION)
        actions.append(PASS_ACTION)
        return actions

    def _move_of(self, action: int) -> Move:
        if 0 <= action < ACCEPT_ACTION:
            return ("offer", (action + MIN_PRICE) * 100)
        if action == ACCEPT_ACTION:
            return ACCEPT
        if action == PASS_ACTION:
            return PASS
        raise IllegalAction(
            f"action {action} is not a price bargaining action (0-39 offer $1-$40, 40 accept, 41 no offer)."
        )

    def _action_of(self, move: Move) -> int | None:
        kind = move[0]
        if kind == "offer":
            cents = move[1]
            return cents // 100 - MIN_PRICE if cents % 100 == 0 else None
        return ACCEPT_ACTION if kind == "accept" else PASS_ACTION

    def _check(self, player: int, move: Move) -> None:
        kind = move[0]
        if kind == "offer":
            cents = move[1]
            if not MIN_PRICE * 100 <= cents <= MAX_PRICE * 100:
                raise IllegalAction(
                    f"{dollars(cents)} is outside the prices of this game: offer ${MIN_PRICE} to "
                    f"${MAX_PRICE}."
                )
        elif kind == "accept":
            if self.live is None:
                raise IllegalAction("there is no offer to accept yet.")
            if self.live[0] == player:
                raise IllegalAction(
                    f"the live offer ({dollars(self.live[1])}) is your own; only the {ROLES[1 - player]} can "
                    "accept it."
                )

    def _play(self, player: int, move: Move, talk: str) -> None:
        kind = move[0]
        self.messages.append(Message(player, move, talk))
        if kind == "offer":
            self.live = (player, move[1])
            self.last_offers[player] = move[1]
        elif kind == "accept":
            assert self.live is not None
            self.price = self.live[1]
            p = self.price / 100.0
            s, b = self.limits
            self._finish([p - s, b - p])
            return
        self._next_message()

    def clone(self) -> PriceBargainingState:
        twin = object.__new__(PriceBargainingState)
        self._copy_base(twin)
        twin.limits = self.limits
        twin.live = self.live
        twin.last_offers = list(self.last_offers)
        twin.price = self.price
        return twin

    # ---- parsing ---------------------------------------------------------------------------------
    def _read_price(self, text: str) -> int:
        m = _PRICE.match(text.strip().lower())
        if m is None:
            raise IllegalAction(
                f"could not read a price in '{text[:40]}'; write e.g. [Offer: $12] or [Offer: $12.50]."
            )
        number = m.group("n").replace(",", ".")
        value = float(number)
        if "." in number and len(number.split(".")[1]) > 2:
            raise IllegalAction(f"{number} has more than two decimals; prices are in dollars and cents.")
        cents = round(value * 100)
        if not MIN_PRICE * 100 <= cents <= MAX_PRICE * 100:
            raise IllegalAction(
                f"${number} is outside the prices of this game: offer ${MIN_PRICE} to ${MAX_PRICE}."
            )
        return cents

    def _read_payload(self, player: int, kind: str, payload: str) -> Move:
        if kind == "offer":
            if not payload:
                raise IllegalAction("the offer names no price; write e.g. [Offer: $12].")
            return ("offer", self._read_price(payload))
        if re.search(r"\d", payload):
            raise IllegalAction(
                f"[{kind.capitalize()}] takes no price: an accept takes the other side's live offer as it "
                "is; "
                "to name a price, write [Offer: $X]."
            )
        return ACCEPT if kind == "accept" else PASS

    def _read_untagged(self, player: int, content: str) -> Move | None:
        if "$" in content and _PRICE.match(content.strip().lower()):
            return ("offer", self._read_price(content))
        return None

    def move_text(self, player: int, move: Move) -> str:
        kind = move[0]
        if kind == "offer":
            return f"Offer: {dollars(move[1])}"
        return "Accept" if kind == "accept" else "No offer"

    def legal_actions_text(self, player: int | None = None) -> list[str]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        return list(_LEGAL_TEXTS[self.live is not None and self.live[0] != p])

    def move_formats(self, player: int) -> list[str]:
        if self.is_terminal() or player != self._player:
            return []
        formats = [f"[Offer: $X] (a price from ${MIN_PRICE} to ${MAX_PRICE})"]
        if self.live is not None and self.live[0] != player:
            formats.append("[Accept]")
        formats.append("a message without a tag (no offer)")
        return formats

    # ---- tensor view -----------------------------------------------------------------------------
    def observation_tensor(self, player: int) -> np.ndarray:
        player = check_player(self.game, player)
        out = np.zeros(PREFIX_SIZE + self.game.max_turns, dtype=np.float32)
        out[player] = 1.0
        out[2] = self.limits[player] / MAX_PRICE
        if self.live is not None:
            out[3] = self.live[1] / (100 * MAX_PRICE)
            out[4 if self.live[0] == player else 5] = 1.0
        mine, theirs = self.last_offers[player], self.last_offers[1 - player]
        if mine is not None:
            out[6], out[7] = mine / (100 * MAX_PRICE), 1.0
        if theirs is not None:
            out[8], out[9] = theirs / (100 * MAX_PRICE), 1.0
        if self._player == player:
            out[10] = 1.0
        if self.is_terminal():
            out[11] = 1.0
        turn_one_hot(out, PREFIX_SIZE, self)
        return out

    # ---- text view -------------------------------------------------------------------------------
    def observation_text(self, player: int) -> str:
        player = check_player(self.game, player)
        game = self.game
        item = game.item
        other = 1 - player
        limit = self.limits[player]
        if player == SELLER:
            lines = [
                f"You are the seller (Player 0) of a {item}, bargaining over its price with the buyer "
                "(Player 1).",
                f"The {item} cost you ${limit}: selling below ${limit} loses money. Your score is the price "
                f"minus ${limit} if you sell, and 0 if there is no deal.",
            ]
        else:
            lines = [
                f"You are the buyer (Player 1) of a {item}, bargaining over its price with the seller "
                "(Player 0).",
                f"The {item} is worth ${limit} to you: paying more than ${limit} loses money. Your score is "
                f"${limit} minus the price if you buy, and 0 if there is no deal.",
            ]
        lines.append(
            f"The {ROLES[other]}'s limit is private. Rules: the players take turns, at most {game.max_turns} "
            f"messages in all, the {game.first} first. A message is free text and may carry one move in "
            f"brackets: [Offer: $X] names a price from ${MIN_PRICE} to ${MAX_PRICE} (it replaces any earlier "
            f"offer); [Accept] accepts the {ROLES[other]}'s live offer and ends the game with a deal at that "
            "price (you cannot accept your own). A message without a tag is talk only. No deal pays 0 to "
            "both."
        )
        if self.messages:
            lines.append("Messages so far:")
            lines.extend(f"  {ROLES[m.player].capitalize()}: {self.chat_line(m)}" for m in self.messages)
        else:
            lines.append("No messages yet.")
        if self.is_terminal():
            if self.price is not None:
                lines.append(
                    f"The game is over: a deal at {dollars(self.price)}. Your result: "
                    f"{self._returns[player]:+g}."
                )
            else:
                lines.append(f"The game is over without a deal. Your result: {self._returns[player]:+g}.")
            return "\n".join(lines)
        if self.live is not None:
            whose = "your own" if self.live[0] == player else f"the {ROLES[other]}'s"
            lines.append(f"Live offer ({whose}): {dollars(self.live[1])}.")
        if self._player == player:
            last = (
                " This is the last message: only an accept can still make a deal."
                if self.turns_left == 1
                else ""
            )
            lines.append(f"Your turn: message {self.turn + 1} of {game.max_turns}.{last}")
        else:
            lines.append(f"Waiting for the {ROLES[self._player]}'s message.")
        return "\n".join(lines)

    def render(self) -> str:
        s, b = self.limits
        head = (
            f"Price bargaining: seller cost ${s}, buyer value ${b}; message {self.turn}/{self.game.max_turns}"
        )
        if self.is_terminal():
            deal = "no deal" if self.price is None else f"deal at {dollars(self.price)}"
            return f"{head}; {deal}; returns {self._returns[0]:+g}, {self._returns[1]:+g}"
        live = "none" if self.live is None else f"{ROLES[self.live[0]]} {dollars(self.live[1])}"
        return f"{head}; live offer: {live}; to move: {ROLES[self._player]}"

    def __repr__(self) -> str:
        return f"<PriceBargainingState {self.render()}>"


# accept legal? -> the legal moves as text
_OFFER_TEXTS = [f"[Offer: ${d}]" for d in range(MIN_PRICE, MAX_PRICE + 1)]
_LEGAL_TEXTS = {False: [*_OFFER_TEXTS, "[No offer]"], True: [*_OFFER_TEXTS, "[Accept]", "[No offer]"]}


class PriceBargaining(NegotiationGame):
    """Price bargaining between a seller (Player 0) and a buyer (Player 1); see the module docstring.

    Args:
        max_turns: the most messages in all (2-200; default 10).
        first: who writes first, ``"seller"`` (default) or ``"buyer"``.
        limits: fixed ``(seller's cost, buyer's value)`` in whole dollars for every game, instead of
            limits drawn from the seed.
        item: what is sold (only the text view names it).
    """

    id: ClassVar[str] = "price_bargaining"
    name: ClassVar[str] = "Price bargaining"
    num_distinct_actions = NUM_ACTIONS
    _prefix_size: ClassVar[int] = PREFIX_SIZE

    def __init__(
        self,
        max_turns: int = 10,
        first: Literal["seller", "buyer"] = "seller",
        limits: Sequence[int] | None = None,
        item: str = "balloon",
    ):
        if first not in ("seller", "buyer"):
            raise ValueError(f"first must be 'seller' or 'buyer', got {first!r}")
        if not isinstance(item, str) or not item.strip() or len(item) > 60:
            raise ValueError(f"item must be a short name, got {item!r}")
        self.max_turns = check_max_turns(max_turns)
        self.first: Literal["seller", "buyer"] = first
        self.limits = None if limits is None else _check_limits(limits)
        self.item = item.strip()
        if self.limits is None:
            low_s, high_s = SELLER_LIMITS
            low_b, high_b = low_s + BUYER_MARGINS[0], high_s + BUYER_MARGINS[1]
        else:
            low_s = high_s = self.limits[0]
            low_b = high_b = self.limits[1]
        self.min_return = float(min(MIN_PRICE - high_s, low_b - MAX_PRICE))
        self.max_return = float(max(MAX_PRICE - low_s, high_b - MIN_PRICE))
        self.max_game_length = self.max_turns
        params: dict[str, Any] = {"max_turns": self.max_turns, "first": first, "item": self.item}
        if self.limits is not None:
            params["limits"] = self.limits
        super().__init__(**params)

    def _new_state(self, seed: int | np.random.Generator | None) -> PriceBargainingState:
        if self.limits is not None:
            limits = self.limits
        else:
            rng = make_rng(seed)
            s = int(rng.integers(SELLER_LIMITS[0], SELLER_LIMITS[1] + 1))
            limits = (s, s + int(rng.integers(BUYER_MARGINS[0], BUYER_MARGINS[1] + 1)))
        return PriceBargainingState(self, limits)


@dataclass(frozen=True)
class BargainView:
    """The observation tensor of :class:`PriceBargaining`, read back (see :func:`decode_observation`)."""

    role: int
    """SELLER (0) or BUYER (1)."""
    limit: float
    live: float | None
    """The live offer in dollars (None when there is none)."""
    live_mine: bool
    my_last: float | None
    their_last: float | None
    to_move: bool
    over: bool
    turn: int | None
    max_turns: int

    @property
    def turns_left(self) -> int:
        return 0 if self.turn is None else self.max_turns - self.turn


def decode_observation(observation: np.ndarray) -> BargainView:
    """Read a price bargaining observation tensor back into its fields (prices in dollars)."""
    obs = np.asarray(observation, dtype=np.float64).ravel()
    if obs.size <= PREFIX_SIZE:
        raise ValueError(
            f"a price bargaining observation has {PREFIX_SIZE} + max_turns numbers, got {obs.size}"
        )
    turns = obs[PREFIX_SIZE:]
    has_live = bool(obs[4] or obs[5])
    return BargainView(
        role=BUYER if obs[1] else SELLER,
        limit=round(float(obs[2]) * MAX_PRICE, 2),
        live=round(float(obs[3]) * MAX_PRICE, 2) if has_live else None,
        live_mine=bool(obs[4]),
        my_last=round(float(obs[6]) * MAX_PRICE, 2) if obs[7] else None,
        their_last=round(float(obs[8]) * MAX_PRICE, 2) if obs[9] else None,
        to_move=bool(obs[10]),
        over=bool(obs[11]),
        turn=int(np.argmax(turns)) if turns.any() else None,
        max_turns=int(turns.size),
    )
