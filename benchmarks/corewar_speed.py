"""Core War speed: rounds/s of redqueen's MARS against exhaust-ma (a C MARS, pMARS-exact) in one run.

The same pairs of the project's own warriors, the same positions (pMARS's ``-F 4000`` sequence:
round 1 at 4000, later rounds from pMARS's generator, the first mover alternating as pMARS does), one
core (``OMP_NUM_THREADS=1``, one process). The two simulators run alternately ``--repeats`` times,
timed by this thread's CPU time; the ratio is the median of the per-pair ratios (rounds/s are from
each one's fastest run):

* ``imp`` vs ``imp``: every round is a full-length tie (160,000 instructions);
* ``stone`` vs ``paper``: a bomber against a replicator;
* ``silk`` vs ``silk``: many processes (both papers split up to the 8,000-process limit).

Both simulators must give the same wins, losses and ties (checked). exhaust-ma gets our assembler's
load files (it reads load files only and ignores ORG, so the start offset is set on its warrior).
When the environment variable ``PMARS`` names a pMARS binary, ``pmars -b -r N -F 4000`` is timed too
(its process start-up included). Prints one line per pair with the ratio, writes
``benchmarks/results/corewar_speed.json``. Target (issue #5): ratio >= 1.0 on every pair.

    OMP_NUM_THREADS=1 python benchmarks/corewar_speed.py           # about a minute
    python benchmarks/corewar_speed.py --quick                     # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent
PAIRS = (("imp", "imp", 100), ("stone", "paper", 200), ("silk", "silk", 100))
POSITION = 4000


class Exhaust:
    """exhaust-ma's C simulator through its cffi bindings, one core allocated for the whole run."""

    def __init__(self, settings: Any):
        import _exhaust_ma
        from exhaust_ma import CoreSettings
        from exhaust_ma import Warrior as ExhaustWarrior

        self.lib, self.ffi = _exhaust_ma.lib, _exhaust_ma.ffi
        self.core = CoreSettings(
            core_size=settings.coresize, processes=settings.processes, warrior_count=2,
            max_cycles=settings.cycles, pspace_size=settings.pspace,
        )  # fmt: skip
        self.lib.sim_alloc_bufs2(2, settings.coresize, settings.processes, settings.cycles, settings.pspace)
        self._warrior = ExhaustWarrior

    def warrior(self, ours: Any) -> Any:
        w = self._warrior.from_lines(self.core, ours.load_file().splitlines())
        w.warrior_pt.start = ours.start  # exhaust-ma ignores ORG
        return w

    def battle(self, a: Any, b: Any, positions: list[int]) -> tuple[int, int, int]:
        """(a wins, b wins, ties) over the rounds, b loaded at ``positions[r]``; a starts odd rounds."""
        lib, ffi = self.lib, self.ffi
        starts, deaths = ffi.new("field_t[]", 2), ffi.new("unsigned int[]", 2)
        wins_a = wins_b = ties = 0
        for r, pos in enumerate(positions):
            lib.sim_clear_core()
            lib.sim_load_warrior(0, a.warrior_pt.code, a.warrior_pt.len)
            lib.sim_load_warrior(pos, b.warrior_pt.code, b.warrior_pt.len)
            first, second = a.warrior_pt.start, pos + b.warrior_pt.start
            a_first = r % 2 == 0
            starts[0], starts[1] = (first, second) if a_first else (second, first)
            alive = lib.sim_mw(2, starts, deaths)
            if alive == 2:
                ties += 1
            elif (deaths[0] == 0) == a_first:  # the dead one is a
                wins_b += 1
            else:
                wins_a += 1
        return wins_a, wins_b, ties


def timed(run: Any) -> tuple[float, float, Any]:
    """(CPU seconds of this thread, wall seconds, result) of one call."""
    cpu, wall = time.thread_time(), time.perf_counter()
    out = run()
    return time.thread_time() - cpu, time.perf_counter() - wall, out


def paired(repeats: int, ours: Any, theirs: Any) -> dict[str, Any]:
    """Run the two alternately ``repeats`` times. On a shared machine both the machine's speed and
    other processes' load drift; alternating the runs and taking the median of the per-pair ratios
    (CPU time of this thread, so time spent descheduled is not counted) cancels most of that."""
    rows = []
    out_ours = out_theirs = None
    for _ in range(repeats):
        c1, w1, out_ours = timed(ours)
        c2, w2, out_theirs = timed(theirs)
        rows.append((c1, w1, c2, w2))
    cpu_ours, wall_ours, cpu_theirs, wall_theirs = (sorted(col) for col in zip(*rows, strict=True))
    ratios = sorted(c2 / c1 for c1, _, c2, _ in rows)
    return {
        "ours": out_ours,
        "theirs": out_theirs,
        "ours_s": cpu_ours[0],
        "theirs_s": cpu_theirs[0],
        "ours_wall_s": wall_ours[0],
        "theirs_wall_s": wall_theirs[0],
        "ratio": ratios[len(ratios) // 2],
        "ratio_range": [ratios[0], ratios[-1]],
    }


def time_pmars(binary: str, a: str, b: str, rounds: int) -> float | None:
    from redqueen.envs.corewar import warriors

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, name in enumerate((a, b)):
            path = Path(tmp) / f"{i}_{name}.red"
            path.write_text(warriors.source(name))
            paths.append(str(path))
        command = [binary, "-b", "-r", str(rounds), "-F", str(POSITION), *paths]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        seconds = time.perf_counter() - started
    return seconds if done.returncode == 0 else None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 rounds, one repeat")
    parser.add_argument(
        "--repeats", type=int, default=None, help="alternating runs of each simulator (default 15)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "corewar_speed.json")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 15)
    if repeats < 1:
        parser.error("--repeats must be >= 1")

    from redqueen.envs.corewar import Settings, warriors
    from redqueen.envs.corewar.mars import _round_positions, battle

    settings = Settings()
    exhaust = Exhaust(settings)
    battle([warriors.load("imp")] * 2, fixed_position=POSITION)  # compile (or load) the JIT kernel first
    pmars = os.environ.get("PMARS")
    if pmars and shutil.which(pmars) is None and not Path(pmars).is_file():
        parser.error(f"PMARS={pmars!r} is not an executable")
    rows = []
    for a_name, b_name, rounds in PAIRS:
        if args.quick:
            rounds = 4
        a, b = warriors.load(a_name, settings), warriors.load(b_name, settings)
        positions = [
            int(p) for p in _round_positions(2, rounds, POSITION - settings.mindistance, settings)[:, 1]
        ]
        ea, eb = exhaust.warrior(a), exhaust.warrior(b)
        run = paired(
            repeats,
            lambda a=a, b=b, n=rounds: battle([a, b], n, POSITION, settings=settings),
            lambda ea=ea, eb=eb, p=positions: exhaust.battle(ea, eb, p),
        )
        ours, exh, ours_s, exh_s = run["ours"], run["theirs"], run["ours_s"], run["theirs_s"]
        ours_wlt = (ours.wins[0], ours.wins[1], ours.ties)
        if ours_wlt != exh:
            raise SystemExit(f"{a_name} vs {b_name}: redqueen {ours_wlt} but exhaust-ma {exh} (a, b, ties)")
        steps = sum(ours.steps)
        row: dict[str, Any] = {
            "pair": f"{a_name} vs {b_name}",
            "rounds": rounds,
            "results_a_b_ties": list(ours_wlt),
            "instructions": steps,
            "redqueen": {
                "seconds": ours_s,
                "wall_seconds": run["ours_wall_s"],
                "rounds_per_s": rounds / ours_s,
                "instructions_per_s": steps / ours_s,
            },
            "exhaust_ma": {
                "seconds": exh_s,
                "wall_seconds": run["theirs_wall_s"],
                "rounds_per_s": rounds / exh_s,
                "instructions_per_s": steps / exh_s,
            },
            "ratio": run["ratio"],
            "ratio_range": run["ratio_range"],
        }
        line = (
            f"corewar {row['pair']:<16} rounds/s: redqueen {rounds / ours_s:,.0f}, exhaust-ma "
            f"{rounds / exh_s:,.0f}, ratio {row['ratio']:.2f} (range {run['ratio_range'][0]:.2f}-"
            f"{run['ratio_range'][1]:.2f}; {steps / ours_s / 1e6:.0f}M instructions/s)"
        )
        if pmars:
            pm = time_pmars(pmars, a_name, b_name, rounds)
            if pm is not None:
                row["pmars"] = {"seconds": pm, "rounds_per_s": rounds / pm}
                row["ratio_pmars"] = pm / ours_s
                line += f"; pmars {rounds / pm:,.0f}, ratio {pm / ours_s:.2f}"
        print(line, flush=True)
        rows.append(row)
    data = {
        "benchmark": "corewar_speed",
        "quick": args.quick,
        "position": POSITION,
        "repeats": repeats,
        "settings": settings.to_dict(),
        "results": rows,
        "target": "ratio >= 1.0 against exhaust-ma on every pair",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"written to {args.out}")
    return data


if __name__ == "__main__":
    main()
