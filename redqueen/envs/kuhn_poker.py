"""Kuhn poker, with the rules of OpenSpiel's ``kuhn_poker``.

Three cards J < Q < K (numbered 0, 1, 2). Each player antes 1 chip and gets one card. Player 0 acts
first: pass (check) or bet 1 chip. Facing a bet a player passes (folds) or bets (calls 1 chip).
Showdown after pass-pass, bet-bet or pass-bet-bet; the higher card takes the pot. Returns are chips
won or lost: +-1 for a fold or a checked-down hand, +-2 for a called bet. Actions are numbered as in
OpenSpiel (0 = pass, 1 = bet) and ``information_state_key`` is OpenSpiel's information-state string
(``"2pb"``: holding K, player 0 passed, player 1 bet), so OpenSpiel can judge a redqueen policy.

``KuhnPoker(rounds=N)`` plays a match of N hands (SPIRAL's multi-round form): the first player
alternates (player 0 opens hand 1), chips accumulate, and the returns are the match's net chips.
The first 11 numbers of the observation tensor are always OpenSpiel's ``information_state_tensor``
of the current hand from the observer's position in that hand (one-hot position, one-hot card, one
pass/bet pair per betting step), so a one-hand strategy applies to every hand of a match.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from redqueen.game import CHANCE, TERMINAL, Game, IllegalAction, State, as_action, check_player, make_rng

CARDS = "JQK"
PASS, BET = 0, 1
# Betting sequences that end a hand -> (showdown?, seat-in-hand position that folded or None)
_ENDS = {"pp": (True, None), "bb": (True, None), "pbb": (True, None), "bp": (False, 1), "pbp": (False, 0)}
_MOVE_CHAR = "pb"
# the 6 ordered deals, in the order of OpenSpiel's chance tree
DEALS = [(a, b) for a in range(3) for b in range(3) if a != b]
HAND_TENSOR_SIZE = 11
# legal moves by text (aliases included) and as an LLM writes them: before and after a bet
_OPEN_MOVES = {"check": PASS, "bet": BET, "[check]": PASS, "[bet]": BET, "pass": PASS, "0": PASS, "1": BET}
_FACING_MOVES = {"fold": PASS, "call": BET, "[fold]": PASS, "[call]": BET, "pass": PASS, "0": PASS, "1": BET}
_OPEN_TEXT = ("[check]", "[bet]")
_FACING_TEXT = ("[fold]", "[call]")
_OPEN_PROMPT = "Your legal moves: [check], [bet]. Answer with one of them, e.g. [bet]."
_FACING_PROMPT = "Your legal moves: [fold], [call]. Answer with one of them, e.g. [call]."


def _actions_in_words(first: int, moves: str) -> list[tuple[int, str]]:
    """(seat, verb) for each move of a hand opened by seat ``first``: checked/bet/folded/called."""
    out = []
    facing = False
    for i, m in enumerate(moves):
        seat = first if i % 2 == 0 else 1 - first
        if m == "b":
            out.append((seat, "called" if facing else "bet"))
            facing = True
        else:
            out.append((seat, "folded" if facing else "checked"))
    return out


def _betting_line(first: int, moves: str) -> str:
    """'Pot: N chips.' and the betting so far, for the seat that opened the hand."""
    words = " ".join(f"Player {seat} {verb}." for seat, verb in _actions_in_words(first, moves))
    return f"Pot: {2 + moves.count('b')} chips. " + (words or "No one has acted yet.")


# every unfinished betting sequence, by (opening seat, moves)
_BETTING_TEXT = {
    (first, moves): _betting_line(first, moves) for first in (0, 1) for moves in ("", "p", "b", "pb")
}

_PREFIX_CACHE_SIZE = 20_000  # text prefixes kept per game object (cleared when full)
# the text of a finished hand in the match summary, by (opening seat, observer, hand record): at most
# 2 x 2 x 6 x 5 entries
_HAND_LINES: dict[tuple[int, int, tuple[tuple[int, int], str, bool]], str] = {}

RULES_TEXT = (
    "Rules: the deck has three cards, J < Q < K. Each player antes 1 chip and is dealt one card; "
    "the third card is not used. A player may check or bet 1 chip; facing a bet, a player may fold "
    "(losing the pot) or call (adding 1 chip). After two checks or a call, the higher card wins "
    "the pot."
)


def settle(first: int, cards: Sequence[int], moves: str) -> tuple[int, float]:
    """(winning seat, chips won) of a finished hand; ``first`` is the seat that opened it."""
    showdown, folder_pos = _ENDS[moves]
    if showdown:
        stake = 2.0 if "b" in moves else 1.0  # the ante, plus the bet when it was called
        return (0 if cards[0] > cards[1] else 1), stake
    folder = first if folder_pos == 0 else 1 - first
    return 1 - folder, 1.0  # the folder loses only the ante


def _hand_summary(first: int, player: int, record: tuple[tuple[int, int], str, bool]) -> str:
    """A finished hand in words, from ``player``'s side: who did what, the showdown, the chips won."""
    cards, moves, showdown = record
    words = [f"{'you' if s == player else 'they'} {verb}" for s, verb in _actions_in_words(first, moves)]
    winner, stake = settle(first, cards, moves)
    result = f"{stake if winner == player else -stake:+g}"
    if showdown:
        shown = f"showdown, your {CARDS[cards[player]]} vs their {CARDS[cards[1 - player]]}"
        return f"{', '.join(words)}; {shown}; you {result}."
    return f"{', '.join(words)}; you {result}."


class KuhnPokerState(State):
    __slots__ = (
        "_chips",
        "_explicit",
        "_hand",
        "_hands_log",
        "_history",
        "_moves",
        "_player",
        "_rng",
        "cards",
        "game",
    )

    def __init__(self, game: KuhnPoker, rng: np.random.Generator | None, explicit: bool):
        self.game = game
        self._rng = rng
        self._explicit = explicit
        self._hand = 0  # index of the hand being played
        self._chips = [0.0, 0.0]  # net chips of each seat over finished hands
        self._hands_log: list[tuple[tuple[int, int], str, bool]] = []  # (cards by seat, moves, showdown)
        self._history: list[int] = []
        self._start_hand()

    # ---- internals -------------------------------------------------------------------------------
    def _first(self) -> int:
        return self._hand & 1  # seat that opens the current hand

    def _start_hand(self) -> None:
        self._moves = ""
        if self._explicit:
            self.cards: list[int] = []
            self._player = CHANCE
        else:
            deal = DEALS[int(self._rng.random() * 6)]
            self.cards = [deal[0], deal[1]]
            self._history.extend(deal)
            self._player = self._first()

    def _finish_hand(self) -> None:
        winner, stake = settle(self._first(), self.cards, self._moves)
        self._chips[winner] += stake
        self._chips[1 - winner] -= stake
        self._hands_log.append(((self.cards[0], self.cards[1]), self._moves, _ENDS[self._moves][0]))
        self._hand += 1
        if self._hand >= self.game.rounds:
            self._player = TERMINAL
        else:
            self._start_hand()

    # ---- rules -----------------------------------------------------------------------------------
    @property
    def current_player(self) -> int:
        return self._player

    def legal_actions(self, player: int | None = None) -> list[int]:
        p = self._player
        if p == CHANCE:
            if player is not None and player != CHANCE:
                return []
            return [c for c in range(3) if c not in self.cards]
        if p < 0 or (player is not None and player != p):
            return []
        return [PASS, BET]

    def chance_outcomes(self) -> list[tuple[int, float]]:
        if self._player != CHANCE:
            raise RuntimeError("not a chance node")
        left = [c for c in range(3) if c not in self.cards]
        return [(c, 1.0 / len(left)) for c in left]

    def apply_action(self, action: int) -> None:
        p = self._player
        if action.__class__ is not int:
            action = as_action(action, self)
        if p == CHANCE:
            if action not in (0, 1, 2) or action in self.cards:
                raise IllegalAction(f"chance outcome {action!r} is not a card left in the deck.")
            self.cards.append(action)
            self._history.append(action)
            if len(self.cards) == 2:
                self._player = self._first()
            return
        if p == TERMINAL:
            raise IllegalAction(f"the game is over; action {action!r} cannot be played.")
        if action != 0 and action != 1:
            raise IllegalAction(
                f"action {action!r} is not a Kuhn poker action (0 = pass, 1 = bet).",
                legal_moves=self.legal_actions_text(p),
            )
        self._history.append(action)
        moves = self._moves + _MOVE_CHAR[action]
        self._moves = moves
        if moves in _ENDS:
            self._finish_hand()
        else:
            self._player = 1 - p

    def is_terminal(self) -> bool:
        return self._player == TERMINAL

    def returns(self) -> np.ndarray:
        return np.array(self._chips, dtype=np.float64)

    def history(self) -> list[int]:
        return list(self._history)

    def clone(self) -> KuhnPokerState:
        new = object.__new__(KuhnPokerState)
        new.game = self.game
        # the copy draws the same future cards as the original, from its own generator
        new._rng = copy.deepcopy(self._rng)
        new._explicit = self._explicit
        new._hand = self._hand
        new._chips = list(self._chips)
        new._hands_log = list(self._hands_log)
        new._history = list(self._history)
        new._moves = self._moves
        new._player = self._player
        new.cards = list(self.cards)
        return new

    def _set_forfeit(self, returns: np.ndarray) -> None:
        self._chips = [float(r) for r in returns]
        self._player = TERMINAL

    # ---- information -----------------------------------------------------------------------------
    @property
    def hand(self) -> int:
        """Index of the hand being played (equals ``rounds`` once the match is over)."""
        return self._hand

    @property
    def moves(self) -> str:
        """Betting in the current hand so far, 'p' (pass) and 'b' (bet) in order."""
        return self._moves

    def position(self, player: int) -> int:
        """0 if ``player`` acts first in the current hand, else 1."""
        return 0 if player == self._first() else 1

    def information_state_key(self, player: int) -> str:
        check_player(self.game, player)
        if self.game.rounds == 1:
            # exactly OpenSpiel's kuhn_poker information_state_string
            if len(self.cards) <= player:
                return ""
            return f"{self.cards[player]}{self._moves}"
        parts = []
        for cards, moves, showdown in self._hands_log:
            other = str(cards[1 - player]) if showdown else "?"
            parts.append(f"{cards[player]}{moves}{other}")
        own = str(self.cards[player]) if len(self.cards) > player else ""
        parts.append(f"{self.position(player)}:{own}{self._moves}")
        return "/".join(parts)

    # ---- tensor view -----------------------------------------------------------------------------
    def observation_tensor(self, player: int) -> np.ndarray:
        check_player(self.game, player)
        obs = np.zeros(self.game.observation_shape(player), dtype=np.float32)
        if self._player == TERMINAL:
            return obs
        obs[self.position(player)] = 1.0
        if len(self.cards) > player:
            obs[2 + self.cards[player]] = 1.0
        for i, m in enumerate(self._moves):
            obs[5 + 2 * i + (m == "b")] = 1.0
        if self.game.rounds > 1:
            n = self.game.rounds
            obs[11] = self._hand / n
            obs[12] = (self._chips[player] + 2 * n) / (4 * n)
        return obs

    # ---- text view -------------------------------------------------------------------------------
    def action_to_text(self, player: int, action: int) -> str:
        facing_bet = "b" in self._moves
        if action == PASS:
            return "fold" if facing_bet else "check"
        if action == BET:
            return "call" if facing_bet else "bet"
        raise IllegalAction(f"action {action!r} is not a Kuhn poker action (0 = pass, 1 = bet).")

    def move_table(self, player: int) -> dict[str, int]:
        if self._player != player or player < 0:
            return {}
        return _FACING_MOVES if "b" in self._moves else _OPEN_MOVES

    def legal_actions_text(self, player: int | None = None) -> list[str]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        return list(_FACING_TEXT if "b" in self._moves else _OPEN_TEXT)

    def _text_prefix(self, player: int) -> str:
        """The lines of the text view that stay the same during a hand (and at the end)."""
        game = self.game
        header = game.text_header(player)
        if game.rounds == 1:
            return header
        done = min(self._hand, game.rounds)
        lines = [
            header,
            f"Hands played: {done} of {game.rounds}. Your net chips so far: {self._chips[player]:+g}. "
            "The first player alternates between hands; your result is your net chips after the last "
            "hand.",
        ]
        log = self._hands_log
        for k in range(max(0, done - 3), done):
            key = (k & 1, player, log[k])
            line = _HAND_LINES.get(key)
            if line is None:
                line = _HAND_LINES[key] = _hand_summary(k & 1, player, log[k])
            lines.append(f"  Hand {k + 1}: {line}")
        if self._player != TERMINAL:
            lines.append(
                f"Hand {self._hand + 1}: you act {'first' if self.position(player) == 0 else 'second'}."
            )
        return "\n".join(lines)

    def observation_text(self, player: int) -> str:
        check_player(self.game, player)
        # The lines before the current hand's cards depend only on what this key holds (the hands log
        # shows at most the last three hands), so they are cached on the game, across games.
        over = self._player == TERMINAL
        key = (player, self._hand, over, self._chips[player], *self._hands_log[-3:])
        cache = self.game._text_prefixes
        prefix = cache.get(key)
        if prefix is None:
            if len(cache) >= _PREFIX_CACHE_SIZE:
                cache.clear()
            prefix = cache[key] = self._text_prefix(player)
        if over:
            return f"{prefix}\nThe game is over. Your result: {self._chips[player]:+g} chips."
        card = f"\nYour card: {CARDS[self.cards[player]]}" if len(self.cards) > player else ""
        betting = _BETTING_TEXT[self._first(), self._moves]
        if self._player == player:
            tail = _FACING_PROMPT if "b" in self._moves else _OPEN_PROMPT
        else:
            tail = f"Waiting for Player {self._player}."
        return f"{prefix}{card}\n{betting}\n{tail}"

    def render(self) -> str:
        if len(self.cards) < 2:
            cards = "dealing"
        else:
            cards = f"P0 {CARDS[self.cards[0]]}, P1 {CARDS[self.cards[1]]}"
        status = "over" if self._player == TERMINAL else f"to move: {self._player}"
        return (
            f"Kuhn poker hand {min(self._hand + 1, self.game.rounds)}/{self.game.rounds}: {cards}; "
            f"betting '{self._moves}'; chips P0 {self._chips[0]:+g} P1 {self._chips[1]:+g}; {status}"
        )

    def __repr__(self) -> str:
        return f"<KuhnPokerState {self.render()}>"


class KuhnPoker(Game):
    """Kuhn poker; ``rounds`` hands per game (1 = OpenSpiel's ``kuhn_poker``)."""

    id: ClassVar[str] = "kuhn_poker"
    name: ClassVar[str] = "Kuhn poker"
    num_players = 2
    num_distinct_actions = 2
    has_information_states = True

    def __init__(self, rounds: int = 1):
        if not isinstance(rounds, int | np.integer) or isinstance(rounds, bool) or rounds < 1:
            raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
        self.rounds = int(rounds)
        self.min_return = -2.0 * self.rounds
        self.max_return = 2.0 * self.rounds
        self.max_game_length = 3 * self.rounds
        self._shape = (HAND_TENSOR_SIZE + (2 if self.rounds > 1 else 0),)
        self._headers: dict[int, str] = {}
        self._text_prefixes: dict[tuple, str] = {}  # see KuhnPokerState.observation_text
        super().__init__(rounds=self.rounds)

    def new_initial_state(
        self, seed: int | np.random.Generator | None = None, *, explicit_chance: bool = False
    ) -> KuhnPokerState:
        rng = None if explicit_chance else make_rng(seed)
        return KuhnPokerState(self, rng, explicit_chance)

    def observation_shape(self, player: int) -> tuple[int, ...]:
        return self._shape

    def text_header(self, player: int) -> str:
        """The first lines of ``player``'s text view: who they are and the rules."""
        header = self._headers.get(player)
        if header is None:
            hands = f" ({self.rounds} hands)." if self.rounds > 1 else "."
            header = f"You are Player {player} in a two-player game of Kuhn poker{hands}\n{RULES_TEXT}"
            self._headers[player] = header
        return header

    def openspiel_game(self):
        if self.rounds != 1:
            return None
        import pyspiel

        return pyspiel.load_game("kuhn_poker")
