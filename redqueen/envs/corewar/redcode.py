"""The ICWS'94 Redcode assembler, reading warriors the way pMARS 0.9.4 does.

:func:`assemble` turns warrior source text into a :class:`~redqueen.envs.corewar.core.Warrior`
whose :meth:`~redqueen.envs.corewar.core.Warrior.load_file` is the load file ``pmars -A`` prints.
The code is written from pMARS's documented and observed behaviour (the golden set in
``shared/corewar``); it is not a translation of pMARS's C source.

Supported language (pMARS 0.9.4, ICWS'94 with the pMARS extensions)
--------------------------------------------------------------------
* All 19 opcodes (``DAT MOV ADD SUB MUL DIV MOD JMP JMZ JMN DJN CMP SEQ SNE SLT SPL NOP LDP STP``;
  ``CMP`` stays ``CMP``), the modifiers ``.A .B .AB .BA .F .X .I`` and all eight addressing modes
  ``# $ * @ { < } >``. Opcodes, modifiers and pseudo-ops are case-insensitive; labels are not.
* pMARS's default modifiers, and its operand rules: one-operand ``DAT x`` is ``DAT.F #0, x``;
  one-operand ``JMP``/``SPL``/``NOP`` get ``$0`` as B-operand; every other opcode needs two operands,
  and an opcode with no operand at all is a syntax error.
* Labels: several per line, an optional ``:`` right after each, labels alone on a line (they name the
  next instruction), forward references. A label defined twice is a warning and pMARS drops the whole
  second line. An unknown word at the start of a line is a label, so a misspelt opcode fails on the
  token after it.
* ``EQU`` as pMARS does it: textual substitution without parentheses (``x equ 1+2`` then ``x*2`` is
  5), multi-line EQU (following lines that start with ``EQU``), EQU names used before their line.
* ``FOR``/``ROF`` blocks: a count expression (``FOR 0`` skips the block), nesting, the counter named
  by the label of the ``FOR`` line (its value is written with two digits: ``x&i`` gives ``x01``,
  ``x02``, ...). ``FOR`` without ``ROF`` is a warning and the rest of the file is the body, read once;
  ``ROF`` without ``FOR`` is an error.
* ``ORG``, ``END [label]`` (``END`` stops reading), ``PIN``. pMARS's start rules: ``ORG`` at a non-zero
  offset wins over a non-zero ``END label`` (warning); an ``ORG`` naming offset 0 counts as no ``ORG``.
* Expressions: C-like integers (64-bit, with pMARS's overflow warning): ``+ - * / %`` (truncation
  toward zero, remainder with the dividend's sign), unary ``- + !``, parentheses, ``== != < > <= >=``,
  ``&&``, ``||``, and pMARS's one-letter registers (an undefined single-letter name is a register,
  0 unless assigned with ``a=...``). Precedence is pMARS's: ``* / %`` over ``+ -`` over the six
  comparisons (one level) over ``&&`` over ``||``, including pMARS's quirk that a comparison chain such
  as ``a == b + c * d == e`` groups to the right. Numbers have at most 20 digits.
* Predefined constants (case-sensitive): ``CORESIZE MAXPROCESSES MAXCYCLES MAXLENGTH MINDISTANCE
  VERSION`` (94) ``WARRIORS ROUNDS`` (1) ``PSPACESIZE``, ``READLIMIT``/``WRITELIMIT`` when the settings
  set those limits, and ``CURLINE`` (the number of instructions before the current one).
* Comments: ``;name``, ``;author`` (metadata), ``;assert expr`` (false: error; none at all: warning),
  text before the first ``;redcode`` line is ignored and a second ``;redcode`` ends the warrior. A line
  ending in a backslash (with no ``;`` on it) continues on the next line. Field values are reduced
  mod the core size.
* pMARS's line buffer: a source line longer than 255 characters is read as several lines (255
  characters each), and a line longer than 255 characters after EQU/label substitution is an error.
  pMARS gives up after 9 messages tied to lines, warnings included; so does this assembler.

Errors raise :class:`~redqueen.envs.corewar.core.RedcodeError` with the 1-based line and column of
the first error pMARS would report (for errors found after expansion, the column is a best effort).
Warnings go to :attr:`Warrior.warnings`.

Limits (hostile text cannot hang the assembler or exhaust memory)
------------------------------------------------------------------
Warrior text is never evaluated by Python: expressions go through a small integer evaluator. Besides
pMARS's own limits (255-character lines, 20-digit numbers, 1000 instructions, at most
``settings.maxlength`` instructions, 7 labels for one instruction), these are errors:

* source text over :data:`MAX_SOURCE_CHARS` characters or :data:`MAX_SOURCE_LINES` lines;
* more than :data:`MAX_STEPS` tokens processed while expanding EQU and FOR (FOR counts are 16-bit as
  in pMARS, so ``FOR 65535`` never ends there either);
* more than :data:`MAX_EXPANDED_LINES` expanded lines;
* EQU substitutions nested deeper than :data:`MAX_EQU_DEPTH`, FOR blocks nested deeper than
  :data:`MAX_FOR_DEPTH`, parentheses or register assignments nested deeper than :data:`MAX_EXPR_DEPTH`.

A hostile text therefore fails in well under a second.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

import numpy as np

from redqueen.envs.corewar.core import MOD, MODE, OP, RedcodeError, Settings, Warrior

__all__ = [
    "MAX_EQU_DEPTH",
    "MAX_EXPANDED_LINES",
    "MAX_EXPR_DEPTH",
    "MAX_FOR_DEPTH",
    "MAX_SOURCE_CHARS",
    "MAX_SOURCE_LINES",
    "MAX_STEPS",
    "assemble",
]

MAX_SOURCE_CHARS = 1_000_000
"""Longest source text accepted (characters)."""
MAX_SOURCE_LINES = 20_000
"""Most source lines accepted."""
MAX_STEPS = 200_000
"""Most tokens (and FOR body lines) processed while assembling one warrior."""
MAX_EXPANDED_LINES = 10_000
"""Most lines (instructions and pseudo-ops) that EQU and FOR expansion may produce."""
MAX_EQU_DEPTH = 32
"""Deepest nesting of EQU substitutions (an EQU whose text uses an EQU whose text uses ...)."""
MAX_FOR_DEPTH = 32
"""Deepest nesting of FOR blocks."""
MAX_EXPR_DEPTH = 40
"""Deepest nesting of parentheses (and register assignments) in one expression."""

_LINE_CHARS = 255  # pMARS's MAXALLCHAR (256) less the terminating NUL
_MAX_INSTR = 1000  # pMARS's MAXINSTR
_MAX_GROUP = 7  # pMARS's GRPMAX: labels waiting for one instruction
_MAX_MESSAGES = 9  # pMARS's ERRMAX: it stops after this many messages tied to lines
_VERSION = 94

# Token kinds (what pMARS's tokenizer tells apart).
_NONE, _NUMB, _CHAR, _EXPR, _ADDR, _APND, _COMM, _FSEP, _MODF, _MISC = range(10)
_SINGLE = {c: _EXPR for c in "()/+-%!="}
_SINGLE.update({c: _ADDR for c in "#$@<>*{}"})
_SINGLE.update({"&": _APND, ";": _COMM, ",": _FSEP, ".": _MODF})
_TOKEN_RE = re.compile(
    r"[ \t\n\v\f\r]*(?:([0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|(&&|\|\|)|([^ \t\n\v\f\r]))", re.DOTALL
)
_SPACE = frozenset(" \t\n\v\f\r")
_ALPHA = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

_OPCODES = frozenset(OP)  # the 19 opcodes
_PSEUDO = frozenset(("ORG", "END", "PIN"))
_MODIFIERS = frozenset(MOD)

# What the expansion pass returns for a piece of line (pMARS's traversal states).
_SERR, _SNIL, _SLBL, _SVAL, _SCOM, _SPSE, _SFOR, _SROF = -1, 0, 1, 2, 3, 4, 5, 6

# Symbol kinds.
_TEXT, _LABEL, _COUNTER = 0, 1, 2

# Parser states of the second pass.
_S_OP, _S_MOD_ADDR_EXP, _S_MODF, _S_ADDR_EXP_A, _S_EXP_FS, _S_ADDR_EXP_B, _S_EXPR = range(7)
_RESETTING = frozenset((_S_OP, _S_MOD_ADDR_EXP, _S_MODF, _S_ADDR_EXP_A, _S_ADDR_EXP_B))


def _token(text: str, pos: int) -> tuple[int, str, int, int]:
    """The token at or after ``pos`` (whitespace skipped): (kind, text, start, end)."""
    m = _TOKEN_RE.match(text, pos)
    if m is None:
        return _NONE, "", len(text), len(text)
    group = m.lastindex or 4
    tok = m.group(group)
    start = m.start(group)
    if group == 1:
        kind = _NUMB
    elif group == 2:
        kind = _CHAR
    elif group == 3:
        kind = _EXPR
    else:
        kind = _SINGLE.get(tok, _MISC)
    return kind, tok, start, m.end()


_Token = tuple[int, str, int, int]


@lru_cache(maxsize=8192)
def _tokenize(text: str) -> tuple[list[_Token], list[int]]:
    """All tokens of ``text`` (ending with a _NONE token) and their start offsets (cached: callers
    must not modify the lists)."""
    toks: list[_Token] = []
    for m in _TOKEN_RE.finditer(text):
        group = m.lastindex or 4
        tok = m.group(group)
        kind = (_NUMB, _CHAR, _EXPR)[group - 1] if group < 4 else _SINGLE.get(tok, _MISC)
        toks.append((kind, tok, m.start(group), m.end()))
    toks.append((_NONE, "", len(text), len(text)))
    return toks, [t[2] for t in toks]


def _space_at(text: str, i: int) -> bool:
    return i < len(text) and text[i] in _SPACE


# --------------------------------------------------------------------------------------------------
# Expressions


_LMAX = (1 << 63) - 1
_OK, _OVERFLOW, _BAD, _DIVZERO, _TOO_DEEP = 0, 1, -1, -2, -3
_IDENT = "id"  # "take the right operand": the operator an evaluation starts with
_INVALID = "?"
_PREC = {
    "*": 5, "/": 5, "%": 5, "+": 4, "-": 4,
    "<": 3, ">": 3, "<=": 3, ">=": 3, "==": 3, "!=": 3,
    "&&": 2, "||": 1,
}  # fmt: skip
# pMARS reads a few control characters as operators (they are its internal operator codes).
_CONTROL_OPS = {"\x01": "!=", "\x02": ">=", "\x03": "<=", "\x04": "&&", "\x05": "||", "\x06": _IDENT}


def _wrap64(value: int) -> int:
    return ((value + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)


class _TooDeep(Exception):
    pass


class _Evaluation:
    """One evaluation of an expression string with pMARS's rules (64-bit C integers)."""

    __slots__ = ("depth", "i", "pushed", "registers", "status", "text")

    def __init__(self, text: str, registers: dict[str, int]):
        self.text, self.registers = text, registers
        self.i, self.depth, self.status = 0, 0, _OK
        self.pushed: str | None = None

    def run(self) -> tuple[int, int]:
        value = self._chain(-1, 0, _IDENT)
        if self.i < len(self.text):  # only a stray ')' stops the outermost chain early
            self.status = _BAD
        return self.status, value

    def _skip(self) -> None:
        text, i = self.text, self.i
        while i < len(text) and text[i] in _SPACE:
            i += 1
        self.i = i

    def _chain(self, floor: int, acc: int, op: str) -> int:
        """Evaluate ``acc op operand ...`` until an operator of precedence <= ``floor`` (which is left in
        ``self.pushed``) or the end of the (parenthesised) expression."""
        while True:
            self.pushed = None
            rhs = self._operand()
            nxt = self._operator()
            if nxt is None:
                return self._apply(op, acc, rhs)
            p_op, p_nxt = _PREC.get(op, 0), _PREC.get(nxt, 0)
            if p_nxt <= p_op:
                if p_nxt > floor:
                    acc, op = self._apply(op, acc, rhs), nxt
                    continue
                self.pushed = nxt
                return self._apply(op, acc, rhs)
            rhs = self._chain(p_op, rhs, nxt)
            acc = self._apply(op, acc, rhs)
            back = self.pushed
            # pMARS resumes here with an operator as weak as the one *before* this sub-chain (>=, not >),
            # which makes chains of comparisons around stronger operators group to the right.
            if back is not None and _PREC.get(back, 0) >= floor:
                op = back
                continue
            return acc

    def _operator(self) -> str | None:
        self._skip()
        text, i = self.text, self.i
        if i >= len(text) or text[i] == ")":
            return None
        c = text[i]
        self.i = i + 1
        if c in "&|=!":  # pMARS always takes the next character as the second half of these
            pair = text[i : i + 2]
            self.i = min(i + 2, len(text))
            return pair if pair in ("&&", "||", "==", "!=") else _INVALID
        if c in "<>":
            if text[i + 1 : i + 2] == "=":
                self.i = i + 2
                return c + "="
            return c
        if c in "*/%+-":
            return c
        return _CONTROL_OPS.get(c, _INVALID)

    def _operand(self) -> int:
        text = self.text
        prefix: list[str] = []
        self._skip()
        while self.i < len(text) and text[self.i] in "-!+":
            prefix.append(text[self.i])
            self.i += 1
            self._skip()
        i = self.i
        c = text[i] if i < len(text) else ""
        if c == "(":
            self.i = i + 1
            value = self._nested()
            if self.i >= len(text) or text[self.i] != ")":
                self.status = _BAD
            self.i = min(self.i + 1, len(text))
        elif c in _ALPHA:
            name = c.upper()
            self.i = i + 1
            self._skip()
            j = self.i
            if text[j : j + 1] == "=" and text[j + 1 : j + 2] != "=":  # assignment, not equality
                self.i = j + 1
                value = self._nested()
                self.registers[name] = value
            else:
                value = self.registers.get(name, 0)
        else:
            j = i
            while j < len(text) and j - i < 20 and text[j] in "0123456789":
                j += 1
            if j == i:
                self.status = _BAD
                value = 0
            else:
                value = min(int(text[i:j]), _LMAX)
            self.i = j
        for p in reversed(prefix):
            if p == "-":
                value = _wrap64(-value)
            elif p == "!":
                value = 0 if value else 1
        return value

    def _nested(self) -> int:
        self.depth += 1
        if self.depth > MAX_EXPR_DEPTH:
            raise _TooDeep
        value = self._chain(-1, 0, _IDENT)
        self.depth -= 1
        return value

    def _apply(self, op: str, x: int, y: int) -> int:
        if op == _IDENT:
            return y
        if op in ("+", "-", "*"):
            r = x + y if op == "+" else x - y if op == "-" else x * y
            if not -_LMAX - 1 <= r <= _LMAX:
                if self.status == _OK:
                    self.status = _OVERFLOW
                r = _wrap64(r)
            return r
        if op in ("/", "%"):
            if y == 0:
                self.status = _DIVZERO
                return 0
            q = abs(x) // abs(y)
            if op == "%":
                r = abs(x) - q * abs(y)
                return r if x >= 0 else -r
            q = q if (x >= 0) == (y >= 0) else -q
            if q > _LMAX:  # LONG_MIN / -1
                if self.status == _OK:
                    self.status = _OVERFLOW
                q = _wrap64(q)
            return q
        if op == "==":
            return int(x == y)
        if op == "!=":
            return int(x != y)
        if op == "<":
            return int(x < y)
        if op == ">":
            return int(x > y)
        if op == "<=":
            return int(x <= y)
        if op == ">=":
            return int(x >= y)
        if op == "&&":
            return int(bool(x) and bool(y))
        if op == "||":
            return int(bool(x) or bool(y))
        self.status = _BAD
        return 0


# --------------------------------------------------------------------------------------------------
# Assembly


class _Line:
    """A piece of source text: ``text`` starts at 0-based column ``col`` of source line ``lineno``."""

    __slots__ = ("_starts", "_toks", "col", "lineno", "text")

    def __init__(self, text: str, lineno: int | None, col: int = 0):
        self.text, self.lineno, self.col = text, lineno, col
        self._toks: list[_Token] | None = None
        self._starts: list[int] = []

    def tokens(self) -> tuple[list[_Token], list[int]]:
        if self._toks is None:
            self._toks, self._starts = _tokenize(self.text)
        return self._toks, self._starts


class _Entry:
    """A symbol: an EQU text (or predefined constant), a label, or a FOR counter."""

    __slots__ = ("kind", "lines", "value", "visit")

    def __init__(self, kind: int, value: int = 0, lines: list[_Line] | None = None):
        self.kind, self.value, self.lines, self.visit = kind, value, lines or [], False


class _Cursor:
    """The line being read, in the file or in the text of a multi-line EQU."""

    __slots__ = ("index", "lines")

    def __init__(self, lines: list[_Line], index: int = 0):
        self.lines, self.index = lines, index

    @property
    def line(self) -> _Line:
        return self.lines[self.index]


class _Dest:
    """An expanded line being built (at most 255 characters, as in pMARS), with where its pieces
    came from."""

    __slots__ = ("length", "origins", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.origins: list[tuple[int, int | None, int]] = []
        self.length = 0

    def clear(self) -> None:
        self.parts.clear()
        self.origins.clear()
        self.length = 0

    @property
    def text(self) -> str:
        return "".join(self.parts)


class _Out:
    """One expanded line handed to the second pass."""

    __slots__ = ("lineno", "origins", "text")

    def __init__(self, text: str, lineno: int | None, origins: list[tuple[int, int | None, int]]):
        self.text, self.lineno, self.origins = text, lineno, origins

    def column(self, offset: int) -> int | None:
        """Best-effort 1-based source column of the piece of the expanded text at ``offset``."""
        best = None
        for start, lineno, col in self.origins:
            if start > offset:
                break
            if lineno == self.lineno:
                best = col + 1
        return best


class _Stream:
    """Tokens of an expanded line, into which EQU texts and label values are spliced."""

    __slots__ = ("frames", "outer")

    def __init__(self, text: str):
        self.frames: list[list] = [[_tokenize(text)[0], 0, None]]
        self.outer = 0  # offset in the expanded line of the last token read there

    def peek(self) -> _Token:
        while True:
            frame = self.frames[-1]
            tok = frame[0][frame[1]]
            if tok[0] != _NONE or len(self.frames) == 1:
                if len(self.frames) == 1:
                    self.outer = tok[2]
                return tok
            self.frames.pop()
            if frame[2] is not None:
                frame[2].visit = False

    def advance(self) -> None:
        self.frames[-1][1] += 1

    def push(self, text: str, entry: _Entry | None) -> None:
        if entry is not None:
            entry.visit = True
        self.frames.append([_tokenize(text)[0], 0, entry])


class _Assembler:
    def __init__(self, text: str, settings: Settings):
        self.source = text
        self.settings = settings
        self.name, self.author = "Unknown", "Anonymous"
        self.symbols: dict[str, list[_Entry]] = {}
        self.pending: list[str] = []  # labels waiting for their instruction (pMARS's symtbl)
        self.line = 0  # instructions so far (pMARS's line counter)
        self.skip = 0  # depth of FOR 0 blocks being skipped
        self.vcont = True
        self.noassert = True
        self.registers: dict[str, int] = {}
        self.out: list[_Out] = []
        self.warnings: list[str] = []
        self.seen: set[tuple[int, str]] = set()
        self.steps = 0
        self.equ_depth = 0
        self.for_depth = 0
        self.cursor = _Cursor([])
        self.err_line: int | None = None
        self.operand_at = [0, 0]  # where the A- and B-expression of the line being parsed start

    # ---- messages

    def _error(self, reason: str, line: _Line | None = None, pos: int | None = None) -> RedcodeError:
        if line is None or line.lineno is None:
            return RedcodeError(reason, self.err_line)
        return RedcodeError(reason, line.lineno, line.col + (pos or 0) + 1)

    def _warn(self, code: str, message: str, lineno: int | None) -> None:
        if lineno is None:
            self.warnings.append(message)
            return
        if (lineno, code) in self.seen:
            return
        self.seen.add((lineno, code))
        self.warnings.append(f"line {lineno}: {message}")
        if len(self.seen) >= _MAX_MESSAGES:
            raise RedcodeError(f"too many warnings ({_MAX_MESSAGES} lines); pMARS gives up here", lineno)

    def _tick(self, line: _Line | None = None) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            self._too_big(f"expansion too large (more than {MAX_STEPS} tokens processed)", line)

    def _too_big(self, reason: str, line: _Line | None) -> None:
        if self.line > self.settings.maxlength:
            raise RedcodeError(
                f"too many instructions: over {self.line} (the limit is {self.settings.maxlength})"
            )
        raise self._error(reason, line, None)

    # ---- symbols

    def _lookup(self, name: str) -> _Entry | None:
        entries = self.symbols.get(name)
        return entries[-1] if entries else None

    def _define(self, names: list[str], entry: _Entry) -> None:
        for name in names:
            self.symbols.setdefault(name, []).append(entry)

    def _undefine(self, name: str, entry: _Entry) -> None:
        entries = self.symbols.get(name, [])
        for k in range(len(entries) - 1, -1, -1):
            if entries[k] is entry:
                del entries[k]
                break

    def _predefine(self) -> None:
        s = self.settings
        values = {
            "CORESIZE": s.coresize,
            "MAXPROCESSES": s.processes,
            "MAXCYCLES": s.cycles,
            "MAXLENGTH": s.maxlength,
            "MINDISTANCE": s.mindistance,
            "VERSION": _VERSION,
            "WARRIORS": s.warriors,
            "ROUNDS": 1,
            "PSPACESIZE": s.pspace,
        }
        if s.read_limit is not None:
            values["READLIMIT"] = s.read_limit
        if s.write_limit is not None:
            values["WRITELIMIT"] = s.write_limit
        for name, value in values.items():
            self._define([name], _Entry(_TEXT, lines=[_Line(str(int(value)), None)]))

    # ---- pass 0: reading lines

    def _read(self) -> list[_Line]:
        """Split the text into pMARS's logical lines (255-character chunks, backslash continuation)
        and handle the ``;`` switches (``;redcode``, ``;name``, ``;author``, ``;assert``)."""
        text = self.source
        n = len(text)
        pos, lineno, col = 0, 1, 0
        lines: list[_Line] = []
        redcode_seen = False
        while pos < n:
            buf = ""
            start_line, start_col = lineno, col
            comment = False
            while pos < n:
                cap = _LINE_CHARS - len(buf)
                newline = text.find("\n", pos, pos + cap)
                end = pos + cap if newline < 0 else newline + 1
                chunk = text[pos:end]
                if newline < 0:
                    col += len(chunk)
                else:
                    lineno, col = lineno + 1, 0
                pos = min(end, n)
                cut = len(chunk)
                for stop in ("\n", "\r", "\0"):
                    k = chunk.find(stop, 0, cut)
                    if k >= 0:
                        cut = k
                piece = chunk[:cut]
                if ";" in piece:
                    comment = True
                buf += piece
                if buf.endswith("\\") and not comment:
                    buf = buf[:-1]
                    continue
                break
            kind, _, _, end = _token(buf, 0)
            if kind == _COMM:
                switch = self._global_switch(buf, end, start_line, start_col)
                if switch == "redcode":
                    if redcode_seen:
                        break
                    redcode_seen = True
                    lines.clear()
                elif switch is not None:
                    lines.append(switch)
            elif kind != _NONE:
                k = buf.find(";")
                lines.append(_Line(buf if k < 0 else buf[:k], start_line, start_col))
        return lines

    def _global_switch(self, buf: str, idx: int, lineno: int, col: int) -> _Line | str | None:
        _, tok, start, end = _token(buf, idx)
        word = tok.upper()
        if word == "REDCODE" and start == idx:
            return "redcode"
        rest = end
        while rest < len(buf) and buf[rest] in _SPACE:
            rest += 1
        value = buf[rest:]
        if word == "NAME":
            self.name = value or "Unknown"
        elif word == "AUTHOR":
            self.author = value or "Anonymous"
        elif word == "ASSERT":
            k = value.find(";")
            return _Line(buf if k < 0 else buf[: rest + k], lineno, col)
        return None

    # ---- pass 1: expansion (labels, EQU, FOR/ROF, CURLINE, ;assert)

    def _put(self, dest: _Dest, piece: str, line: _Line | None, pos: int, checked: bool = True) -> None:
        if dest.length + len(piece) > _LINE_CHARS:
            if not checked:
                return
            raise self._error(
                "line longer than 255 characters after EQU/label substitution (pMARS's line buffer)",
                line,
                pos,
            )
        if line is not None and line.lineno is not None:
            dest.origins.append((dest.length, line.lineno, line.col + pos))
        dest.parts.append(piece)
        dest.length += len(piece)

    def _emit(self, dest: _Dest, lineno: int | None) -> None:
        if len(self.out) >= MAX_EXPANDED_LINES:
            self._too_big(f"expansion too large (more than {MAX_EXPANDED_LINES} lines)", self.cursor.line)
        self.out.append(_Out(dest.text, lineno, list(dest.origins)))

    def _expand(self, lines: list[_Line]) -> None:
        self.cursor = _Cursor(lines)
        dest = _Dest()
        while self.cursor.index < len(lines) and self.vcont:
            line = self.cursor.line
            self.err_line = line.lineno
            dest.clear()
            result = self._trav(line, 0, dest, _SNIL)
            if result == _SCOM:
                self._emit(dest, self.cursor.line.lineno)
            elif result == _SROF:
                raise self._error("ROF without FOR", self.cursor.line)
            self.cursor.index += 1

    def _trav(self, line: _Line, pos: int, dest: _Dest, wdecl: int) -> int:
        """Expand ``line.text[pos:]`` into ``dest``; returns what the piece of line was (pMARS's
        traversal state: _SCOM for an instruction or pseudo-op, _SERR for a dropped line, ...)."""
        text = line.text
        toks, starts = line.tokens()
        k = bisect_left(starts, pos)
        while True:
            self.steps += 1
            if self.steps > MAX_STEPS:
                self._too_big(f"expansion too large (more than {MAX_STEPS} tokens processed)", line)
            kind, tok, start, end = toks[k]
            if kind == _NONE:
                return wdecl
            if kind == _COMM:
                if wdecl == _SNIL and self.skip == 0:
                    self._line_switch(line, end, dest)
                return wdecl
            if kind != _CHAR:
                if self.skip:
                    return _SNIL
                if wdecl <= _SLBL:
                    raise self._error(self._unexpected(tok), line, start)
                self._put(dest, tok, line, start)
                k += 1
                continue
            word = tok.upper()
            if word == "ROF":
                if self.skip:
                    self.skip -= 1
                    return _SERR
                if wdecl <= _SLBL:
                    return _SROF
                raise self._error(f"{tok!r} is not allowed here", line, start)
            if word == "FOR":
                if self.skip:
                    self.skip += 1
                    return _SERR
                if wdecl <= _SLBL:
                    return self._for(line, end, dest)
                raise self._error(f"{tok!r} is not allowed here", line, start)
            if tok == "CURLINE":
                if self.skip:
                    return _SNIL
                if wdecl <= _SLBL:
                    raise self._error("CURLINE cannot be used as a label", line, start)
                self._put(dest, str(self.line) + (" " if _space_at(text, end) else ""), line, start)
                k += 1
                continue
            if word == "EQU":
                if self.skip:
                    return _SNIL
                if wdecl <= _SLBL:
                    return self._equ(line, end, dest)
                raise self._error(f"{tok!r} is not allowed here", line, start)
            if word in _OPCODES or word in _PSEUDO:
                if self.skip:
                    return _SNIL
                if wdecl > _SLBL:
                    raise self._error(
                        f"{tok!r} is not allowed here (an opcode or pseudo-op inside an operand)", line, start
                    )
                j = end
                while j < len(text) and text[j] not in _SPACE:  # pMARS copies what is glued on as is
                    j += 1
                self._put(dest, word + text[end:j] + (" " if j < len(text) else ""), line, start)
                result = self._trav(line, j, dest, _SVAL if word in _OPCODES else _SPSE)
                if result == _SERR:
                    return _SERR
                if self.pending:
                    self._define(self.pending, _Entry(_LABEL, self.line))
                    self.pending = []
                if word in _OPCODES:
                    self.line += 1
                elif word == "END":
                    self.vcont = False
                return _SCOM
            if self.skip:
                k += 1
                wdecl = _SNIL
                continue
            name = tok
            while end + 1 < len(text) and text[end] == "&" and text[end + 1] in _ALPHA:
                k += 2  # the '&' and the counter's name
                _, part, pstart, end = toks[k]
                entry = self._lookup(part)
                if entry is None or entry.kind != _COUNTER:
                    raise self._error(f"'&{part}' does not name a FOR counter", line, pstart)
                name += f"{entry.value:02d}"
                if len(name) > _LINE_CHARS:
                    raise self._error("label too long", line, start)
            k += 1
            entry = self._lookup(name)
            if entry is not None:
                if entry.kind == _TEXT:
                    if entry.visit:
                        raise self._error(f"EQU {name!r} refers to itself", line, start)
                    wdecl = self._equsub(line, end, dest, wdecl, entry, start)
                    continue
                if wdecl > _SLBL:
                    if entry.kind == _COUNTER:
                        value = f"{entry.value:02d}"
                    elif wdecl == _SPSE:
                        value = str(entry.value)
                    else:
                        value = str(entry.value - self.line)
                    self._put(dest, value + (" " if _space_at(text, end) else ""), line, start)
                    continue
                self._warn(
                    "redefined",
                    f"label {name!r} is already defined; pMARS ignores this whole line",
                    line.lineno,
                )
                return _SERR
            if wdecl <= _SLBL:
                if len(self.pending) >= _MAX_GROUP:
                    raise self._error(
                        f"too many labels for one instruction (at most {_MAX_GROUP})", line, start
                    )
                self.pending.append(name)
                if toks[k][1] == ":" and toks[k][2] == end:  # a colon right after a label is ignored
                    k += 1
                wdecl = _SLBL
                continue
            self._put(dest, name + (" " if _space_at(text, end) else ""), line, start)

    def _unexpected(self, tok: str) -> str:
        if self.pending:
            labels = ", ".join(repr(p) for p in self.pending)
            return (
                f"unexpected {tok!r} after {labels}: expected an opcode or pseudo-op "
                "(a line starts with optional labels, then an opcode)"
            )
        return f"unexpected {tok!r} at the start of a line (expected a label or an opcode)"

    def _equsub(self, line: _Line, rest: int, dest: _Dest, wdecl: int, entry: _Entry, start: int) -> int:
        """Substitute the text of an EQU (all its lines) at ``line.text[rest:]``."""
        self.equ_depth += 1
        if self.equ_depth > MAX_EQU_DEPTH:
            raise self._error(f"EQU substitutions nested deeper than {MAX_EQU_DEPTH}", line, start)
        entry.visit = True
        saved, saved_err = self.cursor, self.err_line
        self.cursor = _Cursor(entry.lines)
        self.err_line = entry.lines[0].lineno if entry.lines[0].lineno is not None else saved_err
        wdecl = self._trav(self.cursor.line, 0, dest, wdecl)
        while self.cursor.index + 1 < len(self.cursor.lines) and self.vcont:
            if self.skip == 0 and wdecl in (_SCOM, _SVAL):
                self._emit(dest, self.cursor.line.lineno)
            self.cursor.index += 1
            dest.clear()
            wdecl = self._trav(self.cursor.line, 0, dest, _SNIL)
        self.cursor, self.err_line = saved, saved_err
        if _space_at(line.text, rest):
            self._put(dest, " ", line, rest, checked=False)
        entry.visit = False
        self.equ_depth -= 1
        return wdecl

    def _equ(self, line: _Line, pos: int, dest: _Dest) -> int:
        """An EQU line: the pending labels name the rest of the line (and of following EQU lines)."""
        if not self.pending:
            self._warn("equ", "EQU without a label is ignored", line.lineno)
            return _SVAL
        entry = _Entry(_TEXT, lines=[_Line(line.text[pos:], line.lineno, line.col + pos)])
        self._define(self.pending, entry)
        self.pending = []
        cursor = self.cursor
        while cursor.index + 1 < len(cursor.lines):
            nxt = cursor.lines[cursor.index + 1]
            kind, tok, _, end = _token(nxt.text, 0)
            if kind == _CHAR and tok.upper() == "EQU":
                cursor.index += 1
                entry.lines.append(_Line(nxt.text[end:], nxt.lineno, nxt.col + end))
            elif kind == _COMM:
                cursor.index += 1
                self._line_switch(nxt, end, dest)
            else:
                break
        return _SVAL

    def _for(self, line: _Line, pos: int, dest: _Dest) -> int:
        """A FOR line: evaluate the count and expand the block up to the matching ROF."""
        counter_name = None
        if self.pending:
            counter_name = self.pending[-1]
            if len(self.pending) > 1:
                self._define(self.pending[:-1], _Entry(_LABEL, self.line))
            self.pending = []
        dest.clear()
        self._trav(line, pos, dest, _SVAL)
        status, count = self._evaluate(dest.text)
        if status < 0:
            raise self._error(_eval_reason(status, dest.text, "FOR count"), line, pos)
        if status == _OVERFLOW:
            self._warn("overflow", "arithmetic overflow in the FOR count", line.lineno)
        if count <= 0 or count & 0xFFFF == 0:
            self.skip += 1
            return _SFOR
        count &= 0xFFFF  # pMARS keeps the count (and the counter) in 16 bits
        self.for_depth += 1
        if self.for_depth > MAX_FOR_DEPTH:
            raise self._error(f"FOR blocks nested deeper than {MAX_FOR_DEPTH}", line, pos)
        counter = _Entry(_COUNTER, 1)
        if counter_name is not None:
            self._define([counter_name], counter)
        cursor = self.cursor
        first = cursor.index
        while self.vcont and counter.value <= count:
            cursor.index = first
            while self.vcont:
                if cursor.index + 1 < len(cursor.lines):
                    cursor.index += 1
                    body = cursor.line
                    self._tick(body)
                    self.err_line = body.lineno
                    dest.clear()
                    result = self._trav(body, 0, dest, _SNIL)
                    if result == _SROF:
                        break
                    if result == _SCOM:
                        self._emit(dest, cursor.line.lineno)
                else:
                    self._warn("rof", "FOR without ROF: the rest of the file was read once as its body", None)
                    self.vcont = False
            counter.value = (counter.value + 1) & 0xFFFF
        if counter_name is not None:
            self._undefine(counter_name, counter)
        self.for_depth -= 1
        return _SFOR

    def _line_switch(self, line: _Line, pos: int, dest: _Dest) -> None:
        """A ``;`` line kept for the expansion pass: ``;assert expr``."""
        _, tok, _, end = _token(line.text, pos)
        if tok.upper() != "ASSERT":
            return
        self._trav(line, end, dest, _SVAL)
        status, value = self._evaluate(dest.text)
        if status == _TOO_DEEP:
            raise self._error(_eval_reason(status, dest.text, ";assert"), line, end)
        if status < 0:
            self._warn("assert", "invalid ;assert expression (ignored)", line.lineno)
            return
        if status == _OVERFLOW:
            self._warn("overflow", "arithmetic overflow in ;assert", line.lineno)
        self.noassert = False
        if value == 0:
            raise self._error(f"assertion failed: {line.text[end:].strip()}", line, pos - 1)

    def _evaluate(self, text: str) -> tuple[int, int]:
        try:
            return _Evaluation(text, self.registers).run()
        except _TooDeep:
            return _TOO_DEEP, 0

    # ---- pass 2: parsing the expanded lines and evaluating

    def _fail(self, reason: str, out: _Out, offset: int) -> RedcodeError:
        return RedcodeError(reason, out.lineno, out.column(offset) if out.lineno is not None else None)

    def _parse(self, out: _Out) -> tuple[str, str | None, str, str, str, str]:
        """Parse one expanded line: (opcode, modifier or None, A-mode, A-expr, B-mode, B-expr)."""
        stream = _Stream(out.text)
        self.operand_at = [0, 0]
        state = _S_OP
        fine = False
        opcode = ""
        modifier: str | None = None
        a_mode = b_mode = "$"
        a_expr: list[str] = []
        b_expr: list[str] = []
        lengths = [0, 0]

        def add(target: list[str], which: int, piece: str) -> None:
            if lengths[which] + len(piece) > _LINE_CHARS:
                raise self._fail("operand longer than 255 characters after substitution", out, stream.outer)
            if not lengths[which]:
                self.operand_at[which] = stream.outer
            target.append(piece)
            lengths[which] += len(piece)

        def splice(name: str) -> bool:
            entry = self._lookup(name)
            if entry is None:
                return False
            if entry.visit:
                raise self._fail(f"EQU {name!r} refers to itself", out, stream.outer)
            if len(stream.frames) > MAX_EQU_DEPTH:
                raise self._fail(f"EQU substitutions nested deeper than {MAX_EQU_DEPTH}", out, stream.outer)
            stream.advance()
            if entry.kind == _TEXT:
                stream.push(entry.lines[0].text, entry)
            else:
                absolute = state == _S_EXPR and opcode in _PSEUDO
                stream.push(str(entry.value if absolute else entry.value - self.line), None)
            return True

        while True:
            self._tick()
            kind, tok, _, _ = stream.peek()
            if state in _RESETTING:
                fine = False
            if state == _S_OP:
                word = tok.upper()
                if kind != _CHAR or not (word in _OPCODES or word in _PSEUDO):
                    raise self._fail("missing opcode", out, stream.outer)
                opcode = word
                stream.advance()
                state = _S_EXPR if word in _PSEUDO else _S_MOD_ADDR_EXP
            elif state in (_S_MOD_ADDR_EXP, _S_ADDR_EXP_A, _S_ADDR_EXP_B):
                is_b = state == _S_ADDR_EXP_B
                if kind == _NONE:
                    break
                if kind == _MODF and state == _S_MOD_ADDR_EXP:
                    stream.advance()
                    state = _S_MODF
                elif kind == _ADDR:
                    if is_b:
                        b_mode = tok
                    else:
                        a_mode = tok
                    stream.advance()
                    state = _S_EXPR if is_b else _S_EXP_FS
                elif kind in (_NUMB, _EXPR):
                    state = _S_EXPR if is_b else _S_EXP_FS
                elif kind == _CHAR:
                    if not splice(tok):
                        if len(tok) > 1:
                            raise self._fail(f"undefined label or symbol {tok!r}", out, stream.outer)
                        state = _S_EXPR if is_b else _S_EXP_FS  # a one-letter register
                elif state == _S_MOD_ADDR_EXP:
                    raise self._fail(f"{tok!r} is not allowed here", out, stream.outer)
                else:
                    which = "B" if is_b else "A"
                    raise self._fail(f"missing {which}-operand before {tok!r}", out, stream.outer)
            elif state == _S_MODF:
                if kind == _NONE:
                    break
                if kind != _CHAR or tok.upper() not in _MODIFIERS:
                    raise self._fail(
                        f"missing or unknown modifier {tok!r} (use A, B, AB, BA, F, X or I)",
                        out,
                        stream.outer,
                    )
                modifier = tok.upper()
                stream.advance()
                state = _S_ADDR_EXP_A
            else:  # _S_EXP_FS (A-expression) or _S_EXPR (B-expression, or a pseudo-op's argument)
                is_b = state == _S_EXPR
                target, which = (b_expr, 1) if is_b else (a_expr, 0)
                if kind == _NONE:
                    break
                if kind == _FSEP and not is_b:
                    stream.advance()
                    state = _S_ADDR_EXP_B
                elif kind == _ADDR:
                    if tok not in "<>*":
                        raise self._fail(
                            f"{tok!r} is not allowed here (an addressing mode inside an expression; "
                            "missing comma?)",
                            out,
                            stream.outer,
                        )
                    add(target, which, tok)
                    fine = True
                    stream.advance()
                elif kind in (_NUMB, _EXPR):
                    add(target, which, tok + " " if kind == _NUMB else tok)
                    fine = True
                    stream.advance()
                elif kind == _CHAR:
                    if not splice(tok):
                        if len(tok) > 1:
                            raise self._fail(f"undefined label or symbol {tok!r}", out, stream.outer)
                        add(target, which, tok)  # a one-letter register
                        fine = True
                        stream.advance()
                else:
                    raise self._fail(f"{tok!r} is not allowed here", out, stream.outer)
        a_text, b_text = "".join(a_expr), "".join(b_expr)
        if opcode in _PSEUDO:
            return opcode, None, a_mode, a_text, b_mode, b_text
        if not fine:
            raise self._fail(f"syntax error: incomplete {opcode} instruction", out, 0)
        if not b_text:
            if opcode == "DAT":
                b_mode, b_text, a_mode, a_text = a_mode, a_text, "#", "0"
                self.operand_at[1] = self.operand_at[0]
            elif opcode in ("SPL", "JMP", "NOP"):
                b_mode, b_text = "$", "0"
            else:
                raise self._fail(f"{opcode} needs two operands (A, B)", out, 0)
        if modifier is None:
            modifier = _default_modifier(opcode, a_mode, b_mode)
        return opcode, modifier, a_mode, a_text, b_mode, b_text

    def _value(self, text: str, out: _Out, what: str, which: int) -> int:
        status, value = self._evaluate(text or "0")
        if status < 0:
            raise self._fail(_eval_reason(status, text, what), out, self.operand_at[which])
        if status == _OVERFLOW:
            self._warn("overflow", f"arithmetic overflow in the {what}", out.lineno)
        return value

    def _encode(self) -> tuple[np.ndarray, int, int | None]:
        m = self.settings.coresize
        count = self.line
        if count > _MAX_INSTR:
            raise RedcodeError(f"too many instructions: {count} (pMARS cannot load more than {_MAX_INSTR})")
        if count > self.settings.maxlength:
            raise RedcodeError(
                f"too many instructions: {count} (the limit is {self.settings.maxlength}, "
                f"{count - self.settings.maxlength} too many)"
            )
        rows: list[tuple[int, int, int, int, int, int]] = []
        start, pin = 0, None
        if count == 0:
            self.warnings.append("no instructions")
            return np.zeros((0, 6), dtype=np.int64), start, pin
        self.line = 0
        for out in self.out:
            self.err_line = out.lineno
            opcode, modifier, a_mode, a_text, b_mode, b_text = self._parse(out)
            if modifier is None:  # ORG, END, PIN
                value = self._value(b_text, out, f"{opcode} argument", 1)
                if opcode == "ORG":
                    start = value % m
                elif opcode == "PIN":
                    pin = value
                elif value:
                    if start:
                        self._warn("orgend", "both ORG and END set the start; END is ignored", out.lineno)
                    else:
                        start = value % m
                continue
            a_value = self._value(a_text, out, "A-operand", 0)
            b_value = self._value(b_text, out, "B-operand", 1)
            rows.append((OP[opcode], MOD[modifier], MODE[a_mode], a_value % m, MODE[b_mode], b_value % m))
            self.line += 1
        if start >= len(rows):
            self.warnings.append(f"start offset {start} is outside the warrior ({len(rows)} instructions)")
        return np.array(rows, dtype=np.int64).reshape(-1, 6), start, pin

    def run(self) -> Warrior:
        self._predefine()
        lines = self._read()
        self._expand(lines)
        self.err_line = None
        if self.pending:
            self.warnings.append(
                f"label(s) with no instruction after them discarded: {' '.join(self.pending)}"
            )
            self.pending = []
        if self.noassert:
            self.warnings.append("missing ;assert")
        code, start, pin = self._encode()
        return Warrior(
            code,
            start=start,
            name=self.name,
            author=self.author,
            pin=pin,
            source=self.source,
            warnings=self.warnings,
            settings=self.settings,
        )


def _default_modifier(opcode: str, a_mode: str, b_mode: str) -> str:
    """pMARS's modifier for an instruction written without one."""
    if opcode in ("DAT", "NOP"):
        return "F"
    if opcode in ("MOV", "CMP", "SEQ", "SNE"):
        return "AB" if a_mode == "#" else "B" if b_mode == "#" else "I"
    if opcode in ("ADD", "SUB", "MUL", "DIV", "MOD"):
        return "AB" if a_mode == "#" else "B" if b_mode == "#" else "F"
    if opcode in ("SLT", "LDP", "STP"):
        return "AB" if a_mode == "#" else "B"
    return "B"  # JMP, JMZ, JMN, DJN, SPL


def _eval_reason(status: int, text: str, what: str) -> str:
    shown = text.strip() or "(empty)"
    if status == _TOO_DEEP:
        return f"{what} nested deeper than {MAX_EXPR_DEPTH} (parentheses or register assignments)"
    if status == _DIVZERO:
        return f"division by zero in the {what}: {shown}"
    return f"bad expression in the {what}: {shown}"


def assemble(text: str, settings: Settings | None = None) -> Warrior:
    """Assemble Redcode ``text`` the way pMARS 0.9.4 does (see the module docstring).

    ``settings`` (default :class:`Settings`) gives the core size the fields are reduced by, the
    maximum length, and the values of the predefined constants (``WARRIORS`` is ``settings.warriors``).
    Raises :class:`RedcodeError` (with ``line`` and ``column``) on anything pMARS rejects and on text
    that exceeds the limits above.
    """
    if not isinstance(text, str):
        raise TypeError(f"assemble() needs the warrior text as str, got {type(text).__name__}")
    settings = settings or Settings()
    if len(text) > MAX_SOURCE_CHARS:
        raise RedcodeError(f"source too long: {len(text)} characters (the limit is {MAX_SOURCE_CHARS})")
    if text.count("\n") >= MAX_SOURCE_LINES:
        raise RedcodeError(f"source too long: more than {MAX_SOURCE_LINES} lines")
    try:
        return _Assembler(text, settings).run()
    except RecursionError:  # a safety net; the depth limits above should always come first
        raise RedcodeError("warrior nested too deeply to assemble") from None
