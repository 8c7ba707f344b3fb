"""The Redcode reference and example warriors the generators use, written for redqueen.

:data:`REFERENCE` is a compact ICWS'94 manual as redqueen's MARS runs it (pMARS 0.9.4 rules, the
"94nop" settings: no P-space); :func:`reference` fills in the numbers of a
:class:`~redqueen.envs.corewar.Settings`. :data:`EXAMPLES` maps a name to a short, commented warrior
of each classic kind (imp, bomber, self-splitting bomber, replicator, scanner). Every example
assembles without errors under the default settings and does what its comments say (tested).
:class:`~redqueen.trainers.red_queen.generators.LLMGenerator` shows the reference and the examples
to the model; :class:`~redqueen.trainers.red_queen.generators.MutationGenerator` may start new
warriors from the examples.
"""

from __future__ import annotations

from redqueen.envs.corewar.core import Settings

__all__ = ["EXAMPLES", "REFERENCE", "reference"]

REFERENCE = """\
# Redcode (ICWS'94) in brief

A warrior is a program of at most {maxlength} instructions. All warriors share one circular memory,
the core, of {coresize} cells; addresses wrap around (cell {coresize} is cell 0) and every address
is relative to the instruction that uses it (0 is the instruction itself, 1 the next one, -1 the one
before). Each cell holds one instruction: OPCODE.MODIFIER A-operand, B-operand. Empty cells hold
DAT.F $0, $0. Warriors take turns: every cycle each living warrior runs one instruction of one of
its processes (its process queue is first in, first out). A process that executes DAT, or divides
by zero, dies; a warrior with no processes left has lost. A round lasts at most {cycles} cycles; a
warrior may have at most {processes} processes.

## Opcodes
DAT  kill the process that executes it (also used to hold data)
MOV  copy A to B (MOV.I copies a whole instruction)
ADD, SUB, MUL  B = B op A (all numbers are kept modulo the core size)
DIV, MOD  B = B / A, B = B mod A; dividing by zero kills the process
JMP  continue at A
JMZ  jump to A if B is zero;   JMN  jump to A if B is not zero
DJN  decrement B, then jump to A if B is not zero
SEQ (also CMP)  skip the next instruction if A equals B;   SNE  skip it if they differ
SLT  skip the next instruction if A is less than B
SPL  start a new process at A (after the current one's next instruction); at the process limit
     it does nothing
NOP  do nothing

## Modifiers (which fields an instruction reads and writes)
.A  A-field to A-field        .B  B-field to B-field
.AB A-field to B-field        .BA B-field to A-field
.F  both fields, A to A and B to B     .X  both fields, crossed (A to B and B to A)
.I  the whole instruction (for MOV, SEQ, SNE; acts as .F for arithmetic)
Without a modifier: MOV, SEQ, SNE use .AB when A is immediate, .B when only B is immediate, else .I;
ADD, SUB, MUL, DIV, MOD the same with .F in place of .I; SLT .AB or .B; JMP, JMZ, JMN, DJN, SPL .B;
DAT and NOP .F.

## Addressing modes (how an operand's number finds a cell)
#  immediate: the number itself (the operand is the current instruction)
$  direct: the cell that many cells away (the default)
@  B-indirect: go to that cell, then move by its B-field
*  A-indirect: the same with its A-field
<  like @, but first decrease that B-field by one;   {  like *, first decrease the A-field
>  like @, but afterwards increase that B-field by one;   }  like *, afterwards increase the A-field
The A-operand is worked out completely (including its increments) before the B-operand.

## Pseudo-ops, labels and expressions
label   a name at the start of a line stands for that instruction's address
name EQU expression   a constant
ORG label   where execution starts (or END label);  END  ends the program
;name, ;author, ;strategy comment lines describe the warrior; ;assert expression checks a condition
Numbers may be expressions with + - * / % and parentheses; CORESIZE is predefined.

## Rules that catch people out
- JMZ, JMN, SEQ, SNE, SLT and DJN need two operands; DJN.B x, #n decrements its own B-field.
- An immediate B-operand (#) points at the current instruction: JMZ.F x, #0 tests itself.
- DAT with one operand puts it in the B-field: DAT 5 is DAT.F #0, $5.
- The program may not be longer than {maxlength} instructions, and no P-space (LDP/STP) is used.
"""
"""With the placeholders ``{coresize}``, ``{cycles}``, ``{processes}``, ``{maxlength}``; see
:func:`reference`."""


def reference(settings: Settings | None = None) -> str:
    """:data:`REFERENCE` with the numbers of ``settings`` (default: the 94nop hill's)."""
    settings = settings or Settings()
    text = REFERENCE
    for key in ("coresize", "cycles", "processes", "maxlength"):
        text = text.replace("{" + key + "}", str(getattr(settings, key)))
    return text


EXAMPLES: dict[str, str] = {
    "imp": """\
;redcode-94
;name crawler
;assert CORESIZE >= 100
;strategy the smallest warrior: copies itself one cell ahead, then runs the copy
        mov.i   $0, $1
        end
""",
    "bomber": """\
;redcode-94
;name pebble
;assert CORESIZE % 4 == 0
;strategy drops a DAT on every fourth cell; its own four lines sit between the bombs
        org     throw
throw   add.ab  #4, aim          ; move the target four cells on
        mov.i   aim, @aim        ; copy the DAT below to the target
        jmp     throw            ; and again
aim     dat     #0, #0           ; the bomb; its B-field is the target offset
        end
""",
    "splitter": """\
;redcode-94
;name gravel
;assert CORESIZE % 4 == 0
;strategy a SPL #0 engine starts process after process; each one drops a DAT and dies on the next
;strategy line; the bombs land four cells apart, so the only line of its own they hit is the DAT
step    equ     3044
        org     fork
fork    spl     #0, #0           ; queue the next line, then this line again: one more process a turn
        mov.i   stone, @stone    ; bomb the cell stone's B-field points at
        add.ab  #step, stone     ; move that pointer on (a multiple of 4)
stone   dat     #0, #step        ; the bomb; a process that gets here dies, the engine makes more
        end
""",
    "replicator": """\
;redcode-94
;name ferry
;assert CORESIZE >= 4000
;strategy copies its eight lines to a new place (last line first), starts the copy there,
;strategy and copies itself again further on, for ever
len     equ     8
hop     equ     2731
        org     start
start   mov.ab  #len, count      ; reset the line counter
        mov.a   #1, ptr          ; reset the source pointer (one past ptr, the last line)
loop    mov.i   {ptr, <ptr       ; copy one line; both pointers first move back one cell
count   djn.b   loop, #len       ; eight lines (this line's own B-field counts down)
        spl     @ptr, 0          ; ptr's B-field now points at the copy's first line: start it
        add.ab  #hop+len, ptr    ; the next copy goes further on
        jmp     start
ptr     dat     #1, #hop+len     ; A-field: source offset; B-field: destination offset
        end
""",
    "scanner": """\
;redcode-94
;name lantern
;assert CORESIZE % 4 == 0
;strategy looks at every 12th cell; a cell that is not empty gets a DAT, unless it is one of
;strategy its own lines
gap     equ     12
        org     look
ptr     dat     #0, #0           ; B-field: the cell being looked at, counted from here
look    add.ab  #gap, ptr        ; the next cell to look at
        jmz.f   look, @ptr       ; both fields zero (empty core)? keep looking
        slt.ab  #last-ptr, ptr   ; beyond our own lines? skip the next line and bomb
        jmp     look             ; one of our own lines: leave it alone
        mov.i   ptr, @ptr        ; drop a copy of ptr (a DAT) on it
last    jmp     look
        end
""",
}
"""Example warriors by kind (``;name`` in each), used in the LLM prompts and as MutationGenerator
starting points."""
