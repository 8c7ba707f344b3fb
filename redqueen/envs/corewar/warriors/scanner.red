;redcode-94
;name Lookout
;author redqueen
;strategy A SEQ scanner: it compares two cells 5 apart, 10 cells further on each time; where
;strategy they differ something is there, and both get a DAT. After one pass over the core it
;strategy turns into a core clear that wipes everything but itself.
;assert CORESIZE >= 100

; Empty core is DAT.F $0, $0 everywhere, so two cells that differ (SEQ.I compares the whole
; instruction) mean somebody has written there. The pair of pointers sits in `probe` itself (A-
; and B-field, relative to probe); ADD.F moves both on by 10. Checking every fifth cell finds any
; warrior of five cells or more on the first pass.
;
; Self-check without a test: the scan starts just past the end of this code and stops, by
; count, just before it would reach the start of the code again, so it never looks at (or
; bombs) itself. A find costs two bombs and costs no extra scan, because the attack returns to
; the DJN that counts the scans.
;
; After the scan, the core clear: `ptr` (the first cell) holds the offset of the next cell to
; wipe; it starts past the code, wraps round the whole core and then keeps rewriting only ptr,
; so the scanner never wipes itself. The clear gets whatever the scan missed: small warriors
; between the scanned cells, and processes that moved.

step    equ     10
gap     equ     5
len     equ     (bomb - ptr + 1)
scans   equ     ((CORESIZE - 3 - gap - (len - 2)) / step + 1)

ptr     dat.f   #0, #len        ; the clear's pointer
scan    add.f   incr, probe     ; both pointers on by one step
probe   seq.i   len - 2 - step, len - 2 - step + gap
        jmp.b   found, $0       ; they differ: attack
next    djn.b   scan, #scans    ; the same: scan on, until the whole core is done
clear   mov.i   bomb, >ptr      ; then clear: wipe, and move the pointer on
        mov.i   bomb, >ptr
        jmp.b   clear, $0
found   mov.i   bomb, *probe    ; a DAT on the A-pointer's cell
        mov.i   bomb, @probe    ; and on the B-pointer's cell
        jmp.b   next, $0
incr    dat.f   #step, #step
bomb    dat.f   #0, #0

        end     scan
