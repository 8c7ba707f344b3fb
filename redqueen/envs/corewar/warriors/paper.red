;redcode-94
;name Origami
;author redqueen
;strategy A replicator ("paper"): it copies its nine cells somewhere else, starts a process
;strategy in the copy, and starts over with a new offset. The copies do the same, so the core
;strategy fills with copies faster than most bombers can kill them.
;assert CORESIZE >= 800

; One cycle of the loop:
;   1. reset the copy pointers in `ptr` (the last cell) from `init`: A-field 1 (the source,
;      counted from ptr), B-field = 1 + the offset of the copy;
;   2. copy the nine cells from the last to the first with MOV.I {ptr, <ptr (the pre-decrements
;      step both pointers back one cell before each copy), nine times (a DJN counter). At the
;      end ptr's B-field points at the first cell of the copy;
;   3. SPL a process there (@ptr): the copy is a complete, fresh paper;
;   4. add 744 to the offset in `init`, so the next copy lands somewhere else, and loop.
;
; Each copy takes about 25 instructions. Processes (one per copy, until the process limit)
; grow exponentially at first. Copies overwrite older copies now and then, so some lines die,
; but there are always many more. Stones (Dwarf, Millstone) rarely kill it, and sooner or later
; a copy lands on the stone and wins; imps and imp rings run through its copies and tie.

first   equ     1871            ; offset of the first copy
again   equ     744             ; added to the offset after every copy
len     equ     (ptr - start + 1)

start   mov.i   init, ptr       ; 1. fresh pointers for this copy
        mov.ab  #len, count
copy    mov.i   {ptr, <ptr      ; 2. step both pointers back, copy one cell
count   djn.b   copy, #0        ;    until every cell is copied
        spl.b   @ptr, $0        ; 3. run the copy from its first cell
        add.ab  #again, init    ; 4. the next copy goes elsewhere
        jmp.b   start, $0
init    dat.f   #1, #first + 1  ; the pointers' starting values
ptr     dat.f   #1, #first + 1  ; copy pointers: A = source, B = destination (relative to ptr)

        end     start
