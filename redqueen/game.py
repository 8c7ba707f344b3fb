"""The Game/State protocol every redqueen game implements.

A :class:`Game` is a factory of :class:`State` objects. A state holds the pure rules of one game in
progress and nothing about APIs; the adapters in :mod:`redqueen.envs` turn any game into a PettingZoo,
Gymnasium or text environment.

Every state has two views for the player who observes it:

* the tensor view: :meth:`State.observation_tensor` (a numpy array matching
  :meth:`Game.observation_space`) and :meth:`State.action_mask`;
* the text view: :meth:`State.observation_text` (what a language model reads),
  :meth:`State.legal_actions_text` and :meth:`State.parse_action`, which turns a free-form answer into
  an action or raises :class:`IllegalAction` with a reason a model can read.

Chance is drawn from the state's own ``numpy.random.Generator``: the same seed gives the same game.
A state made with ``explicit_chance=True`` instead stops at chance nodes (``current_player ==
CHANCE``) and lists their outcomes in :meth:`State.chance_outcomes`, as OpenSpiel does; exact
evaluation (exploitability, best responses) walks the game tree that way.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import gymnasium
import numpy as np

# Special values of State.current_player, the same numbers as OpenSpiel's.
CHANCE = -1
SIMULTANEOUS = -2
TERMINAL = -4

ActionKind = Literal["discrete", "text"]


class RedqueenError(Exception):
    """Base class of the errors redqueen raises on purpose."""


class IllegalAction(RedqueenError, ValueError):
    """An action or answer that the rules do not allow in this state.

    The message names what was wrong and lists the legal moves, so it can be shown to a model
    (``reason``) or a person as it is.
    """

    def __init__(self, reason: str, *, legal_moves: Sequence[str] = (), answer: str | None = None):
        self.reason = reason
        self.legal_moves = list(legal_moves)
        self.answer = answer
        message = reason
        if self.legal_moves:
            message += " Legal moves: " + ", ".join(self.legal_moves) + "."
        super().__init__(message)


class UnsupportedRenderMode(RedqueenError, TypeError, ValueError):
    """A render mode the env does not offer.

    Also a TypeError on purpose: stable-baselines3's ``make_vec_env`` asks for ``render_mode="rgb_array"``
    and falls back to no render mode on a TypeError only.
    """


def seeded_streams(seed: int | None) -> tuple[np.random.Generator, np.random.Generator]:
    """(chance, side) generators of an env from one seed.

    ``chance`` is ``numpy.random.default_rng(seed)``, the stream ``game.new_initial_state(seed)`` draws
    from, so every adapter deals the same game for a seed; ``side`` (seats, opponents' seeds, random
    substitutes for invalid answers) comes from a spawned child, so drawing from it never changes the
    game. ``seed=None`` takes fresh entropy.
    """
    sequence = np.random.SeedSequence(seed)
    return np.random.default_rng(sequence), np.random.default_rng(sequence.spawn(1)[0])


def as_action(action: Any, state: State | None = None) -> int:
    """``action`` as a Python int: ints and numpy integers pass, anything else (bool, float, str,
    array) raises IllegalAction naming it (and the legal moves, given the state)."""
    if action.__class__ is int:
        return action
    if isinstance(action, np.integer) and not isinstance(action, np.bool_):
        return int(action)
    legal = state.legal_actions_text() if state is not None and not state.is_terminal() else ()
    raise IllegalAction(
        f"an action is an integer index, not {type(action).__name__} {action!r:.60}.", legal_moves=legal
    )


def check_player(game: Game, player: Any) -> int:
    """``player`` as a seat number of ``game``; a clear ValueError for anything else."""
    if player.__class__ is int and 0 <= player < game.num_players:
        return player
    if isinstance(player, np.integer) and 0 <= player < game.num_players:
        return int(player)
    raise ValueError(f"player must be a seat number 0..{game.num_players - 1} of {game.id}, got {player!r}")


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed, or the Generator itself when one is given."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


_BOXED = re.compile(r"\\boxed\s*\{")
_BRACKETED = re.compile(r"\[([^\[\]]*)\]")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\s*")


_BOXED_OR_BRACE = re.compile(r"\\boxed\s*\{|[{}]")


def _last_boxed(text: str) -> str | None:
    """Content of the last closed ``\\boxed{...}`` in ``text`` (nested braces allowed), or None.

    One pass with a stack of open braces, so a hostile reply (``"\\boxed{" * 10**5``) costs linear
    time. "Last" means the closed box that opens last, as a scan from the end would find it.
    """
    stack: list[int] = []  # start of the content of each open brace; -1 for a plain brace
    best = -1
    best_span = (0, 0)
    for m in _BOXED_OR_BRACE.finditer(text):
        token = m.group()
        if token == "}":
            if stack:
                start = stack.pop()
                if start > best:
                    best, best_span = start, (start, m.start())
        elif token == "{":
            stack.append(-1)
        else:
            stack.append(m.end())
    return text[best_span[0] : best_span[1]] if best >= 0 else None


def _extract(text: str) -> tuple[str, bool]:
    """(answer, marked): the final answer of a reply and whether a ``\\boxed{}``/``[...]`` marked it."""
    if not isinstance(text, str):
        raise IllegalAction(f"expected a text answer, got {type(text).__name__} {text!r:.80}.")
    if (
        text[:1] == "["
        and text[-1:] == "]"
        and text.count("[") == 1
        and "]" not in text[:-1]
        and "\\boxed" not in text  # a box inside the brackets wins: "[\\boxed{}]" answers ""
    ):
        answer, marked = text[1:-1], True  # the common, well-formed answer "[bet]": no search needed
    else:
        answer = _last_boxed(text) if "\\boxed" in text else None
        marked = answer is not None
        if answer is None:
            found = _BRACKETED.findall(text) if "[" in text else None
            marked = bool(found)
            answer = found[-1] if found else text
        if "[" in answer:
            inner = _BRACKETED.findall(answer)
            if inner:
                answer = inner[-1]
    if "\\" in answer:
        answer = _TEXT_CMD.sub("", answer)
    if "{" in answer or "}" in answer:
        answer = answer.replace("{", "").replace("}", "")
    return answer.strip().strip("'\"`*“”‘’«»").strip().rstrip(".!").strip(), marked


def extract_answer(text: str) -> str:
    """The final answer in a free-form reply.

    Takes the content of the last ``\\boxed{...}``, else the content of the last ``[...]``, else the
    whole reply; brackets inside a boxed answer (``\\boxed{[4]}``) are removed too. The result is
    stripped of surrounding whitespace, quotes and a final full stop.
    """
    return _extract(text)[0]


# An unmarked reply of at most this many words may name its move anywhere in it ("I fold.").
SHORT_REPLY_WORDS = 8
_WORD = re.compile(r"[a-z0-9]+")
# a short reply with one of these words is not read for a move ("I won't bet" names no move to play);
# "t" is what "n't" leaves after splitting into words
_NEGATIONS = frozenset({"not", "no", "never", "t", "nor", "neither", "without", "dont", "wont", "cant"})


def normalize_move(text: str) -> str:
    """Lower-case, single-spaced form of a move name used for matching answers."""
    return " ".join(text.lower().split())


class State(abc.ABC):
    """One game in progress. Subclasses implement the rules; this base class gives the shared views."""

    game: Game

    # ---- rules -----------------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def current_player(self) -> int:
        """The player to move: an int >= 0, or CHANCE, SIMULTANEOUS or TERMINAL."""

    @abc.abstractmethod
    def legal_actions(self, player: int | None = None) -> list[int]:
        """Legal actions of ``player`` (default: the player to move), ascending; empty if none.

        At a chance node (explicit-chance states only) these are the chance outcomes.
        """

    @abc.abstractmethod
    def apply_action(self, action: int) -> None:
        """Play ``action`` for the player to move (or a chance outcome). Raises IllegalAction."""

    def apply_actions(self, actions: Mapping[int, int]) -> None:
        """Play one action per live player at a simultaneous node."""
        raise NotImplementedError(f"{self.game.id} has no simultaneous moves; use apply_action")

    @abc.abstractmethod
    def is_terminal(self) -> bool: ...

    @abc.abstractmethod
    def returns(self) -> np.ndarray:
        """Final (or, before the end, accumulated) return of every player, float64 array."""

    @abc.abstractmethod
    def clone(self) -> State: ...

    def is_chance_node(self) -> bool:
        return self.current_player == CHANCE

    def chance_outcomes(self) -> list[tuple[int, float]]:
        """(outcome, probability) pairs at a chance node of an explicit-chance state."""
        raise NotImplementedError(f"{self.game.id} has no chance nodes")

    def history(self) -> list[int]:
        """Every action applied so far, chance outcomes included, in OpenSpiel's order."""
        raise NotImplementedError

    # ---- tensor view -----------------------------------------------------------------------------
    @abc.abstractmethod
    def observation_tensor(self, player: int) -> np.ndarray:
        """What ``player`` sees, as an array contained in ``game.observation_space(player)``."""

    def action_mask(self, player: int) -> np.ndarray:
        """int8 array over ``game.num_distinct_actions``: 1 where ``player`` may act now."""
        check_player(self.game, player)
        mask = np.zeros(self.game.num_distinct_actions, dtype=np.int8)
        if not self.is_terminal() and self.current_player in (player, SIMULTANEOUS):
            mask[self.legal_actions(player)] = 1
        return mask

    # ---- text view -------------------------------------------------------------------------------
    @abc.abstractmethod
    def observation_text(self, player: int) -> str:
        """What ``player`` sees, as text for a language model (rules, state, legal moves)."""

    @abc.abstractmethod
    def action_to_text(self, player: int, action: int) -> str:
        """The canonical text of ``action`` for ``player`` in this state, e.g. ``"bet"`` or ``"4"``."""

    def legal_actions_text(self, player: int | None = None) -> list[str]:
        """Legal moves as an LLM should write them, e.g. ``["[check]", "[bet]"]``."""
        player = self.current_player if player is None else player
        return [f"[{self.action_to_text(player, a)}]" for a in self.legal_actions(player)]

    def action_aliases(self, player: int) -> dict[str, int]:
        """Extra accepted spellings (normalized) of actions; games override to add synonyms.
        Only the aliases of actions legal now are accepted."""
        return {}

    def move_table(self, player: int) -> Mapping[str, int]:
        """Legal moves of ``player`` now by normalized text (bare, ``"bet"``, and as written in
        :meth:`legal_actions_text`, ``"[bet]"``), aliases included; empty if none.

        :meth:`parse_action` looks answers up here; games may override it with cached tables.
        """
        legal = self.legal_actions(player)
        table = {}
        for a in legal:
            move = normalize_move(self.action_to_text(player, a))
            table[move] = table[f"[{move}]"] = a
        for alias, action in self.action_aliases(player).items():
            if action in legal:
                table.setdefault(alias, action)
        return table

    def parse_action(self, player: int, text: str) -> int:
        """Turn a free-form answer into a legal action of ``player``.

        The answer is the last ``\\boxed{}`` or ``[...]`` of the reply (see :func:`extract_answer`),
        matched case-insensitively against the legal moves and the game's aliases. A short reply with
        neither marker (at most ``SHORT_REPLY_WORDS`` words, e.g. "I fold.") is accepted when it names
        exactly one legal move by its own name and holds no negation ("I won't bet" is invalid).
        Raises :class:`IllegalAction` naming the legal moves otherwise.
        """
        table = self.move_table(player)
        if not table:
            if self.is_terminal():
                raise IllegalAction("the game is over; no move can be played.", answer=text)
            raise IllegalAction(f"player {player} has no move now.", answer=text)
        if isinstance(text, str):
            action = table.get(text)  # a reply that is exactly a move, as most scripted agents write it
            if action is not None:
                return action
        answer, marked = _extract(text)
        action = table.get(normalize_move(answer))
        if action is not None:
            return action
        if not marked:
            words = _WORD.findall(answer.lower())
            if 0 < len(words) <= SHORT_REPLY_WORDS and not _NEGATIONS.intersection(words):
                names = {normalize_move(m[1:-1]) for m in self.legal_actions_text(player)}
                named = {table[w] for w in words if w in names}
                if len(named) == 1:
                    return named.pop()
        shown = answer if len(answer) <= 80 else answer[:77] + "..."
        reason = "the answer contains no move." if not answer else f"'{shown}' is not a legal move now."
        raise IllegalAction(reason, legal_moves=self.legal_actions_text(player), answer=text)

    # ---- imperfect information --------------------------------------------------------------------
    def information_state_key(self, player: int) -> str:
        """A string identifying everything ``player`` knows (equal strings = same information set)."""
        raise NotImplementedError(f"{self.game.id} does not define information states")

    # ---- helpers shared by the adapters -----------------------------------------------------------
    def forfeit(self, player: int) -> None:
        """End the game now because ``player`` forfeits (e.g. an invalid answer).

        ``player`` gets the game's minimum return; the others share the opposite amount so a
        zero-sum game stays zero-sum.
        """
        player = check_player(self.game, player)
        n = self.game.num_players
        returns = np.full(n, -self.game.min_return / max(n - 1, 1), dtype=np.float64)
        returns[player] = self.game.min_return
        self._set_forfeit(returns)

    @abc.abstractmethod
    def _set_forfeit(self, returns: np.ndarray) -> None:
        """Make the state terminal with the given returns."""

    def __str__(self) -> str:  # a neutral, full-information rendering (for debugging and "human" mode)
        return self.render()

    def render(self) -> str:
        """A full-information picture of the state for people (render modes "human" and "ansi")."""
        return repr(self)


class Game(abc.ABC):
    """A game: its constants and a factory of initial states."""

    id: ClassVar[str]
    """Registry name, e.g. ``"kuhn_poker"``."""
    name: ClassVar[str]
    """Display name, e.g. ``"Kuhn poker"``."""
    num_players: int
    num_distinct_actions: int
    min_return: float
    max_return: float
    action_kind: ActionKind = "discrete"
    zero_sum: bool = True
    max_game_length: int
    """Upper bound on the number of player decisions in one game."""
    has_information_states: bool = False

    def __init__(self, **params: Any):
        self.params: dict[str, Any] = dict(params)
        self._obs_spaces: dict[int, gymnasium.spaces.Box] = {}
        self._act_space = gymnasium.spaces.Discrete(self.num_distinct_actions)

    @abc.abstractmethod
    def new_initial_state(
        self, seed: int | np.random.Generator | None = None, *, explicit_chance: bool = False
    ) -> State:
        """A new game. ``seed`` (int or Generator) drives every chance event of this game."""

    @abc.abstractmethod
    def observation_shape(self, player: int) -> tuple[int, ...]: ...

    observation_dtype: type = np.float32
    observation_low: float = 0.0
    observation_high: float = 1.0

    def observation_space(self, player: int) -> gymnasium.spaces.Box:
        """The tensor view's space (the same object on every call)."""
        space = self._obs_spaces.get(player)
        if space is None:
            space = gymnasium.spaces.Box(
                low=self.observation_low,
                high=self.observation_high,
                shape=self.observation_shape(player),
                dtype=self.observation_dtype,
            )
            self._obs_spaces[player] = space
        return space

    def action_space(self, player: int) -> gymnasium.spaces.Discrete:
        return self._act_space

    def openspiel_game(self) -> Any:
        """The equal OpenSpiel game (``pyspiel.Game``), or None where there is none.

        Where one exists, actions and chance outcomes are numbered as OpenSpiel numbers them, so a
        pyspiel history replays on an explicit-chance redqueen state.
        """
        return None

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({params})"


def state_from_history(game: Game, history: Sequence[int]) -> State:
    """The explicit-chance state reached by playing ``history`` (chance outcomes included)."""
    state = game.new_initial_state(explicit_chance=True)
    for action in history:
        state.apply_action(int(action))
    return state


def reply_to_action(state: State, player: int, reply: Any, view: str = "tensor") -> int:
    """The legal action an agent's reply stands for; raises IllegalAction with a readable reason.

    A text reply goes through ``state.parse_action``. A tensor reply must be an integer index of a move
    legal for ``player`` now; when it is not, the game's own reason is given where it has one (e.g.
    "cell 4 is already taken.").
    """
    if view == "text":
        return state.parse_action(player, reply)
    if isinstance(reply, bool | np.bool_) or not isinstance(reply, int | np.integer):
        raise IllegalAction(
            f"a tensor-view agent must answer an action index (int), "
            f"not {type(reply).__name__} {reply!r:.60}.",
            legal_moves=state.legal_actions_text(player),
        )
    action = int(reply)
    if action in state.legal_actions(player):
        return action
    if state.current_player == player:
        try:  # the game's own reason, found on a copy so the state stays as it is
            state.clone().apply_action(action)
        except IllegalAction as err:
            raise IllegalAction(
                err.reason, legal_moves=err.legal_moves or state.legal_actions_text(player)
            ) from None
    raise IllegalAction(
        f"action {action} is not a legal move for player {player} now.",
        legal_moves=state.legal_actions_text(player),
    )


def agent_observation(state: State, player: int, view: str = "tensor") -> dict[str, Any]:
    """The observation an :class:`~redqueen.agents.Agent` gets for ``player`` in ``state``.

    Every view has ``player`` and ``game_id`` (and ``info_state`` where the game defines information
    states). The tensor view adds ``observation`` and ``action_mask`` (the same keys as the PettingZoo
    env's observation); the text view adds ``text`` (the prompt) and ``legal_moves``.
    """
    obs: dict[str, Any] = {"player": player, "game_id": state.game.id}
    if view == "tensor":
        obs["observation"] = state.observation_tensor(player)
        obs["action_mask"] = state.action_mask(player)
    elif view == "text":
        obs["text"] = state.observation_text(player)
        obs["legal_moves"] = state.legal_actions_text(player)
    else:
        raise ValueError(f"unknown view {view!r}; expected 'tensor' or 'text'")
    if state.game.has_information_states and not state.is_terminal():
        obs["info_state"] = state.information_state_key(player)
    return obs
