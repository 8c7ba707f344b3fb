;redcode-94
;name Portcullis
;author redqueen
;strategy A dwarf with an imp gate: two more processes sit on JMP 0, <gate and decrement a
;strategy cell just behind the code, so an imp crawling up to the code runs into a broken copy
;strategy of itself and dies, while the dwarf bombs every fourth cell.
;assert CORESIZE % 4 == 0

; An imp reaches the code from below. When it copies itself onto `gate` (two cells before the
; code, with an empty cell in between), the MOV there has B-field 1; if one of this warrior's
; decrements comes before the imp's next turn, that B-field is 0, and the imp's next instruction
; is MOV.I $0, $0: it copies itself onto itself, steps to the empty cell and dies.
;
; The warrior's turns go round its three processes: gate, dwarf, gate. Two turns in three are
; a gate's, and the dwarf's own JMP decrements the same cell on one of its three instructions,
; so the gate is shut on about 7 turns in 9: most imps and imp rings die there. The price is a
; dwarf running at a third of the speed, which is why it ties more often than Dwarf.

step    equ     4
gate    equ     (top - 2)

top     spl.b   keeper, <gate   ; a gate process...
        spl.b   keeper, <gate   ; ...and a second one; this process goes on to the dwarf
loop    add.ab  #step, bomb
        mov.i   bomb, @bomb
        jmp.b   loop, <gate
bomb    dat.f   #0, #0
keeper  jmp.b   keeper, <gate

        end     top
