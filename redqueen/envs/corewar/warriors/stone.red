;redcode-94
;name Millstone
;author redqueen
;strategy A self-splitting mod-4 stone: a SPL #0 keeps feeding processes into a loop that
;strategy drops DAT bombs on every fourth cell, in an order scattered over the whole core.
;strategy Losing the SPL (even to its own bomb) only stops the feeding, not the bombing.
;assert CORESIZE % 4 == 0

; The step 3236 is a multiple of 4 and 3236 / 4 = 809 shares no factor with 8000 / 4 = 2000,
; so the bombs land on every fourth cell counted from the bomb (a "mod-4" pattern), 2000 of them
; per lap, in an order that spreads them over the core: after n bombs no gap on the lattice is
; much wider than 6 x 8000 / n cells.
;
; Layout: the bomb (its B-field is the pointer) is four cells after the SPL, so the only cells of
; the stone on the lattice are the bomb itself (hit once a lap, by a copy of itself: no change)
; and the SPL. With this step the SPL is the 1911th of the 2000 cells of a lap to be hit; from
; then on the processes already in the loop carry on bombing (they never run the SPL again),
; so the stone keeps working, with a fixed number of processes.
;
; Every pass of the SPL queues one more process at `loop` (until the process limit, where it
; only queues `loop`). All the processes share the one pointer, so however their ADDs and MOVs
; interleave, every bomb still lands on the lattice. (More processes do not bomb faster: a
; warrior runs one instruction a turn whatever its process count.)

step    equ     3236

top     spl.b   #0, $0          ; process factory
loop    mov.i   bomb, @bomb     ; drop the bomb where its B-field points
        add.ab  #step, bomb     ; move the aim on by one step
        jmp.b   loop, $0
bomb    dat.f   #0, #step       ; bomb and pointer

        end     top
