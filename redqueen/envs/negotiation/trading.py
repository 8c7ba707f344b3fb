"""Resource trading: SPIRAL's SimpleNegotiation (TextArena ``SimpleNegotiation-v0``) with its rules written
down and its loose ends fixed: ``redqueen/ResourceTrading-v0``.

Scenario (drawn from the state's generator): five resources, Wheat, Wood, Sheep, Brick and Ore, with
base values 5, 10, 15, 25 and 40. Each player holds 5-25 of every resource and values each unit of a
resource at its base value +- 20% (an integer, at least 5 and at most 40), privately.

Talk: exactly ``max_turns`` messages in all (default 10), alternating, Player 0 first, so with an even
limit each player writes ``max_turns / 2``. Every message is seen by both players. A message is free
text and may carry one move:

* ``[Offer: 3 Wood, 2 Ore -> 5 Brick]``: the writer offers to give 3 Wood and 2 Ore for 5 Brick. The
  writer must hold what it gives; a resource may not be on both sides; each side names at least one
  resource, a positive whole number of each;
* ``[Accept]``: accept the partner's offer; the trade happens at once (the acceptor must hold what the
  offer asks for);
* ``[Deny]``: decline it.

An offer stands for exactly one reply: the partner's next message accepts it, or declines it (a
``[Deny]``, a counter-offer or plain talk all decline). So a player can never accept its own offer and a
declined offer is gone (in TextArena it stays open, the proposer can "accept" it itself, the chat is
hidden from the other player by the default wrapper and "10 turns" run 11 messages).

End: after the last message, each player's gain is the change in the value of its own inventory at its
own prices. ``scoring="winner"`` (default, as TextArena): +1 to the larger gain, -1 to the other, 0 to
both on equal gains (e.g. no trade); ``scoring="gain"``: the gains themselves (a general-sum game).

Discrete view: actions ``0..179`` are the offers "give 1-3 of one resource for 1-3 of another"
(:func:`offer_action`; the mask allows those the writer can pay), ``180`` accepts, ``181`` denies,
``182`` is "no offer" (talk only). A text offer outside that set (several resources, larger amounts)
is played through ``parse_action`` as well. The observation (float32 in [0, 1]): own quantities / 50
(5), own values / 40 (5), what the observer would give and get under an offer made to it, / 50 (5 + 5),
whether an offer to the observer / by the observer is live (2), the observer's gain so far
(``(clip(gain / 100, -1, 1) + 1) / 2``), trades so far / ``max_turns``, whether the observer is to
write, whether the game is over, then the message index one-hot (``max_turns``).
:func:`decode_observation` reads it back.
"""

from __future__ import annotations

import operator
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
    "BASE_VALUES",
    "DENY_ACTION",
    "NUM_ACTIONS",
    "OFFERS",
    "PASS_ACTION",
    "RESOURCES",
    "ResourceTrading",
    "ResourceTradingState",
    "TradeView",
    "TradingScenario",
    "decode_observation",
    "generate_trading_scenario",
    "offer_action",
]

Scoring = Literal["winner", "gain"]
Bundle = tuple[int, int, int, int, int]

RESOURCES = ("Wheat", "Wood", "Sheep", "Brick", "Ore")
BASE_VALUES = (5, 10, 15, 25, 40)
N_RESOURCES = len(RESOURCES)
MIN_QUANTITY, MAX_QUANTITY = 5, 25
MIN_VALUE, MAX_VALUE = 5, 40
MAX_OFFER = 3  # largest amount of each side of a discrete offer
HOLDING_SCALE = 2 * MAX_QUANTITY  # the most of a resource one player can hold
DENY: Move = ("deny",)

#: the discrete offers: (resource given, amount, resource asked for, amount)
OFFERS: tuple[tuple[int, int, int, int], ...] = tuple(
    (give, q_give, get, q_get)
    for give in range(N_RESOURCES)
    for get in range(N_RESOURCES)
    if get != give
    for q_give in range(1, MAX_OFFER + 1)
    for q_get in range(1, MAX_OFFER + 1)
)
_OFFER_INDEX = {offer: i for i, offer in enumerate(OFFERS)}
ACCEPT_ACTION = len(OFFERS)
DENY_ACTION = ACCEPT_ACTION + 1
PASS_ACTION = ACCEPT_ACTION + 2
NUM_ACTIONS = ACCEPT_ACTION + 3
PREFIX_SIZE = 5 + 5 + 10 + 2 + 1 + 1 + 2
_VALUE_RANGES = tuple(
    (max(b - int(0.2 * b), MIN_VALUE), min(b + int(0.2 * b), MAX_VALUE)) for b in BASE_VALUES
)
_ZERO: Bundle = (0, 0, 0, 0, 0)
_OFFER_GIVE = np.array([o[0] for o in OFFERS])
_OFFER_Q_GIVE = np.array([o[1] for o in OFFERS])
_TAIL = {  # (offer live, acceptor can pay) -> the actions after the offers
    (False, False): (PASS_ACTION,),
    (True, False): (DENY_ACTION, PASS_ACTION),
    (True, True): (ACCEPT_ACTION, DENY_ACTION, PASS_ACTION),
}
_LEGAL_CACHE: dict[tuple[tuple[int, ...], bool, bool], tuple[list[int], np.ndarray, list[str]]] = {}


def _legal(inventory: Sequence[int], live: bool, can_pay: bool) -> tuple[list[int], np.ndarray, list[str]]:
    """(legal actions, int8 mask, their texts) of a writer holding ``inventory``; an offer's
    affordability depends only on holdings up to MAX_OFFER, so the cache has at most 4**5 * 3 entries."""
    key = (tuple(min(q, MAX_OFFER) for q in inventory), live, can_pay)
    entry = _LEGAL_CACHE.get(key)
    if entry is None:
        held = np.array(key[0])
        affordable = np.flatnonzero(held[_OFFER_GIVE] >= _OFFER_Q_GIVE).tolist()
        actions = affordable + list(_TAIL[(live, can_pay)])
        mask = np.zeros(NUM_ACTIONS, dtype=np.int8)
        mask[actions] = 1
        mask.flags.writeable = False
        entry = _LEGAL_CACHE[key] = (actions, mask, [f"[{_ACTION_TEXT[a]}]" for a in actions])
    return entry


def _bundle(pairs: Mapping[int, int]) -> Bundle:
    out = [0] * N_RESOURCES
    for r, q in pairs.items():
        out[r] = q
    return tuple(out)  # type: ignore[return-value]


def offer_action(give: int, q_give: int, get: int, q_get: int) -> int:
    """The action index of the discrete offer "give ``q_give`` of resource ``give`` for ``q_get`` of
    ``get``" (resources by index into :data:`RESOURCES`)."""
    try:
        return _OFFER_INDEX[(give, q_give, get, q_get)]
    except KeyError:
        raise ValueError(
            f"no discrete offer gives {q_give} of resource {give} for {q_get} of resource {get} "
            f"(two different resources, 1-{MAX_OFFER} of each)"
        ) from None


@dataclass(frozen=True)
class TradingScenario:
    """Each player's starting inventory and private values (one int per resource)."""

    inventories: tuple[Bundle, Bundle]
    values: tuple[Bundle, Bundle]

    def __post_init__(self) -> None:
        try:
            inv = tuple(tuple(int(q) for q in side) for side in self.inventories)
            val = tuple(tuple(int(v) for v in side) for side in self.values)
        except (TypeError, ValueError):
            raise ValueError(
                f"a trading scenario has 2 x 5 integer inventories and values, got {self.inventories!r}, "
                f"{self.values!r}"
            ) from None
        if len(inv) != 2 or len(val) != 2 or any(len(x) != N_RESOURCES for x in (*inv, *val)):
            raise ValueError("a trading scenario has 2 inventories and 2 value lists of 5 resources each")
        if any(q < 0 for side in inv for q in side) or any(v <= 0 for side in val for v in side):
            raise ValueError(f"quantities must be >= 0 and values > 0, got {inv} and {val}")
        object.__setattr__(self, "inventories", inv)
        object.__setattr__(self, "values", val)

    def worth(self, player: int, bundle: Sequence[int]) -> int:
        """What ``bundle`` is worth to ``player`` at its own values."""
        return int(sum(map(operator.mul, bundle, self.values[player])))


def generate_trading_scenario(seed: int | np.random.Generator | None = None) -> TradingScenario:
    """Inventories of 5-25 of each resource and values at base +- 20% for both players."""
    rng = make_rng(seed)
    inventories = rng.integers(MIN_QUANTITY, MAX_QUANTITY + 1, size=(2, N_RESOURCES))
    values = np.array(
        [[int(rng.integers(lo, hi + 1)) for lo, hi in _VALUE_RANGES] for _ in range(2)], dtype=np.int64
    )
    return TradingScenario(
        (tuple(inventories[0].tolist()), tuple(inventories[1].tolist())),  # type: ignore[arg-type]
        (tuple(values[0].tolist()), tuple(values[1].tolist())),  # type: ignore[arg-type]
    )


def bundle_text(bundle: Sequence[int]) -> str:
    """``(0, 3, 0, 0, 2)`` -> ``"3 Wood, 2 Ore"``."""
    return ", ".join(f"{q} {RESOURCES[r]}" for r, q in enumerate(bundle) if q) or "nothing"


def _move_text(move: Move) -> str:
    kind = move[0]
    if kind == "offer":
        return f"Offer: {bundle_text(move[1])} -> {bundle_text(move[2])}"
    return {"accept": "Accept", "deny": "Deny", "pass": "No offer"}[kind]


#: the canonical text (no brackets) of every discrete action
_ACTION_TEXT: tuple[str, ...] = (
    *(_move_text(("offer", _bundle({g: qg}), _bundle({r: qr}))) for g, qg, r, qr in OFFERS),
    "Accept",
    "Deny",
    "No offer",
)

_RESOURCE_INDEX = {name.lower(): i for i, name in enumerate(RESOURCES)}
_RESOURCE_INDEX.update({name.lower() + "s": i for i, name in enumerate(RESOURCES)})
_ARROW = re.compile(r"\s*(?:->|=>|→|\bfor\b)\s*", re.IGNORECASE)
_I_GIVE = re.compile(r"^(?:i\s+(?:give|offer)\s+)", re.IGNORECASE)
_SIDE_SPLIT = re.compile(r",|;|&|\band\b")
_PLAIN_QTY = re.compile(r"\s*(\d+)\s*(?:x\s+)?([a-z]+)\s*")
_QTY = re.compile(
    r"(?P<n>[-+]?\d+(?:\.\d*)?)\s*(?:x\s+)?(?P<name>[a-z]+)|(?P<name2>[a-z]+)\s*[=:]\s*(?P<n2>[-+]?\d+)"
)


class ResourceTradingState(NegotiationState):
    """A resource trading game in progress (see the module docstring)."""

    game: ResourceTrading
    KEYWORDS: ClassVar[Mapping[str, str]] = {
        "no offer": "pass",
        "decline": "deny",
        "propose": "offer",
        "accept": "accept",
        "reject": "deny",
        "trade": "offer",
        "offer": "offer",
        "agree": "accept",
        "deny": "deny",
        "pass": "pass",
    }
    BARE_MOVES: ClassVar[Mapping[str, Move]] = {
        "accept": ACCEPT,
        "i accept": ACCEPT,
        "deny": DENY,
        "reject": DENY,
        "decline": DENY,
        "pass": PASS,
        "no offer": PASS,
    }

    def __init__(self, game: ResourceTrading, scenario: TradingScenario):
        super().__init__(game)
        self.scenario = scenario
        self.inventories = [list(scenario.inventories[0]), list(scenario.inventories[1])]
        self.live: tuple[int, Bundle, Bundle] | None = None  # (proposer, gives, asks for)
        self.trades: list[tuple[int, Bundle, Bundle]] = []  # accepted offers: (proposer, gave, got)
        self.outcomes: list[str] = []  # per message: what became of the offer it answered ("" if none)
        self._chat: list[str] = []  # the chat as the text view shows it (the same for both players)
        self._live_text = ("", "")  # the live offer's two sides as text
        self._heads: dict[tuple[int, ...], str] = {}  # (player, *holdings) -> the text view's first lines

    # ---- rules -----------------------------------------------------------------------------------
    def gain(self, player: int) -> int:
        """The change of ``player``'s inventory value at its own prices since the start."""
        s = self.scenario
        return s.worth(player, self.inventories[player]) - s.worth(player, s.inventories[player])

    def _can_pay(self, player: int, bundle: Sequence[int]) -> bool:
        inv = self.inventories[player]
        return all(inv[r] >= q for r, q in enumerate(bundle))

    def legal_actions(self, player: int | None = None) -> list[int]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        live = self.live is not None
        return list(_legal(self.inventories[p], live, live and self._can_pay(p, self.live[2]))[0])  # type: ignore[index]

    def _legal_entry(self, player: int) -> tuple[list[int], np.ndarray, list[str]]:
        live = self.live is not None
        return _legal(self.inventories[player], live, live and self._can_pay(player, self.live[2]))  # type: ignore[index]

    def legal_actions_text(self, player: int | None = None) -> list[str]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        return list(self._legal_entry(p)[2])

    def action_mask(self, player: int) -> np.ndarray:
        player = check_player(self.game, player)
        if self._player != player:
            return np.zeros(NUM_ACTIONS, dtype=np.int8)
        live = self.live is not None
        return _legal(self.inventories[player], live, live and self._can_pay(player, self.live[2]))[1].copy()  # type: ignore[index]

    def _move_of(self, action: int) -> Move:
        if 0 <= action < len(OFFERS):
            give, q_give, get, q_get = OFFERS[action]
            return ("offer", _bundle({give: q_give}), _bundle({get: q_get}))
        if action == ACCEPT_ACTION:
            return ACCEPT
        if action == DENY_ACTION:
            return DENY
        if action == PASS_ACTION:
            return PASS
        raise IllegalAction(
            f"action {action} is not a resource trading action (0-179 offers, 180 accept, 181 deny, "
            "182 no offer)."
        )

    def _action_of(self, move: Move) -> int | None:
        kind = move[0]
        if kind == "offer":
            gives = [(r, q) for r, q in enumerate(move[1]) if q]
            gets = [(r, q) for r, q in enumerate(move[2]) if q]
            if len(gives) == 1 and len(gets) == 1:
                return _OFFER_INDEX.get((gives[0][0], gives[0][1], gets[0][0], gets[0][1]))
            return None
        return {"accept": ACCEPT_ACTION, "deny": DENY_ACTION, "pass": PASS_ACTION}[kind]

    def _check(self, player: int, move: Move) -> None:
        kind = move[0]
        if kind == "offer":
            inv = self.inventories[player]
            for r, q in enumerate(move[1]):
                if q > inv[r]:
                    raise IllegalAction(
                        f"you hold {inv[r]} {RESOURCES[r]}, so you cannot offer {q} {RESOURCES[r]}."
                    )
        elif kind in ("accept", "deny"):
            if self.live is None:
                raise IllegalAction(f"there is no offer from Player {1 - player} to {kind} now.")
            if kind == "accept":
                inv = self.inventories[player]
                for r, q in enumerate(self.live[2]):
                    if q > inv[r]:
                        raise IllegalAction(
                            f"the offer asks you for {q} {RESOURCES[r]} but you hold {inv[r]} "
                            f"{RESOURCES[r]}; you cannot accept it."
                        )

    def _play(self, player: int, move: Move, talk: str) -> None:
        kind = move[0]
        outcome = ""
        if self.live is not None:  # the partner's offer is answered by this message
            proposer, gives, asks = self.live
            if kind == "accept":
                for r in range(N_RESOURCES):
                    self.inventories[proposer][r] += asks[r] - gives[r]
                    self.inventories[player][r] += gives[r] - asks[r]
                self.trades.append((proposer, gives, asks))
                outcome = (
                    f"trade done: Player {proposer} gave {bundle_text(gives)} and got {bundle_text(asks)}"
                )
            else:
                outcome = f"Player {player} declined Player {proposer}'s offer"
            self.live = None
        if kind == "offer":
            self.live = (player, move[1], move[2])
            self._live_text = (bundle_text(move[1]), bundle_text(move[2]))
        message = Message(player, move, talk)
        self.messages.append(message)
        self.outcomes.append(outcome)
        if outcome:
            self._chat.append(f"  ({outcome})")
        self._chat.append(f"  Player {player}: {self.chat_line(message)}")
        self._next_message()

    def _turns_over(self) -> None:
        self.live = None
        gains = np.array([self.gain(0), self.gain(1)], dtype=np.float64)
        if self.game.scoring == "gain":
            self._finish(gains)
        else:
            self._finish(np.sign([gains[0] - gains[1], gains[1] - gains[0]]))

    def clone(self) -> ResourceTradingState:
        twin = object.__new__(ResourceTradingState)
        self._copy_base(twin)
        twin.scenario = self.scenario
        twin.inventories = [list(self.inventories[0]), list(self.inventories[1])]
        twin.live = self.live
        twin.trades = list(self.trades)
        twin.outcomes = list(self.outcomes)
        twin._chat = list(self._chat)
        twin._live_text = self._live_text
        twin._heads = self._heads  # text by holdings: the same for both copies
        return twin

    # ---- parsing ---------------------------------------------------------------------------------
    def _read_side(self, text: str, side: str) -> Bundle:
        """One side of an offer: the common, well-formed "3 Wood, 2 Ore" at once, else carefully."""
        found: dict[int, int] = {}
        for piece in _SIDE_SPLIT.split(text.lower()):
            m = _PLAIN_QTY.fullmatch(piece)
            r = None if m is None else _RESOURCE_INDEX.get(m.group(2))
            if r is None or r in found or m.group(1) == "0":  # type: ignore[union-attr]
                return self._read_side_carefully(text, side)
            found[r] = int(m.group(1))  # type: ignore[union-attr]
        return _bundle(found)

    def _read_side_carefully(self, text: str, side: str) -> Bundle:
        """One side of an offer, naming what is wrong with it."""
        found: dict[int, int] = {}
        pieces = []
        end = 0
        for m in _QTY.finditer(text.lower()):
            pieces.append(text[end : m.start()])
            end = m.end()
            name, number = (
                (m.group("name"), m.group("n")) if m.group("name") else (m.group("name2"), m.group("n2"))
            )
            r = _RESOURCE_INDEX.get(name)
            if r is None:
                raise IllegalAction(
                    f"'{name}' is no resource of this game; the resources are {', '.join(RESOURCES)}."
                )
            if not re.fullmatch(r"\+?\d+", number) or int(number) <= 0:
                raise IllegalAction(
                    f"'{number} {RESOURCES[r]}' is not a positive whole number of {RESOURCES[r]}."
                )
            if r in found:
                raise IllegalAction(f"{RESOURCES[r]} is named twice on the {side} side of the offer.")
            found[r] = int(number)
        pieces.append(text[end:])
        leftover = " ".join(p.strip(" ,;&") for p in pieces if re.search(r"\d", p)).strip()
        if leftover:
            raise IllegalAction(
                f"could not read '{leftover[:40]}' in the offer; write e.g. "
                "[Offer: 3 Wood, 2 Ore -> 5 Brick]."
            )
        if not found:
            raise IllegalAction(
                f"the {side} side of the offer names no resource; write e.g. "
                "[Offer: 3 Wood, 2 Ore -> 5 Brick] "
                "(what you give -> what you ask for)."
            )
        return _bundle(found)

    def _read_payload(self, player: int, kind: str, payload: str) -> Move:
        if kind != "offer":
            if re.search(r"\d", payload):
                raise IllegalAction(
                    f"[{kind.capitalize()}] takes no amounts: it answers Player {1 - player}'s offer as "
                    "it is."
                )
            return {"accept": ACCEPT, "deny": DENY, "pass": PASS}[kind]
        text = _I_GIVE.sub("", payload.strip())
        parts = _ARROW.split(text)
        if len(parts) != 2:
            raise IllegalAction(
                "an offer is what you give -> what you ask for, with one '->', e.g. "
                "[Offer: 3 Wood, 2 Ore -> 5 Brick]."
            )
        gives = self._read_side(parts[0], "giving")
        asks = self._read_side(parts[1], "asking")
        both = [RESOURCES[r] for r in range(N_RESOURCES) if gives[r] and asks[r]]
        if both:
            raise IllegalAction(
                f"{', '.join(both)} is on both sides of the offer; trade different resources."
            )
        return ("offer", gives, asks)

    def move_text(self, player: int, move: Move) -> str:
        return _move_text(move)

    def action_to_text(self, player: int, action: int) -> str:
        if 0 <= action < NUM_ACTIONS and action not in self._pending:
            return _ACTION_TEXT[action]
        return super().action_to_text(player, action)

    def move_formats(self, player: int) -> list[str]:
        if self.is_terminal() or player != self._player:
            return []
        formats = ["[Offer: 3 Wood, 2 Ore -> 5 Brick] (what you give -> what you ask for)"]
        if self.live is not None:
            formats += ["[Accept]", "[Deny]"]
        formats.append("a message without a tag (no offer)")
        return formats

    # ---- tensor view -----------------------------------------------------------------------------
    def observation_tensor(self, player: int) -> np.ndarray:
        player = check_player(self.game, player)
        out = np.zeros(PREFIX_SIZE + self.game.max_turns, dtype=np.float32)
        inv = self.inventories[player]
        values = self.scenario.values[player]
        for r in range(N_RESOURCES):
            out[r] = min(inv[r] / HOLDING_SCALE, 1.0)
            out[5 + r] = values[r] / MAX_VALUE
        if self.live is not None:
            proposer, gives, asks = self.live
            if proposer == player:
                out[21] = 1.0
            else:
                for r in range(N_RESOURCES):
                    out[10 + r] = min(asks[r] / HOLDING_SCALE, 1.0)
                    out[15 + r] = min(gives[r] / HOLDING_SCALE, 1.0)
                out[20] = 1.0
        out[22] = (min(max(self.gain(player) / 100.0, -1.0), 1.0) + 1.0) / 2.0
        out[23] = min(len(self.trades) / self.game.max_turns, 1.0)
        if self._player == player:
            out[24] = 1.0
        if self.is_terminal():
            out[25] = 1.0
        turn_one_hot(out, PREFIX_SIZE, self)
        return out

    # ---- text view -------------------------------------------------------------------------------
    def observation_text(self, player: int) -> str:
        player = check_player(self.game, player)
        game = self.game
        other = 1 - player
        inv = self.inventories[player]
        worth = self.scenario.worth(player, inv)
        start = self.scenario.worth(player, self.scenario.inventories[player])
        key = (player, *inv)
        head = self._heads.get(key)  # the lines before the chat change only with a trade
        if head is None:
            values = self.scenario.values[player]
            holdings = ", ".join(f"{RESOURCES[r]} {inv[r]} x {values[r]}" for r in range(N_RESOURCES))
            head = self._heads[key] = (
                f"You are Player {player} in a resource trading game with Player {other}.\n"
                f"Your resources (quantity x value per unit to you): {holdings}; worth {worth} in all (at "
                f"the start {start}). Player {other}'s resources and values are private and differ from "
                f"yours.\n{game.rules_text(other)}"
            )
        lines = [head]
        if self._chat:
            lines.append("Messages so far:")
            lines.extend(self._chat)
        else:
            lines.append("No messages yet.")
        lines.append(f"Trades so far: {len(self.trades)}. Your gain so far: {worth - start:+d}.")
        if self.is_terminal():
            lines.append(
                f"The game is over. Your gain {worth - start:+d}, Player {other}'s gain "
                f"{self.gain(other):+d} (at their values). Your result: {self._returns[player]:+g}."
            )
            return "\n".join(lines)
        if self.live is not None and self.live[0] != player:
            _, gives, asks = self.live
            change = self.scenario.worth(player, gives) - self.scenario.worth(player, asks)
            lines.append(
                f"Player {other}'s offer to you: you give {self._live_text[1]} and get {self._live_text[0]} "
                f"(your inventory value would change by {change:+d})."
            )
        if self._player == player:
            lines.append(f"Your turn: message {self.turn + 1} of {game.max_turns}.")
        else:
            lines.append(f"Waiting for Player {self._player}'s message.")
        return "\n".join(lines)

    def render(self) -> str:
        head = (
            f"Resource trading ({self.game.scoring}): message {self.turn}/{self.game.max_turns}; "
            f"P0 {self.inventories[0]} gain {self.gain(0):+d}, "
            f"P1 {self.inventories[1]} gain {self.gain(1):+d}; "
            f"{len(self.trades)} trades"
        )
        if self.is_terminal():
            return f"{head}; returns {self._returns[0]:+g}, {self._returns[1]:+g}"
        live = (
            "none"
            if self.live is None
            else f"P{self.live[0]} {bundle_text(self.live[1])} -> {bundle_text(self.live[2])}"
        )
        return f"{head}; live offer: {live}; to move: P{self._player}"

    def __repr__(self) -> str:
        return f"<ResourceTradingState {self.render()}>"


class ResourceTrading(NegotiationGame):
    """Resource trading (see the module docstring).

    Args:
        max_turns: messages in all (2-200; default 10, as TextArena's ``SimpleNegotiation-v0``).
        scoring: ``"winner"`` (+1 / -1 / 0 by the larger gain) or ``"gain"`` (the gains).
        scenario: a fixed :class:`TradingScenario` for every game instead of one drawn from the seed.
    """

    id: ClassVar[str] = "resource_trading"
    name: ClassVar[str] = "Resource trading"
    num_distinct_actions = NUM_ACTIONS
    _prefix_size: ClassVar[int] = PREFIX_SIZE

    def __init__(
        self, max_turns: int = 10, scoring: Scoring = "winner", scenario: TradingScenario | None = None
    ):
        if scoring not in ("winner", "gain"):
            raise ValueError(f"scoring must be 'winner' or 'gain', got {scoring!r}")
        if scenario is not None and not isinstance(scenario, TradingScenario):
            raise ValueError(f"scenario must be a TradingScenario, got {scenario!r}")
        self.max_turns = check_max_turns(max_turns)
        self.scoring: Scoring = scoring
        self.scenario = scenario
        most = MAX_QUANTITY * sum(hi for _, hi in _VALUE_RANGES)  # the most an inventory can be worth
        self.min_return, self.max_return = (-1.0, 1.0) if scoring == "winner" else (-float(most), float(most))
        self.zero_sum = scoring == "winner"
        self.max_game_length = self.max_turns
        self._rules: dict[int, str] = {}
        params: dict[str, Any] = {"max_turns": self.max_turns, "scoring": scoring}
        if scenario is not None:
            params["scenario"] = scenario
        super().__init__(**params)

    def rules_text(self, other: int) -> str:
        """The goal and rules paragraph of the text view (the same all game; cached)."""
        text = self._rules.get(other)
        if text is None:
            if self.scoring == "winner":
                goal = (
                    "The player whose inventory value grew more wins (+1; the other -1; equal gains, e.g. "
                    "no trade, are a draw, 0)."
                )
            else:
                goal = "Your score is the gain in the value of your inventory (it may be negative)."
            text = self._rules[other] = (
                "Your goal: raise the value of your inventory at your own prices by trading. " + goal + "\n"
                f"Rules: exactly {self.max_turns} messages in all, one at a time, Player 0 first; both "
                "players see every message. A message is free text and may carry one move in brackets: "
                "[Offer: 3 Wood, 2 Ore -> 5 Brick] offers to give 3 Wood and 2 Ore for 5 Brick (you must "
                f"hold what you give); [Accept] accepts Player {other}'s offer and trades at once; [Deny] "
                f"declines it. An offer stands for one reply only: Player {other}'s next message accepts "
                "it or it is declined. A message without a tag is talk only."
            )
        return text

    def _new_state(self, seed: int | np.random.Generator | None) -> ResourceTradingState:
        scenario = self.scenario if self.scenario is not None else generate_trading_scenario(make_rng(seed))
        return ResourceTradingState(self, scenario)


@dataclass(frozen=True)
class TradeView:
    """The observation tensor of :class:`ResourceTrading`, read back (see :func:`decode_observation`)."""

    holdings: Bundle
    values: Bundle
    offer_gives: Bundle | None
    """What the observer would give under the live offer made to it (None when there is none)."""
    offer_gets: Bundle | None
    my_offer_live: bool
    gain: float
    """The observer's gain so far, clipped to [-100, 100]."""
    to_move: bool
    over: bool
    turn: int | None
    max_turns: int

    @property
    def turns_left(self) -> int:
        return 0 if self.turn is None else self.max_turns - self.turn


def decode_observation(observation: np.ndarray) -> TradeView:
    """Read a resource trading observation tensor back into its fields."""
    obs = np.asarray(observation, dtype=np.float64).ravel()
    if obs.size <= PREFIX_SIZE:
        raise ValueError(
            f"a resource trading observation has {PREFIX_SIZE} + max_turns numbers, got {obs.size}"
        )

    def ints(part: np.ndarray, scale: float) -> Bundle:
        return tuple(round(float(x) * scale) for x in part)  # type: ignore[return-value]

    live = bool(obs[20])
    turns = obs[PREFIX_SIZE:]
    return TradeView(
        holdings=ints(obs[0:5], HOLDING_SCALE),
        values=ints(obs[5:10], MAX_VALUE),
        offer_gives=ints(obs[10:15], HOLDING_SCALE) if live else None,
        offer_gets=ints(obs[15:20], HOLDING_SCALE) if live else None,
        my_offer_live=bool(obs[21]),
        gain=(float(obs[22]) * 2.0 - 1.0) * 100.0,
        to_move=bool(obs[24]),
        over=bool(obs[25]),
        turn=int(np.argmax(turns)) if turns.any() else None,
        max_turns=int(turns.size),
    )
