"""What the three negotiation games share: two players alternate messages, each message free text that
may carry one tagged move.

A game here is a :class:`NegotiationGame` whose states derive from :class:`NegotiationState`. The state
keeps the chat (a list of :class:`Message`), counts the messages against ``max_turns`` and turns a
model's reply into an action:

* every ``[...]`` and ``\\boxed{...}`` of a reply is read; those that start with one of the game's
  keywords (``Propose``, ``Offer``, ``Accept``, ...) are moves, the rest is talk;
* a reply holds at most one move (the same tag written twice counts once); a reply with no move is
  talk only (the game's "no proposal" move), so free talk is always legal while the talk lasts;
* a reply that is exactly a move word ("Accept", "Pass") plays that move;
* a malformed tag, or a move the rules do not allow now, raises :class:`~redqueen.IllegalAction`
  with a reason a model can act on (for a proposal: which item count is wrong and what is on the
  table).

Discrete actions (the RL view) are the game's fixed move set, ``0 .. num_distinct_actions - 1``. A
reply whose move is in that set and that has no other text maps to that action; any other reply (talk,
or a move outside the discrete set such as a multi-resource trade) gets a fresh action id above the
discrete range, kept by the state until the next move is applied (the pattern of Core War's submitted
programs), so the match runner and the text env apply it like any action.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from redqueen.game import TERMINAL, Game, IllegalAction, State, as_action, check_player

__all__ = ["MAX_MESSAGE_CHARS", "Message", "Move", "NegotiationGame", "NegotiationState"]

#: A move: a tuple whose first item names its kind, e.g. ``("propose", (1, 2, 0))``, ``("accept",)``.
Move = tuple[Any, ...]

PASS: Move = ("pass",)
ACCEPT: Move = ("accept",)

#: Longest reply a message may be (characters); a longer one is an invalid answer.
MAX_MESSAGE_CHARS = 2000

_TAG = re.compile(r"\[([^\[\]]*)\]|\\boxed\s*\{([^{}]*)\}")
_SPACES = re.compile(r"\s+")
_BARE_STRIP = " \t\n.!,;:'\"`*"


def _clean(text: str) -> str:
    """The text on one line: runs of whitespace (newlines included) become one space."""
    if "  " not in text and "\n" not in text and "\t" not in text and "\r" not in text:
        return text.strip()
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Message:
    """One message of the chat: who sent it, the move it carried and its text (``""`` for a bare move
    played by index, which the chat shows as the move's tag)."""

    player: int
    move: Move
    talk: str


class NegotiationState(State):
    """A negotiation in progress. Subclasses give the rules of their moves through the hooks below;
    this class handles the chat, the turn limit, the free-text parsing and the message ids."""

    game: NegotiationGame
    #: keyword (lower case, longest first is tried first) -> kind of move it introduces
    KEYWORDS: ClassVar[Mapping[str, str]] = {}
    #: a whole reply that is exactly one of these words plays that move
    BARE_MOVES: ClassVar[Mapping[str, Move]] = {}

    def __init__(self, game: NegotiationGame, first: int = 0):
        self.game = game
        self.messages: list[Message] = []
        self.turn = 0  # messages sent so far
        self._first = first
        self._player = first
        self._returns = np.zeros(game.num_players, dtype=np.float64)
        self._pending: dict[int, tuple[Move, str]] = {}
        self._next_id = game.num_distinct_actions
        self.forfeited = False

    # ---- hooks for the games ----------------------------------------------------------------------
    @abc.abstractmethod
    def _move_of(self, action: int) -> Move:
        """The move of a discrete action index (IllegalAction when it is no action of the game)."""

    @abc.abstractmethod
    def _action_of(self, move: Move) -> int | None:
        """The discrete action index of ``move``, or None when the move is outside the discrete set."""

    @abc.abstractmethod
    def _check(self, player: int, move: Move) -> None:
        """Raise IllegalAction (with the reason) unless ``player`` may play ``move`` now."""

    @abc.abstractmethod
    def _play(self, player: int, move: Move, talk: str) -> None:
        """Apply a checked move; call :meth:`_next_message` (or end the game) when done."""

    @abc.abstractmethod
    def _read_payload(self, player: int, kind: str, payload: str) -> Move:
        """The move of a tag ``[Keyword: payload]`` whose keyword introduced ``kind``."""

    def _read_untagged(self, player: int, content: str) -> Move | None:
        """A bracketed text without a keyword that still is a move (e.g. ``[books=1 hats=0 balls=2]``),
        or None when it is only talk."""
        return None

    @abc.abstractmethod
    def move_text(self, player: int, move: Move) -> str:
        """The canonical tag of ``move``, without brackets (e.g. ``"Propose: books=1 hats=2 balls=0"``)."""

    @abc.abstractmethod
    def move_formats(self, player: int) -> list[str]:
        """Short descriptions of the moves ``player`` may write now (shown with an invalid answer)."""

    def _talk_move(self, player: int) -> Move | None:
        """The move of a message with no tag (talk only), or None when talk is no move now."""
        return PASS

    def _turns_over(self) -> None:
        """All ``max_turns`` messages are sent: end the talk (default: no deal, returns 0)."""
        self._finish()

    # ---- shared machinery -------------------------------------------------------------------------
    def _next_message(self) -> None:
        """Count the message just played and pass the turn (or end the talk at the turn limit)."""
        self.turn += 1
        if self.turn >= self.game.max_turns:
            self._turns_over()
        else:
            self._player = (self._first + self.turn) % 2

    def _finish(self, returns: Sequence[float] | np.ndarray | None = None) -> None:
        if returns is not None:
            self._returns = np.asarray(returns, dtype=np.float64)
        self._player = TERMINAL

    @property
    def current_player(self) -> int:
        return self._player

    @property
    def turns_left(self) -> int:
        """Messages that may still be sent (the current one included)."""
        return max(self.game.max_turns - self.turn, 0)

    def is_terminal(self) -> bool:
        return self._player == TERMINAL

    def returns(self) -> np.ndarray:
        return self._returns.copy()

    def _set_forfeit(self, returns: np.ndarray) -> None:
        self.forfeited = True
        self._pending.clear()
        self._finish(returns)

    def _copy_base(self, twin: NegotiationState) -> None:
        twin.game = self.game
        twin.messages = list(self.messages)
        twin.turn = self.turn
        twin._first = self._first
        twin._player = self._player
        twin._returns = self._returns.copy()
        twin._pending = dict(self._pending)
        twin._next_id = self._next_id
        twin.forfeited = self.forfeited

    def apply_action(self, action: int) -> None:
        if action.__class__ is not int:
            action = as_action(action, self)
        player = self._player
        if player == TERMINAL:
            raise IllegalAction(f"the game is over; action {action} cannot be played.")
        entry = self._pending.get(action)
        if entry is not None:  # parse_action checked it on this very state (ids last until the next move)
            move, talk = entry
        else:
            move = self._move_of(action)
            talk = ""
            self._check(player, move)
        self._pending.clear()
        self._play(player, move, talk)

    def action_to_text(self, player: int, action: int) -> str:
        entry = self._pending.get(action)
        if entry is not None:
            move, talk = entry
            return talk or self.move_text(player, move)
        return self.move_text(player, self._move_of(action))

    def chat_line(self, message: Message) -> str:
        """How the chat shows a message: its text, or the move's tag for a bare move."""
        return message.talk or f"[{self.move_text(message.player, message.move)}]"

    # ---- text answers ---------------------------------------------------------------------------
    def _illegal(self, player: int, reason: str, text: Any) -> IllegalAction:
        shown = text if not isinstance(text, str) or len(text) <= 2000 else text[:2000]
        return IllegalAction(reason, legal_moves=self.move_formats(player), answer=shown)

    @classmethod
    def _keyword_pattern(cls) -> re.Pattern[str]:
        """One regex for the class's keywords, longest first, each a whole word."""
        pattern = cls.__dict__.get("_keyword_re")
        if pattern is None:
            words = sorted(cls.KEYWORDS, key=len, reverse=True)
            pattern = re.compile("(" + "|".join(map(re.escape, words)) + r")(?![^\W_]|=)")
            cls._keyword_re = pattern  # type: ignore[attr-defined]
        return pattern

    def _read_tag(self, player: int, content: str) -> Move | None:
        words = _clean(content)
        m = self._keyword_pattern().match(words.lower())
        if m is not None:
            keyword = m.group(1)
            payload = words[len(keyword) :].lstrip(" :-").strip()
            return self._read_payload(player, self.KEYWORDS[keyword], payload)
        return self._read_untagged(player, words)

    def parse_action(self, player: int, text: str) -> int:
        """The action of a message (see the module docstring); IllegalAction with the reason otherwise."""
        player = check_player(self.game, player)
        if self._player == TERMINAL:
            raise IllegalAction("the game is over; no message can be sent.", answer=text)
        if player != self._player:
            raise IllegalAction(f"it is Player {self._player}'s turn, not Player {player}'s.", answer=text)
        if not isinstance(text, str):
            raise self._illegal(player, f"a message is text, not {type(text).__name__} {text!r:.60}.", text)
        if len(text) > MAX_MESSAGE_CHARS:
            reason = f"the message has {len(text)} characters; at most {MAX_MESSAGE_CHARS} are allowed."
            raise self._illegal(player, reason, text)
        talk = _clean(text.replace("\x00", ""))
        moves: list[Move] = []
        tags: list[str] = []
        for match in _TAG.finditer(talk):
            content = match.group(1) if match.group(1) is not None else match.group(2)
            try:
                move = self._read_tag(player, content)
            except IllegalAction as err:
                raise self._illegal(player, err.reason, text) from None
            if move is not None and move not in moves:
                moves.append(move)
                tags.append(match.group(0))
        if len(moves) > 1:
            raise self._illegal(
                player,
                f"the message holds {len(moves)} different moves ({', '.join(tags)}); a message carries at "
                "most one move.",
                text,
            )
        bare = talk.strip(_BARE_STRIP).lower()
        if moves:
            move = moves[0]
        else:
            if bare in self.BARE_MOVES:
                move = self.BARE_MOVES[bare]
            elif not talk:
                raise self._illegal(player, "the message is empty.", text)
            else:
                talk_move = self._talk_move(player)
                if talk_move is None:
                    raise self._illegal(player, "the message holds no move, and talk is over now.", text)
                move = talk_move
        try:
            self._check(player, move)
        except IllegalAction as err:
            raise self._illegal(player, err.reason, text) from None
        action = self._action_of(move)
        if action is not None:
            canonical = self.move_text(player, move).lower()
            if bare in self.BARE_MOVES or bare in (canonical, f"[{canonical}]", f"\\boxed{{{canonical}}}"):
                return action  # only the move, nothing else said: the discrete action itself
        action = self._next_id
        self._next_id += 1
        self._pending[action] = (move, talk)
        return action


class NegotiationGame(Game):
    """Constants shared by the negotiation games (two players, a message limit)."""

    num_players = 2
    action_kind = "text"
    zero_sum = False
    observation_dtype = np.float32
    observation_low = 0.0
    observation_high = 1.0
    max_turns: int
    #: fixed observation numbers before the one-hot message index
    _prefix_size: ClassVar[int]

    def observation_shape(self, player: int) -> tuple[int, ...]:
        return (self._prefix_size + self.max_turns,)

    def new_initial_state(
        self, seed: int | np.random.Generator | None = None, *, explicit_chance: bool = False
    ) -> NegotiationState:
        if explicit_chance:
            raise NotImplementedError(
                f"{self.id} draws its scenario from the seed in one step; it has no explicit chance nodes"
            )
        return self._new_state(seed)

    @abc.abstractmethod
    def _new_state(self, seed: int | np.random.Generator | None) -> NegotiationState: ...


def check_max_turns(max_turns: Any, least: int = 2) -> int:
    """``max_turns`` as an int in ``least..200``, or a ValueError naming it."""
    if isinstance(max_turns, bool) or not isinstance(max_turns, int | np.integer):
        raise ValueError(f"max_turns must be an integer, got {max_turns!r}")
    if not least <= max_turns <= 200:
        raise ValueError(f"max_turns must be between {least} and 200, got {max_turns}")
    return int(max_turns)


def turn_one_hot(out: np.ndarray, start: int, state: NegotiationState) -> None:
    """Set the one-hot message index at ``out[start:]`` (nothing once the talk is over)."""
    if not state.is_terminal() and state.turn < state.game.max_turns:
        out[start + state.turn] = 1.0
