;redcode-94
;name Sweeper
;author redqueen
;strategy A core clear: it writes a DAT into every cell of the core except its own code,
;strategy one cell after the other, and then keeps rewriting its own pointer forever.
;assert CORESIZE >= 8

; The first cell is the pointer (its B-field is the offset of the next cell to wipe). The
; clear starts just past its own code and walks forward. When the offset wraps round to 0 the
; pointer cell itself is wiped, which resets the offset to 0, so from then on the clear only
; ever rewrites its pointer: its instructions are never touched.
;
; Two MOVs per JMP wipe two cells for every three instructions. A SPL #0 in front makes a new
; process on every pass (up to the process limit) and they all run the same loop: a bomb that
; lands on the SPL stops only the process factory, and one on the pointer or on the bomb cell
; is harmless, so only a hit on the three loop instructions kills it.
;
; It kills every warrior that stays in one place, and imps too: an imp crawls faster than the
; clear, catches up with the wiping front from behind and runs into a freshly wiped cell.
; Replicators spread faster than it wipes and usually survive it.

ptr     dat.f   #0, #(bomb + 1 - ptr)  ; next cell to wipe, relative to ptr: start past the code
start   spl.b   #0, $0          ; process factory: every pass adds a process at `wipe`
wipe    mov.i   bomb, >ptr      ; wipe the cell ptr points at, and move the pointer on
        mov.i   bomb, >ptr      ; and the one after it
        jmp.b   wipe, $0        ; loop
bomb    dat.f   #0, #0          ; what every cell becomes

        end     start
