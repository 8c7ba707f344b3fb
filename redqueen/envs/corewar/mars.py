"""A MARS (Core War simulator) with pMARS 0.9.4's semantics, JIT-compiled with numba.

Two ways in:

* :func:`battle` plays a whole multi-round battle inside one compiled call and returns a
  :class:`BattleResult` (wins, ties, pMARS scores, steps and survivors per round);
* :class:`Mars` runs one round step by step (``load``, ``run(steps)``) and exposes the core, the
  process queues in execution order, the next warrior, P-space and a per-cell "last writer" array.

Both drive the same compiled kernel (``_make_run``'s ``run``, specialised at compile time for
read/write limits and owner tracking), so a trace taken with :class:`Mars` is exactly the battle
:func:`battle` plays. The kernel works on int32 core arrays (instruction word, A-field, B-field),
one shared ring of process queues (pMARS's layout) and no Python objects; it is compiled on first
use (``cache=True``: once per machine; without a writable cache folder it compiles in memory).

Semantics (pMARS 0.9.4 ``sim.c``/``pos.c`` with ``-DNEW_MODES -DPSPACE``; checked against its
golden battles and traces in ``shared/corewar``):

Core and instructions
    The core holds ``coresize`` (M) cells; every field is kept in ``[0, M-1]``. Before every round
    every cell is ``DAT.F $0, $0``; the warriors are then copied in. ADD/SUB/MUL wrap mod M;
    DIV/MOD and SLT work on those unsigned values. CMP and SEQ execute alike, but they are
    different opcodes, so ``SEQ.I``/``SNE.I`` see a CMP cell and a SEQ cell as different (as pMARS).

Execution of one step (in-register model)
    The warrior whose turn it is pops the head of its process queue (PC) and copies the cell at
    PC into the instruction register. The A-operand is evaluated completely first: pointer cell
    ``PC + A`` (``#``: the A-target is the instruction register itself), pre-decrement in core,
    target address, read of both fields of the A-target, post-increment in core. Then the B-operand
    the same way, starting from the register's B-field. A ``#`` B-operand is the current cell
    *as it is in core after the A-operand's increments* (pMARS 0.9.4 reads ``memory[PC]`` there;
    the ``#`` A-operand uses the register copy; pMARS 0.9.2 and exhaust-ma read the register for
    both, available as ``Mars(compat="exhaust")``). The opcode then works on those register values:

    * MOV/ADD/SUB/MUL/DIV/MOD with .A .B .AB .BA .F .X .I (.I acts as .F for arithmetic; MOV.I
      copies opcode, modifier and modes from the A-target cell and the fields from the registers);
    * DIV/MOD by zero kills the process; with .F/.I/.X the half whose divisor is non-zero is
      still written;
    * JMZ/JMN test the B-target (.F/.X/.I: both fields zero / either non-zero);
    * DJN decrements the B-target in core and jumps unless the register value *was* 1
      (.F/.X/.I: decrements both, jumps unless both were 1);
    * SEQ/CMP/SNE skip on (in)equality, .I compares opcode, modifier, modes and both fields;
      SLT skips if the A-value(s) are below the B-value(s) (unsigned; .F/.I both, .X crossed);
    * SPL queues PC+1 and then the target; at the process limit only PC+1;
    * JMP queues the A-target; DAT kills the process; NOP only evaluates its operands;
    * LDP loads P-cell[A-value mod P] into the B-target, STP stores the A-value into
      P-cell[B-value mod P] (.A, .B, .AB, .BA as for MOV; .F/.X/.I act as .B). P-cell 0 is the
      warrior's private last result: M-1 in the first round of a battle, afterwards 0 if it died
      and the number of survivors if it survived. Warriors with the same PIN share cells 1.. of
      one P-space; P-space persists across the rounds of a battle.

Read/write limits (only when ``Settings.read_limit``/``write_limit`` are set; the default, like
pMARS's default build, has none)
    pMARS's ``-DRWLIMIT`` folding: an address ``x`` is folded to PC + the offset
    ``(x - PC) mod L`` taken in ``(-L/2, L/2]``; reads use the read limit, writes the write limit;
    the pointer cell of ``{ } < >`` operands is folded with the write limit (pMARS's documented
    departure from the '94 draft).

Scheduling and the end of a round
    Each warrior has a FIFO process queue (at most ``processes`` entries) and one process at
    ``load address + start offset`` when the round starts. Warriors take strict turns in index
    order (0, 1, ..., W-1, 0, ...) starting with the round's first mover; a warrior whose last
    process dies drops out of the rotation. The step budget is ``cycles * W``; every executed
    instruction uses one step. When a warrior dies with ``c`` steps left (counting the current
    one) the budget becomes ``c - 1 - (c-1) // L`` where L is the number of warriors alive before
    the death (pMARS's integer arithmetic), and with at least two warriors left one more step is
    taken off (pMARS's ``continue`` into ``while (--cycle)``). The round ends on the step where
    fewer than two warriors are left (a single warrior: when it dies) or when the budget is spent
    (a tie among the survivors). The one departure from pMARS: where a death on the very last step
    of a 3+-warrior round leaves the budget at -1, pMARS plays on until only one warrior is left
    (its counter never reaches zero again); here the round ends as a tie.

Rounds, placement and first mover (:func:`battle`)
    Warrior 0 is always loaded at address 0. pMARS's random generator is Park-Miller's minimal
    standard ``s' = 16807 (s mod 127773) - 2836 (s div 127773)`` (+ 2^31-1 if negative). The seed
    is ``F - d`` for ``fixed_position=F`` (pMARS ``-F F``; F < d is an error), the given ``seed``,
    or else a random one (recorded in the result). With two warriors, each round places warrior 1
    at ``d + seed mod (M + 1 - 2d)`` and then advances ``seed = rng(seed)`` (so round 1 puts it at
    ``d + (F - d) mod (M + 1 - 2d)``). With more warriors, pMARS's ``posit()`` (each of warriors
    1..W-1 at ``d + rng(seed) mod (M + 1 - 2d)``, redrawn while closer than d to an earlier one,
    20 retries per warrior and 4 backtracks) and its ``npos()`` fallback are reproduced; ``F`` is
    then only the seed, as in pMARS. The first mover rotates: round r (from 0) is started by
    warrior ``r mod W``. Scores are pMARS's default ``(W*W-1) // S`` points to each of the S
    survivors of a round (3 per win and 1 per tie for two warriors). Unless a warrior holds an STP
    (opcodes are only ever copied, so none can appear), :func:`battle` ends a round as soon as a
    tie is certain (after an SPL, when every living warrior has more processes than turns left,
    as exhaust-ma does); results, step counts and P-space are those of playing it out.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from redqueen.envs.corewar.core import MODES, MODIFIERS, OPCODES, RedcodeError, Settings

__all__ = ["BattleResult", "Mars", "RoundResult", "battle", "pmars_rng"]


def _jit(func: Any) -> Any:
    """``numba.njit(cache=True)``, or an in-memory ``njit`` where no cache folder is writable.

    ``error_model="numpy"``: integer division by zero does not raise (the kernel never divides by
    zero anyway), so the compiled code carries no exception paths.
    """
    try:
        return numba.njit(cache=True, error_model="numpy")(func)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(error_model="numpy")(func)


# Instruction word: (opcode << 9) | (modifier << 6) | (b_mode << 3) | a_mode, with the indices of
# core.OPCODES / MODIFIERS / MODES. Module-level ints are compile-time constants for numba.
_DAT, _MOV, _ADD, _SUB, _MUL, _DIV, _MOD, _JMP, _JMZ, _JMN = range(10)
_DJN, _CMP, _SEQ, _SNE, _SLT, _SPL, _NOP, _LDP, _STP = range(10, 19)
_MA, _MB, _MAB, _MBA, _MF, _MX, _MI = range(7)
_IMM, _DIR, _AIND, _BIND, _ADEC, _BDEC, _AINC, _BINC = range(8)  # # $ * @ { < } >
_MOV_I = (_MOV << 3) | _MI
_MOV_I_DIRECT = (_MOV_I << 6) | (_DIR << 3) | _DIR
_EMPTY = (_DAT << 9) | (_MF << 6) | (_DIR << 3) | _DIR

# Round state vector (int64), shared by the compiled code and Mars.
_CUR, _CYCLE, _LEFT, _STEPS, _DONE, _NWAR = range(6)
_STATE_SIZE = 8
# An empty cell (DAT.F $0, $0) as the 64-bit words of the core's layout (16-bit: one, 32-bit: two)
# A cell is 4 integers: instruction word, A-field, B-field and the word's kernel case (_CASE[word >> 6],
# so the switch needs no table look-up); 16-bit cells are one 64-bit word (whole-cell copies)
_CELL = 4
_EMPTY_WIDE16 = int(np.array([_EMPTY, 0, 0, 0], np.uint16).view(np.uint64)[0])
_EMPTY_WIDE32 = int(np.array([_EMPTY, 0], np.int32).view(np.uint64)[0])
# Per-warrior scheduling state, 4 int64 per warrior: queue head, queue tail (indices into the one
# shared ring), processes, and the row (4 x index) of the next living warrior.
_QHEAD, _QTAIL, _QCOUNT, _QNEXT = range(4)
_UNLIMITED = np.int64(1) << 62
_HILL_CORE, _HILL_PROCESSES = 8000, 8000  # the 94nop hill, which battle() runs with a specialised kernel
_U = np.uintp  # unsigned indices: numba then skips its negative-index wraparound code
assert OPCODES[_LDP] == "LDP" and OPCODES[_STP] == "STP" and OPCODES[_NOP] == "NOP"
assert MODIFIERS[_MI] == "I" and MODES[_IMM] == "#" and MODES[7] == ">"


# The kernel's opcode.modifier cases, in the order of its `case == k` blocks: the instructions each
# one runs (MOV.I has a fast path before the switch; CMP is SEQ).
_CASES = (
    "DAT.A DAT.B DAT.AB DAT.BA DAT.F DAT.X DAT.I",
    "MOV.A",
    "MOV.B",
    "MOV.AB",
    "MOV.BA",
    "MOV.F",
    "MOV.X",
    "JMP.A JMP.B JMP.AB JMP.BA JMP.F JMP.X JMP.I",
    "SPL.A SPL.B SPL.AB SPL.BA SPL.F SPL.X SPL.I",
    "NOP.A NOP.B NOP.AB NOP.BA NOP.F NOP.X NOP.I",
    "LDP.A",
    "LDP.B LDP.F LDP.X LDP.I",
    "LDP.AB",
    "LDP.BA",
    "DJN.A DJN.BA",
    "DJN.B DJN.AB",
    "DJN.F DJN.X DJN.I",
    "JMZ.A JMZ.BA",
    "JMZ.B JMZ.AB",
    "JMZ.F JMZ.X JMZ.I",
    "JMN.A JMN.BA",
    "JMN.B JMN.AB",
    "JMN.F JMN.X JMN.I",
    "SEQ.A CMP.A",
    "SEQ.B CMP.B",
    "SEQ.AB CMP.AB",
    "SEQ.BA CMP.BA",
    "SEQ.F CMP.F",
    "SEQ.X CMP.X",
    "SEQ.I CMP.I",
    "SNE.A",
    "SNE.B",
    "SNE.AB",
    "SNE.BA",
    "SNE.F",
    "SNE.X",
    "SNE.I",
    "SLT.A",
    "SLT.B",
    "SLT.AB",
    "SLT.BA",
    "SLT.F SLT.I",
    "SLT.X",
    "STP.A",
    "STP.B STP.F STP.X STP.I",
    "STP.AB",
    "STP.BA",
    "ADD.A",
    "ADD.B",
    "ADD.AB",
    "ADD.BA",
    "ADD.F ADD.I",
    "ADD.X",
    "SUB.A",
    "SUB.B",
    "SUB.AB",
    "SUB.BA",
    "SUB.F SUB.I",
    "SUB.X",
    "MUL.A",
    "MUL.B",
    "MUL.AB",
    "MUL.BA",
    "MUL.F MUL.I",
    "MUL.X",
    "DIV.A",
    "DIV.B",
    "DIV.AB",
    "DIV.BA",
    "DIV.F DIV.I",
    "DIV.X",
    "MOD.A",
    "MOD.B",
    "MOD.AB",
    "MOD.BA",
    "MOD.F MOD.I",
    "MOD.X",
)


# Cases from here on read the B-target's fields (DAT, MOV, JMP, SPL, NOP and LDP only write it or
# jump, so for them the B-operand's cell is not read)
_NEEDS_B = _CASES.index("DJN.A DJN.BA")


def _case_table() -> np.ndarray:
    """``_CASE[opcode << 3 | modifier]``: the kernel case that runs that instruction."""
    table = np.full(len(OPCODES) * 8, len(_CASES), dtype=np.int64)
    for k, spec in enumerate(_CASES):
        for item in spec.split():
            op, mod = item.split(".")
            table[OPCODES.index(op) * 8 + MODIFIERS.index(mod)] = k
    return table


_CASE = _case_table()
assert _CASE[_EMPTY >> 6] == 0  # an empty cell's four integers are (_EMPTY, 0, 0, 0)


@_jit
def _fold(x, pc, limit, m):
    """pMARS ``foldr``/``foldw``: PC + ((x - PC) mod limit) taken in (-limit/2, limit/2]."""
    r = (x + m - pc) % limit
    if r > limit // 2:
        r += m - limit
    r += pc
    if r >= m:
        r -= m
    return r


@_jit
def _operand_limited(core, owner, track, cur, pc, value, irb, mode, m, rlim, wlim, is_b=False):
    """One operand under read/write limits (pMARS ``-DRWLIMIT``): (write address, read address,
    A-field, B-field of the target). For the A-operand ``irb`` is the register's B-field (an
    immediate A-operand's B-value); the B-operand reads its fields from core."""
    if mode == _IMM:
        if is_b:
            return pc, pc, np.int64(core[_CELL * pc + 1]), np.int64(core[_CELL * pc + 2])
        return pc, pc, value, irb
    raddr = _fold(pc + value, pc, rlim, m)
    waddr = _fold(pc + value, pc, wlim, m)
    if mode == _DIR:
        return waddr, raddr, np.int64(core[_CELL * raddr + 1]), np.int64(core[_CELL * raddr + 2])
    # the pointer cell: read-folded for * and @, write-folded for the modes that change it
    if mode >= _ADEC:
        raddr = waddr
    ptr = raddr
    afield = (mode & 1) == 0
    t = np.int64(core[_CELL * ptr + 1]) if afield else np.int64(core[_CELL * ptr + 2])
    if mode in (_ADEC, _BDEC):
        t = t - 1 if t > 0 else m - 1
        if afield:
            core[_CELL * ptr + 1] = t
        else:
            core[_CELL * ptr + 2] = t
    if is_b:
        waddr = _fold(waddr + t, pc, wlim, m)
        raddr = _fold(raddr + t, pc, rlim, m)
    else:  # pMARS folds the A-pointer with the read limit only
        raddr = _fold(raddr + t, pc, rlim, m)
        waddr = raddr
    va = np.int64(core[_CELL * raddr + 1])
    vb = np.int64(core[_CELL * raddr + 2])
    if mode >= _AINC:
        t = t + 1 if t + 1 < m else 0
        if afield:
            core[_CELL * ptr + 1] = t
        else:
            core[_CELL * ptr + 2] = t
    if track and mode >= _ADEC:
        owner[ptr] = cur
    return waddr, raddr, va, vb


@_jit
def _tie_certain(qs, cq, left, remaining):
    """True if no living warrior can die in the ``remaining`` steps: each has more processes than the
    ceil(remaining / left) turns it can still get, and a turn kills at most one process."""
    turns = (remaining + left - 1) // left
    w = cq
    while True:
        if qs[w + _QCOUNT] <= turns:
            return False
        w = qs[w + _QNEXT]
        if w == cq:
            return True


def _make_run(limited: bool, track: bool, legacy: bool = False, hill: bool = False) -> Any:
    """The kernel, specialised at compile time for read/write limits, owner tracking, (``legacy``)
    the older way of reading a ``#`` B-operand (see :class:`Mars`'s ``compat``) and (``hill``) the
    94nop hill's two warriors in a core of 8,000 with 8,000 processes each as constants."""

    # fmt: off
    def run(core, wide, owner, queue, qs, st, death, pspace, pslot, lastres, m, maxproc, psize, rlim, wlim,
            limit, shortcut):
        # fmt: on
        """Execute up to ``limit`` steps of the loaded round; returns the number executed.

        ``core``: 4 integers per cell (instruction word, A-field, B-field, unused); ``wide``: the same
        memory as uint64 (whole-cell copies). ``owner``: the
        last writer of each cell (when ``track``). ``queue``: one ring of ``W * maxproc + 1`` PCs holding
        every warrior's FIFO (pMARS's layout); ``qs``: per warrior head, tail, process count and the
        next living warrior's row. ``st``: the round state vector.
        ``death``: step of death per warrior (-1: alive). ``pspace``: ``psize`` cells per P-space
        slot, ``pslot``: each warrior's slot, ``lastres``: each warrior's P-cell 0.
        """
        if st[_DONE] != 0:
            return 0
        cq = st[_CUR] * 4  # the current warrior's row in qs
        # pMARS's step counter at the start of step n (0-based, this call) is c0 - n
        c0 = st[_CYCLE]
        left = st[_LEFT]
        steps0 = st[_STEPS]
        nwar = st[_NWAR]
        qsize = queue.shape[0]
        if hill:  # constants let the compiler fold the wrap-arounds and free registers
            m = _HILL_CORE
            qsize = 2 * _HILL_PROCESSES + 1
        m1 = m - 1
        stop = min(limit, c0)
        k = stop  # steps left in this call: stop - k steps are done
        done = False
        while k > 0:
            k -= 1
            h = qs[_U(cq + _QHEAD)]
            pc = np.int64(queue[_U(h)])
            h += 1
            if h == qsize:
                h = 0
            qs[_U(cq + _QHEAD)] = h
            ir = core[_U(_CELL * pc)]
            ira = np.int64(core[_U(_CELL * pc + 1)])
            irb = np.int64(core[_U(_CELL * pc + 2)])
            if not limited and ir == _MOV_I_DIRECT:  # MOV.I $a, $b (an imp): no operand side effects
                addra = pc + ira
                if addra >= m:
                    addra -= m
                addrb = pc + irb
                if addrb >= m:
                    addrb -= m
                if core.itemsize == 2:  # (a compile-time constant) a cell is one 64-bit word
                    wide[_U(addrb)] = wide[_U(addra)]
                else:
                    wide[_U(2 * addrb)] = wide[_U(2 * addra)]
                    wide[_U(2 * addrb + 1)] = wide[_U(2 * addra + 1)]
                if track:
                    owner[_U(addrb)] = cq >> 2
                t = qs[_U(cq + _QTAIL)]
                v = pc + 1
                queue[_U(t)] = v if v != m else 0
                t += 1
                qs[_U(cq + _QTAIL)] = t if t != qsize else 0
            else:
                amode = ir & 7
                bmode = (ir >> 3) & 7
                ba = bb = 0

                # ---- A-operand: aa/ab = A-/B-field of the A-target, addra = its (read) address.
                # Few branches: the indirect modes pick the pointer's field by address arithmetic
                # (A-field for * { }, B-field for @ < >; mode & 1), not by one branch per mode.
                if limited:
                    _, addra, aa, ab = _operand_limited(
                        core, owner, track, cq >> 2, pc, ira, irb, amode, m, rlim, wlim
                    )
                elif amode == _DIR:
                    addra = pc + ira
                    if addra >= m:
                        addra -= m
                    aa = np.int64(core[_U(_CELL * addra + 1)])
                    ab = np.int64(core[_U(_CELL * addra + 2)])
                elif amode == _IMM:
                    addra = pc
                    aa = ira
                    ab = irb
                else:
                    ptr = pc + ira
                    if ptr >= m:
                        ptr -= m
                    f = _CELL * ptr + 1 + (amode & 1)  # the pointer field
                    t = np.int64(core[_U(f)])
                    if amode >= _ADEC:
                        if amode < _AINC:  # { <: decrement first
                            t = t - 1 if t > 0 else m1
                            core[_U(f)] = t
                        if track:
                            owner[_U(ptr)] = cq >> 2
                    addra = ptr + t
                    if addra >= m:
                        addra -= m
                    aa = np.int64(core[_U(_CELL * addra + 1)])
                    ab = np.int64(core[_U(_CELL * addra + 2)])
                    if amode >= _AINC:  # } >: increment after the read
                        t += 1
                        core[_U(f)] = t if t != m else 0
                # ---- B-operand: ba/bb = A-/B-field of the B-target, addrb/raddrb = its write/read address
                if limited:
                    addrb, raddrb, ba, bb = _operand_limited(
                        core, owner, track, cq >> 2, pc, irb, 0, bmode, m, rlim, wlim, True
                    )
                elif bmode == _DIR:
                    addrb = pc + irb
                    if addrb >= m:
                        addrb -= m
                elif bmode == _IMM:
                    addrb = pc
                else:
                    ptr = pc + irb
                    if ptr >= m:
                        ptr -= m
                    f = _CELL * ptr + 1 + (bmode & 1)
                    t = np.int64(core[_U(f)])
                    if bmode >= _ADEC:
                        if bmode < _AINC:
                            t = t - 1 if t > 0 else m1
                            core[_U(f)] = t
                        if track:
                            owner[_U(ptr)] = cq >> 2
                    addrb = ptr + t
                    if addrb >= m:
                        addrb -= m
                    if bmode >= _AINC:  # } >: the B-target's fields are read before the increment
                        ba = np.int64(core[_U(_CELL * addrb + 1)])
                        bb = np.int64(core[_U(_CELL * addrb + 2)])
                        t += 1
                        core[_U(f)] = t if t != m else 0
                if not limited:
                    raddrb = addrb

                if (ir >> 6) == _MOV_I:  # fast path for the commonest instruction
                    core[_U(_CELL * addrb)] = core[_U(_CELL * addra)]
                    core[_U(_CELL * addrb + 3)] = core[_U(_CELL * addra + 3)]
                    core[_U(_CELL * addrb + 1)] = aa
                    core[_U(_CELL * addrb + 2)] = ab
                    if track:
                        owner[_U(addrb)] = cq >> 2
                    t = qs[_U(cq + _QTAIL)]
                    v = pc + 1
                    queue[_U(t)] = v if v != m else 0
                    t += 1
                    qs[_U(cq + _QTAIL)] = t if t != qsize else 0
                else:
                    # the B-target's fields (registers): } and > read them before the increment; the other
                    # modes change nothing between the B-operand and here, so they are read now
                    case = core[_U(_CELL * pc + 3)]  # _CASE[ir >> 6], kept in the cell: one switch (_CASES)
                    if not limited and bmode < _AINC and case >= _NEEDS_B:
                        if legacy and bmode == _IMM:  # pMARS 0.9.2 / exhaust: the instruction register's
                            ba = ira
                            bb = irb
                        else:  # pMARS 0.9.4 reads a '#' B-operand's cell in core, after the A-operand
                            ba = np.int64(core[_U(_CELL * addrb + 1)])
                            bb = np.int64(core[_U(_CELL * addrb + 2)])

                    # ---- execute. tgt: the address queued next (PC+1 unless a jump or skip changes it);
                    # kind 1: the process dies, kind 2: split (queue tgt, then the A-target)
                    kind = 0
                    tgt = pc + 1
                    if tgt == m:
                        tgt = 0
                    if case == 0:  # DAT
                        kind = 1
                    elif case == 1:  # MOV.A
                        core[_U(_CELL * addrb + 1)] = aa
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 2:  # MOV.B
                        core[_U(_CELL * addrb + 2)] = ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 3:  # MOV.AB
                        core[_U(_CELL * addrb + 2)] = aa
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 4:  # MOV.BA
                        core[_U(_CELL * addrb + 1)] = ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 5:  # MOV.F
                        core[_U(_CELL * addrb + 1)] = aa
                        core[_U(_CELL * addrb + 2)] = ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 6:  # MOV.X
                        core[_U(_CELL * addrb + 2)] = aa
                        core[_U(_CELL * addrb + 1)] = ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 7:  # JMP
                        tgt = addra
                    elif case == 8:  # SPL
                        kind = 2
                    elif case == 9:  # NOP
                        pass
                    elif case == 14:  # DJN.A
                        v = np.int64(core[_U(_CELL * addrb + 1)]) - 1
                        core[_U(_CELL * addrb + 1)] = v if v >= 0 else m1
                        if ba != 1:
                            tgt = addra
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 15:  # DJN.B
                        v = np.int64(core[_U(_CELL * addrb + 2)]) - 1
                        core[_U(_CELL * addrb + 2)] = v if v >= 0 else m1
                        if bb != 1:
                            tgt = addra
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 16:  # DJN.F
                        v = np.int64(core[_U(_CELL * addrb + 2)]) - 1
                        core[_U(_CELL * addrb + 2)] = v if v >= 0 else m1
                        v = np.int64(core[_U(_CELL * addrb + 1)]) - 1
                        core[_U(_CELL * addrb + 1)] = v if v >= 0 else m1
                        if ba != 1 or bb != 1:
                            tgt = addra
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 17:  # JMZ.A
                        if ba == 0:
                            tgt = addra
                    elif case == 18:  # JMZ.B
                        if bb == 0:
                            tgt = addra
                    elif case == 19:  # JMZ.F
                        if ba == 0 and bb == 0:
                            tgt = addra
                    elif case == 20:  # JMN.A
                        if ba != 0:
                            tgt = addra
                    elif case == 21:  # JMN.B
                        if bb != 0:
                            tgt = addra
                    elif case == 22:  # JMN.F
                        if ba != 0 or bb != 0:
                            tgt = addra
                    elif case == 23:  # SEQ.A
                        if ba == aa:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 24:  # SEQ.B
                        if bb == ab:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 25:  # SEQ.AB
                        if bb == aa:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 26:  # SEQ.BA
                        if ba == ab:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 27:  # SEQ.F
                        if ba == aa and bb == ab:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 28:  # SEQ.X
                        if bb == aa and ba == ab:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 29:  # SEQ.I
                        if core[_U(_CELL * raddrb)] == core[_U(_CELL * addra)] and ba == aa and bb == ab:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 30:  # SNE.A
                        if ba != aa:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 31:  # SNE.B
                        if bb != ab:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 32:  # SNE.AB
                        if bb != aa:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 33:  # SNE.BA
                        if ba != ab:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 34:  # SNE.F
                        if not (ba == aa and bb == ab):
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 35:  # SNE.X
                        if not (bb == aa and ba == ab):
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 36:  # SNE.I
                        same = core[_U(_CELL * raddrb)] == core[_U(_CELL * addra)]
                        if not (same and ba == aa and bb == ab):
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 37:  # SLT.A
                        if aa < ba:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 38:  # SLT.B
                        if ab < bb:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 39:  # SLT.AB
                        if aa < bb:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 40:  # SLT.BA
                        if ab < ba:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 41:  # SLT.F
                        if aa < ba and ab < bb:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 42:  # SLT.X
                        if aa < bb and ab < ba:
                            tgt += 1
                            if tgt == m:
                                tgt = 0
                    elif case == 10:  # LDP.A
                        i = aa % psize
                        if i != 0:
                            core[_U(_CELL * addrb + 1)] = pspace[_U(pslot[_U(cq >> 2)] * psize + i)]
                        else:
                            core[_U(_CELL * addrb + 1)] = lastres[_U(cq >> 2)]
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 11:  # LDP.B
                        i = ab % psize
                        if i != 0:
                            core[_U(_CELL * addrb + 2)] = pspace[_U(pslot[_U(cq >> 2)] * psize + i)]
                        else:
                            core[_U(_CELL * addrb + 2)] = lastres[_U(cq >> 2)]
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 12:  # LDP.AB
                        i = aa % psize
                        if i != 0:
                            core[_U(_CELL * addrb + 2)] = pspace[_U(pslot[_U(cq >> 2)] * psize + i)]
                        else:
                            core[_U(_CELL * addrb + 2)] = lastres[_U(cq >> 2)]
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 13:  # LDP.BA
                        i = ab % psize
                        if i != 0:
                            core[_U(_CELL * addrb + 1)] = pspace[_U(pslot[_U(cq >> 2)] * psize + i)]
                        else:
                            core[_U(_CELL * addrb + 1)] = lastres[_U(cq >> 2)]
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 43:  # STP.A
                        i = ba % psize
                        if i != 0:
                            pspace[_U(pslot[_U(cq >> 2)] * psize + i)] = aa
                        else:
                            lastres[_U(cq >> 2)] = aa
                    elif case == 44:  # STP.B
                        i = bb % psize
                        if i != 0:
                            pspace[_U(pslot[_U(cq >> 2)] * psize + i)] = ab
                        else:
                            lastres[_U(cq >> 2)] = ab
                    elif case == 45:  # STP.AB
                        i = bb % psize
                        if i != 0:
                            pspace[_U(pslot[_U(cq >> 2)] * psize + i)] = aa
                        else:
                            lastres[_U(cq >> 2)] = aa
                    elif case == 46:  # STP.BA
                        i = ba % psize
                        if i != 0:
                            pspace[_U(pslot[_U(cq >> 2)] * psize + i)] = ab
                        else:
                            lastres[_U(cq >> 2)] = ab
                    elif case == 47:  # ADD.A
                        v = ba + aa
                        if v >= m:
                            v -= m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 48:  # ADD.B
                        v = bb + ab
                        if v >= m:
                            v -= m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 49:  # ADD.AB
                        v = bb + aa
                        if v >= m:
                            v -= m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 50:  # ADD.BA
                        v = ba + ab
                        if v >= m:
                            v -= m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 51:  # ADD.F
                        v = ba + aa
                        if v >= m:
                            v -= m
                        core[_U(_CELL * addrb + 1)] = v
                        v = bb + ab
                        if v >= m:
                            v -= m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 52:  # ADD.X
                        v = bb + aa
                        if v >= m:
                            v -= m
                        core[_U(_CELL * addrb + 2)] = v
                        v = ba + ab
                        if v >= m:
                            v -= m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 53:  # SUB.A
                        v = ba - aa
                        if v < 0:
                            v += m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 54:  # SUB.B
                        v = bb - ab
                        if v < 0:
                            v += m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 55:  # SUB.AB
                        v = bb - aa
                        if v < 0:
                            v += m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 56:  # SUB.BA
                        v = ba - ab
                        if v < 0:
                            v += m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 57:  # SUB.F
                        v = ba - aa
                        if v < 0:
                            v += m
                        core[_U(_CELL * addrb + 1)] = v
                        v = bb - ab
                        if v < 0:
                            v += m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 58:  # SUB.X
                        v = bb - aa
                        if v < 0:
                            v += m
                        core[_U(_CELL * addrb + 2)] = v
                        v = ba - ab
                        if v < 0:
                            v += m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 59:  # MUL.A
                        v = (ba * aa) % m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 60:  # MUL.B
                        v = (bb * ab) % m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 61:  # MUL.AB
                        v = (bb * aa) % m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 62:  # MUL.BA
                        v = (ba * ab) % m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 63:  # MUL.F
                        v = (ba * aa) % m
                        core[_U(_CELL * addrb + 1)] = v
                        v = (bb * ab) % m
                        core[_U(_CELL * addrb + 2)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 64:  # MUL.X
                        v = (bb * aa) % m
                        core[_U(_CELL * addrb + 2)] = v
                        v = (ba * ab) % m
                        core[_U(_CELL * addrb + 1)] = v
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 65:  # DIV.A
                        if aa == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 1)] = ba // aa
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 66:  # DIV.B
                        if ab == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 2)] = bb // ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 67:  # DIV.AB
                        if aa == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 2)] = bb // aa
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 68:  # DIV.BA
                        if ab == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 1)] = ba // ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 69:  # DIV.F
                        if aa == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 1)] = ba // aa
                        if ab == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 2)] = bb // ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 70:  # DIV.X
                        if aa == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 2)] = bb // aa
                        if ab == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 1)] = ba // ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 71:  # MOD.A
                        if aa == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 1)] = ba % aa
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 72:  # MOD.B
                        if ab == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 2)] = bb % ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 73:  # MOD.AB
                        if aa == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 2)] = bb % aa
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 74:  # MOD.BA
                        if ab == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 1)] = ba % ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 75:  # MOD.F
                        if aa == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 1)] = ba % aa
                        if ab == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 2)] = bb % ab
                        if track:
                            owner[_U(addrb)] = cq >> 2
                    elif case == 76:  # MOD.X
                        if aa == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 2)] = bb % aa
                        if ab == 0:
                            kind = 1
                        else:
                            core[_U(_CELL * addrb + 1)] = ba % ab
                        if track:
                            owner[_U(addrb)] = cq >> 2

                    if kind == 1:
                        c = qs[_U(cq + _QCOUNT)] - 1
                        qs[_U(cq + _QCOUNT)] = c
                        if c == 0:  # the warrior is dead: rescale the budget as pMARS does
                            n = stop - k
                            death[_U(cq >> 2)] = steps0 + n
                            c = c0 - n + 1
                            c = c - 1 - (c - 1) // left
                            left -= 1
                            if left < 2:
                                done = True
                                break
                            nx = qs[_U(cq + _QNEXT)]
                            p = nx
                            while qs[_U(p + _QNEXT)] != cq:
                                p = qs[_U(p + _QNEXT)]
                            qs[_U(p + _QNEXT)] = nx
                            cq = nx
                            c -= 1  # pMARS's `continue` into `while (--cycle)`
                            if c <= 0:
                                done = True
                                break
                            c0 = c + n
                            stop = min(limit, c0)
                            k = stop - n
                    else:
                        t = qs[_U(cq + _QTAIL)]
                        queue[_U(t)] = tgt
                        t += 1
                        if t == qsize:
                            t = 0
                        if kind == 2:
                            c = qs[_U(cq + _QCOUNT)]
                            if c < maxproc:
                                c += 1
                                qs[_U(cq + _QCOUNT)] = c
                                queue[_U(t)] = addra
                                t += 1
                                if t == qsize:
                                    t = 0
                            if shortcut:
                                rem = c0 - (stop - k)
                                if c * left > rem and _tie_certain(qs, cq, left, rem):
                                    qs[_U(cq + _QTAIL)] = t
                                    k = stop - c0  # nobody can die in the steps left: the round is a tie
                                    done = True
                                    break
                        qs[_U(cq + _QTAIL)] = t
            cq = qs[_U(cq + _QNEXT)]

        n = stop - k
        if not done and n == c0:
            done = True  # the step budget is spent
        st[_CUR] = cq >> 2
        st[_CYCLE] = c0 - n
        st[_LEFT] = left
        st[_STEPS] = steps0 + n
        if done:
            st[_DONE] = 1
            survivors = 0
            for w in range(nwar):
                if qs[w * 4 + _QCOUNT] > 0:
                    survivors += 1
            for w in range(nwar):
                lastres[w] = survivors if qs[w * 4 + _QCOUNT] > 0 else 0
        return n

    return _jit(run)


# The four specialisations (compiled on first use). The battle kernels call them by these global
# names: numba caches a function that calls a global dispatcher, not one that closes over it.
_run_plain = _make_run(limited=False, track=False)
_run_hill = _make_run(limited=False, track=False, hill=True)
_run_limits = _make_run(limited=True, track=False)
_run_owner = _make_run(limited=False, track=True)
_run_owner_limits = _make_run(limited=True, track=True)
_run_legacy = _make_run(limited=False, track=False, legacy=True)
_run_legacy_owner = _make_run(limited=False, track=True, legacy=True)


def _runner(limited: bool, track: bool, legacy: bool = False) -> Any:
    if legacy:
        return _run_legacy_owner if track else _run_legacy
    if track:
        return _run_owner_limits if limited else _run_owner
    return _run_limits if limited else _run_plain


# fmt: off
@_jit
def _load(core, wide, owner, track, queue, qs, st, death, code_ins, code_a, code_b, code_off, code_len,
          starts, positions, first, m, maxproc, budget):
    # fmt: on
    """Clear the core, copy the warriors to ``positions``, give each one process and reset the round."""
    nwar = code_len.shape[0]
    if core.itemsize == 2:  # (a compile-time constant) one 64-bit word per cell
        wide[:] = _EMPTY_WIDE16
    else:
        for x in range(m):
            wide[2 * x] = _EMPTY_WIDE32
            wide[2 * x + 1] = 0
    if track:
        owner[:] = -1
    for w in range(nwar):
        p = positions[w]
        for k in range(code_len[w]):
            addr = (p + k) % m
            core[_CELL * addr] = code_ins[code_off[w] + k]
            core[_CELL * addr + 1] = code_a[code_off[w] + k]
            core[_CELL * addr + 2] = code_b[code_off[w] + k]
            core[_CELL * addr + 3] = _CASE[code_ins[code_off[w] + k] >> 6]
            if track:
                owner[addr] = w
        qs[w * 4 + _QCOUNT] = 1
        qs[w * 4 + _QNEXT] = ((w + 1) % nwar) * 4
        death[w] = -1
    # pMARS's one ring of W * processes + 1 entries: the k-th warrior to move (k = 0: ``first``) owns
    # ``processes`` slots below the top free slot; each one's queue slides into the slots that the
    # warrior before it has just left
    qsize = queue.shape[0]
    for k in range(nwar):
        w = (first + k) % nwar
        head = qsize - 1 - (k + 1) * maxproc
        queue[head] = (positions[w] + starts[w]) % m
        qs[w * 4 + _QHEAD] = head
        qs[w * 4 + _QTAIL] = head + 1
    st[_CUR] = first
    st[_CYCLE] = budget
    st[_LEFT] = nwar
    st[_STEPS] = 0
    st[_DONE] = 0
    st[_NWAR] = nwar


def _make_battle(limited: bool, hill: bool = False) -> Any:
    # fmt: off
    def kernel(code_ins, code_a, code_b, code_off, code_len, starts, positions, m, maxproc, budget, pspace,
               pslot, lastres, psize, rlim, wlim, shortcut, out_steps, out_death):
        # fmt: on
        """All rounds of a battle: round r loads at ``positions[r]`` and is started by warrior r mod W."""
        nwar = code_len.shape[0]
        core = np.empty(_CELL * m, code_ins.dtype)
        wide = core.view(np.uint64)
        owner = np.empty(1, np.int32)
        queue = np.empty(nwar * maxproc + 1, code_ins.dtype)
        qs = np.empty(nwar * 4, np.int64)
        st = np.zeros(_STATE_SIZE, np.int64)
        death = np.empty(nwar, np.int64)
        for r in range(positions.shape[0]):
            _load(core, wide, owner, False, queue, qs, st, death, code_ins, code_a, code_b, code_off,
                  code_len, starts, positions[r], r % nwar, m, maxproc, budget)  # fmt: skip
            if hill:
                _run_hill(core, wide, owner, queue, qs, st, death, pspace, pslot, lastres, m, maxproc,
                          psize, rlim, wlim, _UNLIMITED, shortcut)  # fmt: skip
            elif limited:
                _run_limits(core, wide, owner, queue, qs, st, death, pspace, pslot, lastres, m, maxproc,
                            psize, rlim, wlim, _UNLIMITED, shortcut)  # fmt: skip
            else:
                _run_plain(core, wide, owner, queue, qs, st, death, pspace, pslot, lastres, m, maxproc,
                           psize, rlim, wlim, _UNLIMITED, shortcut)  # fmt: skip
            out_steps[r] = st[_STEPS]
            for w in range(nwar):
                out_death[r, w] = death[w]

    return _jit(kernel)


_battle_plain = _make_battle(limited=False)
_battle_limits = _make_battle(limited=True)
_battle_hill = _make_battle(limited=False, hill=True)


# --------------------------------------------------------------------------------------------------
# Python side: warriors, placement, results


def pmars_rng(seed: int) -> int:
    """pMARS's random generator (Park-Miller minimal standard, integer version 2)."""
    temp = 16807 * (seed % 127773) - 2836 * (seed // 127773)
    return temp + 2147483647 if temp < 0 else temp


@dataclass
class _Code:
    ins: np.ndarray
    a: np.ndarray
    b: np.ndarray
    start: int
    pin: int | None


def _encode(warrior: Any, settings: Settings, index: int) -> _Code:
    """A warrior's code as instruction words and fields (validated, values taken mod M)."""
    code = getattr(warrior, "instructions", None)
    if code is None:
        raise ValueError(f"warrior {index} has no .instructions (expected a Warrior or an (n, 6) array)")
    code = np.asarray(code, dtype=np.int64).reshape(-1, 6)
    if len(code) > settings.maxlength:
        raise RedcodeError(
            f"warrior {index} has {len(code)} instructions; the limit is {settings.maxlength}"
        )
    op, mod, am, bm = code[:, 0], code[:, 1], code[:, 2], code[:, 4]
    for name, column, size in (("opcode", op, len(OPCODES)), ("modifier", mod, 7), ("mode", am, 8)):
        if len(column) and (column.min() < 0 or column.max() >= size):
            raise ValueError(f"warrior {index} has an {name} index outside [0, {size - 1}]")
    if len(bm) and (bm.min() < 0 or bm.max() >= 8):
        raise ValueError(f"warrior {index} has a mode index outside [0, 7]")
    m = settings.coresize
    words = (op << 9) | (mod << 6) | (bm << 3) | am
    start = int(getattr(warrior, "start", 0) or 0)
    pin = getattr(warrior, "pin", None)
    return _Code(
        words.astype(np.int32),
        (code[:, 3] % m).astype(np.int32),
        (code[:, 5] % m).astype(np.int32),
        start % m,
        None if pin is None else int(pin),
    )


def _cell_dtype(m: int) -> type:
    """The core's integer type: 16 bits where every field and word fits (cores up to 65,536 cells, so
    a cell's word and fields share one 8-byte slot and the 94nop core fits in 64 KiB), else 32."""
    return np.uint16 if m <= 1 << 16 else np.int32


def _pack(codes: Sequence[_Code], m: int) -> tuple[np.ndarray, ...]:
    lengths = np.array([len(c.ins) for c in codes], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)

    def cat(name: str) -> np.ndarray:
        parts = [getattr(c, name) for c in codes]
        dtype = _cell_dtype(m)
        return np.concatenate(parts).astype(dtype) if lengths.sum() else np.zeros(1, dtype)

    starts = np.array([c.start for c in codes], dtype=np.int64)
    return cat("ins"), cat("a"), cat("b"), offsets, lengths, starts


def _pspace_slots(codes: Sequence[_Code]) -> np.ndarray:
    """pMARS ``pspace_init``: warriors with the same PIN share one P-space; the others have their own."""
    slots: list[int] = []
    by_pin: dict[int, int] = {}
    for code in codes:
        if code.pin is not None and code.pin in by_pin:
            slots.append(by_pin[code.pin])
            continue
        if code.pin is not None:
            by_pin[code.pin] = len(set(slots))
        slots.append(len(set(slots)))
    return np.array(slots, dtype=np.int64)


def _check_overlap(lengths: Sequence[int], positions: np.ndarray, m: int) -> None:
    """Raise ValueError if any two warriors' cells overlap (positions: (rounds, W))."""
    nwar = len(lengths)
    for i in range(nwar):
        for j in range(nwar):
            if i == j or lengths[i] == 0 or lengths[j] == 0:
                continue
            gap = (positions[:, j] - positions[:, i]) % m  # j's first cell, seen from i's
            bad = np.nonzero(gap < lengths[i])[0]
            if len(bad):
                r = int(bad[0])
                raise ValueError(
                    f"warriors {i} and {j} overlap (loaded at {int(positions[r, i])} and "
                    f"{int(positions[r, j])}, lengths {lengths[i]} and {lengths[j]}"
                    + (f", round {r + 1})" if len(positions) > 1 else ")")
                )


def _posit(positions: list[int], nwar: int, seed: int, m: int, d: int) -> tuple[bool, int]:
    """pMARS ``posit()``: random positions for warriors 1..W-1; (failed, seed)."""
    pos, retries1, retries2 = 1, 20, 4
    while pos < nwar:
        seed = pmars_rng(seed)
        positions[pos] = seed % (m - 2 * d + 1) + d
        i = 1
        while i < pos and abs(positions[pos] - positions[i]) >= d:
            i += 1
        if i == pos:
            pos += 1
        else:
            if not retries2:
                return True, seed
            if not retries1:
                pos = i
                retries2 -= 1
                retries1 = 20
            else:
                retries1 -= 1
    return False, seed


def _npos(positions: list[int], nwar: int, seed: int, m: int, d: int) -> int:
    """pMARS ``npos()``, the fallback when ``posit()`` gives up; returns the seed."""
    room = m - d * nwar + 1
    for i in range(1, nwar):
        seed = pmars_rng(seed)
        temp = seed % room
        j = i - 1
        while j > 0:
            if temp > positions[j]:
                break
            positions[j + 1] = positions[j]
            j -= 1
        positions[j + 1] = temp
    temp = d
    for i in range(1, nwar):
        positions[i] += temp
        temp += d
    for i in range(1, nwar):
        seed = pmars_rng(seed)
        j = seed % (nwar - i) + i
        positions[i], positions[j] = positions[j], positions[i]
    return seed


def _round_positions(nwar: int, rounds: int, seed: int, settings: Settings) -> np.ndarray:
    """Load addresses for every round (warrior 0 always at 0), drawn as pMARS does."""
    m, d = settings.coresize, settings.mindistance
    out = np.zeros((rounds, nwar), dtype=np.int64)
    if nwar == 1:
        return out
    span = m + 1 - 2 * d
    if span < 1 or (nwar > 2 and m - d * nwar + 1 < 1):
        raise ValueError(f"no room for {nwar} warriors {d} apart in a core of {m}")
    if nwar == 2:
        for r in range(rounds):
            out[r, 1] = d + seed % span
            seed = pmars_rng(seed)
        return out
    positions = [0] * nwar
    for r in range(rounds):
        failed, seed = _posit(positions, nwar, seed, m, d)
        if failed:
            seed = _npos(positions, nwar, seed, m, d)
        out[r] = positions
    return out


@dataclass(frozen=True)
class RoundResult:
    """One round of a battle."""

    index: int
    positions: tuple[int, ...]
    """Load address of each warrior."""
    first: int
    """The warrior that executed the first step."""
    steps: int
    """Instructions executed when the round ended."""
    deaths: tuple[tuple[int, int], ...]
    """``(warrior, step)`` for each warrior that died, in the order they died."""
    survivors: tuple[int, ...]

    @property
    def winner(self) -> int | None:
        """The only survivor, or None (a tie, or a single warrior that died)."""
        return self.survivors[0] if len(self.survivors) == 1 else None


@dataclass
class BattleResult:
    """Outcome of :func:`battle`.

    ``wins[i]``: rounds warrior i ended as the only survivor; ``ties``: rounds that ended with two or
    more survivors; ``losses[i]``: rounds it died in; ``scores[i]``: pMARS's score, ``(W*W-1) // S``
    points per round survived with S survivors; ``survivals[i][k]``: rounds it survived with k+1
    survivors (pMARS's ``Results:`` row); ``steps[r]``: instructions executed in round r.
    ``death_steps``: (rounds, W) array, the step each warrior died on (-1: survived);
    ``positions``: (rounds, W) load addresses; ``first_movers[r]``: who started round r.
    ``seed``: the RNG seed the placement started from; ``pspace``: each warrior's P-space after the
    battle (cell 0 = its last result).
    """

    wins: list[int]
    ties: int
    losses: list[int]
    scores: list[int]
    survivals: list[list[int]]
    steps: list[int]
    death_steps: np.ndarray
    positions: np.ndarray
    first_movers: list[int]
    seed: int
    fixed_position: int | None
    settings: Settings
    pspace: list[np.ndarray] = field(repr=False)

    @property
    def n_rounds(self) -> int:
        return len(self.steps)

    @property
    def rounds(self) -> list[RoundResult]:
        """Per-round results."""
        return [self.round(r) for r in range(self.n_rounds)]

    def round(self, r: int) -> RoundResult:
        deaths = self.death_steps[r]
        order = sorted((int(s), w) for w, s in enumerate(deaths) if s >= 0)
        return RoundResult(
            index=r,
            positions=tuple(int(p) for p in self.positions[r]),
            first=self.first_movers[r],
            steps=self.steps[r],
            deaths=tuple((w, s) for s, w in order),
            survivors=tuple(int(w) for w in np.nonzero(deaths < 0)[0]),
        )

    @property
    def winners(self) -> list[int | None]:
        """Per round: the only survivor, or None."""
        alive = self.death_steps < 0
        return [int(np.argmax(row)) if row.sum() == 1 else None for row in alive]


def _warrior_list(warriors: Any) -> list[Any]:
    if hasattr(warriors, "instructions"):
        raise ValueError("battle() takes a list of warriors, not a single warrior")
    out = list(warriors)
    if not out:
        raise ValueError("need at least one warrior")
    return out


def _initial_seed(fixed_position: int | None, seed: int | None, settings: Settings) -> int:
    if fixed_position is not None and seed is not None:
        raise ValueError("give fixed_position or seed, not both")
    if fixed_position is not None:
        fixed_position = int(fixed_position)
        if fixed_position < settings.mindistance:
            raise ValueError(
                f"fixed_position {fixed_position} is below the minimum distance {settings.mindistance} "
                "(pMARS: 'Position of warrior #2 cannot be smaller than warrior distance')"
            )
        value = fixed_position - settings.mindistance
    elif seed is not None:
        value = int(seed)
    else:
        value = secrets.randbelow(2**31 - 2) + 1
    if not 0 <= value < 2**31 - 1:
        raise ValueError(f"the RNG seed must be in [0, 2**31 - 2], got {value}")
    return value


def battle(
    warriors: Sequence[Any],
    rounds: int = 1,
    fixed_position: int | None = None,
    seed: int | None = None,
    settings: Settings | None = None,
) -> BattleResult:
    """Play ``rounds`` rounds between ``warriors`` (a list of :class:`Warrior`, or objects with
    ``.instructions`` and ``.start``) with pMARS 0.9.4's semantics (see the module docstring).

    ``fixed_position=F`` is pMARS's ``-F F``: round 1 loads warrior 2 at ``d + (F - d) mod (M+1-2d)``
    and seeds the RNG with ``F - d`` for the later rounds. ``seed`` seeds the same RNG directly;
    with neither, the seed is random and recorded in the result.
    """
    settings = settings or Settings()
    ws = _warrior_list(warriors)
    rounds = int(rounds)
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    nwar = len(ws)
    m = settings.coresize
    codes = [_encode(w, settings, i) for i, w in enumerate(ws)]
    first_seed = _initial_seed(fixed_position, seed, settings)
    positions = _round_positions(nwar, rounds, first_seed, settings)
    code_ins, code_a, code_b, offsets, lengths, starts = _pack(codes, m)
    _check_overlap([int(n) for n in lengths], positions, m)

    psize = settings.pspace
    pslot = _pspace_slots(codes)
    pspace = np.zeros(int(pslot.max() + 1) * psize, dtype=np.int64)
    lastres = np.full(nwar, m - 1, dtype=np.int64)
    out_steps = np.zeros(rounds, dtype=np.int64)
    out_death = np.zeros((rounds, nwar), dtype=np.int64)
    limited = settings.read_limit not in (None, m) or settings.write_limit not in (None, m)
    hill = not limited and (m, settings.processes, nwar) == (_HILL_CORE, _HILL_PROCESSES, 2)
    kernel = _battle_hill if hill else _battle_limits if limited else _battle_plain
    # With no STP in any warrior (opcodes are only ever copied, so none can appear), the core at the
    # end of a round is never observed: a round may stop as soon as no warrior can die any more.
    shortcut = not any(bool(np.any((c.ins >> 9) == _STP)) for c in codes)
    kernel(
        code_ins, code_a, code_b, offsets, lengths, starts, positions, m, settings.processes,
        settings.cycles * nwar, pspace, pslot, lastres, psize, settings.read_limit or m,
        settings.write_limit or m, shortcut, out_steps, out_death,
    )  # fmt: skip

    alive = out_death < 0
    n_alive = alive.sum(axis=1)
    per_survivor = (nwar * nwar - 1) // np.maximum(n_alive, 1)
    scores = (alive * per_survivor[:, None]).sum(axis=0)
    survivals = [[int(np.sum(alive[:, w] & (n_alive == k + 1))) for k in range(nwar)] for w in range(nwar)]
    wins = [int(np.sum(alive[:, w] & (n_alive == 1))) for w in range(nwar)]
    return BattleResult(
        wins=wins,
        ties=int(np.sum(n_alive >= 2)),
        losses=[int(np.sum(~alive[:, w])) for w in range(nwar)],
        scores=[int(s) for s in scores],
        survivals=survivals,
        steps=[int(s) for s in out_steps],
        death_steps=out_death,
        positions=positions,
        first_movers=[r % nwar for r in range(rounds)],
        seed=first_seed,
        fixed_position=None if fixed_position is None else int(fixed_position),
        settings=settings,
        pspace=_pspace_views(pspace, pslot, lastres, psize),
    )


def _pspace_views(pspace: np.ndarray, pslot: np.ndarray, lastres: np.ndarray, psize: int) -> list[np.ndarray]:
    out = []
    for w, slot in enumerate(pslot):
        cells = pspace[slot * psize : (slot + 1) * psize].copy()
        cells[0] = lastres[w]
        out.append(cells)
    return out


_COMPAT = ("pmars-0.9.4", "exhaust")


class Mars:
    """A MARS for stepping through a round (traces, pictures) with the kernel :func:`battle` uses.

    ``load(warriors, positions, first=0)`` clears the core and loads a round; ``run(steps)`` executes
    up to that many more instructions (all that are left when None) and returns how many ran.
    P-space (and each warrior's last result) persists from one ``load`` to the next while the
    warriors' PINs stay the same, as between the rounds of a battle; ``reset_pspace=True`` clears it.

    State: :attr:`core` ((M, 6) array), :attr:`owner` (the warrior that last wrote each cell, -1 for
    none, when ``track_owner``), :attr:`queues` (each warrior's PCs in execution order),
    :attr:`next_warrior`, :attr:`steps`, :attr:`cycles_left`, :attr:`alive`, :attr:`done`,
    :attr:`survivors`, :meth:`pspace`.

    ``compat="exhaust"`` reads a ``#`` B-operand's fields from the instruction register instead of
    from core, as pMARS 0.9.2 and exhaust(-ma) do. The two differ only when the A-operand's
    increment or decrement changes the executing cell itself (``}0``, ``>0``, ``{0`` or ``<0`` as
    the A-operand) and the B-operand is ``#``; it exists for differential tests against exhaust-ma.
    """

    def __init__(
        self, settings: Settings | None = None, *, track_owner: bool = True, compat: str = "pmars-0.9.4"
    ):
        self.settings = settings or Settings()
        m = self.settings.coresize
        self.track_owner = bool(track_owner)
        if compat not in _COMPAT:
            raise ValueError(f"compat must be one of {sorted(_COMPAT)}, got {compat!r}")
        self.compat = compat
        limited = self.settings.read_limit not in (None, m) or self.settings.write_limit not in (None, m)
        if compat == "exhaust" and limited:
            raise ValueError("compat='exhaust' has no read/write limits")
        self._run = _runner(limited, self.track_owner, compat == "exhaust")
        # one slot of 4 integers per cell (word, A-field, B-field, unused): a cell is one cache line
        self._core = np.zeros(_CELL * m, dtype=_cell_dtype(m))
        self._core[0::_CELL] = _EMPTY
        self._ins, self._a, self._b = self._core[0::_CELL], self._core[1::_CELL], self._core[2::_CELL]
        self._wide = self._core.view(np.uint64)
        self._owner = np.full(m if self.track_owner else 1, -1, dtype=np.int32)
        self._st = np.zeros(_STATE_SIZE, dtype=np.int64)
        self._st[_DONE] = 1
        self._nwar = 0
        self._pins: tuple[int | None, ...] | None = None
        self._pspace = np.zeros(0, dtype=np.int64)
        self._pslot = np.zeros(0, dtype=np.int64)
        self._lastres = np.zeros(0, dtype=np.int64)
        self.positions: tuple[int, ...] = ()
        self.first = 0

    # ---- loading and running
    def load(
        self,
        warriors: Sequence[Any],
        positions: Sequence[int] | None = None,
        first: int = 0,
        *,
        reset_pspace: bool = False,
    ) -> None:
        """Load a round: warrior i at ``positions[i]`` (default: only one warrior, at 0), its one
        process at position + start offset; ``first`` moves first."""
        s = self.settings
        m = s.coresize
        ws = _warrior_list(warriors)
        nwar = len(ws)
        if positions is None:
            if nwar != 1:
                raise ValueError("positions are needed for more than one warrior")
            positions = [0]
        if len(positions) != nwar:
            raise ValueError(f"{nwar} warriors but {len(positions)} positions")
        if not 0 <= int(first) < nwar:
            raise ValueError(f"first must be in [0, {nwar - 1}], got {first}")
        pos = np.array([int(p) % m for p in positions], dtype=np.int64)
        codes = [_encode(w, s, i) for i, w in enumerate(ws)]
        code_ins, code_a, code_b, offsets, lengths, starts = _pack(codes, m)
        _check_overlap([int(n) for n in lengths], pos[None, :], m)

        pins = tuple(c.pin for c in codes)
        if reset_pspace or pins != self._pins or nwar != self._nwar:
            self._pslot = _pspace_slots(codes)
            self._pspace = np.zeros(int(self._pslot.max() + 1) * s.pspace, dtype=np.int64)
            self._lastres = np.full(nwar, m - 1, dtype=np.int64)
            self._pins = pins
        self._nwar = nwar
        self._queue = np.zeros(nwar * s.processes + 1, dtype=self._core.dtype)
        self._qs = np.zeros(nwar * 4, dtype=np.int64)
        self._death = np.full(nwar, -1, dtype=np.int64)
        _load(
            self._core, self._wide, self._owner, self.track_owner, self._queue, self._qs, self._st,
            self._death, code_ins, code_a, code_b, offsets, lengths, starts, pos, int(first), m,
            s.processes, s.cycles * nwar,
        )  # fmt: skip
        self.positions = tuple(int(p) for p in pos)
        self.first = int(first)

    def run(self, steps: int | None = None) -> int:
        """Execute up to ``steps`` more instructions (None: to the end of the round)."""
        if self._nwar == 0:
            raise ValueError("load warriors first")
        limit = _UNLIMITED if steps is None else int(steps)
        if limit < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        s = self.settings
        m = s.coresize
        rlim, wlim = s.read_limit or m, s.write_limit or m
        # fmt: off
        n = self._run(
            self._core, self._wide, self._owner, self._queue, self._qs, self._st, self._death,
            self._pspace, self._pslot, self._lastres, m, s.processes, s.pspace, rlim, wlim, limit, False,
        )
        # fmt: on
        return int(n)

    def step(self) -> bool:
        """Execute one instruction; True while the round goes on."""
        self.run(1)
        return not self.done

    # ---- state
    @property
    def steps(self) -> int:
        """Instructions executed in this round."""
        return int(self._st[_STEPS])

    @property
    def done(self) -> bool:
        return bool(self._st[_DONE])

    @property
    def n_warriors(self) -> int:
        return self._nwar

    @property
    def processes(self) -> list[int]:
        return [int(c) for c in self._qs[_QCOUNT::4]]

    @property
    def alive(self) -> list[bool]:
        return [bool(c > 0) for c in self._qs[_QCOUNT::4]]

    @property
    def survivors(self) -> list[int]:
        return [w for w in range(self._nwar) if self._qs[w * 4 + _QCOUNT] > 0]

    @property
    def death_steps(self) -> list[int]:
        """The step each warrior died on (-1: alive)."""
        return [int(s) for s in self._death]

    @property
    def next_warrior(self) -> int | None:
        """The warrior that executes the next step (None once the round is over)."""
        return None if self.done else int(self._st[_CUR])

    @property
    def cycles_left(self) -> int:
        """pMARS's "Cycle" display: ceil(remaining step budget / living warriors)."""
        left = max(int(self._st[_LEFT]), 1)
        return -(-int(self._st[_CYCLE]) // left)

    def queue(self, warrior: int) -> list[int]:
        """The warrior's process queue in execution order (head first)."""
        head, count = int(self._qs[warrior * 4 + _QHEAD]), int(self._qs[warrior * 4 + _QCOUNT])
        idx = (head + np.arange(count)) % len(self._queue)
        return [int(x) for x in self._queue[idx]]

    @property
    def queues(self) -> list[list[int]]:
        return [self.queue(w) for w in range(self._nwar)]

    @property
    def core(self) -> np.ndarray:
        """A copy of the core as an (M, 6) int64 array of (opcode, modifier, a_mode, a_value,
        b_mode, b_value) rows."""
        words = self._ins.astype(np.int64)
        return np.stack(
            [words >> 9, (words >> 6) & 7, words & 7, self._a, (words >> 3) & 7, self._b], axis=1
        ).astype(np.int64)

    def cell(self, address: int) -> tuple[int, int, int, int, int, int]:
        a = int(address) % self.settings.coresize
        w = int(self._ins[a])
        return (w >> 9, (w >> 6) & 7, w & 7, int(self._a[a]), (w >> 3) & 7, int(self._b[a]))

    @property
    def raw_core(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Live, read-only views of the core (instruction words, A-fields, B-fields; uint16 up to
        65,536 cells, else int32). A word is ``opcode << 9 | modifier << 6 | b_mode << 3 | a_mode``.
        They follow the running round without copies; load warriors to change the core."""
        views = []
        for array in (self._ins, self._a, self._b):
            view = array.view()
            view.flags.writeable = False
            views.append(view)
        return views[0], views[1], views[2]

    @property
    def owner(self) -> np.ndarray:
        """Per cell, the warrior that last wrote it (loading counts; -1: never written)."""
        if not self.track_owner:
            raise ValueError("this Mars was made with track_owner=False")
        return self._owner.copy()

    def pspace(self, warrior: int) -> np.ndarray:
        """A copy of the warrior's P-space; cell 0 is its last result (M-1 before the first round)."""
        return _pspace_views(self._pspace, self._pslot, self._lastres, self.settings.pspace)[warrior]
