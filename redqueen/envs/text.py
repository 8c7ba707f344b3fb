"""Any redqueen game as a text environment: prompt text in, free text out.

One stream serves whoever is to move, Gymnasium style::

    env = TextEnv("kuhn_poker", invalid="retry", rounds=3)
    text, info = env.reset(seed=0)            # the prompt of info["player"]
    while True:
        reply = my_llm(text)                  # any text; the answer is its last \\boxed{} or [...]
        text, rewards, terminated, truncated, info = env.step(reply)
        if terminated or truncated:
            break

The reply is turned into an action by the game's own :meth:`~redqueen.game.State.parse_action`; a
reply with no legal move is an *invalid answer*, handled by an
:class:`~redqueen.answers.InvalidAnswerPolicy` (forfeit, retry with the reason shown, or a random legal
move). Every invalid answer is counted per player and logged in :attr:`TextEnv.transcript`.

Rewards are one float per player per step: zero until the game ends, then the game's returns minus the
invalid-answer penalties of the ``"retry"`` policy. Games with simultaneous moves are played one player
at a time: each live player is asked in turn (the others' answers stay hidden) and the moves are
applied together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from redqueen.answers import InvalidAnswerPolicy, retry_prompt
from redqueen.game import SIMULTANEOUS, Game, IllegalAction, RedqueenError, State, seeded_streams
from redqueen.registry import make_game

__all__ = ["TextEnv", "TextEnvError"]


def _snapshot(array: np.ndarray) -> np.ndarray:
    """A read-only copy (safe to hand out in several info dicts)."""
    out = array.copy()
    out.flags.writeable = False
    return out


class TextEnvError(RedqueenError, RuntimeError):
    """The text env was used out of order (step before reset, step after the game ended, closed)."""


class TextEnv:
    """A text environment over any :class:`~redqueen.game.Game`.

    Args:
        game: a registry id (``"kuhn_poker"``, ``"tictactoe"``) or a :class:`Game` instance.
        invalid: the invalid-answer policy: ``"forfeit"`` (default), ``"retry"``, ``"random"`` or an
            :class:`InvalidAnswerPolicy` (for ``max_retries`` and ``penalty``), with the same meaning
            as in :func:`redqueen.match.play`: ``"retry"`` asks the same player again with
            :func:`~redqueen.answers.retry_prompt` (the reason added to the player's prompt) and
            subtracts ``penalty`` from its final reward for every invalid answer; the answer after
            ``max_retries`` retries forfeits.
        **params: game parameters, with a game id only (e.g. ``rounds=3`` for Kuhn poker).

    ``step(reply)`` returns ``(text, rewards, terminated, truncated, info)``: ``text`` is the prompt of
    the player to move next (after a retry, the same player's prompt with the reason added; once the
    game is over, the final view of the player who answered last). ``info`` holds:

    * ``player``: who answers next (None once the game is over);
    * ``legal_moves``: that player's legal moves as text, e.g. ``["[check]", "[bet]"]``;
    * ``invalid``: whether this reply was invalid, and ``reason`` (str or None) why, with the legal
      moves (the text of the game's :class:`~redqueen.game.IllegalAction`);
    * ``action``: the action played for this reply: the parsed one, the random substitute of the
      ``"random"`` policy, or None when no move was played (retry, forfeit);
    * ``invalid_answers``: invalid answers so far, a read-only int array with one count per player;
    * at the end: ``returns`` (game returns minus penalties: the rewards of the game),
      ``game_returns`` (the engine's returns) and ``forfeit`` (the seat that forfeited, or None).
    """

    metadata: Mapping[str, Any] = {"render_modes": ["ansi"]}

    # The transcript has one dict per reply: player, prompt (the text it answered), reply (as given),
    # action (played for it, or None), invalid, reason, outcome ("played", "retry", "random", "forfeit").
    def __init__(self, game: str | Game, invalid: InvalidAnswerPolicy | str = "forfeit", **params: Any):
        self.game: Game = make_game(game, **params)
        self.policy: InvalidAnswerPolicy = InvalidAnswerPolicy.coerce(invalid)
        self.num_players: int = self.game.num_players
        self.transcript: list[dict[str, Any]] = []
        self._rng: np.random.Generator | None = None  # the game's chance events
        self._move_rng: np.random.Generator | None = None  # random substitutes for invalid answers
        self._state: State | None = None
        self._closed = False
        self._done = True
        self._player = -1  # who answers now
        self._text = ""  # the prompt last given to self._player
        self._base_text = ""  # that prompt without any retry note
        self._legal_moves: list[str] = []
        self._streak = 0  # invalid answers in a row by self._player at this decision
        self._pending: dict[int, int] = {}  # moves gathered at a simultaneous node
        self._waiting: list[int] = []  # players still to answer at a simultaneous node
        self._forfeit: int | None = None
        self._counts = np.zeros(self.num_players, dtype=np.int64)
        self._no_counts = _snapshot(self._counts)
        self._counts_seen = self._no_counts  # read-only copy of _counts handed out in info
        self._penalties = np.zeros(self.num_players, dtype=np.float64)
        # the rewards of every step before the last: one shared, read-only array of zeros
        self._zero_rewards = np.zeros(self.num_players)
        self._zero_rewards.flags.writeable = False

    # ---- Gymnasium-like API ----------------------------------------------------------------------
    def reset(
        self, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start a new game; returns the first prompt and the info dict.

        ``seed`` seeds the env's generators once; ``reset()`` without a seed continues their stream
        (a fresh, unpredictable stream if the env was never seeded). The game's chance events are drawn
        from ``numpy.random.default_rng(seed)`` as ``game.new_initial_state(seed)`` draws them, so a seed
        deals the same cards here as in the other adapters; the random moves of the ``"random"`` policy
        come from a separate stream, so they never change the cards.
        """
        if self._closed:
            raise TextEnvError("this TextEnv is closed; make a new one")
        if options:
            raise TypeError(f"TextEnv.reset takes no options, got {dict(options)!r}")
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
                raise TypeError(f"seed must be an int or None, got {type(seed).__name__} {seed!r}")
            if seed < 0:
                raise ValueError(f"seed must be >= 0, got {seed}")
            self._rng, self._move_rng = seeded_streams(int(seed))
        elif self._rng is None:
            self._rng, self._move_rng = seeded_streams(None)
        self._state = self.game.new_initial_state(self._rng)
        self.transcript = []
        self._counts = np.zeros(self.num_players, dtype=np.int64)
        self._counts_seen = self._no_counts
        self._penalties = np.zeros(self.num_players, dtype=np.float64)
        self._forfeit = None
        self._done = False
        self._pending = {}
        self._waiting = []
        if self._state.is_terminal():
            raise RedqueenError(f"{self.game!r} made a state that is already over")
        self._next_turn(self._state)
        info = self._info(False, None, None)
        return self._text, info

    def step(self, reply: Any) -> tuple[str, np.ndarray, bool, bool, dict[str, Any]]:
        """Answer for the player to move with free text ``reply``.

        A reply that is not a string, or holds no legal move, is an invalid answer (never an error).
        Raises :class:`TextEnvError` before :meth:`reset` and after the game has ended.
        """
        state = self._state
        if state is None or self._done:
            raise TextEnvError(self._order_problem("step"))
        player = self._player
        try:
            action = state.parse_action(player, reply)
        except IllegalAction as err:
            return self._invalid(state, player, reply, str(err))
        self.transcript.append(
            {
                "player": player,
                "prompt": self._text,
                "reply": reply,
                "action": action,
                "invalid": False,
                "reason": None,
                "outcome": "played",
            }
        )
        if self._waiting:
            self._play_simultaneous(state, player, action)
        else:
            state.apply_action(action)
        if state.is_terminal():
            return self._finish(state, player, False, None, action)
        self._next_turn(state)
        return self._text, self._zero_rewards, False, False, self._info(False, None, action)

    def observe(self, player: int) -> str:
        """``player``'s view of the game now, as text (any time after :meth:`reset`)."""
        state = self._state
        if state is None:
            raise TextEnvError(self._order_problem("observe"))
        if isinstance(player, bool) or not isinstance(player, int | np.integer):
            raise TypeError(f"player must be an int seat number, got {player!r}")
        if not 0 <= player < self.num_players:
            raise ValueError(f"player must be in 0..{self.num_players - 1}, got {player}")
        return state.observation_text(int(player))

    def render(self) -> str:
        """A full-information picture of the game (for people, not for the players)."""
        if self._state is None:
            raise TextEnvError(self._order_problem("render"))
        return self._state.render()

    def close(self) -> None:
        """Drop the game in progress; the env cannot be used afterwards."""
        self._state = None
        self._done = True
        self._closed = True

    # ---- read-only views -------------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The redqueen :class:`State` of the game in progress."""
        if self._state is None:
            raise TextEnvError(self._order_problem("state"))
        return self._state

    @property
    def current_player(self) -> int | None:
        """The player whose answer :meth:`step` expects next, or None (no game, or the game is over)."""
        return None if self._done else self._player

    @property
    def invalid_answers(self) -> np.ndarray:
        """Invalid answers per player in this game (a copy)."""
        return self._counts.copy()

    @property
    def penalties(self) -> np.ndarray:
        """Penalty charged to each player in this game so far (a copy)."""
        return self._penalties.copy()

    def __repr__(self) -> str:
        return f"TextEnv({self.game!r}, invalid={self.policy!r})"

    # ---- internals -------------------------------------------------------------------------------
    def _order_problem(self, what: str) -> str:
        if self._closed:
            return f"cannot {what}: this TextEnv is closed; make a new one"
        if self._state is None:
            return f"cannot {what} before reset(): call env.reset() first"
        return f"cannot {what}: the game is over; call env.reset() to start a new one"

    def _info(self, invalid: bool, reason: str | None, action: int | None) -> dict[str, Any]:
        """The info dict of a step after which the game goes on."""
        return {
            "player": self._player,
            "legal_moves": self._legal_moves,
            "invalid": invalid,
            "reason": reason,
            "action": action,
            "invalid_answers": self._counts_seen,
        }

    def _next_turn(self, state: State) -> None:
        """Set the player to answer next and their prompt (the state is not terminal)."""
        player = state.current_player
        if player == SIMULTANEOUS:
            if not self._waiting:
                self._waiting = [p for p in range(self.num_players) if state.legal_actions(p)]
                if not self._waiting:
                    raise RedqueenError(f"{self.game.id}: a simultaneous node where no player can move")
            player = self._waiting[0]
        elif player < 0:
            raise RedqueenError(
                f"{self.game.id}: the state stopped at player {player}; TextEnv plays only player and "
                "simultaneous nodes (chance is drawn from the env's generator)"
            )
        self._player = player
        self._streak = 0
        text = state.observation_text(player)
        self._text = text
        self._base_text = text
        self._legal_moves = state.legal_actions_text(player)

    def _play_simultaneous(self, state: State, player: int, action: int) -> None:
        """Keep ``player``'s move at a simultaneous node; apply all moves once every player answered."""
        self._pending[player] = action
        self._waiting.pop(0)
        if not self._waiting:
            moves, self._pending = self._pending, {}
            state.apply_actions(moves)

    def _invalid(
        self, state: State, player: int, reply: Any, reason: str
    ) -> tuple[str, np.ndarray, bool, bool, dict[str, Any]]:
        policy = self.policy
        mode = policy.mode
        self._counts[player] += 1
        self._counts_seen = _snapshot(self._counts)
        self._streak += 1
        record = {
            "player": player,
            "prompt": self._text,
            "reply": reply,
            "action": None,
            "invalid": True,
            "reason": reason,
            "outcome": "forfeit",
        }
        self.transcript.append(record)
        action: int | None = None
        if mode == "random":
            legal = state.legal_actions(player)
            action = int(legal[int(self._move_rng.integers(len(legal)))])  # type: ignore[union-attr]
            record["action"] = action
            record["outcome"] = "random"
            if self._waiting:
                self._play_simultaneous(state, player, action)
            else:
                state.apply_action(action)
            if not state.is_terminal():
                self._next_turn(state)
        else:
            if mode == "retry":
                self._penalties[player] += policy.penalty
            if mode == "retry" and self._streak <= policy.max_retries:
                record["outcome"] = "retry"
                self._text = retry_prompt(self._base_text, reason, self._streak, policy.max_retries)
            else:
                self._forfeit = player
                self._pending = {}
                self._waiting = []
                state.forfeit(player)
        if state.is_terminal():
            return self._finish(state, player, True, reason, action)
        return self._text, self._zero_rewards, False, False, self._info(True, reason, action)

    def _finish(
        self, state: State, player: int, invalid: bool, reason: str | None, action: int | None
    ) -> tuple[str, np.ndarray, bool, bool, dict[str, Any]]:
        """The last step of a game: all the rewards, and the final view of the player who answered."""
        self._done = True
        game_returns = state.returns()
        rewards = game_returns - self._penalties
        self._legal_moves = []
        self._text = state.observation_text(player)
        info = {
            "player": None,
            "legal_moves": [],
            "invalid": invalid,
            "reason": reason,
            "action": action,
            "invalid_answers": self._counts_seen,
            "returns": rewards.copy(),
            "game_returns": game_returns,
            "forfeit": self._forfeit,
        }
        return self._text, rewards, True, False, info
