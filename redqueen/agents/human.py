"""A person at the terminal, as a text-view agent."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from redqueen.agents.base import Agent
from redqueen.game import RedqueenError, extract_answer, normalize_move

__all__ = ["HumanAgent", "HumanQuit"]


class HumanQuit(RedqueenError):
    """The person stopped answering: the input ended (EOF, Ctrl-D) before a legal move was typed."""


class HumanAgent(Agent):
    """Asks a person for each move.

    ``act`` prints the observation text to ``output``, reads a move with ``input_fn`` (``input`` by
    default; inject another callable to script it) and asks again, listing the legal moves, until the
    typed move is one of ``observation["legal_moves"]``. Matching ignores case, extra spaces and the
    brackets: ``bet``, ``[BET]`` and ``\\boxed{bet}`` all pick ``[bet]``. The move is returned as it is
    written in ``legal_moves`` (e.g. ``"[bet]"``).

    End of input (EOF) raises :class:`HumanQuit`; Ctrl-C (KeyboardInterrupt) is re-raised unchanged
    so that it stops the program as usual.
    """

    name = "human"
    view = "text"

    def __init__(
        self,
        name: str | None = None,
        seed: int | None = None,
        input_fn: Callable[[str], str] = input,
        output: TextIO | None = None,
    ):
        super().__init__(name, seed)
        if not callable(input_fn):
            raise TypeError(f"input_fn must be callable (like input), got {input_fn!r}")
        self.input_fn = input_fn
        self._output = output

    @property
    def output(self) -> TextIO:
        """Where prompts are printed (``sys.stdout`` at the time of the call unless one was given)."""
        return self._output if self._output is not None else sys.stdout

    def act(self, observation: Mapping[str, Any]) -> str:
        text, legal = _text_and_moves(observation)
        table = {normalize_move(extract_answer(m)): m for m in legal}
        out = self.output
        print(text, file=out, flush=True)
        while True:
            typed = self._read("Your move: ")
            key = normalize_move(extract_answer(typed))
            move = table.get(key)
            if move is not None:
                return move
            shown = typed.strip()
            what = f"'{shown[:60]}' is not a legal move" if shown else "no move was typed"
            print(f"{what}. Legal moves: {', '.join(legal)}", file=out, flush=True)

    def _read(self, prompt: str) -> str:
        try:
            typed = self.input_fn(prompt)
        except EOFError:
            raise HumanQuit(f"{self.name}: the input ended before a legal move was typed") from None
        if not isinstance(typed, str):
            raise TypeError(f"input_fn must return a str, got {type(typed).__name__} {typed!r:.60}")
        return typed


def _text_and_moves(observation: Mapping[str, Any]) -> tuple[str, Sequence[str]]:
    try:
        text = observation["text"]
        legal = list(observation["legal_moves"])
    except (KeyError, TypeError):
        raise ValueError(
            "HumanAgent plays the text view: it needs an observation dict with 'text' and 'legal_moves' "
            f"(got {type(observation).__name__}"
            + (f" with keys {sorted(observation)})" if isinstance(observation, Mapping) else ")")
        ) from None
    if not legal:
        raise ValueError("the observation lists no legal move; is it this player's turn?")
    return str(text), legal
