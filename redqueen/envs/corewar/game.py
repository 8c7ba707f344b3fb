"""Core War as a redqueen game: every player submits a warrior, the battle is played, scores are paid.

A move is a warrior. In the **text view** it is Redcode: any ICWS'94 program (in a fenced code block
or as the whole reply), assembled by :func:`~redqueen.envs.corewar.assemble`; Redcode that does not
assemble is an invalid answer whose reason is the assembler's (line, column, what is wrong). A reply
may also name a warrior of the game's library (``[imp]``). In the **discrete view** (RL agents) the
actions are the library's warriors, ``0 .. len(library) - 1``: choosing a warrior for the next battle
is the game (a meta-game over strategies; the hill).

Orders (``order``):

* ``"simultaneous"`` (default): all players submit at once (``current_player == SIMULTANEOUS``);
  this is the PettingZoo parallel env ``redqueen.envs.corewar_v0.parallel_env()``;
* ``"sequential"``: player 0 submits first, then player 1, ...; with ``show_source=True`` a later
  player's text view shows the source of the warriors submitted before it (DRQ's setting: a new
  warrior is written knowing its opponents), and its tensor view which library warriors they were.

The battle: ``rounds`` rounds under ``settings`` (default the "94nop" hill: core 8000, 80000 cycles,
8000 processes, length 100, minimum distance 100), warrior ``i`` = player ``i``, positions from
pMARS's generator seeded by the game's chance stream (the same seed gives the same battle).
Returns: pMARS's score (``(N*N-1)/S`` points to each of the S survivors of a round; 3 for a win, 1
for a tie with two warriors) relative to the players' mean, divided by ``rounds * (N*N-1) / 2``:
zero-sum, and with two warriors ``(wins - losses) / rounds`` in [-1, 1]. The :class:`BattleResult`
is kept on the final state (``state.result``).

Tensor view (float32): the player's seat one-hot (N), then for every player a one-hot over the
library plus one "own program" entry, set for the warriors the observer is allowed to see (its own,
and in sequential order those submitted before it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any, ClassVar

import numpy as np

from redqueen.envs.corewar.core import RedcodeError, Settings, Warrior
from redqueen.game import SIMULTANEOUS, TERMINAL, Game, IllegalAction, State, check_player, make_rng

_SEED_HIGH = 2**31 - 2
_FENCE = re.compile(r"```[ \t]*(?:redcode|red|asm|text)?[^\n]*\n(.*?)```", re.S | re.I)
_OPCODE_LINE = re.compile(
    r"^\s*(?:[A-Za-z_][\w]*:?\s+)*(?:dat|mov|add|sub|mul|div|mod|jmp|jmz|jmn|djn|cmp|seq|sne|slt|spl|nop|"
    r"ldp|stp|org|equ|end|for)\b",
    re.I | re.M,
)
MAX_SOURCE_CHARS = 100_000
"""A submitted program longer than this is an invalid answer (the assembler has its own limits too)."""

RULES = (
    "Core War: each player writes a program (a 'warrior') in Redcode, the assembly language of a "
    "virtual computer (MARS). All warriors are loaded into one circular memory ('core') of {coresize} "
    "cells at random places at least {mindistance} cells apart, and take turns executing one "
    "instruction each. A warrior whose processes have all executed a DAT instruction (or divided by "
    "zero) is dead. The last warrior alive wins the round; if several are alive after {cycles} cycles, "
    "the round is a tie. Settings (ICWS'94 Redcode, pMARS 0.9.4 rules): core {coresize}, {cycles} "
    "cycles, at most {processes} processes and {maxlength} instructions per warrior, {rounds} "
    "round(s). Scoring: {win_points} points for a round won alone, a share for a round survived with "
    "others, 0 for a loss."
)


def _extract_program(text: str) -> str | None:
    """The Redcode in a reply: the last fenced code block, else the whole reply if it has an
    instruction line; None if the reply holds no program."""
    blocks = _FENCE.findall(text)
    if blocks:
        return blocks[-1]
    if _OPCODE_LINE.search(text):
        return text
    return None


class CoreWarState(State):
    """One Core War battle, before (players choosing warriors) and after (the result)."""

    def __init__(self, game: CoreWar, rng: np.random.Generator):
        self.game = game
        self._battle_seed = int(rng.integers(1, _SEED_HIGH))
        self._choices: list[int | None] = [None] * game.num_players
        self._programs: dict[int, Warrior] = {}  # action id >= len(library) -> a submitted warrior
        self._next_id = len(game.library)
        self._returns = np.zeros(game.num_players, dtype=np.float64)
        self._done = False
        self.result: Any = None
        """The :class:`~redqueen.envs.corewar.mars.BattleResult` once the battle has been played."""
        self.warriors: list[Warrior] | None = None
        """The warriors that fought, by player, once the battle has been played."""

    # ---- rules -----------------------------------------------------------------------------------
    @property
    def current_player(self) -> int:
        if self._done:
            return TERMINAL
        if self.game.order == "simultaneous":
            return SIMULTANEOUS
        return self._choices.index(None)

    def _to_move(self, player: int) -> bool:
        if self._done or self._choices[player] is not None:
            return False
        return self.game.order == "simultaneous" or self._choices.index(None) == player

    def legal_actions(self, player: int | None = None) -> list[int]:
        if self._done:
            return []
        if player is None:
            if self.game.order == "simultaneous":
                raise ValueError("a simultaneous node: name the player whose legal actions you want")
            player = self.current_player
        player = check_player(self.game, player)
        return list(range(len(self.game.library))) if self._to_move(player) else []

    def _check_action(self, player: int, action: Any) -> int:
        if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer):
            raise IllegalAction(f"an action is an integer (a warrior's index), not {action!r:.60}")
        action = int(action)
        if not (0 <= action < len(self.game.library) or action in self._programs):
            raise IllegalAction(
                f"action {action} is neither a library warrior (0-{len(self.game.library) - 1}) nor a "
                "program submitted through parse_action",
                legal_moves=self.legal_actions_text(player),
            )
        if not self._to_move(player):
            raise IllegalAction(f"player {player} is not to move now")
        return action

    def apply_action(self, action: int) -> None:
        if self.game.order == "simultaneous":
            raise IllegalAction("Core War with order='simultaneous' takes apply_actions({player: action})")
        if self._done:
            raise IllegalAction("the battle is over")
        player = self.current_player
        self._choices[player] = self._check_action(player, action)
        if None not in self._choices:
            self._fight()

    def apply_actions(self, actions: Mapping[int, int]) -> None:
        if self.game.order != "simultaneous":
            raise IllegalAction("Core War with order='sequential' takes apply_action(action)")
        if self._done:
            raise IllegalAction("the battle is over")
        players = {check_player(self.game, p) for p in actions}
        missing = sorted(set(range(self.game.num_players)) - players)
        if missing:
            raise IllegalAction(f"every player submits a warrior at once; missing players {missing}")
        checked = {p: self._check_action(p, a) for p, a in actions.items()}
        for p, a in checked.items():
            self._choices[p] = a
        self._fight()

    def warrior_of(self, action: int) -> Warrior:
        """The warrior an action stands for (a library warrior, or a program given to parse_action)."""
        if 0 <= action < len(self.game.library):
            return self.game.library_warriors[action]
        return self._programs[action]

    def _fight(self) -> None:
        from redqueen.envs.corewar.mars import battle

        game = self.game
        self.warriors = [self.warrior_of(int(a)) for a in self._choices]  # type: ignore[arg-type]
        self.result = battle(
            self.warriors, rounds=game.rounds, seed=self._battle_seed, settings=game.settings
        )
        scores = np.asarray(self.result.scores, dtype=np.float64)
        n = game.num_players
        self._returns = (scores - scores.mean()) / (game.rounds * (n * n - 1) / 2)
        self._done = True

    def is_terminal(self) -> bool:
        return self._done

    def returns(self) -> np.ndarray:
        return self._returns.copy()

    def _set_forfeit(self, returns: np.ndarray) -> None:
        self._returns = np.asarray(returns, dtype=np.float64)
        self._done = True

    def clone(self) -> CoreWarState:
        twin = CoreWarState.__new__(CoreWarState)
        twin.__dict__.update(self.__dict__)
        twin._choices = list(self._choices)
        twin._programs = dict(self._programs)
        twin._returns = self._returns.copy()
        return twin

    def history(self) -> list[int]:
        return [a for a in self._choices if a is not None]

    # ---- tensor view -----------------------------------------------------------------------------
    def _visible(self, observer: int, player: int) -> bool:
        if player == observer or self._done:
            return True
        return self.game.order == "sequential" and self.game.show_source and player < observer

    def observation_tensor(self, player: int) -> np.ndarray:
        player = check_player(self.game, player)
        n, width = self.game.num_players, len(self.game.library) + 1
        out = np.zeros(self.game.observation_shape(player), dtype=np.float32)
        out[player] = 1.0
        for p, choice in enumerate(self._choices):
            if choice is not None and self._visible(player, p):
                out[n + p * width + min(choice, width - 1)] = 1.0
        return out

    # ---- text view -------------------------------------------------------------------------------
    def action_to_text(self, player: int, action: int) -> str:
        if 0 <= action < len(self.game.library):
            return self.game.library[action]
        return f"program {action}"

    def observation_text(self, player: int) -> str:
        player = check_player(self.game, player)
        game, s = self.game, self.game.settings
        n = game.num_players
        lines = [
            f"You are player {player} of {n} in Core War.",
            RULES.format(
                coresize=s.coresize,
                mindistance=s.mindistance,
                cycles=s.cycles,
                processes=s.processes,
                maxlength=s.maxlength,
                rounds=game.rounds,
                win_points=n * n - 1,
            ),
        ]
        if self._done:
            lines.append(self._result_text())
            return "\n".join(lines)
        shown = [
            p for p in range(n) if p != player and self._choices[p] is not None and self._visible(player, p)
        ]
        for p in shown:
            warrior = self.warrior_of(int(self._choices[p]))  # type: ignore[arg-type]
            source = warrior.source.strip() or warrior.load_file()
            lines.append(f"Player {p} has submitted this warrior:\n```redcode\n{source}\n```")
        lines.append(
            "Write your warrior in Redcode (ICWS'94, pMARS dialect: ORG/END start labels, EQU, FOR/ROF, "
            "all addressing modes) inside one ```redcode code block, or answer with the name of one of "
            f"these warriors: {', '.join(game.library)}."
        )
        return "\n".join(lines)

    def _result_text(self) -> str:
        if self.result is None:
            return f"The battle was not played (a forfeit); returns {list(np.round(self._returns, 3))}."
        r = self.result
        parts = [f"player {i} ({self._label(i)}): {r.wins[i]} wins" for i in range(self.game.num_players)]
        return f"Battle over after {r.n_rounds} round(s): {'; '.join(parts)}; {r.ties} ties."

    def _label(self, player: int) -> str:
        """A name for the warrior of ``player``: its library name, else its ``;name``."""
        choice = self._choices[player]
        if choice is None:
            return "?"
        if choice < len(self.game.library):
            return self.game.library[choice]
        return self._programs[choice].name

    def parse_action(self, player: int, text: str) -> int:
        """A warrior from a reply: Redcode (a fenced block or the whole reply) is assembled and kept
        under a new action id; otherwise the reply must name a library warrior."""
        player = check_player(self.game, player)
        if not self._to_move(player):
            raise IllegalAction(f"player {player} is not to move now", answer=text)
        if not isinstance(text, str):
            raise IllegalAction(f"a Core War answer is text, not {type(text).__name__}", answer=text)
        if len(text) > MAX_SOURCE_CHARS:
            raise IllegalAction(
                f"the reply has {len(text)} characters; a warrior's source may have at most "
                f"{MAX_SOURCE_CHARS}",
                answer=text[:200],
            )
        program = _extract_program(text)
        if program is None:
            return super().parse_action(player, text)
        from redqueen.envs.corewar.redcode import assemble

        try:
            warrior = assemble(program, self.game.settings)
        except RedcodeError as err:
            raise IllegalAction(f"the warrior does not assemble: {err}", answer=text[:2000]) from None
        if len(warrior) == 0:
            raise IllegalAction("the warrior has no instructions", answer=text[:2000])
        action = self._next_id
        self._next_id += 1
        self._programs[action] = warrior
        return action

    def render(self) -> str:
        if not self._done:
            chosen = [self._label(p) for p in range(self.game.num_players)]
            return f"Core War, {self.game.num_players} players; submitted: {chosen}"
        return self._result_text()


class CoreWar(Game):
    """Core War (see the module docstring).

    Args:
        players: warriors in a battle (2 by default; pMARS scoring for any number).
        rounds: rounds per battle.
        settings: a :class:`Settings` or a dict of its fields (default: the 94nop hill).
        library: warrior names (the project's library, :mod:`redqueen.envs.corewar.warriors`) or a
            mapping name -> Redcode text: the discrete actions and the names a text reply may give.
        order: ``"simultaneous"`` or ``"sequential"``.
        show_source: in sequential order, later players see the earlier players' warriors.
    """

    id: ClassVar[str] = "corewar"
    name: ClassVar[str] = "Core War"
    action_kind = "text"
    zero_sum = True
    has_information_states = False
    observation_dtype = np.float32

    def __init__(
        self,
        players: int = 2,
        rounds: int = 1,
        settings: Settings | Mapping[str, Any] | None = None,
        library: Sequence[str] | Mapping[str, str] | None = None,
        order: str = "simultaneous",
        show_source: bool = True,
    ):
        if not isinstance(players, int) or players < 2:
            raise ValueError(f"players must be an integer >= 2, got {players!r}")
        if not isinstance(rounds, int) or rounds < 1:
            raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}")
        if order not in ("simultaneous", "sequential"):
            raise ValueError(f"order must be 'simultaneous' or 'sequential', got {order!r}")
        if settings is None:
            settings = Settings()
        elif isinstance(settings, Mapping):
            settings = Settings(**dict(settings))
        elif not isinstance(settings, Settings):
            raise TypeError(f"settings must be a Settings or a dict, got {type(settings).__name__}")
        self.settings = settings.with_warriors(players)
        self.num_players = players
        self.rounds = rounds
        self.order = order
        self.show_source = bool(show_source)
        self.library, self.library_warriors = self._load_library(library)
        self.num_distinct_actions = len(self.library)
        self.max_game_length = players
        # every round pays N*N-1 points in all (while anyone survives): the worst is 0 of them, the best all
        self.min_return = -2.0 / players
        self.max_return = 2.0 * (players - 1) / players
        super().__init__(
            players=players, rounds=rounds, settings=asdict(self.settings), library=list(self.library),
            order=order, show_source=self.show_source,
        )  # fmt: skip

    def _load_library(
        self, library: Sequence[str] | Mapping[str, str] | None
    ) -> tuple[list[str], list[Warrior]]:
        from redqueen.envs.corewar.redcode import assemble

        if not isinstance(library, Mapping):
            from redqueen.envs.corewar import warriors as builtin
        if library is None:
            names = builtin.names()
            return names, [builtin.load(n, self.settings) for n in names]
        if isinstance(library, Mapping):
            names = [str(k) for k in library]
            out = []
            for name, text in library.items():
                try:
                    out.append(assemble(str(text), self.settings))
                except RedcodeError as err:
                    raise ValueError(f"library warrior {name!r} does not assemble: {err}") from None
            return names, out
        names = [str(n) for n in library]
        if not names:
            raise ValueError("the library needs at least one warrior")
        return names, [builtin.load(n, self.settings) for n in names]

    def new_initial_state(
        self, seed: int | np.random.Generator | None = None, *, explicit_chance: bool = False
    ) -> CoreWarState:
        if explicit_chance:
            raise ValueError(
                "Core War draws its positions inside the battle; it has no explicit chance nodes"
            )
        return CoreWarState(self, make_rng(seed))

    def observation_shape(self, player: int) -> tuple[int, ...]:
        return (self.num_players * (len(self.library) + 2),)
