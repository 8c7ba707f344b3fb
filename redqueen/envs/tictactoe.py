"""TicTacToe on a 3x3 board.

Cells are numbered 0-8 row by row (0 1 2 / 3 4 5 / 6 7 8), the same numbers as OpenSpiel's
``tic_tac_toe`` actions and TextArena's text board. Player 0 plays X and moves first. A win gives
+1/-1, a draw 0.

Tensor view: PettingZoo classic's tictactoe observation, a (3, 3, 2) int8 array whose plane 0 holds
the observer's marks and plane 1 the opponent's, indexed ``[row, column]``; both seats therefore see
the board from the mover's perspective. Text view: the board with free cells shown by their number;
answers are written like ``[4]``.
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np

from redqueen.game import TERMINAL, Game, IllegalAction, State, as_action, check_player, extract_answer

LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
_LINE_MASKS = tuple(sum(1 << c for c in line) for line in LINES)
# WINS[b]: bitboard b contains a line. EMPTY[occupied]: free cells, ascending.
WINS = tuple(any(b & m == m for m in _LINE_MASKS) for b in range(512))
EMPTY = tuple(tuple(c for c in range(9) if not (occ >> c) & 1) for occ in range(512))
FULL = 0x1FF
# _MINE[b] / _THEIRS[b]: bitboard b as plane 0 / plane 1 of a (9, 2) int8 array (tensor view lookup)
_CELLS = np.array([[(b >> c) & 1 for c in range(9)] for b in range(512)], dtype=np.int8)
_MINE = _CELLS[:, :, None] * np.array([1, 0], dtype=np.int8)
_THEIRS = _CELLS[:, :, None] * np.array([0, 1], dtype=np.int8)
MARKS = "XO"
# per set of occupied cells: the legal moves by text, and as an LLM writes them
_MOVES = tuple({**{str(c): c for c in cells}, **{f"[{c}]": c for c in cells}} for cells in EMPTY)
_MOVES_TEXT = tuple(tuple(f"[{c}]" for c in cells) for cells in EMPTY)
_BOARD_TEXT: dict[tuple[int, int], str] = {}  # (X bitboard, O bitboard) -> board_text, filled on use
_CELL_WORDS = re.compile(r"^(?:cell|square|position|move)?\s*#?\s*(\d)$")


class TicTacToeState(State):
    __slots__ = ("_boards", "_history", "_player", "_winner", "game")

    def __init__(self, game: TicTacToe):
        self.game = game
        self._boards = [0, 0]  # bitboards of player 0 (X) and player 1 (O)
        self._player = 0
        self._winner = -1  # -1: none (yet)
        self._history: list[int] = []

    @property
    def current_player(self) -> int:
        return self._player

    def legal_actions(self, player: int | None = None) -> list[int]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        return list(EMPTY[self._boards[0] | self._boards[1]])

    def apply_action(self, action: int) -> None:
        p = self._player
        if p < 0:
            raise IllegalAction(f"the game is over; cell {action!r} cannot be played.")
        boards = self._boards
        occupied = boards[0] | boards[1]
        if action.__class__ is not int:
            action = as_action(action, self)
        if not 0 <= action < 9 or (occupied >> action) & 1:
            why = "is not a cell (0-8)" if not 0 <= action < 9 else "is already taken"
            raise IllegalAction(f"cell {action} {why}.", legal_moves=self.legal_actions_text(p))
        board = boards[p] | (1 << action)
        boards[p] = board
        self._history.append(action)
        if WINS[board]:
            self._winner = p
            self._player = TERMINAL
        elif board | boards[1 - p] == FULL:
            self._player = TERMINAL
        else:
            self._player = 1 - p

    def is_terminal(self) -> bool:
        return self._player == TERMINAL

    def returns(self) -> np.ndarray:
        w = self._winner
        if w < 0:
            return np.zeros(2)
        out = np.full(2, -1.0)
        out[w] = 1.0
        return out

    @property
    def winner(self) -> int | None:
        """The seat that won (by a line, or because the other forfeited), or None (running or drawn)."""
        return self._winner if self._winner >= 0 else None

    def history(self) -> list[int]:
        return list(self._history)

    def clone(self) -> TicTacToeState:
        new = object.__new__(TicTacToeState)
        new.game = self.game
        new._boards = list(self._boards)
        new._player = self._player
        new._winner = self._winner
        new._history = list(self._history)
        return new

    def _set_forfeit(self, returns: np.ndarray) -> None:
        self._winner = int(np.argmax(returns))
        self._player = TERMINAL

    def board(self) -> list[str]:
        """The 9 cells as 'X', 'O' or '.'."""
        b0, b1 = self._boards
        return ["X" if (b0 >> c) & 1 else "O" if (b1 >> c) & 1 else "." for c in range(9)]

    def information_state_key(self, player: int) -> str:
        # perfect information: the move history, as OpenSpiel's tic_tac_toe writes it
        return ", ".join(map(str, self._history))

    # ---- tensor view -----------------------------------------------------------------------------
    def observation_tensor(self, player: int) -> np.ndarray:
        check_player(self.game, player)
        return (_MINE[self._boards[player]] + _THEIRS[self._boards[1 - player]]).reshape(3, 3, 2)

    # ---- text view -------------------------------------------------------------------------------
    def action_to_text(self, player: int, action: int) -> str:
        return str(int(action))

    def move_table(self, player: int) -> dict[str, int]:
        if self._player != player:
            return {}
        return _MOVES[self._boards[0] | self._boards[1]]

    def legal_actions_text(self, player: int | None = None) -> list[str]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        return list(_MOVES_TEXT[self._boards[0] | self._boards[1]])

    def parse_action(self, player: int, text: str) -> int:
        try:
            return super().parse_action(player, text)
        except IllegalAction as err:
            m = _CELL_WORDS.match(extract_answer(text).lower()) if isinstance(text, str) else None
            if m and self.current_player == player:
                cell = int(m.group(1))
                if cell in self.legal_actions(player):
                    return cell
                taken = "is already taken" if cell < 9 else "is not a cell (0-8)"
                raise IllegalAction(
                    f"cell {cell} {taken}.", legal_moves=self.legal_actions_text(player), answer=text
                ) from None
            raise err

    def board_text(self) -> str:
        """The board with free cells shown by their number (what the text view shows)."""
        key = (self._boards[0], self._boards[1])
        text = _BOARD_TEXT.get(key)
        if text is None:
            shown = [m if m != "." else str(c) for c, m in enumerate(self.board())]
            rows = [" " + " | ".join(shown[r * 3 : r * 3 + 3]) for r in range(3)]
            text = _BOARD_TEXT[key] = "\n---+---+---\n".join(rows)
        return text

    def observation_text(self, player: int) -> str:
        check_player(self.game, player)
        me, other = MARKS[player], MARKS[1 - player]
        lines = [
            f"You are Player {player} in TicTacToe, playing '{me}'; your opponent plays '{other}'. "
            "X moves first. Three of your marks in a row, column or diagonal win.",
            "Current board (free cells show their number):",
            self.board_text(),
        ]
        if self._player == TERMINAL:
            if self._winner < 0:
                lines.append("The game is over: a draw.")
            else:
                lines.append(f"The game is over: {'you win' if self._winner == player else 'you lose'}.")
        elif self._player == player:
            legal = self.legal_actions_text(player)
            example = legal[len(legal) // 2]
            lines.append(f"Your legal moves: {', '.join(legal)}. Answer with one cell, e.g. {example}.")
        else:
            lines.append(f"Waiting for Player {self._player}.")
        return "\n".join(lines)

    def render(self) -> str:
        cells = self.board()
        rows = ["".join(cells[r * 3 : r * 3 + 3]) for r in range(3)]
        status = "over" if self._player == TERMINAL else f"{MARKS[self._player]} to move"
        return "\n".join(rows) + f"\n({status})"

    def __repr__(self) -> str:
        return f"<TicTacToeState {''.join(self.board())} player={self._player}>"


class TicTacToe(Game):
    id: ClassVar[str] = "tictactoe"
    name: ClassVar[str] = "TicTacToe"
    num_players = 2
    num_distinct_actions = 9
    min_return = -1.0
    max_return = 1.0
    max_game_length = 9
    has_information_states = True
    observation_dtype = np.int8
    observation_low = 0
    observation_high = 1

    def __init__(self):
        super().__init__()

    def new_initial_state(
        self, seed: int | np.random.Generator | None = None, *, explicit_chance: bool = False
    ) -> TicTacToeState:
        # TicTacToe has no chance events: every seed gives the same (empty) board.
        return TicTacToeState(self)

    def observation_shape(self, player: int) -> tuple[int, ...]:
        return (3, 3, 2)

    def openspiel_game(self):
        import pyspiel

        return pyspiel.load_game("tic_tac_toe")
