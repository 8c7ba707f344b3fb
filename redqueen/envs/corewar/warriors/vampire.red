;redcode-94
;name Nosferatu
;author redqueen
;strategy A vampire: instead of DAT bombs it drops JMP "fangs" that send any process which
;strategy runs one into a pit in the vampire's own code. The pit makes the captured processes
;strategy split until the victim's process queue is full of them; then the vampire shuts the
;strategy pit (every captured process dies) and clears the core.
;assert CORESIZE == 8000

; A fang is JMP $a, #b where b is its offset from `fang` and a = (pit - fang) - b, so from
; wherever it is copied to, the jump lands on `pit`. ADD.F with (-step, +step) keeps that
; true while it moves the aim on by step; MOV.I copies the fang to fang + b.
;
; The pit is SPL #0 then JMP back to it: a captured process splits on every turn it gets, so
; the victim's queue fills up with pit processes and its own code barely runs any more. After
; 1700 fangs the vampire overwrites the pit with a DAT: every process in the pit, and every one
; that jumps back into it, dies. If the whole victim was captured, that is a win. The rest is
; left to a core clear like the one in Sweeper (its pointer is the first cell, so it never
; wipes the vampire itself).
;
; The step, 2988, is a multiple of 4, so the fangs land on every fourth cell counted from
; `fang`. Three cells of the vampire lie on that lattice (fang-4: the JMP of the clear, fang-8:
; the DJN, fang-12: the clear's pointer); with this step the first fang that would land on one
; of them is the 1751st, later than the last one (1700).

step    equ     2988
fangs   equ     1700
len     equ     (fang - ptr + 1)

ptr     dat.f   #0, #len        ; the clear's pointer
start   add.f   incr, fang      ; aim the fang one step further (and keep it pointing at the pit)
        mov.i   fang, @fang     ; drop it
        djn.b   start, #fangs   ; 1700 times
        mov.i   bomb, pit       ; shut the pit: the captured processes die there
clear   mov.i   bomb, >ptr      ; then clear the core
        mov.i   bomb, >ptr
        jmp.b   clear, $0
pit     spl.b   #0, $0          ; captured processes split here...
        jmp.b   pit, $0         ; ...and come back for more
incr    dat.f   #-step, #step
bomb    dat.f   #0, #0
fang    jmp.b   pit, #0         ; the fang: A-field = pit - here, B-field = where to drop it

        end     start
