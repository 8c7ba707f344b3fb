;redcode-94
;name Dwarf
;author redqueen
;strategy A stone: it drops a DAT bomb on every fourth cell of the core, forever.
;strategy Anything that does not move and is at least four cells long is eventually hit.
;assert CORESIZE % 4 == 0

; The bomb (the last cell) doubles as the pointer: its B-field is the offset, from the bomb
; cell, of the next cell to hit. Every pass adds 4 to it and then copies the bomb to where it
; points. Because the core size is a multiple of 4 and the code is exactly 4 cells long, the
; cells hit are bomb+4, bomb+8, ... which never include the three instructions (they sit at
; bomb-3 .. bomb-1); after a full lap the pointer comes back to 0 and the bomb is copied onto
; itself, which changes nothing, and the next lap begins.
;
; Speed: one bomb every 3 instructions. A warrior whose process walks onto a bomb dies.

step    equ     4

loop    add.ab  #step, bomb     ; aim at the next cell, step cells further on
        mov.i   bomb, @bomb     ; copy the bomb there (B-indirect through the bomb's own B-field)
        jmp     loop            ; and again
bomb    dat.f   #0, #0          ; the bomb, and the pointer in its B-field

        end     loop
