"""Deal or No Deal (Lewis et al. 2017) with a cooperative <-> competitive dial: ``redqueen/Negotiation-v0``.

Scenario (drawn from the state's generator, so the seed fixes it): three item types (books, hats,
balls), 1-4 of each and 5-7 items in all; each player has private integer values 0-10 per type with
``sum(count * value) == 10``, and no type is worth 0 to both players. The draw is uniform over the
count vectors meeting those rules, then uniform over the ordered pairs of value vectors that fit them
(:func:`generate_scenario`; a fixed :class:`Scenario` may be given instead).

Talk: Player 0 writes first and the players alternate, at most ``max_turns`` messages in all. A
message is free text and may carry one move:

* ``[Propose: books=1 hats=2 balls=0]``: the items the *writer* takes; the partner gets the rest. It
  becomes the live proposal, replacing any earlier one (one's own or the partner's);
* ``[Accept]``: accept the partner's live proposal (a player cannot accept its own);
* no tag: talk only (the discrete "no proposal" move, also ``[No proposal]``).

Endings, the two named variants:

* ``variant="accept"`` (OpenSpiel-style, the default): an accept ends the game with that deal; after
  ``max_turns`` messages without one there is no deal;
* ``variant="fair"`` (FAIR-style, as in Lewis et al.'s data): an accept, or the message limit, ends the
  talk, then both players write a final selection of the items they take, ``[Select: books=1 hats=0
  balls=2]``. They are paid only if the two selections are complementary (together exactly the items
  on the table). Selections are written one after the other (Player 0 first) but neither player sees
  the other's before both are in, which is the information of simultaneous moves; it keeps the game
  turn-based, so the PettingZoo AEC env and the single-agent env play it as they are.

Points: a deal pays each player the value of its items to it (0-10); no deal pays 0 to both. The
objective dial ``lambda_`` (Liao et al. 2024) makes the returns ``return_i = points_i + lambda_ *
points_other``: ``lambda_ = 1`` fully cooperative (both score the joint points), ``0`` self-interested
(the original game), ``-1`` strictly competitive (zero-sum); any value in [-1, 1] is allowed.

Discrete view (for RL): actions ``0..124`` are the proposal vectors ``books * 25 + hats * 5 + balls``
(0-4 of each type; the mask allows those within the pool), ``125`` accepts, ``126`` is "no proposal";
in the fair variant's selection phase ``0..124`` are the selections. The observation (float32 in
[0, 1]) is, in order: the item counts one-hot (3 x 4), the observer's values / 10 (3), what the
observer would receive under the live proposal, one-hot per type (3 x 5; zeros when none), whether
the live proposal is the observer's own or the partner's (2), whether the observer is to write a
message, to write a selection, whether the game is over (3), ``(lambda_ + 1) / 2`` (1), whether the
talk ended with an accept (fair variant) (1), then the message index one-hot (``max_turns``).
:func:`decode_observation` reads it back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
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
    "COUNT_VECTORS",
    "ITEMS",
    "NUM_ACTIONS",
    "PASS_ACTION",
    "DealOrNoDeal",
    "DealOrNoDealState",
    "DealView",
    "Scenario",
    "check_scenario",
    "decode_observation",
    "generate_scenario",
    "proposal_action",
    "proposal_vector",
    "value_pairs",
    "value_vectors",
]

Vector = tuple[int, int, int]
Variant = Literal["accept", "fair"]

ITEMS = ("book", "hat", "ball")
PLURALS = ("books", "hats", "balls")
MAX_COUNT = 4
TOTAL_VALUE = 10
MAX_VALUE = 10
N_PROPOSALS = (MAX_COUNT + 1) ** 3
ACCEPT_ACTION = N_PROPOSALS
PASS_ACTION = N_PROPOSALS + 1
NUM_ACTIONS = N_PROPOSALS + 2
PREFIX_SIZE = 12 + 3 + 15 + 2 + 3 + 1 + 1

#: every count vector the rules allow: 1-4 of each type, 5-7 items in all
COUNT_VECTORS: tuple[Vector, ...] = tuple(
    (a, b, c)
    for a in range(1, MAX_COUNT + 1)
    for b in range(1, MAX_COUNT + 1)
    for c in range(1, MAX_COUNT + 1)
    if 5 <= a + b + c <= 7
)
_PROPOSALS: tuple[Vector, ...] = tuple(
    (a, b, c) for a in range(MAX_COUNT + 1) for b in range(MAX_COUNT + 1) for c in range(MAX_COUNT + 1)
)


def proposal_action(take: Vector) -> int:
    """The action index of the proposal (or selection) in which the writer takes ``take``."""
    return take[0] * 25 + take[1] * 5 + take[2]


def proposal_vector(action: int) -> Vector:
    """The item counts (books, hats, balls) of proposal action ``action`` (0..124)."""
    return _PROPOSALS[action]


@functools.cache
def value_vectors(counts: Vector) -> tuple[Vector, ...]:
    """Every value vector (0-10 per type) whose items add up to exactly 10 for ``counts``."""
    a, b, c = counts
    r = range(MAX_VALUE + 1)
    return tuple((x, y, z) for x in r for y in r for z in r if a * x + b * y + c * z == TOTAL_VALUE)


@functools.cache
def value_pairs(counts: Vector) -> tuple[tuple[Vector, Vector], ...]:
    """Every ordered pair of value vectors for ``counts`` in which no type is worth 0 to both players."""
    vectors = value_vectors(counts)
    return tuple((v, w) for v in vectors for w in vectors if all(v[i] or w[i] for i in range(3)))


@functools.cache
def _within(counts: Vector) -> tuple[int, ...]:
    """Proposal actions within the pool ``counts``, ascending."""
    return tuple(i for i, p in enumerate(_PROPOSALS) if all(p[k] <= counts[k] for k in range(3)))


def check_scenario(counts: Any, values: Any) -> tuple[Vector, tuple[Vector, Vector]]:
    """``(counts, values)`` as int tuples if they meet the rules; a ValueError naming the broken rule."""
    try:
        counts = tuple(int(c) for c in counts)
        values = tuple(tuple(int(v) for v in vs) for vs in values)
    except (TypeError, ValueError):
        raise ValueError(
            f"a scenario is counts (3 ints) and values (2 x 3 ints), got {counts!r} and {values!r}"
        ) from None
    if len(counts) != 3 or len(values) != 2 or any(len(v) != 3 for v in values):
        raise ValueError(f"a scenario has 3 item counts and 2 x 3 values, got {counts!r} and {values!r}")
    if not all(1 <= c <= MAX_COUNT for c in counts) or not 5 <= sum(counts) <= 7:
        raise ValueError(f"item counts must be 1-4 of each type and 5-7 in all, got {counts}")
    for player, vs in enumerate(values):
        if not all(0 <= v <= MAX_VALUE for v in vs):
            raise ValueError(f"values must be integers 0-10, got {vs} for player {player}")
        total = sum(c * v for c, v in zip(counts, vs, strict=True))
        if total != TOTAL_VALUE:
            raise ValueError(
                f"player {player}'s items must be worth {TOTAL_VALUE} in all, but values {vs} on counts "
                f"{counts} add up to {total}"
            )
    for k in range(3):
        if values[0][k] == 0 and values[1][k] == 0:
            raise ValueError(f"{PLURALS[k]} are worth 0 to both players; every type must be worth something")
    return counts, (values[0], values[1])  # type: ignore[return-value]


@dataclass(frozen=True)
class Scenario:
    """The items on the table and each player's private values."""

    counts: Vector
    values: tuple[Vector, Vector]

    def __post_init__(self) -> None:
        counts, values = check_scenario(self.counts, self.values)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "values", values)

    def points(self, player: int, taken: Vector) -> int:
        """What items ``taken`` are worth to ``player``."""
        v = self.values[player]
        return taken[0] * v[0] + taken[1] * v[1] + taken[2] * v[2]

    def rest(self, taken: Vector) -> Vector:
        """The items left to the partner when one player takes ``taken``."""
        c = self.counts
        return (c[0] - taken[0], c[1] - taken[1], c[2] - taken[2])

    def allocations(self) -> tuple[Vector, ...]:
        """Every split, as what player 0 takes."""
        return tuple(_PROPOSALS[a] for a in _within(self.counts))


def generate_scenario(seed: int | np.random.Generator | None = None) -> Scenario:
    """A scenario drawn under the rules: a count vector uniformly, then an allowed value pair uniformly."""
    rng = make_rng(seed)
    counts = COUNT_VECTORS[int(rng.integers(len(COUNT_VECTORS)))]
    pairs = value_pairs(counts)
    values = pairs[int(rng.integers(len(pairs)))]
    scenario = object.__new__(Scenario)  # valid by construction: skip the checks of __post_init__
    object.__setattr__(scenario, "counts", counts)
    object.__setattr__(scenario, "values", values)
    return scenario


_MASKS: dict[tuple[Vector, bool, bool], np.ndarray] = {}  # (counts, selecting, accept legal) -> mask
_LEGAL_TEXTS: dict[tuple[Vector, bool, bool], list[str]] = {}  # the same key -> legal moves as text


def items_text(vector: Vector) -> str:
    """``(1, 0, 2)`` -> ``"1 book, 0 hats and 2 balls"``."""
    parts = [f"{n} {ITEMS[k] if n == 1 else PLURALS[k]}" for k, n in enumerate(vector)]
    return f"{parts[0]}, {parts[1]} and {parts[2]}"


def _tag_counts(vector: Vector) -> str:
    return f"books={vector[0]} hats={vector[1]} balls={vector[2]}"


_ITEM_INDEX = {"book": 0, "books": 0, "hat": 1, "hats": 1, "ball": 2, "balls": 2}
# "books=1", "books: 1", "books 1" (any word followed by = or : is read as a name, to name it in the
# error), or "1 book", "1 x book"
_PAIR = re.compile(
    r"(?P<name>books?|hats?|balls?|[a-z]+(?=\s*[=:]))\s*[=:]?\s*(?P<n>[-+]?\d+(?:\.\d*)?)"
    r"|(?P<n2>[-+]?\d+(?:\.\d*)?)\s*(?:x\s+)?(?P<name2>[a-z]+)"
)
_UNREAD = re.compile(r"\d|book|hat|ball")


class DealOrNoDealState(NegotiationState):
    """A game of Deal or No Deal in progress (see the module docstring)."""

    game: DealOrNoDeal
    KEYWORDS: ClassVar[Mapping[str, str]] = {
        "no proposal": "pass",
        "selection": "select",
        "proposal": "propose",
        "no deal": "pass",
        "propose": "propose",
        "accept": "accept",
        "select": "select",
        "agree": "accept",
        "offer": "propose",
        "pass": "pass",
        "take": "propose",
        "deal": "accept",
    }
    BARE_MOVES: ClassVar[Mapping[str, Move]] = {
        "accept": ACCEPT,
        "i accept": ACCEPT,
        "agree": ACCEPT,
        "i agree": ACCEPT,
        "deal": ACCEPT,
        "pass": PASS,
        "no proposal": PASS,
    }

    def __init__(self, game: DealOrNoDeal, scenario: Scenario):
        super().__init__(game)
        self.scenario = scenario
        self.live: tuple[int, Vector] | None = None  # (proposer, what the proposer takes)
        self.phase: Literal["talk", "select", "over"] = "talk"
        self.accepted = False  # the talk ended with an accept
        self.selections: list[Vector | None] = [None, None]
        self.deal: tuple[Vector, Vector] | None = None  # what each player got
        self.points = np.zeros(2, dtype=np.float64)
        self._statics: list[np.ndarray | None] = [None, None]  # see _static_observation

    # ---- rules -----------------------------------------------------------------------------------
    def _legal_key(self, player: int) -> tuple[Vector, bool, bool]:
        return self.scenario.counts, self.phase == "select", self.live is not None and self.live[0] != player

    def legal_actions_text(self, player: int | None = None) -> list[str]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        key = self._legal_key(p)
        texts = _LEGAL_TEXTS.get(key)
        if texts is None:
            texts = _LEGAL_TEXTS[key] = [f"[{self.action_to_text(p, a)}]" for a in self.legal_actions(p)]
        return list(texts)

    def action_mask(self, player: int) -> np.ndarray:
        player = check_player(self.game, player)
        if self._player != player:
            return np.zeros(NUM_ACTIONS, dtype=np.int8)
        key = self._legal_key(player)
        mask = _MASKS.get(key)
        if mask is None:
            mask = _MASKS[key] = np.zeros(NUM_ACTIONS, dtype=np.int8)
            mask[self.legal_actions(player)] = 1
            mask.flags.writeable = False
        return mask.copy()

    def legal_actions(self, player: int | None = None) -> list[int]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        within = _within(self.scenario.counts)
        if self.phase == "select":
            return list(within)
        actions = list(within)
        if self.live is not None and self.live[0] != p:
            actions.append(ACCEPT_ACTION)
        actions.append(PASS_ACTION)
        return actions

    def _move_of(self, action: int) -> Move:
        if 0 <= action < N_PROPOSALS:
            return ("select" if self.phase == "select" else "propose", _PROPOSALS[action])
        if action == ACCEPT_ACTION:
            return ACCEPT
        if action == PASS_ACTION:
            return PASS
        raise IllegalAction(
            f"action {action} is not a Deal or No Deal action (0-124 proposals, 125 accept, 126 no "
            "proposal).",
            legal_moves=self.move_formats(self._player) if self._player >= 0 else (),
        )

    def _action_of(self, move: Move) -> int | None:
        kind = move[0]
        if kind in ("propose", "select"):
            return proposal_action(move[1])
        return ACCEPT_ACTION if kind == "accept" else PASS_ACTION

    def _range_text(self) -> str:
        c = self.scenario.counts
        return f"books 0-{c[0]}, hats 0-{c[1]}, balls 0-{c[2]}"

    def _check_take(self, take: Vector, what: str) -> None:
        counts = self.scenario.counts
        for k in range(3):
            if take[k] > counts[k]:
                raise IllegalAction(
                    f"{PLURALS[k]}={take[k]} is more than the {counts[k]} "
                    f"{PLURALS[k] if counts[k] != 1 else ITEMS[k]} on the table; a {what} may take "
                    f"{self._range_text()}."
                )

    def _check(self, player: int, move: Move) -> None:
        kind = move[0]
        if self.phase == "select":
            if kind != "select":
                raise IllegalAction(
                    "the talk is over: write your final selection, the items you take, as "
                    "[Select: books=B hats=H balls=L]."
                )
            self._check_take(move[1], "selection")
            return
        if kind == "propose":
            self._check_take(move[1], "proposal")
        elif kind == "accept":
            if self.live is None:
                raise IllegalAction("there is no proposal to accept yet.")
            if self.live[0] == player:
                raise IllegalAction(f"the live proposal is your own; only Player {1 - player} can accept it.")
        elif kind == "select":
            raise IllegalAction(
                "final selections come after the talk (variant 'fair' only); to propose a split now, "
                "write [Propose: books=B hats=H balls=L]."
            )

    def _play(self, player: int, move: Move, talk: str) -> None:
        kind = move[0]
        if kind == "select":
            self.selections[player] = move[1]
            if self.selections[1 - player] is None:
                self._player = 1 - player
            else:
                self._settle_selections()
            return
        self.messages.append(Message(player, move, talk))
        if kind == "propose":
            self.live = (player, move[1])
        elif kind == "accept":
            assert self.live is not None
            proposer, take = self.live
            if self.game.variant == "accept":
                got = [take, take]
                got[1 - proposer] = self.scenario.rest(take)
                self._settle((got[0], got[1]))
                return
            self.accepted = True
            self.turn += 1
            self._start_selections()
            return
        self._next_message()

    def _turns_over(self) -> None:
        if self.game.variant == "fair":
            self._start_selections()
        else:
            self._settle(None)

    def _start_selections(self) -> None:
        self.phase = "select"
        self._player = 0

    def _settle_selections(self) -> None:
        a, b = self.selections
        assert a is not None and b is not None
        counts = self.scenario.counts
        complementary = all(a[k] + b[k] == counts[k] for k in range(3))
        self._settle((a, b) if complementary else None)

    def _settle(self, deal: tuple[Vector, Vector] | None) -> None:
        self.deal = deal
        self.phase = "over"
        if deal is not None:
            self.points = np.array(
                [self.scenario.points(0, deal[0]), self.scenario.points(1, deal[1])], dtype=np.float64
            )
        lam = self.game.lambda_
        self._finish(self.points + lam * self.points[::-1])

    def _set_forfeit(self, returns: np.ndarray) -> None:
        self.phase = "over"
        super()._set_forfeit(returns)

    def clone(self) -> DealOrNoDealState:
        twin = object.__new__(DealOrNoDealState)
        self._copy_base(twin)
        twin.scenario = self.scenario
        twin.live = self.live
        twin.phase = self.phase
        twin.accepted = self.accepted
        twin.selections = list(self.selections)
        twin.deal = self.deal
        twin.points = self.points.copy()
        twin._statics = self._statics  # read-only once made, so shared
        return twin

    # ---- parsing ---------------------------------------------------------------------------------
    def _read_items(self, payload: str, what: str) -> Vector:
        text = payload.lower()
        example = f"[{'Select' if what == 'selection' else 'Propose'}: books=B hats=H balls=L]"
        if not text.strip():
            raise IllegalAction(
                f"the {what} names no items; write {example} with the items you take ({self._range_text()})."
            )
        found: dict[int, int] = {}
        pieces = []  # the text between the pairs read
        end = 0
        for m in _PAIR.finditer(text):
            pieces.append(text[end : m.start()])
            end = m.end()
            name = m.group("name") or m.group("name2")
            number = m.group("n") or m.group("n2")
            k = _ITEM_INDEX.get(name)
            if k is None:
                raise IllegalAction(
                    f"'{name}' is no item of this game; the items are books, hats and balls "
                    f"({self._range_text()})."
                )
            if not re.fullmatch(r"[-+]?\d+", number):
                raise IllegalAction(f"{PLURALS[k]}={number} is not a whole number of {PLURALS[k]}.")
            n = int(number)
            if n < 0:
                raise IllegalAction(f"{PLURALS[k]}={n} is negative; a {what} takes 0 or more {PLURALS[k]}.")
            if k in found and found[k] != n:
                raise IllegalAction(f"the {what} gives {PLURALS[k]} twice ({found[k]} and {n}).")
            found[k] = n
        pieces.append(text[end:])
        # words around the counts ("I take ..., you get the rest") are fine; an unread count is not
        leftover = " ".join(p.strip(" ,;&") for p in pieces if _UNREAD.search(p)).strip()
        if leftover:
            raise IllegalAction(
                f"could not read '{leftover[:40]}' in the {what}; write {example} ({self._range_text()})."
            )
        missing = [PLURALS[k] for k in range(3) if k not in found]
        if missing:
            raise IllegalAction(
                f"the {what} gives no count for {' and '.join(missing)}; name all three, e.g. {example} "
                f"({self._range_text()})."
            )
        take = (found[0], found[1], found[2])
        self._check_take(take, what)
        return take

    def _read_payload(self, player: int, kind: str, payload: str) -> Move:
        if kind in ("propose", "select"):
            if self.phase == "select":
                kind = "select"
            return (kind, self._read_items(payload, "selection" if kind == "select" else "proposal"))
        if re.search(r"\d", payload):
            tag = "[Accept]" if kind == "accept" else "[No proposal]"
            raise IllegalAction(
                f"{tag} takes no item counts: an accept takes the partner's live proposal as it is; to "
                "propose other counts, write [Propose: books=B hats=H balls=L]."
            )
        return ACCEPT if kind == "accept" else PASS

    def _read_untagged(self, player: int, content: str) -> Move | None:
        low = content.lower()
        if re.search(r"\d", low) and all(n in low for n in ("book", "hat", "ball")):
            kind = "select" if self.phase == "select" else "propose"
            return (kind, self._read_items(content, "selection" if kind == "select" else "proposal"))
        return None

    def _talk_move(self, player: int) -> Move | None:
        return None if self.phase == "select" else PASS

    def move_text(self, player: int, move: Move) -> str:
        kind = move[0]
        if kind == "propose":
            return f"Propose: {_tag_counts(move[1])}"
        if kind == "select":
            return f"Select: {_tag_counts(move[1])}"
        return "Accept" if kind == "accept" else "No proposal"

    def move_formats(self, player: int) -> list[str]:
        if self.phase == "over" or player != self._player:
            return []
        c = self.scenario.counts
        counts = f"books=0-{c[0]} hats=0-{c[1]} balls=0-{c[2]}"
        if self.phase == "select":
            return [f"[Select: {counts}] (the items you take)"]
        formats = [f"[Propose: {counts}] (the items you take)"]
        if self.live is not None and self.live[0] != player:
            formats.append("[Accept]")
        formats.append("a message without a tag (no proposal)")
        return formats

    # ---- tensor view -----------------------------------------------------------------------------
    def _static_observation(self, player: int) -> np.ndarray:
        """The numbers of ``player``'s observation that stay the same all game (counts, values, lambda)."""
        cached = self._statics[player]
        if cached is None:
            s = self.scenario
            cached = np.zeros(PREFIX_SIZE + self.game.max_turns, dtype=np.float32)
            for k in range(3):
                cached[k * 4 + s.counts[k] - 1] = 1.0
                cached[12 + k] = s.values[player][k] / MAX_VALUE
            cached[35] = (self.game.lambda_ + 1.0) / 2.0
            self._statics[player] = cached
        return cached

    def observation_tensor(self, player: int) -> np.ndarray:
        player = check_player(self.game, player)
        out = self._static_observation(player).copy()
        s = self.scenario
        if self.live is not None:
            proposer, take = self.live
            receive = take if proposer == player else s.rest(take)
            for k in range(3):
                out[15 + k * 5 + receive[k]] = 1.0
            out[30 if proposer == player else 31] = 1.0
        if self._player == player:
            out[32 if self.phase == "talk" else 33] = 1.0
        if self.phase == "over":
            out[34] = 1.0
        out[36] = float(self.accepted)
        if self.phase == "talk":
            turn_one_hot(out, PREFIX_SIZE, self)
        return out

    # ---- text view -------------------------------------------------------------------------------
    def observation_text(self, player: int) -> str:
        player = check_player(self.game, player)
        game, s = self.game, self.scenario
        other = 1 - player
        v = s.values[player]
        lines = [
            f"You are Player {player} in Deal or No Deal, a negotiation with Player {other}.",
            f"On the table: {items_text(s.counts)}.",
            f"Your private values: book {v[0]}, hat {v[1]}, ball {v[2]} (all the items together are "
            f"worth {TOTAL_VALUE} points to you). Player {other} values the items differently and you do "
            f"not know how; they are worth {TOTAL_VALUE} in all to Player {other} too, and every type is "
            "worth something to at least one of you.",
            game.explanation(other),
        ]
        if self.messages:
            lines.append("Messages so far:")
            lines.extend(f"  Player {m.player}: {self.chat_line(m)}" for m in self.messages)
        else:
            lines.append("No messages yet.")
        if self.phase == "over":
            lines.append(self._result_text(player))
            return "\n".join(lines)
        if self.live is not None:
            proposer, take = self.live
            receive = take if proposer == player else s.rest(take)
            whose = "your own" if proposer == player else f"Player {proposer}'s"
            lines.append(
                f"Live proposal ({whose}): you would get {items_text(receive)}, worth "
                f"{s.points(player, receive)} points to you."
            )
        if self.phase == "select":
            ending = "accepted" if self.accepted else "reached the message limit"
            lines.append(
                f"The talk is over (it {ending}). Write your final selection, the items YOU take, as "
                f"[Select: books=B hats=H balls=L] ({self._range_text()}). You are paid only if your "
                f"selection and Player {other}'s are together exactly the items on the table; otherwise "
                f"both get 0. Neither of you sees the other's selection before both are in."
            )
        elif self._player == player:
            left = self.turns_left
            last = " This is the last message: only an accept can still make a deal." if left == 1 else ""
            if left == 1 and game.variant == "fair":
                last = " This is the last message; the final selections come next."
            lines.append(f"Your turn: message {self.turn + 1} of {game.max_turns}.{last}")
        else:
            lines.append(f"Waiting for Player {self._player}'s message.")
        return "\n".join(lines)

    def _result_text(self, player: int) -> str:
        if self.forfeited:
            return f"The game is over (a forfeit). Your result: {self._returns[player]:+g}."
        if self.deal is None:
            what = "the selections did not match" if self.game.variant == "fair" else "no deal was made"
            return (
                f"The game is over: {what}, so both players get 0 points. Your result: "
                f"{self._returns[player]:+g}."
            )
        return (
            f"The game is over with a deal: you get {items_text(self.deal[player])} "
            f"({self.points[player]:g} points), Player {1 - player} gets {items_text(self.deal[1 - player])} "
            f"({self.points[1 - player]:g} points to them). Your result: {self._returns[player]:+g}."
        )

    def render(self) -> str:
        s = self.scenario
        head = (
            f"Deal or No Deal ({self.game.variant}, lambda={self.game.lambda_:g}): {items_text(s.counts)}; "
            f"values P0 {s.values[0]}, P1 {s.values[1]}; message {min(self.turn, self.game.max_turns)}/"
            f"{self.game.max_turns}"
        )
        if self.phase == "over":
            deal = (
                "no deal"
                if self.deal is None
                else f"deal P0 {self.deal[0]} ({self.points[0]:g}), P1 {self.deal[1]} ({self.points[1]:g})"
            )
            return f"{head}; {deal}; returns {self._returns[0]:+g}, {self._returns[1]:+g}"
        live = "none" if self.live is None else f"P{self.live[0]} takes {self.live[1]}"
        return f"{head}; live proposal: {live}; {self.phase}, to move: P{self._player}"

    def __repr__(self) -> str:
        return f"<DealOrNoDealState {self.render()}>"


class DealOrNoDeal(NegotiationGame):
    """Deal or No Deal (see the module docstring).

    Args:
        lambda_: the objective dial in [-1, 1]: ``return_i = points_i + lambda_ * points_other``.
        max_turns: the most messages in all (2-200; default 10).
        variant: ``"accept"`` (an accept ends the game with the deal) or ``"fair"`` (an accept or the
            message limit ends the talk; then complementary final selections are paid).
        scenario: a fixed :class:`Scenario` (or a mapping with ``counts`` and ``values``) for every game,
            instead of one drawn from the seed.
    """

    id: ClassVar[str] = "negotiation"
    name: ClassVar[str] = "Deal or No Deal"
    num_distinct_actions = NUM_ACTIONS
    _prefix_size: ClassVar[int] = PREFIX_SIZE

    def __init__(
        self,
        lambda_: float = 0.0,
        max_turns: int = 10,
        variant: Variant = "accept",
        scenario: Scenario | Mapping[str, Any] | None = None,
    ):
        if isinstance(lambda_, bool) or not isinstance(lambda_, int | float | np.integer | np.floating):
            raise ValueError(f"lambda_ must be a number in [-1, 1], got {lambda_!r}")
        if not -1.0 <= float(lambda_) <= 1.0:
            raise ValueError(
                f"lambda_ must be in [-1, 1] (1 cooperative, 0 selfish, -1 competitive), got {lambda_}"
            )
        if variant not in ("accept", "fair"):
            raise ValueError(
                f"variant must be 'accept' (OpenSpiel-style) or 'fair' (FAIR-style), got {variant!r}"
            )
        if scenario is not None and not isinstance(scenario, Scenario):
            if not isinstance(scenario, Mapping) or set(scenario) != {"counts", "values"}:
                raise ValueError(
                    f"scenario must be a Scenario or a mapping with counts and values, got {scenario!r}"
                )
            scenario = Scenario(tuple(scenario["counts"]), tuple(scenario["values"]))  # type: ignore[arg-type]
        self.lambda_ = float(lambda_)
        self.max_turns = check_max_turns(max_turns)
        self.variant: Variant = variant
        self.scenario = scenario
        self.min_return = TOTAL_VALUE * min(self.lambda_, 0.0)
        self.max_return = TOTAL_VALUE * (1.0 + max(self.lambda_, 0.0))
        self.max_game_length = self.max_turns + (2 if variant == "fair" else 0)
        self.zero_sum = self.lambda_ == -1.0
        self._explanations: dict[int, str] = {}
        params: dict[str, Any] = {"lambda_": self.lambda_, "max_turns": self.max_turns, "variant": variant}
        if scenario is not None:
            params["scenario"] = scenario
        super().__init__(**params)

    def _new_state(self, seed: int | np.random.Generator | None) -> DealOrNoDealState:
        scenario = self.scenario if self.scenario is not None else generate_scenario(make_rng(seed))
        return DealOrNoDealState(self, scenario)

    def explanation(self, other: int) -> str:
        """The objective and the rules of the text view, for the player whose partner is ``other``."""
        text = self._explanations.get(other)
        if text is None:
            text = self._explanations[other] = f"{self.objective_text(other)}\n{self.rules_text(other)}"
        return text

    def objective_text(self, other: int) -> str:
        lam = self.lambda_
        if lam == 0:
            return (
                f"Your score is your own points; Player {other}'s points do not count for you. No deal "
                "pays 0."
            )
        if lam == 1:
            what = "fully cooperative: you and Player {o} both score your joint points"
        elif lam == -1:
            what = "strictly competitive: you score your points minus Player {o}'s"
        elif lam > 0:
            what = "partly cooperative"
        else:
            what = "partly competitive"
        return (
            f"Your score is your points + ({lam:g}) x Player {other}'s points ({what.format(o=other)}). "
            "No deal pays 0 points to both."
        )

    def rules_text(self, other: int) -> str:
        head = (
            f"Players take turns writing one message each, at most {self.max_turns} messages in all "
            "(Player 0 writes first). A message is free text and may carry one move in brackets: "
            "[Propose: books=B hats=H balls=L] proposes that YOU take those items and Player "
            f"{other} gets the rest (it replaces any earlier proposal); [Accept] accepts Player {other}'s "
            "live proposal (you cannot accept your own). A message without a tag is talk only."
        )
        if self.variant == "accept":
            return head + " An accept ends the game with that deal; without one there is no deal."
        return (
            head + " An accept, or the message limit, ends the talk; then both players write a final "
            "selection [Select: books=B hats=H balls=L] of the items they take, paid only if the two "
            "selections together are exactly the items on the table."
        )


@dataclass(frozen=True)
class DealView:
    """The observation tensor of :class:`DealOrNoDeal`, read back (see :func:`decode_observation`)."""

    counts: Vector
    values: Vector
    receive: Vector | None
    """What the observer gets under the live proposal (None when there is none)."""
    live_mine: bool
    live_theirs: bool
    talking: bool
    """The observer is to write a message."""
    selecting: bool
    """The observer is to write its final selection (fair variant)."""
    over: bool
    lambda_: float
    accepted: bool
    turn: int | None
    """Index of the message to write (None outside the talk)."""
    max_turns: int

    @property
    def turns_left(self) -> int:
        return 0 if self.turn is None else self.max_turns - self.turn


def decode_observation(observation: np.ndarray) -> DealView:
    """Read a Deal or No Deal observation tensor back into its fields."""
    obs = np.asarray(observation, dtype=np.float64).ravel()
    if obs.size <= PREFIX_SIZE:
        raise ValueError(
            f"a Deal or No Deal observation has {PREFIX_SIZE} + max_turns numbers, got {obs.size}"
        )
    counts = tuple(int(np.argmax(obs[k * 4 : k * 4 + 4])) + 1 for k in range(3))
    values = tuple(round(float(obs[12 + k]) * MAX_VALUE) for k in range(3))
    receive = None
    if obs[30] or obs[31]:
        receive = tuple(int(np.argmax(obs[15 + k * 5 : 20 + k * 5])) for k in range(3))
    turns = obs[PREFIX_SIZE:]
    turn = int(np.argmax(turns)) if turns.any() else None
    return DealView(
        counts=counts,  # type: ignore[arg-type]
        values=values,  # type: ignore[arg-type]
        receive=receive,  # type: ignore[arg-type]
        live_mine=bool(obs[30]),
        live_theirs=bool(obs[31]),
        talking=bool(obs[32]),
        selecting=bool(obs[33]),
        over=bool(obs[34]),
        lambda_=float(obs[35]) * 2.0 - 1.0,
        accepted=bool(obs[36]),
        turn=turn,
        max_turns=int(turns.size),
    )
