;redcode-94
;name Imp
;author redqueen
;strategy The smallest warrior there is: one MOV that copies itself one cell ahead and then
;strategy runs the copy. It never stops moving, so bombs aimed at where it was miss it.
;assert CORESIZE >= 2

; How it works: MOV.I $0, $1 copies the whole cell it is in (opcode, modifiers, modes, fields)
; to the next cell. The process then steps to that next cell, which now holds the same MOV, and
; the same thing happens again: a one-instruction program that crawls forward through the core,
; one cell per turn, forever.
;
; Strengths: it is almost impossible to kill with a stationary bomb pattern, so it turns many
; losses into ties. Weakness: it never kills anything (a warrior it runs over becomes an imp too,
; so that round ends in a tie), and a single DAT dropped just ahead of it, or an imp gate, ends it.

imp     mov.i   $0, $1

        end     imp
