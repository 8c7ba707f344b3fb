;redcode-94
;name Ring of Three
;author redqueen
;strategy An imp ring: three imp processes a third of the core apart that step with 2667,
;strategy so that each one writes the cell the next one will run. Hard to kill, rarely loses.
;assert CORESIZE % 3 == 2

; 3 * 2667 = 8001, one more than the core size. An imp that copies itself 2667 cells ahead
; (MOV.I $0, $2667) and three processes running it at a, a+2667 and a+5334, in that order,
; form a ring: the process at a writes a+2667, the one at a+2667 writes a+5334, and the one at
; a+5334 writes a+8001 = a+1, which is where the first process goes next. So the ring moves
; forward one cell per three turns, and at any time the core holds three live copies of it.
; Any core size one less than a multiple of 3 works the same way, with the step (CORESIZE+1)/3.
;
; Order matters: the three processes have to run the imp at a, a+2667 and a+5334 on three
; consecutive turns of this warrior. The two SPLs make three processes; the JMPs are placed so
; that the three reach the ring in that order:
;   turn 1  launch    SPL p1          queue: launch+1, p1
;   turn 2  launch+1  SPL p3          queue: p1, launch+2, p3
;   turn 3  p1        JMP imp         queue: launch+2, p3, a
;   turn 4  launch+2  JMP imp+2667    queue: p3, a, a+2667
;   turn 5  p3        JMP imp+5334    queue: a, a+2667, a+5334
; and from turn 6 on the ring runs.

istep   equ     (CORESIZE + 1) / 3   ; 2667 in the 8000-cell core

launch  spl.b   p1, $0
        spl.b   p3, $0
        jmp.b   imp + istep, $0     ; the second point of the ring (a+2667)
p1      jmp.b   imp, $0             ; the first point (a)
p3      jmp.b   imp + 2*istep, $0   ; the third point (a+5334)
imp     mov.i   $0, $istep          ; the ring's instruction

        end     launch
