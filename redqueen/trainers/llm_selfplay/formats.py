"""How a player's observation becomes the policy's prompt, and what a legal move looks like as the
policy's answer.

A :class:`PromptFormat` reads the text view's agent observation (``redqueen.game.agent_observation(
state, player, "text")``: ``text``, ``legal_moves``, ``player``, ``game_id`` and, for games with
information states, ``info_state``), so the same format serves the trainer's rollouts, the match
runner and exact evaluation. Two kinds:

* ``"compact"``: a few characters for a tiny model trained from scratch, with the private
  information last, right before the answer (a small model learns far better that way): Kuhn poker
  ``"check,bet>K"`` (the betting of the hand so far, then the own card), TicTacToe ``"x.o.x....>"``
  (the board from the mover's side: ``x`` its own marks, ``o`` the opponent's). The answer is the bare
  move (``"bet"``, ``"4"``) followed by ``<eos>``. Other games fall back to their full text view;
  :func:`register_compact` adds a compact form for a game.
* ``"template"``: a :class:`~redqueen.agents.llm.PromptTemplate` in completion mode, for pretrained
  models (default :data:`~redqueen.agents.llm.DIRECT`: the prompt ends in ``Answer: \\boxed{`` and the
  answer is ``"bet}"``); ``"spiral"`` is SPIRAL's reason-first wording.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redqueen.agents.llm.prompts import DIRECT, PromptTemplate
from redqueen.game import RedqueenError

CompactFn = Callable[[Mapping[str, Any]], str]
_KUHN_CARDS = "JQK"


class FormatError(RedqueenError, ValueError):
    """A prompt format that cannot be made or cannot read an observation."""


def _bare(move: str) -> str:
    return move[1:-1] if move.startswith("[") and move.endswith("]") else move


def _kuhn_moves(moves: str) -> str:
    words, facing = [], False
    for m in moves:
        if m == "b":
            words.append("call" if facing else "bet")
            facing = True
        else:
            words.append("fold" if facing else "check")
    return ",".join(words)


def kuhn_compact(obs: Mapping[str, Any]) -> str:
    """Kuhn poker: the hand's betting in words, ``>``, the own card (``"check,bet>K"``). In a match of
    several hands the earlier hands come first, as ``own card, moves, their card or ?`` separated by
    ``/``, then ``|`` and the current hand (``"Kpb?/1|check>Q"``: hand 1 lost a fold; the digit
    before ``|`` is the seat's position in this hand)."""
    key = obs.get("info_state")
    if not isinstance(key, str) or not key:
        raise FormatError("a compact Kuhn poker prompt needs the observation's info_state")
    if "/" not in key and ":" not in key:  # one hand: OpenSpiel's key, card digit then moves
        return f"{_kuhn_moves(key[1:])}>{_KUHN_CARDS[int(key[0])]}"
    *done, current = key.split("/")
    position, _, hand = current.partition(":")
    history = []
    for part in done:
        mine, moves, theirs = part[0], part[1:-1], part[-1]
        shown = _KUHN_CARDS[int(theirs)] if theirs.isdigit() else "?"
        history.append(f"{_KUHN_CARDS[int(mine)]}{moves}{shown}")
    return f"{'/'.join(history)}/{position}|{_kuhn_moves(hand[1:])}>{_KUHN_CARDS[int(hand[0])]}"


def tictactoe_compact(obs: Mapping[str, Any]) -> str:
    """TicTacToe: the 9 cells row by row from the mover's side (``x`` own, ``o`` opponent's, ``.``
    free), then ``>``."""
    key = obs.get("info_state")
    if not isinstance(key, str):
        raise FormatError("a compact TicTacToe prompt needs the observation's info_state")
    cells = ["."] * 9
    player = int(obs["player"])
    for turn, cell in enumerate(int(c) for c in key.split(",") if c.strip()):
        cells[cell] = "x" if turn % 2 == player else "o"
    return "".join(cells) + ">"


COMPACT: dict[str, CompactFn] = {"kuhn_poker": kuhn_compact, "tictactoe": tictactoe_compact}


def register_compact(game_id: str, fn: CompactFn) -> None:
    """Give ``game_id`` a compact prompt: ``fn(observation) -> str``."""
    if not callable(fn):
        raise TypeError(f"a compact prompt is a function of the observation, got {fn!r}")
    COMPACT[game_id] = fn


@dataclass(frozen=True)
class PromptFormat:
    """Prompt and answer conventions of a policy (see the module docstring).

    ``kind`` is ``"compact"`` or ``"template"``; ``template`` the completion template of the latter;
    ``eos``: canonical answers end with ``<eos>``.
    """

    kind: str = "compact"
    template: PromptTemplate = field(default=DIRECT)
    eos: bool = True

    @classmethod
    def named(cls, name: str) -> PromptFormat:
        """``"compact"``, ``"direct"`` (template :data:`DIRECT`) or ``"spiral"`` (SPIRAL's reasoning
        prompt, answered as ``\\boxed{move}``)."""
        if name == "compact":
            return cls("compact", DIRECT, True)
        if name in ("direct", "template"):
            return cls("template", DIRECT, False)
        if name == "spiral":
            return cls("template", PromptTemplate(), False)
        raise FormatError(f"unknown prompt format {name!r}; use 'compact', 'direct' or 'spiral'")

    @property
    def prefix(self) -> str:
        """Text the prompt ends with that the reply continues (read back as prefix + reply)."""
        return self.template.answer_prefix if self.kind == "template" else ""

    def prompt(self, obs: Mapping[str, Any]) -> str:
        if self.kind == "compact":
            fn = COMPACT.get(str(obs.get("game_id")))
            if fn is None:
                return f"{obs['text']}\n>"
            return fn(obs)
        return self.template.completion(obs)

    def answers(self, obs: Mapping[str, Any]) -> list[str]:
        """The canonical answer to each legal move, in the order of ``obs["legal_moves"]``."""
        moves = [_bare(str(m)) for m in obs["legal_moves"]]
        if self.kind == "compact":
            return moves
        if self.prefix:
            return [_continuation(self.prefix, m) for m in moves]
        return [f" \\boxed{{{m}}}" for m in moves]

    def to_env(self, reply: str) -> str:
        """The reply as the game reads it."""
        return self.prefix + reply if self.prefix else reply


def _continuation(prefix: str, move: str) -> str:
    """What follows ``prefix`` in the answer naming ``move``: ``"bet}"`` after ``"\\boxed{"``."""
    return f"{move}}}" if prefix.rstrip().endswith("{") else f" {move}"


def move_texts(answers: Sequence[str]) -> list[str]:
    """Legal moves as ``[move]`` texts, the keys exact evaluation reads."""
    return [f"[{a}]" for a in answers]
