;redcode-94
;name Thread
;author redqueen
;strategy A silk-style paper: eight processes run the same code in lockstep, so one pass
;strategy copies all eight cells at once (one cell each) and starts eight processes in the
;strategy copy, which is at once a complete, running, eight-process paper.
;assert CORESIZE >= 800

; The launcher's three SPL 1 make 8 processes that reach `reset` one after the other, so from
; then on the eight take turns: all eight run `reset`, then all eight run `copy`, and so on.
;
;   reset  every process writes the same fresh pointers into `ptr` (harmless repetition);
;   copy   MOV.I {ptr, <ptr: each process steps both pointers back one cell and copies one
;          cell, from `ptr` (the last) back to `reset` (the first): eight processes, eight cells;
;   fork   each process starts one process at ptr + ptr.B, the copy's `reset`: the copy gets
;          eight processes, in the same lockstep (the copy needs no launcher);
;   shift  each adds 183 to the offset in `init`: 8 x 183 = 1464 further for the next copy;
;   loop   back to reset.
;
; A pass costs 40 instructions (8 processes x 5) and makes a new 8-cell paper. Copies made
; before `shift` carry the parent's offset, so each line of copies keeps spreading over the core.

first   equ     2339            ; offset of the first copy
shift   equ     183             ; x 8 per pass

launch  spl.b   1, $0
        spl.b   1, $0
        spl.b   1, $0           ; 8 processes, one after another at `reset`
reset   mov.i   init, ptr
copy    mov.i   {ptr, <ptr
fork    spl.b   @ptr, $0
        add.ab  #shift, init
        jmp.b   reset, $0
spare   dat.f   #0, #0          ; fills the body to eight cells (one per process)
init    dat.f   #1, #first + 1
ptr     dat.f   #1, #first + 1  ; copy pointers: A = source, B = destination (relative to ptr)

        end     launch
