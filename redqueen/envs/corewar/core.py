"""The shared vocabulary of redqueen's Core War: instruction encoding, settings, warriors.

An instruction is six integers (one row of :attr:`Warrior.instructions`, dtype int64)::

    (opcode, modifier, a_mode, a_value, b_mode, b_value)

with ``opcode`` an index into :data:`OPCODES`, ``modifier`` into :data:`MODIFIERS`, the modes into
:data:`MODES` and both values in ``[0, coresize - 1]``. ``CMP`` keeps its own code (it is printed as
``CMP``, as pMARS does) and executes exactly like ``SEQ``.

The empty core cell is ``DAT.F $0, $0``: :data:`EMPTY_CELL`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from redqueen.game import RedqueenError

OPCODES: tuple[str, ...] = (
    "DAT", "MOV", "ADD", "SUB", "MUL", "DIV", "MOD", "JMP", "JMZ", "JMN", "DJN", "CMP", "SEQ", "SNE",
    "SLT", "SPL", "NOP", "LDP", "STP",
)  # fmt: skip
MODIFIERS: tuple[str, ...] = ("A", "B", "AB", "BA", "F", "X", "I")
MODES: tuple[str, ...] = ("#", "$", "*", "@", "{", "<", "}", ">")
"""Addressing modes: immediate, direct, A-indirect, B-indirect, A-predecrement, B-predecrement,
A-postincrement, B-postincrement."""

OP = {name: i for i, name in enumerate(OPCODES)}
MOD = {name: i for i, name in enumerate(MODIFIERS)}
MODE = {name: i for i, name in enumerate(MODES)}

EMPTY_CELL = (OP["DAT"], MOD["F"], MODE["$"], 0, MODE["$"], 0)


class RedcodeError(RedqueenError, ValueError):
    """Redcode that cannot be assembled (or a load file that cannot be read).

    ``line`` and ``column`` are 1-based positions in the source text (None when the error is not
    tied to a place, e.g. a warrior that is too long); ``reason`` is the message without the place.
    """

    def __init__(self, reason: str, line: int | None = None, column: int | None = None):
        self.reason, self.line, self.column = reason, line, column
        where = ""
        if line is not None:
            where = f"line {line}" + (f", column {column}" if column is not None else "") + ": "
        super().__init__(where + reason)


@dataclass(frozen=True)
class Settings:
    """MARS and assembler settings. The defaults are the "94nop" hill's (pMARS ``-s 8000 -c 80000
    -p 8000 -l 100 -d 100``), with pMARS's default P-space of ``coresize // 16`` cells."""

    coresize: int = 8000
    cycles: int = 80000
    """Cycles before a tie; a cycle is one instruction of every living warrior."""
    processes: int = 8000
    """Maximum processes per warrior."""
    maxlength: int = 100
    mindistance: int = 100
    pspacesize: int | None = None
    """P-space cells per warrior; None means ``coresize // 16`` (pMARS's default)."""
    read_limit: int | None = None
    """None: no limit (the same as the core size; pMARS's default build)."""
    write_limit: int | None = None
    warriors: int = 2
    """Warriors in the battle (the assembler's predefined constant WARRIORS)."""

    def __post_init__(self) -> None:
        for name in ("coresize", "cycles", "processes", "maxlength", "warriors"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Settings.{name} must be a positive integer, got {value!r}")
        if self.mindistance < 0 or self.maxlength > self.coresize:
            raise ValueError("need mindistance >= 0 and maxlength <= coresize")
        if self.pspacesize is not None and self.pspacesize < 1:
            raise ValueError(f"Settings.pspacesize must be >= 1, got {self.pspacesize}")
        for name in ("read_limit", "write_limit"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= self.coresize:
                raise ValueError(f"Settings.{name} must be in [1, coresize], got {value}")

    @property
    def pspace(self) -> int:
        """P-space cells per warrior."""
        return self.pspacesize if self.pspacesize is not None else max(1, self.coresize // 16)

    def with_warriors(self, n: int) -> Settings:
        return replace(self, warriors=int(n))

    def to_dict(self) -> dict[str, Any]:
        return {
            "coresize": self.coresize,
            "cycles": self.cycles,
            "processes": self.processes,
            "maxlength": self.maxlength,
            "mindistance": self.mindistance,
            "pspacesize": self.pspace,
            "read_limit": self.read_limit,
            "write_limit": self.write_limit,
            "warriors": self.warriors,
        }


def _signed(value: int, coresize: int) -> int:
    """pMARS prints a field v in [0, M-1] as v if v <= M/2, else v - M."""
    return value if value <= coresize // 2 else value - coresize


def format_instruction(row: Any, coresize: int = 8000) -> str:
    """One instruction as pMARS's load file prints it, e.g. ``MOV.I  $     4, *    -2``."""
    op, mod, am, a, bm, b = (int(x) for x in row)
    return (
        f"{OPCODES[op]}.{MODIFIERS[mod]:<2} {MODES[am]} {_signed(a, coresize):>5}, "
        f"{MODES[bm]} {_signed(b, coresize):>5}"
    )


@dataclass
class Warrior:
    """An assembled warrior.

    ``instructions`` is an ``(n, 6)`` int64 array (see the module docstring); ``start`` the offset of
    the first instruction to run (``ORG``/``END label``); ``pin`` the P-space identifier (``PIN``),
    or None; ``warnings`` what the assembler noticed but accepted.
    """

    instructions: np.ndarray
    start: int = 0
    name: str = "Unknown"
    author: str = "Anonymous"
    pin: int | None = None
    source: str = ""
    warnings: list[str] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        code = np.asarray(self.instructions, dtype=np.int64).reshape(-1, 6)
        self.instructions = code

    def __len__(self) -> int:
        return int(self.instructions.shape[0])

    def load_file(self) -> str:
        """pMARS's load-file text (``pmars -A``): ``ORG n``, one line per instruction, ``PIN``, ``END``."""
        m = self.settings.coresize
        lines = [f"       ORG      {self.start:>5}"]
        lines += [f"       {format_instruction(row, m)}" for row in self.instructions]
        if self.pin is not None:
            lines.append(f"       PIN      {self.pin:>5}")
        lines.append("       END")
        return "\n".join(lines) + "\n"


_LOAD_LINE = re.compile(
    r"^\s*([A-Za-z]{3})\.(AB|BA|[ABFXI])\s*([#$*@{<}>])\s*(-?\d+)\s*,\s*([#$*@{<}>])\s*(-?\d+)\s*$",
    re.IGNORECASE,
)


def parse_load_file(text: str, settings: Settings | None = None, name: str = "Unknown") -> Warrior:
    """A warrior from pMARS load-file text (``ORG n``, ``OPC.MOD mode value, mode value`` lines,
    ``PIN n``, ``END``): the output of :meth:`Warrior.load_file` or ``pmars -A``. Values are taken
    mod the core size. Raises :class:`RedcodeError` naming the line on anything else."""
    settings = settings or Settings()
    m = settings.coresize
    rows: list[tuple[int, ...]] = []
    start, pin = 0, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        word = line.split()[0].upper()
        if word in ("ORG", "PIN") and len(line.split()) == 2:
            try:
                value = int(line.split()[1])
            except ValueError:
                raise RedcodeError(f"{word} needs an integer, got {line.split()[1]!r}", number) from None
            if word == "ORG":
                start = value % m
            else:
                pin = value
            continue
        if word == "END":
            break
        match = _LOAD_LINE.match(line)
        if match is None or match.group(1).upper() not in OP:
            raise RedcodeError(f"not a load-file instruction: {raw.strip()!r}", number)
        op, mod, am, a, bm, b = match.groups()
        rows.append((OP[op.upper()], MOD[mod.upper()], MODE[am], int(a) % m, MODE[bm], int(b) % m))
    if len(rows) > settings.maxlength:
        raise RedcodeError(f"warrior has {len(rows)} instructions; the limit is {settings.maxlength}")
    code = np.array(rows, dtype=np.int64).reshape(-1, 6)
    if len(rows):
        start %= len(rows)
    return Warrior(code, start=start, name=name, pin=pin, source=text, settings=settings)
