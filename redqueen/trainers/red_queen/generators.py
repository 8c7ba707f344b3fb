"""Warrior generators for the Red Queen loop, and the intake every generated text goes through.

A generator (the :class:`Generator` protocol) answers two kinds of :class:`Request`: ``create`` (a
new warrior) and ``mutate`` (a variation of ``request.parent``, an archive member). It returns
Redcode texts; it never sees the MARS. Two generators ship:

* :class:`MutationGenerator`: no model. It edits assembled instructions: opcode, modifier, mode and
  field mutations, insertions, deletions, swaps, start-line changes, and one-point crossover with
  another archive member. New warriors are random programs or mutated copies of the examples in
  :mod:`redqueen.trainers.red_queen.guide` (``start``). All its randomness comes from
  ``request.seed``.
* :class:`LLMGenerator`: a language model through any backend of :mod:`redqueen.agents.llm`
  (:class:`~redqueen.agents.llm.OpenAIBackend` for a server such as
  :class:`~redqueen.agents.llm.llamacpp.LlamaCppServer`, or
  :class:`~redqueen.agents.llm.llamacpp.LlamaCppBackend` in process). In chat mode the system
  message is the project's Redcode reference and examples (:mod:`~redqueen.trainers.red_queen.guide`)
  and the user message asks for a new program or an improved version of the parent; in completion
  mode (base models) the prompt is the examples as fenced programs followed by an open fence the
  model completes. As in DRQ, by default the model gets no battle feedback; ``feedback=True`` adds
  the parent's (or the round's last) battle results to the request.

Intake (:class:`Intake`): every text is checked before it reaches the assembler and then assembled;
a failure is counted under one category of :data:`REJECTIONS` and logged with its reason, and the
loop goes on. Categories: ``not_text`` (not a string, or bytes that are not UTF-8), ``empty``,
``too_long`` (more than :data:`MAX_TEXT_CHARS` characters), ``binary`` (NUL or other control
characters), ``assembler`` (the assembler's :class:`~redqueen.envs.corewar.RedcodeError`, with line
and column), ``no_instructions`` (it assembled to nothing) and ``backend`` (the model's backend
failed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from redqueen.envs.corewar.core import MODES, MODIFIERS, OPCODES, RedcodeError, Settings, Warrior
from redqueen.trainers.red_queen.guide import EXAMPLES, reference

__all__ = [
    "MAX_TEXT_CHARS",
    "REJECTIONS",
    "Generator",
    "Intake",
    "LLMGenerator",
    "MutationGenerator",
    "Parent",
    "Request",
    "extract_redcode",
    "warrior_text",
]

MAX_TEXT_CHARS = 100_000
"""A generated text longer than this is rejected before the assembler sees it."""

REJECTIONS = ("not_text", "empty", "too_long", "binary", "assembler", "no_instructions", "backend")


# ---- requests ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parent:
    """An archive member as a generator sees it: its id, source text, assembled warrior and fitness."""

    id: str
    source: str
    warrior: Warrior
    fitness: float


@dataclass(frozen=True)
class Request:
    """One request to a generator.

    ``kind``: ``"create"`` or ``"mutate"``; ``seed``: all of the request's randomness;
    ``parent``: the warrior to mutate (None for create); ``archive``: the round's elites (crossover
    partners); ``opponents``: names of the round's opponents; ``feedback``: lines describing battles
    (empty unless the generator asked for feedback).
    """

    kind: str
    round: int
    iteration: int
    seed: int
    settings: Settings
    parent: Parent | None = None
    archive: tuple[Parent, ...] = ()
    opponents: tuple[str, ...] = ()
    feedback: tuple[str, ...] = ()


@runtime_checkable
class Generator(Protocol):
    """What the loop needs from a generator: a name, ``feedback`` (whether it wants battle
    results in its requests) and the two requests, each returning candidate texts."""

    name: str
    feedback: bool

    def create(self, request: Request) -> list[str]: ...

    def mutate(self, request: Request) -> list[str]: ...


# ---- intake ------------------------------------------------------------------------------------------

_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.S)
_OPEN_FENCE = re.compile(r"```[^\n`]*\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


def extract_redcode(text: str) -> str:
    """The program in a reply: the last complete fenced code block; else what follows an unclosed
    fence; else the whole text."""
    blocks = _FENCE.findall(text)
    if blocks:
        return str(blocks[-1])
    opened = list(_OPEN_FENCE.finditer(text))
    if opened:
        return text[opened[-1].end() :]
    return text


@dataclass
class Intake:
    """Checks and assembles generated texts, counting what it accepts and rejects (see the module
    docstring). ``counts`` maps ``"accepted"`` and every category of :data:`REJECTIONS` to a number."""

    settings: Settings = field(default_factory=Settings)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("accepted", *REJECTIONS), 0))

    def check(self, text: Any) -> tuple[Warrior | None, str | None, str]:
        """``(warrior, None, "")`` for an accepted text, else ``(None, category, reason)``; counted."""
        warrior, category, reason = self._check(text)
        self.counts["accepted" if warrior is not None else str(category)] += 1
        return warrior, category, reason

    def reject(self, category: str, reason: str) -> tuple[None, str, str]:
        """Count a failure that happened before there was a text (``backend``)."""
        self.counts[category] += 1
        return None, category, reason

    @property
    def rejected(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "accepted")

    def _check(self, text: Any) -> tuple[Warrior | None, str | None, str]:
        if isinstance(text, bytes | bytearray):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as err:
                return None, "not_text", f"bytes that are not UTF-8 text ({err.reason} at byte {err.start})"
        if not isinstance(text, str):
            return None, "not_text", f"a generator returned {type(text).__name__}, not text"
        if len(text) > MAX_TEXT_CHARS:
            return None, "too_long", f"{len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}"
        if not text.strip():
            return None, "empty", "the text is empty"
        control = len(_CONTROL.findall(text))
        if control:
            first = _CONTROL.search(text)
            at = first.start() if first else 0
            return None, "binary", f"{control} control or undecodable character(s), the first at offset {at}"
        program = extract_redcode(text)
        if not program.strip():
            return None, "empty", "the code block is empty"
        try:
            warrior = _assemble(program, self.settings)
        except RedcodeError as err:
            return None, "assembler", str(err)
        if len(warrior) == 0:
            return None, "no_instructions", "it assembles to no instructions"
        return warrior, None, ""


def _assemble(text: str, settings: Settings) -> Warrior:
    from redqueen.envs.corewar.redcode import assemble

    return assemble(text, settings)


def warrior_text(warrior: Warrior, name: str = "evolved", author: str = "redqueen") -> str:
    """Redcode source of an assembled warrior: ``;redcode-94``/``;name``/``;author`` lines and its
    load file (``ORG``, one instruction a line, ``END``), which assembles back to the same warrior."""
    m = warrior.settings.coresize
    head = f";redcode-94\n;name {name}\n;author {author}\n;assert CORESIZE == {m}\n"
    return head + warrior.load_file()


# ---- mutation generator ------------------------------------------------------------------------------

_OPCODE_WEIGHTS = {
    "MOV": 4.0, "ADD": 2.0, "SUB": 1.0, "MUL": 0.4, "DIV": 0.3, "MOD": 0.4, "JMP": 2.0, "JMZ": 1.0,
    "JMN": 1.0, "DJN": 1.5, "SEQ": 1.0, "SNE": 1.0, "SLT": 0.5, "SPL": 2.0, "DAT": 1.5, "NOP": 0.2,
}  # fmt: skip
_MODE_WEIGHTS = {"#": 2.0, "$": 3.0, "*": 0.7, "@": 1.5, "{": 0.7, "<": 1.0, "}": 1.0, ">": 1.0}
_OPS = ("opcode", "modifier", "a_mode", "b_mode", "a_value", "b_value", "insert", "delete", "swap", "start")
_OP_WEIGHTS = (2.0, 1.5, 1.0, 1.0, 2.0, 2.0, 1.0, 0.8, 0.5, 0.3)
STARTS = ("examples", "random", "mixed")


def _normalised(weights: Mapping[str, float], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array([names.index(k) for k in weights])
    p = np.array(list(weights.values()), dtype=float)
    return keys, p / p.sum()


class MutationGenerator:
    """Random edits of assembled warriors (see the module docstring); runs anywhere, no model.

    Args:
        start: how ``create`` makes a warrior: ``"examples"`` (one of ``examples``, mutated 0 to 2
            times), ``"random"`` (1 to ``random_length`` random instructions) or ``"mixed"`` (either,
            half the time each). Examples that do not assemble under the run's settings are left out
            (none left: random programs).
        mutations: a child gets 1 to ``mutations`` edits (fewer more often).
        crossover: probability that a ``mutate`` request is a crossover with another archive member
            (followed by one edit), when the archive has another member.
        examples: the example sources (default :data:`redqueen.trainers.red_queen.guide.EXAMPLES`).
    """

    name = "mutation"
    feedback = False

    def __init__(
        self,
        start: str = "mixed",
        mutations: int = 3,
        crossover: float = 0.1,
        random_length: int = 8,
        examples: Mapping[str, str] | None = None,
    ):
        if start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)}, got {start!r}")
        if mutations < 1 or random_length < 1:
            raise ValueError(f"need mutations >= 1 and random_length >= 1, got {mutations}, {random_length}")
        if not 0.0 <= crossover <= 1.0:
            raise ValueError(f"crossover must be a probability, got {crossover}")
        self.start, self.mutations, self.crossover = start, int(mutations), float(crossover)
        self.random_length = int(random_length)
        self.examples = dict(EXAMPLES if examples is None else examples)
        self._opcodes = _normalised(_OPCODE_WEIGHTS, OPCODES)
        self._modes = _normalised(_MODE_WEIGHTS, MODES)
        self._cache: dict[Settings, list[Warrior]] = {}

    def __repr__(self) -> str:
        return (
            f"MutationGenerator(start={self.start!r}, mutations={self.mutations}, crossover={self.crossover})"
        )

    # -- pieces
    def _example_warriors(self, settings: Settings) -> list[Warrior]:
        """The examples that assemble under ``settings`` (an ``;assert`` may rule some out)."""
        if settings not in self._cache:
            usable = []
            for text in self.examples.values():
                try:
                    usable.append(_assemble(text, settings))
                except RedcodeError:
                    continue
            self._cache[settings] = usable
        return self._cache[settings]

    def _value(self, rng: np.random.Generator, m: int) -> int:
        draw = rng.random()
        if draw < 0.6:
            return int(rng.integers(-16, 17)) % m
        if draw < 0.8:
            return int(rng.integers(-400, 401)) % m
        return int(rng.integers(0, m))

    def _instruction(self, rng: np.random.Generator, m: int) -> np.ndarray:
        keys, p = self._opcodes
        mode_keys, mode_p = self._modes
        return np.array(
            [
                int(keys[rng.choice(len(keys), p=p)]),
                int(rng.integers(len(MODIFIERS))),
                int(mode_keys[rng.choice(len(mode_keys), p=mode_p)]),
                self._value(rng, m),
                int(mode_keys[rng.choice(len(mode_keys), p=mode_p)]),
                self._value(rng, m),
            ],
            dtype=np.int64,
        )

    def _edit(
        self, code: np.ndarray, start: int, rng: np.random.Generator, settings: Settings
    ) -> tuple[np.ndarray, int]:
        m, limit = settings.coresize, settings.maxlength
        n = len(code)
        op = _OPS[rng.choice(len(_OPS), p=np.array(_OP_WEIGHTS) / sum(_OP_WEIGHTS))]
        if op == "insert" and n >= limit:
            op = "delete"
        if op in ("delete", "swap") and n < 2:
            op = "insert" if n < limit else "opcode"
        if op == "insert":
            at = int(rng.integers(n + 1))
            row = code[int(rng.integers(n))].copy() if n and rng.random() < 0.4 else self._instruction(rng, m)
            code = np.insert(code, at, row, axis=0)
            start = start + 1 if at <= start and n else start
        elif op == "delete":
            at = int(rng.integers(n))
            code = np.delete(code, at, axis=0)
            start = start - 1 if at < start else min(start, len(code) - 1)
        elif op == "swap":
            i, j = (int(x) for x in rng.choice(n, size=2, replace=False))
            code = code.copy()
            code[[i, j]] = code[[j, i]]
        elif op == "start":
            start = int(rng.integers(n))
        else:
            code = code.copy()
            line = int(rng.integers(n))
            if op == "opcode":
                keys, p = self._opcodes
                code[line, 0] = int(keys[rng.choice(len(keys), p=p)])
            elif op == "modifier":
                code[line, 1] = int(rng.integers(len(MODIFIERS)))
            elif op in ("a_mode", "b_mode"):
                keys, p = self._modes
                code[line, 2 if op == "a_mode" else 4] = int(keys[rng.choice(len(keys), p=p)])
            else:
                column = 3 if op == "a_value" else 5
                if rng.random() < 0.5:
                    delta = int(rng.integers(1, 9)) * (1 if rng.random() < 0.5 else -1)
                    code[line, column] = (int(code[line, column]) + delta) % m
                else:
                    code[line, column] = self._value(rng, m)
        return code, max(0, min(start, len(code) - 1))

    def _edits(
        self, code: np.ndarray, start: int, count: int, rng: np.random.Generator, settings: Settings
    ) -> str:
        for _ in range(count):
            code, start = self._edit(code, start, rng, settings)
        return warrior_text(
            Warrior(code, start=start, settings=settings), author="redqueen MutationGenerator"
        )

    def _count(self, rng: np.random.Generator) -> int:
        return min(self.mutations, int(rng.geometric(0.5)))

    # -- requests
    def create(self, request: Request) -> list[str]:
        rng = np.random.default_rng(request.seed)
        settings = request.settings
        use_examples = self.start == "examples" or (self.start == "mixed" and rng.random() < 0.5)
        pool = self._example_warriors(settings) if use_examples else []
        if pool:
            base = pool[int(rng.integers(len(pool)))]
            return [self._edits(base.instructions, base.start, int(rng.integers(0, 3)), rng, settings)]
        n = int(rng.integers(1, self.random_length + 1))
        code = np.stack([self._instruction(rng, settings.coresize) for _ in range(n)])
        return [self._edits(code, int(rng.integers(n)), 0, rng, settings)]

    def mutate(self, request: Request) -> list[str]:
        if request.parent is None:
            raise ValueError("a mutate request needs a parent")
        rng = np.random.default_rng(request.seed)
        settings = request.settings
        parent = request.parent.warrior
        code, start = parent.instructions, parent.start
        partners = [p for p in request.archive if p.id != request.parent.id]
        if partners and rng.random() < self.crossover:
            other = partners[int(rng.integers(len(partners)))].warrior.instructions
            cut_a, cut_b = int(rng.integers(1, len(code) + 1)), int(rng.integers(len(other)))
            code = np.concatenate([code[:cut_a], other[cut_b:]])[: settings.maxlength]
            return [self._edits(code, min(start, len(code) - 1), 1, rng, settings)]
        return [self._edits(code, start, self._count(rng), rng, settings)]


# ---- LLM generator -----------------------------------------------------------------------------------

_CREATE = (
    "Write a new Core War warrior in Redcode (ICWS'94). Be inventive: it has to survive and kill the "
    "other warriors in the core. Reply with the program only, with comments explaining it, in one "
    "```redcode code block. Start it with ;redcode-94 and ;name lines."
)
_MUTATE = (
    "Here is a Core War warrior in Redcode:\n\n```redcode\n{source}\n```\n\nChange it so that it is "
    "likely to do better: survive longer and kill more of the other warriors. Reply with the whole new "
    "program only, with comments, in one ```redcode code block."
)
_RULES = (
    "Constraints: at most {maxlength} instructions; every label defined once, on an instruction line; "
    "JMZ, JMN, DJN, SEQ, SNE, SLT need two operands; no LDP/STP."
)


def _example_blocks(examples: Mapping[str, str]) -> str:
    return "\n\n".join(
        f"Example ({kind}):\n```redcode\n{text.strip()}\n```" for kind, text in examples.items()
    )


class LLMGenerator:
    """A language model writing warriors (see the module docstring).

    Args:
        backend: an LLM backend (``mode`` and ``generate(prompt, n, seed)``), e.g.
            ``OpenAIBackend("gemma-3-270m", server.url, mode="completion", max_tokens=256)``.
        feedback: show the model the battles of the parent (mutate) or of the round's last warrior
            (create); DRQ's default is no feedback.
        n: replies per request.
        examples: example programs shown to the model (default: all of the guide's).
        reference: show the Redcode reference (chat mode: the system message; completion mode: before
            the examples). Default: in chat mode only (a small base model's context is short).
    """

    name = "llm"

    def __init__(
        self,
        backend: Any,
        *,
        feedback: bool = False,
        n: int = 1,
        examples: Mapping[str, str] | None = None,
        reference: bool | None = None,
    ):
        if not hasattr(backend, "generate") or getattr(backend, "mode", None) not in ("chat", "completion"):
            raise TypeError("backend must be an LLM backend with mode 'chat' or 'completion' and generate()")
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.backend, self.feedback, self.n = backend, bool(feedback), int(n)
        self.examples = dict(EXAMPLES if examples is None else examples)
        self.reference = (backend.mode == "chat") if reference is None else bool(reference)

    def __repr__(self) -> str:
        return f"LLMGenerator({self.backend!r}, feedback={self.feedback}, n={self.n})"

    def _facts(self, settings: Settings) -> dict[str, int]:
        return {
            "coresize": settings.coresize,
            "cycles": settings.cycles,
            "processes": settings.processes,
            "maxlength": settings.maxlength,
        }

    def _feedback_text(self, request: Request) -> str:
        if not (self.feedback and request.feedback):
            return ""
        head = "Its last battles" if request.kind == "mutate" else "The last warrior written in this round"
        return f"\n\n{head}:\n" + "\n".join(f"- {line}" for line in request.feedback)

    def prompt(self, request: Request) -> str | list[dict[str, str]]:
        """The prompt for ``request``: chat messages, or one text in completion mode."""
        facts = self._facts(request.settings)
        if request.kind == "mutate":
            if request.parent is None:
                raise ValueError("a mutate request needs a parent")
            source = request.parent.source.strip()
        if self.backend.mode == "chat":
            system = []
            if self.reference:
                system.append(reference(request.settings))
            if self.examples:
                system.append(_example_blocks(self.examples))
            system.append(_RULES.format(**facts))
            user = _CREATE if request.kind == "create" else _MUTATE.format(source=source)
            user += self._feedback_text(request)
            return [{"role": "system", "content": "\n\n".join(system)}, {"role": "user", "content": user}]
        parts = []
        if self.reference:
            parts.append(reference(request.settings))
        parts.append(
            f"Core War warriors in Redcode (ICWS'94, core {facts['coresize']}, at most "
            f"{facts['maxlength']} instructions), each in a code block."
        )
        if self.examples:
            parts.append(_example_blocks(self.examples))
        if request.kind == "create":
            parts.append("Example (a new warrior):\n```redcode\n;redcode-94\n")
        else:
            parts.append(
                f"A warrior:\n```redcode\n{source}\n```{self._feedback_text(request)}\n\n"
                "An improved version of it:\n```redcode\n;redcode-94\n"
            )
        return "\n\n".join(parts)

    def _ask(self, request: Request) -> list[str]:
        replies = self.backend.generate(self.prompt(request), n=self.n, seed=request.seed)
        texts = [g.text for g in replies]
        if self.backend.mode == "completion":  # the prompt opened the block: close what the model wrote
            texts = ["```redcode\n;redcode-94\n" + t.split("```", 1)[0] + "\n```" for t in texts]
        return texts

    def create(self, request: Request) -> list[str]:
        return self._ask(request)

    def mutate(self, request: Request) -> list[str]:
        return self._ask(request)
