"""The MARS (redqueen.envs.corewar.mars) against pMARS 0.9.4's golden data and the exhaust-ma C MARS.

* every golden battle (result and step count) and every golden trace (queues, next warrior, core
  cells, cycle counter) with the warriors read from pMARS's own load files;
* random and mutated warriors against exhaust-ma: same winner, and for decided battles the same
  final core and P-space;
* exhaust-ma's published 10-pair regression table (``-F 4000 -r 1000``): pMARS's RNG positions and
  the rotation of the first mover;
* scores, P-space across rounds (PIN sharing, the last result), more than two warriors, read/write
  limits, errors, and the numba cache fallback.

The golden files are read at test time; nothing from them is copied here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from redqueen.envs.corewar import BattleResult, Mars, RedcodeError, Settings, Warrior, battle
from redqueen.envs.corewar.core import MOD, MODE, MODES, MODIFIERS, OP, OPCODES, parse_load_file
from redqueen.envs.corewar.mars import pmars_rng

SHARED = Path(__file__).resolve().parent / "data" / "corewar"  # a copy of shared/corewar (pMARS-made)
GOLDEN = SHARED / "golden"
needs_golden = pytest.mark.skipif(
    not (GOLDEN / "battles.jsonl").is_file(), reason=f"the pMARS golden data is not at {GOLDEN}"
)


def _settings(raw: dict) -> Settings:
    return Settings(
        coresize=raw["coresize"], cycles=raw["cycles"], processes=raw["processes"],
        maxlength=raw["maxlength"], mindistance=raw["mindistance"], pspacesize=raw.get("pspacesize"),
    )  # fmt: skip


_loaded: dict[tuple[str, bool], Warrior] = {}


def _golden_warrior(name: str, two_warriors: bool = True) -> Warrior:
    """pMARS's load file of programs/NAME.red (``constants`` as assembled for a 2-warrior battle)."""
    key = (name, two_warriors)
    if key not in _loaded:
        info = json.loads((GOLDEN / "assembled" / "index.json").read_text())["programs"][name]
        text = info.get("load_file_with_2_warriors") if two_warriors else None
        text = text or (GOLDEN / "assembled" / f"{name}.txt").read_text()
        _loaded[key] = parse_load_file(text, Settings(), name=name)
    return _loaded[key]


def _row(text: str) -> tuple[int, ...]:
    """'MOV.I $0, $1' as an instruction row (values as written, taken mod 8000 by the caller)."""
    m = re.fullmatch(r"(\w+)\.(\w+)\s+(\S)\s*(-?\d+)\s*,\s*(\S)\s*(-?\d+)", text.strip())
    assert m, text
    op, mod, am, a, bm, b = m.groups()
    return (OP[op], MOD[mod], MODE[am], int(a), MODE[bm], int(b))


def _warrior(*lines: str, start: int = 0, pin: int | None = None, m: int = 8000) -> Warrior:
    rows = np.array([_row(line) for line in lines], dtype=np.int64)
    rows[:, 3] %= m
    rows[:, 5] %= m
    return Warrior(rows, start=start, pin=pin)


EMPTY = (OP["DAT"], MOD["F"], MODE["$"], 0, MODE["$"], 0)


def _cells(mars: Mars) -> set[tuple]:
    """The non-empty cells as the traces list them."""
    return {
        (i, f"{OPCODES[r[0]]}.{MODIFIERS[r[1]]}", MODES[r[2]], int(r[3]), MODES[r[4]], int(r[5]))
        for i, r in enumerate(mars.core.tolist())
        if tuple(r) != EMPTY
    }


# ---- golden battles and traces --------------------------------------------------------------------


@needs_golden
def test_every_golden_battle():
    battles = [json.loads(line) for line in (GOLDEN / "battles.jsonl").read_text().splitlines() if line]
    assert len(battles) == 1208
    wrong = []
    for b in battles:
        result = battle(
            [_golden_warrior(b["a"]), _golden_warrior(b["b"])], rounds=1, fixed_position=b["position"],
            settings=_settings(b["settings"]),
        )  # fmt: skip
        winner = result.winners[0]
        got = "tie" if winner is None else "ab"[winner]
        assert result.first_movers == [0]
        if (int(result.positions[0, 1]), got, result.steps[0]) != (b["b_address"], b["result"], b["steps"]):
            wrong.append((b["a"], b["b"], b["position"], b["result"], b["steps"], got, result.steps[0]))
    assert not wrong, f"{len(wrong)} of {len(battles)} battles differ from pMARS, e.g. {wrong[:5]}"


TRACES = sorted((GOLDEN / "traces").glob("*.json")) if GOLDEN.is_dir() else []


def _trace_warriors(trace: dict, settings: Settings) -> list[Warrior]:
    """The warriors of a trace: pMARS's load file where the trace uses the default settings (its
    snapshot at step 0 then checks the loading), else the code pMARS loaded (from that snapshot),
    because programs such as spl_limit assemble differently with another process limit."""
    if replace(settings, pspacesize=None) == Settings():
        return [_golden_warrior(w["program"], len(trace["warriors"]) == 2) for w in trace["warriors"]]
    loaded = {c[0]: c for c in trace["snapshots"][0]["core"]}
    warriors = []
    for w in trace["warriors"]:
        rows = []
        for k in range(w["length"]):
            c = loaded.get((w["load_address"] + k) % settings.coresize)
            rows.append(EMPTY if c is None else _row(f"{c[1]} {c[2]}{c[3]}, {c[4]}{c[5]}"))
        start = (w["start_pc"] - w["load_address"]) % settings.coresize
        warriors.append(Warrior(np.array(rows, dtype=np.int64), start=start, settings=settings))
    return warriors


@needs_golden
@pytest.mark.parametrize("path", TRACES, ids=[p.stem for p in TRACES])
def test_golden_trace(path: Path):
    trace = json.loads(path.read_text())
    settings = _settings(trace["settings"])
    mars = Mars(settings)
    mars.load(
        _trace_warriors(trace, settings), [w["load_address"] for w in trace["warriors"]],
        first=trace["first_mover"],
    )  # fmt: skip
    for snap in trace["snapshots"]:
        mars.run(snap["steps"] - mars.steps)
        where = f"{path.stem} after {snap['steps']} steps"
        assert mars.steps == snap["steps"], where
        assert mars.next_warrior == snap["next_warrior"], where
        for w in snap["warriors"]:
            assert mars.queue(w["index"]) == w["queue"], f"{where}: queue of warrior {w['index']}"
            assert mars.processes[w["index"]] == w["processes"], where
        assert _cells(mars) == {tuple(c) for c in snap["core"]}, where
        if "cycles_left_display" in snap:
            assert mars.cycles_left == snap["cycles_left_display"], where
        if "pspace" in snap:
            cells = mars.pspace(0)
            assert [[i, int(v)] for i, v in enumerate(cells) if i == 0 or v] == snap["pspace"], where
    mars.run()
    outcome = trace["outcome"]
    assert mars.steps == outcome["steps"]
    deaths = sorted((s, w) for w, s in enumerate(mars.death_steps) if s >= 0)
    assert [{"step": s, "warrior": w} for s, w in deaths] == outcome["deaths"]
    if len(trace["warriors"]) == 2:
        assert (mars.survivors == [0, 1]) == (outcome["result"] == "tie")


# ---- differential fuzzing against exhaust-ma --------------------------------------------------------

# exhaust-ma's encodings (insn.h): opcode, modifier and mode numbers
_EX_ORDER = [
    "DAT", "SPL", "MOV", "DJN", "ADD", "JMZ", "SUB", "SEQ", "SNE", "SLT", "JMN", "JMP", "NOP", "MUL", "MOD",
    "DIV", "LDP", "STP",
]  # fmt: skip
_EX_OP = {name: k for k, name in enumerate(_EX_ORDER)} | {"CMP": _EX_ORDER.index("SEQ")}
_EX_MOD = {"F": 0, "A": 1, "B": 2, "AB": 3, "BA": 4, "X": 5, "I": 6}
_EX_MODE = {"$": 0, "#": 1, "@": 2, "<": 3, ">": 4, "*": 5, "{": 6, "}": 7}
TO_EX_OP = np.array([_EX_OP[o] for o in OPCODES])
TO_EX_MOD = np.array([_EX_MOD[x] for x in MODIFIERS])
TO_EX_MODE = np.array([_EX_MODE[x] for x in MODES])
FROM_EX_OP = np.array(
    [OPCODES.index(o) for o, _ in sorted(_EX_OP.items(), key=lambda kv: kv[1]) if o != "CMP"]
)
FROM_EX_MOD = np.argsort(TO_EX_MOD)
FROM_EX_MODE = np.argsort(TO_EX_MODE)


class _Exhaust:
    """exhaust-ma's simulator through its cffi bindings: load, run one round, read core and P-space."""

    def __init__(self, settings: Settings):
        import _exhaust_ma

        self.lib, self.ffi, self.settings = _exhaust_ma.lib, _exhaust_ma.ffi, settings
        s = settings
        self.core = self.lib.sim_alloc_bufs2(2, s.coresize, s.processes, s.cycles, s.pspace)
        assert self.core != self.ffi.NULL

    def _code(self, w: Warrior):
        code = self.ffi.new("insn_t[]", max(1, len(w)))
        i = w.instructions
        words = (
            (TO_EX_OP[i[:, 0]] << 9)
            | (TO_EX_MOD[i[:, 1]] << 6)
            | (TO_EX_MODE[i[:, 4]] << 3)
            | TO_EX_MODE[i[:, 2]]
        )
        for k in range(len(w)):
            setattr(code[k], "in", int(words[k]))
            code[k].a, code[k].b = int(i[k, 3]), int(i[k, 5])
        return code

    def battle(
        self, a: Warrior, b: Warrior, position: int
    ) -> tuple[int | None, np.ndarray, list[np.ndarray]]:
        lib, m = self.lib, self.settings.coresize
        lib.sim_clear_core()
        lib.sim_clear_pspaces()
        lib.sim_load_warrior(0, self._code(a), len(a))
        lib.sim_load_warrior(position, self._code(b), len(b))
        starts = self.ffi.new("field_t[]", [a.start % m, (position + b.start) % m])
        deaths = self.ffi.new("unsigned int[]", 2)
        alive = lib.sim_mw(2, starts, deaths)
        winner = None if alive == 2 else 1 - deaths[0]
        raw = np.frombuffer(
            self.ffi.buffer(self.core, 6 * m), dtype=[("a", "<u2"), ("b", "<u2"), ("in", "<u2")]
        )
        w = raw["in"].astype(np.int64)
        core = np.stack(
            [FROM_EX_OP[w >> 9], FROM_EX_MOD[(w >> 6) & 7], FROM_EX_MODE[w & 7], raw["a"],
             FROM_EX_MODE[(w >> 3) & 7], raw["b"]], axis=1,
        )  # fmt: skip
        pspace = [
            np.array([lib.pspace_get(lib.sim_get_pspace(k), j) for j in range(self.settings.pspace)])
            for k in range(2)
        ]
        return winner, core, pspace


FUZZ_OPS = [o for o in range(len(OPCODES)) if OPCODES[o] != "CMP"]  # exhaust-ma reads CMP as SEQ
FUZZ_OPS += [OP[o] for o in ("MOV", "MOV", "SPL", "SPL", "JMP", "DJN", "ADD", "SEQ", "SNE")]  # live longer


def _field(rng: np.random.Generator, m: int) -> int:
    r = rng.random()
    if r < 0.6:
        return int(rng.integers(-12, 13)) % m
    return int(rng.integers(-300, 301)) % m if r < 0.8 else int(rng.integers(0, m))


def _random_row(rng: np.random.Generator, m: int) -> list[int]:
    op = int(rng.choice(FUZZ_OPS))
    return [
        op,
        int(rng.integers(0, 7)),
        int(rng.integers(0, 8)),
        _field(rng, m),
        int(rng.integers(0, 8)),
        _field(rng, m),
    ]


def _fuzz_warrior(rng: np.random.Generator, m: int, golden: list[Warrior]) -> Warrior:
    if golden and rng.random() < 0.4:  # a golden program with a few mutations
        w = golden[int(rng.integers(len(golden)))]
        code = w.instructions[:20].copy()
        code[code[:, 0] == OP["CMP"], 0] = OP["SEQ"]
        for _ in range(int(rng.integers(1, 4))):
            k, j = int(rng.integers(len(code))), int(rng.integers(6))
            code[k, j] = _random_row(rng, m)[j]
        return Warrior(code, start=min(w.start, len(code) - 1))
    n = int(rng.integers(1, 21))
    return Warrior(np.array([_random_row(rng, m) for _ in range(n)]), start=int(rng.integers(n)))


def test_random_battles_agree_with_exhaust_ma():
    """400 one-round battles of random and mutated warriors (any opcode including LDP/STP, any
    modifier and mode, start offsets) at random positions, with a short cycle limit and a small
    process limit so that some battles reach it. exhaust-ma must give the same winner; for decided
    battles also the same final core and P-space (its ties may stop early: it ends a round once a
    tie is certain). ``compat="exhaust"`` reads ``#`` B-operands as exhaust-ma does (see Mars)."""
    pytest.importorskip("exhaust_ma")
    settings = Settings(cycles=4000, processes=64)
    exhaust = _Exhaust(settings)
    golden = [_golden_warrior(p.stem) for p in sorted((GOLDEN / "assembled").glob("*.txt"))] if TRACES else []
    rng = np.random.default_rng(2026)
    mars = Mars(settings, track_owner=False, compat="exhaust")
    decided = same_core = 0
    for k in range(400):
        a, b = _fuzz_warrior(rng, settings.coresize, golden), _fuzz_warrior(rng, settings.coresize, golden)
        position = int(rng.integers(settings.mindistance, settings.coresize - settings.mindistance + 1))
        mars.load([a, b], [0, position], reset_pspace=True)
        mars.run()
        ours = mars.survivors[0] if len(mars.survivors) == 1 else None
        theirs, core, pspace = exhaust.battle(a, b, position)
        assert ours == theirs, f"battle {k} at {position}: redqueen {ours}, exhaust-ma {theirs}\n{a}\n{b}"
        if theirs is not None:
            decided += 1
            same_core += np.array_equal(mars.core, core) and all(
                np.array_equal(mars.pspace(i), pspace[i]) for i in range(2)
            )
    assert decided > 200 and same_core == decided


def test_hill_kernel_agrees_with_the_general_kernel():
    """battle() runs 2-warrior battles on the 94nop hill with a kernel specialised for its sizes; on
    random and mutated warriors it must give the general kernel's survivors and step counts."""
    settings = Settings()
    golden = [_golden_warrior(p.stem) for p in sorted((GOLDEN / "assembled").glob("*.txt"))] if TRACES else []
    rng = np.random.default_rng(94)
    mars = Mars(settings, track_owner=False)
    decided = 0
    for k in range(60):
        a, b = _fuzz_warrior(rng, settings.coresize, golden), _fuzz_warrior(rng, settings.coresize, golden)
        position = int(rng.integers(settings.mindistance, settings.coresize - settings.mindistance + 1))
        result = battle([a, b], fixed_position=position, settings=settings)
        mars.load([a, b], [0, int(result.positions[0, 1])], reset_pspace=True)
        mars.run()
        if result.ties == 1:  # battle() may stop a certain tie early
            assert len(mars.survivors) == 2, f"battle {k}"
        else:
            assert [w for w in (0, 1) if result.wins[w]] == mars.survivors, f"battle {k}"
            assert result.steps[0] == mars.steps, f"battle {k}"
            decided += 1
    assert decided >= 20


def test_hash_immediate_b_operand_reads_core_as_pmars_094():
    """pMARS 0.9.4 reads a '#' B-operand's fields from core after the A-operand's increment;
    pMARS 0.9.2 and exhaust-ma use the instruction register (compat='exhaust')."""
    # }0 increments the A-field of the ADD itself (0 -> 1) before the '#' B-operand is read
    w = _warrior("ADD.BA }0, #0", "JMP.B $0, $0")
    for compat, expected_a in (("pmars-0.9.4", 1), ("exhaust", 0)):
        mars = Mars(compat=compat)
        mars.load([w], [0])
        mars.run(1)
        # ADD.BA: B-target's A-field (1 in core, 0 in the register) + A-target's B-field (0)
        assert mars.cell(0)[3] == expected_a, compat


# ---- multi-round battles: pMARS's RNG, rotation, scores, P-space --------------------------------------

RC = None
try:
    import importlib.resources

    RC = importlib.resources.files("exhaust_ma") / "exhaust-ma"
    if not (RC / "README.md").is_file():
        RC = None
except Exception:  # exhaust-ma not installed
    RC = None


def _rc_warrior(name: str) -> Warrior:
    """exhaust-ma's .rc load files: pMARS load files with a START label and ``ORG START``."""
    lines, labels, org = [], {}, "0"
    for raw in (RC / name).read_text().splitlines():
        words = raw.split()
        if not words:
            continue
        if words[0].upper() == "ORG":
            org = words[1]
        elif words[0].upper() == "END":
            break
        else:
            if "." not in words[0]:
                labels[words[0]] = len(lines)
                raw = raw.replace(words[0], "", 1)
            lines.append(raw)
    start = labels[org] if org in labels else int(org)
    return parse_load_file(f"ORG {start}\n" + "\n".join(lines) + "\nEND\n")


@pytest.mark.skipif(RC is None, reason="exhaust-ma (with its .rc warriors and README) is not installed")
def test_exhaust_ma_regression_table():
    """exhaust-ma's README table (pmars -bkF 4000 -r 1000, W L T for 10 pairs; pMARS 0.9.4 gives the
    same): round 1 at 4000, later rounds at pMARS's RNG positions, the first mover alternating."""
    readme = (RC / "README.md").read_text().split("AMD K6-2")[0]
    rows = re.findall(
        r"^\s*(\w+) vs\s+(\w+)\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+(\d+)\s+(\d+)\s+(\d+)\s*$", readme, re.M
    )
    assert len(rows) == 10
    files = {"Fixed": "fixed.rc", "Jaguar": "jaguar.rc", "Stalker": "stalker.rc", "nPaperII": "npaper2.rc"}
    for a, b, wins, losses, ties in rows:
        result = battle([_rc_warrior(files[a]), _rc_warrior(files[b])], rounds=1000, fixed_position=4000)
        assert (result.wins[0], result.wins[1], result.ties) == (int(wins), int(losses), int(ties)), (a, b)
        assert result.scores == [3 * result.wins[0] + result.ties, 3 * result.wins[1] + result.ties]


def test_pmars_rng_is_park_miller():
    # the minimal standard generator's published check: seed 1, 10000 steps -> 1043618065
    s = 1
    for _ in range(10000):
        s = pmars_rng(s)
    assert s == 1043618065
    assert pmars_rng(0) == 0


def test_positions_and_first_movers_over_rounds():
    imp = _warrior("MOV.I $0, $1")
    s = Settings(cycles=200)
    r = battle([imp, imp], rounds=7, fixed_position=4321, settings=s)
    seed = 4321 - s.mindistance
    expected = []
    for _ in range(7):
        expected.append(s.mindistance + seed % (s.coresize + 1 - 2 * s.mindistance))
        seed = pmars_rng(seed)
    assert [int(p) for p in r.positions[:, 1]] == expected and list(r.positions[:, 0]) == [0] * 7
    assert r.first_movers == [0, 1, 0, 1, 0, 1, 0]
    assert r.seed == 4321 - s.mindistance and r.fixed_position == 4321
    # seed= starts the same generator: fixed_position=F is seed F - d
    again = battle([imp, imp], rounds=7, seed=4321 - s.mindistance, settings=s)
    assert np.array_equal(again.positions, r.positions)
    # F above M - d wraps as pMARS's -F does
    assert battle([imp, imp], fixed_position=7950).positions[0, 1] == 149


def test_first_mover_rotation_decides_suicide_pairs():
    """suicide (DAT first) against itself: the warrior that moves first dies on step 1."""
    dat = _warrior("DAT.F $0, $0")
    r = battle([dat, dat], rounds=4, fixed_position=1000)
    assert r.winners == [1, 0, 1, 0] and r.steps == [1, 1, 1, 1]
    assert r.wins == [2, 2] and r.ties == 0 and r.losses == [2, 2] and r.scores == [6, 6]


def test_random_seed_is_recorded_and_reproduces():
    w = _warrior("ADD.AB #4, $3", "MOV.I $2, @2", "JMP.B $-2, $0", "DAT.F #0, #0")
    s = Settings(cycles=2000)
    first = battle([w, w], rounds=20, settings=s)
    assert isinstance(first, BattleResult) and first.seed >= 1
    again = battle([w, w], rounds=20, seed=first.seed, settings=s)
    assert again.steps == first.steps and np.array_equal(again.positions, first.positions)
    assert first.n_rounds == 20 and len(first.rounds) == 20


def test_scores_and_round_results():
    sitter, suicide = _warrior("JMP.B $0, $0"), _warrior("DAT.F $0, $0")
    r = battle([sitter, suicide, sitter], rounds=3, seed=5)
    # every round: the suicide dies on its first turn, the two sitters tie
    assert r.wins == [0, 0, 0] and r.ties == 3 and r.losses == [0, 3, 0]
    assert r.scores == [3 * (9 - 1) // 2, 0, 3 * (9 - 1) // 2]
    assert r.survivals == [[0, 3, 0], [0, 0, 0], [0, 3, 0]]
    first = r.rounds[0]
    assert first.survivors == (0, 2) and first.winner is None and first.deaths[0][0] == 1
    two = battle([sitter, suicide], rounds=2, fixed_position=500)
    assert two.scores == [6, 0] and two.winners == [0, 0] and two.rounds[1].first == 1


def test_budget_rescaled_when_a_warrior_dies():
    """pMARS: cycle = cycle - 1 - (cycle - 1) / warriorsLeft--, then one more step off."""
    sitter, suicide = _warrior("JMP.B $0, $0"), _warrior("DAT.F $0, $0")
    cycles = 100
    r = battle([suicide, sitter, sitter], fixed_position=2000, settings=Settings(cycles=cycles))
    c = 3 * cycles  # the budget when the suicide dies on step 1
    c = c - 1 - (c - 1) // 3 - 1  # the steps left after that step
    assert r.steps == [1 + c] and r.ties == 1
    assert r.death_steps[0].tolist() == [1, -1, -1]


def test_one_warrior_runs_until_it_dies_or_the_budget_ends():
    s = Settings(cycles=500)
    assert battle([_warrior("MOV.I $0, $1")], settings=s).steps == [500]
    r = battle([_warrior("JMP.B $2, $0", "DAT.F $0, $0", "DAT.F $0, $0")], rounds=2, settings=s)
    assert r.steps == [2, 2] and r.losses == [2] and r.scores == [0]


def test_pspace_persists_and_pins_share():
    """writer: P[2] = 77 on its first step; reader: dies if it finds P[2] non-zero."""
    writer = _warrior("STP.AB #77, #2", "JMP.B $0, $0", pin=7)
    reader = _warrior("LDP.AB #2, $3", "JMN.B $3, $2", "JMP.B $0, $0", "DAT.F $0, $0", "DAT.F $0, $0", pin=7)
    shared = battle([writer, reader], rounds=4, fixed_position=3000)
    assert shared.winners == [0, 0, 0, 0]  # round 1: the writer moves first; later P[2] stays 77
    assert int(shared.pspace[1][2]) == 77 and int(shared.pspace[0][0]) == 1 and int(shared.pspace[1][0]) == 0
    private = battle([writer, Warrior(reader.instructions, start=0, pin=8)], rounds=4, fixed_position=3000)
    assert private.ties == 4 and int(private.pspace[1][2]) == 0 and int(private.pspace[0][2]) == 77
    assert [int(p[0]) for p in private.pspace] == [2, 2]  # the last result: survived with 2 alive


def test_pspace_counts_rounds_and_starts_with_minus_one():
    """LDP from P[0] in round 1 reads M-1; a counter in P[1] counts the rounds."""
    counter = _warrior(
        "LDP.AB #1, $4",  # cnt.B = P[1]
        "ADD.AB #1, $3",
        "STP.B  $2, #1",  # P[1] = cnt.B
        "JMP.B  $0, $0",
        "DAT.F  $0, $0",  # cnt
    )
    sitter = _warrior("JMP.B $0, $0")
    r = battle([counter, sitter], rounds=5, fixed_position=2000, settings=Settings(cycles=100))
    assert int(r.pspace[0][1]) == 5 and r.ties == 5
    mars = Mars(Settings(cycles=50))
    mars.load([_warrior("LDP.AB #0, $1", "JMP.B $0, $0")], [0])
    mars.run(1)
    assert mars.cell(1)[5] == 7999 and int(mars.pspace(0)[0]) == 7999
    mars.run()
    assert mars.done and mars.steps == 50
    mars.load([_warrior("LDP.AB #0, $1", "JMP.B $0, $0")], [0])  # the next round of the same battle
    assert int(mars.pspace(0)[0]) == 1  # survived alone
    mars.run(1)
    assert mars.cell(1)[5] == 1


def test_write_limit_folds_the_target():
    """With write limit 100, offset 60 folds to 60 - 100 = -40 (pMARS -DRWLIMIT)."""
    w = _warrior("MOV.I $0, $60", "JMP.B $0, $0")
    mars = Mars(Settings(write_limit=100, read_limit=100))
    mars.load([w], [1000])
    mars.run(1)
    assert mars.cell(960) == mars.cell(1000) and mars.cell(1060) == EMPTY
    plain = Mars()
    plain.load([w], [1000])
    plain.run(1)
    assert plain.cell(1060) == plain.cell(1000)
    same = battle(
        [w, w], fixed_position=3000, settings=Settings(cycles=50, read_limit=8000, write_limit=8000)
    )
    assert same.ties == 1


def test_mars_stepping_state():
    imp = _warrior("MOV.I $0, $1")
    spl = _warrior("SPL.B $0, $0", "JMP.B $-1, $0")
    mars = Mars(Settings(processes=4))
    mars.load([imp, spl], [0, 4000], first=1)
    assert mars.next_warrior == 1 and mars.queues == [[0], [4000]] and mars.steps == 0
    assert mars.owner[0] == 0 and mars.owner[4000] == 1 and mars.owner[4001] == 1 and mars.owner[5] == -1
    mars.run(2)
    assert mars.queues == [[1], [4001, 4000]] and mars.next_warrior == 1
    assert mars.owner[1] == 0
    for _ in range(20):
        assert mars.step()
    assert mars.processes[1] == 4 and mars.alive == [True, True]
    assert mars.raw_core[0][7] == mars.raw_core[0][0]  # the imp's copies
    assert mars.core.shape == (8000, 6)


def test_bad_input_is_refused():
    imp = _warrior("MOV.I $0, $1")
    with pytest.raises(ValueError, match="at least one warrior"):
        battle([])
    with pytest.raises(RedcodeError, match="limit"):
        battle([Warrior(np.tile(imp.instructions, (101, 1))), imp])
    with pytest.raises(ValueError, match="minimum distance"):
        battle([imp, imp], fixed_position=99)
    with pytest.raises(ValueError, match="not both"):
        battle([imp, imp], fixed_position=200, seed=3)
    with pytest.raises(ValueError, match="overlap"):
        Mars().load([_warrior("JMP.B $0, $0", "DAT.F $0, $0"), imp], [0, 1])
    with pytest.raises(ValueError, match="overlap"):
        battle(
            [Warrior(np.tile(imp.instructions, (10, 1))), imp],
            fixed_position=5,
            settings=Settings(mindistance=5),
        )
    with pytest.raises(ValueError, match="positions"):
        Mars().load([imp, imp])
    with pytest.raises(ValueError, match="opcode"):
        battle([Warrior(np.array([[19, 0, 0, 0, 0, 0]]))])
    with pytest.raises(ValueError, match="compat"):
        Mars(compat="pmars-0.8")


def test_no_writable_numba_cache_still_works(tmp_path: Path):
    """With no usable cache location numba cannot cache; the module must compile in memory."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "file" / "x"), OMP_NUM_THREADS="1")
    env["NUMBA_CACHE_LOCATOR_CLASSES"] = "_UserProvidedCacheLocator"  # the one for NUMBA_CACHE_DIR
    (tmp_path / "file").write_text("a file, so no folder can be made under it")
    script = (
        "from redqueen.envs.corewar import mars\n"
        "assert type(mars._run_plain._cache).__name__ == 'NullCache'\n"
        "assert mars._fold(7990, 7990, 100, 8000) == 7990 and mars._fold(60, 0, 100, 8000) == 7960\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
