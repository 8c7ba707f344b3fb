"""The MARS against pMARS 0.9.4's golden data (shared/corewar) and against exhaust-ma.

Every recorded battle must have pMARS's result and step count, every trace snapshot pMARS's process
queues, next warrior and core cells; and random warriors must fight exactly as in exhaust-ma (a C
MARS that matches pMARS). The programs are assembled by redqueen's own assembler.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from redqueen.envs.corewar import MODES, MODIFIERS, OPCODES, Settings, assemble
from redqueen.envs.corewar.mars import Mars, battle

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corewar"
if not SHARED.is_dir():
    pytest.skip(f"the golden Core War data is not at {SHARED}", allow_module_level=True)
PROGRAMS = SHARED / "programs"
INDEX = json.loads((SHARED / "golden" / "assembled" / "index.json").read_text())


def _settings(raw: dict) -> Settings:
    return Settings(
        coresize=raw["coresize"], cycles=raw["cycles"], processes=raw["processes"],
        maxlength=raw["maxlength"], mindistance=raw["mindistance"], pspacesize=raw.get("pspacesize"),
        warriors=raw.get("warriors", 2),
    )  # fmt: skip


_cache: dict[tuple[str, Settings], object] = {}


def _warrior(name: str, settings: Settings):
    key = (name, settings)
    if key not in _cache:
        _cache[key] = assemble((PROGRAMS / f"{name}.red").read_text(), settings)
    return _cache[key]


BATTLES = [json.loads(line) for line in (SHARED / "golden" / "battles.jsonl").read_text().splitlines()]


def test_every_golden_battle_has_pmars_result_and_steps():
    wrong = []
    for b in BATTLES:
        settings = _settings(b["settings"])
        result = battle(
            [_warrior(b["a"], settings), _warrior(b["b"], settings)],
            rounds=1, fixed_position=b["position"], settings=settings,
        )  # fmt: skip
        got = "tie" if result.ties else ("a" if result.wins[0] else "b")
        if result.positions[0, 1] != b["b_address"] or got != b["result"] or result.steps[0] != b["steps"]:
            wrong.append((b["a"], b["b"], b["position"], b["result"], b["steps"], got, result.steps[0]))
    assert len(BATTLES) == 1208
    assert not wrong, f"{len(wrong)} of {len(BATTLES)} battles differ, e.g. {wrong[:5]}"


def _cells(core: np.ndarray) -> set[tuple]:
    empty = (OPCODES.index("DAT"), MODIFIERS.index("F"), MODES.index("$"), 0, MODES.index("$"), 0)
    return {
        (i, f"{OPCODES[r[0]]}.{MODIFIERS[r[1]]}", MODES[r[2]], int(r[3]), MODES[r[4]], int(r[5]))
        for i, r in enumerate(core.tolist())
        if tuple(r) != empty
    }


TRACES = sorted((SHARED / "golden" / "traces").glob("*.json"))


@pytest.mark.parametrize("path", TRACES, ids=[p.stem for p in TRACES])
def test_trace_matches_cycle_for_cycle(path):
    trace = json.loads(path.read_text())
    settings = _settings(trace["settings"])
    warriors = [_warrior(w["program"], settings) for w in trace["warriors"]]
    mars = Mars(settings)
    mars.load(warriors, [w["load_address"] for w in trace["warriors"]], first=trace["first_mover"])
    for snap in trace["snapshots"]:
        mars.run(snap["steps"] - mars.steps)
        where = f"{path.stem} at step {snap['steps']}"
        assert mars.steps == snap["steps"], where
        for w in snap["warriors"]:
            assert mars.queue(w["index"]) == w["queue"], f"{where}: queue of warrior {w['index']}"
        if not mars.done:
            assert mars.next_warrior == snap["next_warrior"], where
        expected = {tuple(c) for c in snap["core"]}
        assert _cells(mars.core) == expected, where
        if "pspace" in snap:
            cells = mars.pspace(0)
            assert [[i, int(cells[i])] for i in range(len(cells)) if i == 0 or cells[i]] == snap["pspace"], (
                where
            )
    outcome = trace["outcome"]
    mars.run()
    assert mars.steps == outcome["steps"]
    assert [(d["warrior"], d["step"]) for d in outcome["deaths"]] == [
        (w, s) for s, w in sorted((s, w) for w, s in enumerate(mars.death_steps) if s >= 0)
    ]


# ---- differential fuzzing against exhaust-ma ------------------------------------------------------


def _random_warrior(rng: np.random.Generator) -> str:
    """Random Redcode: any opcode, modifier, modes and small or large fields; start at 0."""
    ops = [o for o in OPCODES if o not in ("LDP", "STP")]  # exhaust-ma has no P-space
    lines = []
    for _ in range(int(rng.integers(1, 16))):
        op = ops[int(rng.integers(len(ops)))]
        mod = MODIFIERS[int(rng.integers(len(MODIFIERS)))]
        a_mode, b_mode = (MODES[int(rng.integers(len(MODES)))] for _ in range(2))
        a, b = (int(rng.choice([rng.integers(-10, 11), rng.integers(-4000, 4001)])) for _ in range(2))
        lines.append(f"{op}.{mod} {a_mode}{a}, {b_mode}{b}")
    return "\n".join(lines)


def test_random_battles_agree_with_exhaust_ma():
    exhaust_ma = pytest.importorskip("exhaust_ma")
    import _exhaust_ma

    settings = Settings(cycles=8000)
    lib, ffi = _exhaust_ma.lib, _exhaust_ma.ffi
    lib.sim_alloc_bufs2(2, settings.coresize, settings.processes, settings.cycles, settings.pspace)
    core = exhaust_ma.CoreSettings(max_cycles=settings.cycles)
    starts, deaths = ffi.new("field_t[]", 2), ffi.new("unsigned int[]", 2)
    rng = np.random.default_rng(20261201)
    golden = [p.stem for p in sorted(PROGRAMS.glob("*.red")) if INDEX["programs"][p.stem]["pin"] is None]
    checked = disagree = 0
    for k in range(400):
        texts = [_random_warrior(rng), _random_warrior(rng)]
        if k % 4 == 0:  # a golden program (start 0) against a random one
            name = golden[int(rng.integers(len(golden)))]
            texts[0] = (PROGRAMS / f"{name}.red").read_text()
        # (golden programs assert the 94nop settings; both simulators get the same code either way)
        ours = [assemble(t) for t in texts]
        if any(w.start for w in ours) or any("LDP" in w.load_file() or "STP" in w.load_file() for w in ours):
            continue
        position = int(rng.integers(settings.mindistance, settings.coresize - settings.mindistance + 1))
        result = battle(ours, rounds=1, fixed_position=position, settings=settings)
        theirs = [exhaust_ma.Warrior.from_lines(core, w.load_file().splitlines()) for w in ours]
        lib.sim_clear_core()
        lib.sim_load_warrior(0, theirs[0].warrior_pt.code, theirs[0].warrior_pt.len)
        lib.sim_load_warrior(position, theirs[1].warrior_pt.code, theirs[1].warrior_pt.len)
        starts[0], starts[1] = 0, position
        alive = lib.sim_mw(2, starts, deaths)
        expected = "tie" if alive == 2 else ("b" if deaths[0] == 0 else "a")
        got = "tie" if result.ties else ("a" if result.wins[0] else "b")
        checked += 1
        disagree += got != expected
        assert got == expected, (
            f"battle {k}: redqueen {got}, exhaust-ma {expected}\n{texts[0]}\n---\n{texts[1]}"
        )
    assert checked >= 300 and disagree == 0
