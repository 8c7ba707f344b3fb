"""The library of warriors written for redqueen (``redqueen.envs.corewar.warriors``) and its loaders.

Every warrior must assemble cleanly under the 94nop settings and do what its comments say; the
behavioural checks play several rounds at pMARS's random positions (a fixed seed, so the tests are
reproducible) and ask for rates, not for one lucky round.
"""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

import numpy as np
import pytest

from redqueen.envs.corewar import OPCODES, RedcodeError, Settings, Warrior, assemble
from redqueen.envs.corewar import warriors as lib
from redqueen.envs.corewar.mars import Mars, battle

ARCHETYPES = {"imp", "imp_ring", "dwarf", "stone", "paper", "silk", "scanner", "vampire", "clear", "gate"}
SEED = 20240601
# one process that walks round a loop of four cells: a stationary target that a mod-4 bomber must hit
LOOP4 = assemble(";redcode-94\n;assert 1\njmp 1\njmp 1\njmp 1\njmp -3\n")
SITTER = assemble(";redcode-94\n;assert 1\njmp 0\n")


@pytest.fixture(scope="module")
def library() -> dict[str, Warrior]:
    return lib.library()


def _record(a: Warrior, b: Warrior, rounds: int = 40, seed: int = SEED) -> tuple[int, int, int]:
    r = battle([a, b], rounds=rounds, seed=seed)
    return r.wins[0], r.ties, r.losses[0]


def _alone(warrior: Warrior, steps: int | None = None) -> Mars:
    mars = Mars()
    mars.load([warrior], [0])
    mars.run(steps)
    return mars


# ---- the files -------------------------------------------------------------------------------------


def test_the_library_has_the_archetypes():
    assert set(lib.names()) >= ARCHETYPES
    assert lib.names() == sorted(lib.names())


@pytest.mark.parametrize("name", sorted(ARCHETYPES))
def test_each_warrior_assembles_without_warnings_and_documents_itself(name):
    text = lib.source(name)
    lines = text.splitlines()
    assert lines[0] == ";redcode-94"
    header = [line for line in lines if line.startswith(";")][:8]
    assert any(re.match(r";name \S", line) for line in header)
    assert ";author redqueen" in header
    assert any(line.startswith(";strategy ") for line in header)
    comments = [line for line in lines if line.lstrip().startswith(";") and not line.startswith(";redcode")]
    assert len(comments) >= 5, "the strategy is explained in comments"
    warrior = lib.load(name)
    assert warrior.warnings == []
    assert 1 <= len(warrior) <= Settings().maxlength
    assert warrior.author == "redqueen" and warrior.name != "Unknown"
    # a load file round trip is the same warrior
    assert assemble(warrior.load_file()).instructions.tolist() == warrior.instructions.tolist()


def test_the_red_files_are_package_data():
    folder = importlib.resources.files("redqueen.envs.corewar.warriors")
    for name in ARCHETYPES:
        assert folder.joinpath(f"{name}.red").is_file()
    assert Path(lib.__file__).resolve().parent == lib.DIRECTORY


def test_library_and_load_agree(library):
    assert list(library) == lib.names()
    assert library["dwarf"].instructions.tolist() == lib.load("dwarf").instructions.tolist()
    small = Settings(coresize=800, maxlength=20, mindistance=20)
    assert lib.load("imp", small).settings == small


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(lib.UnknownWarriorError, match=r"'dwarff'.*known: clear, dwarf, gate"):
        lib.load("dwarff")
    with pytest.raises(lib.UnknownWarriorError):
        lib.source("../warriors/imp")
    with pytest.raises(LookupError):  # also a LookupError
        lib.load("")


def test_warriors_check_the_settings_they_need():
    # 801 is not one less than a multiple of 3: no imp ring; the vampire is tuned for 8000 cells
    odd = Settings(coresize=801, maxlength=20, mindistance=20)
    with pytest.raises(RedcodeError, match=r"imp_ring\.red: line \d+, column \d+: assertion failed"):
        lib.load("imp_ring", odd)
    with pytest.raises(RedcodeError, match=r"vampire\.red: line \d+"):
        lib.load("vampire", odd)


@pytest.mark.parametrize("coresize", [800, 2000])
def test_most_warriors_also_work_in_smaller_cores(coresize):
    settings = Settings(
        coresize=coresize, cycles=10 * coresize, processes=coresize, maxlength=20, mindistance=20
    )
    for name in sorted(ARCHETYPES - {"vampire"}):
        mars = Mars(settings)
        mars.load([lib.load(name, settings)], [0])
        mars.run()
        assert mars.alive == [True], name
    ring = Mars(settings)
    ring.load([lib.load("imp_ring", settings)], [0])
    ring.run(300)
    points = ring.queue(0)
    assert len(points) == 3 and (points[1] - points[0]) % coresize in (
        (coresize + 1) // 3,
        (coresize + 1) // 3 - 1,
    )


# ---- load_file, load_folder, resolve --------------------------------------------------------------


def test_load_file_names_the_file_and_the_line(tmp_path):
    bad = tmp_path / "bad.red"
    bad.write_text(";redcode-94\n;assert 1\nmov 0, 1\nmov 0,\n")
    with pytest.raises(RedcodeError, match=r"bad\.red: line 4") as info:
        lib.load_file(bad)
    assert info.value.line == 4
    with pytest.raises(FileNotFoundError, match="no Redcode file"):
        lib.load_file(tmp_path / "missing.red")


def test_load_folder(tmp_path):
    (tmp_path / "a.red").write_text(lib.source("imp"))
    (tmp_path / "b.red").write_text(lib.source("dwarf"))
    (tmp_path / "notes.txt").write_text("not a warrior")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.red").write_text(lib.source("paper"))
    got = lib.load_folder(tmp_path)
    assert list(got) == ["a", "b"]
    assert got["b"].instructions.tolist() == lib.load("dwarf").instructions.tolist()

    (tmp_path / "broken.red").write_text(";redcode-94\n;assert 1\nmov 0, 1, 2\n")
    (tmp_path / "empty_op.red").write_text(";redcode-94\n;assert 1\njmz 1\n")
    with pytest.raises(lib.WarriorFolderError) as info:
        lib.load_folder(tmp_path)
    err = info.value
    assert set(err.failures) == {"broken.red", "empty_op.red"}
    assert all(message.startswith("line 3") for message in err.failures.values())
    assert "2 file(s)" in str(err) and "broken.red: line 3" in str(err)
    assert list(err.warriors) == ["a", "b"]
    with pytest.warns(UserWarning, match="broken.red"):
        assert list(lib.load_folder(tmp_path, strict=False)) == ["a", "b"]
    with pytest.raises(NotADirectoryError):
        lib.load_folder(tmp_path / "a.red")


def test_resolve_takes_warriors_names_paths_and_text(tmp_path):
    imp = lib.load("imp")
    assert lib.resolve(imp) is imp
    assert lib.resolve("imp").instructions.tolist() == imp.instructions.tolist()
    path = tmp_path / "mine.red"
    path.write_text(lib.source("dwarf"))
    assert len(lib.resolve(path)) == 4 and len(lib.resolve(str(path))) == 4
    assert len(lib.resolve("jmp 0")) == 1
    assert len(lib.resolve(";redcode-94\n;assert 1\nmov 0, 1\ndat 0, 0\n")) == 2
    with pytest.raises(lib.UnknownWarriorError, match="not a library warrior"):
        lib.resolve("nosuch")  # a lone word would assemble to an empty warrior: a typo, not Redcode
    with pytest.raises(FileNotFoundError):
        lib.resolve(str(tmp_path / "gone.red"))
    with pytest.raises(RedcodeError):
        lib.resolve(";redcode-94\nmov 0,\n")
    with pytest.raises(TypeError):
        lib.resolve(42)
    with pytest.raises(lib.UnknownWarriorError):
        lib.resolve("x" * 5000)  # not a path either
    with pytest.raises(lib.UnknownWarriorError):
        lib.resolve("a\0b")


def test_resolve_many_names_what_it_gets(tmp_path):
    (tmp_path / "x.red").write_text(lib.source("imp"))
    (tmp_path / "y.txt").write_text(lib.source("dwarf"))
    got = lib.resolve_many(
        ["imp", "imp", tmp_path / "x.red", "jmp 0", str(tmp_path), str(tmp_path / "y.txt")]
    )
    assert list(got) == ["imp", "imp#2", "x", "Unknown", "x#2", "y"]
    assert list(lib.resolve_many({"first": "dwarf", "second": lib.load("imp")})) == ["first", "second"]


# ---- behaviour -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ARCHETYPES))
def test_every_warrior_survives_alone_for_the_whole_round(name, library):
    mars = _alone(library[name])
    assert mars.done and mars.steps == Settings().cycles and mars.alive == [True]


def test_imp_crawls_and_two_imps_always_tie(library):
    imp = library["imp"]
    mars = _alone(imp, 1000)
    assert mars.queue(0) == [1000]
    assert _record(imp, imp, rounds=20) == (0, 20, 0)


def test_imp_ring_runs_three_points_a_third_of_the_core_apart(library):
    mars = _alone(library["imp_ring"], 3000)
    points = mars.queue(0)
    assert len(points) == 3
    gaps = {(b - a) % 8000 for a, b in zip(points, points[1:] + points[:1], strict=True)}
    assert gaps <= {2666, 2667}
    # and it kills warriors that stay put (they run into the ring's moving cells)
    wins, _, losses = _record(library["imp_ring"], SITTER)
    assert wins >= 30 and losses == 0


@pytest.mark.parametrize("name", ["dwarf", "stone", "gate"])
def test_bombers_kill_a_stationary_four_cell_target(name, library):
    wins, ties, losses = _record(library[name], LOOP4)
    assert (wins, ties, losses) == (40, 0, 0)


def test_dwarf_bombs_every_fourth_cell_and_never_itself(library):
    dwarf = library["dwarf"]
    mars = _alone(dwarf, 3 * 500)
    core = mars.core
    hit = np.nonzero((core[:, 0] != 0) | (core[:, 5] != 0))[0]
    bombs = hit[hit >= 4]
    assert len(bombs) == 500 and set((bombs - 3) % 4) == {0}
    assert core[:3].tolist() == dwarf.instructions[:3].tolist()


def test_stone_splits_into_many_processes(library):
    mars = _alone(library["stone"], 4000)
    assert mars.processes[0] > 40
    # its bombs are all on the mod-4 lattice counted from the bomb (offset 4)
    owner, core = mars.owner, mars.core
    bombed = np.nonzero((owner == 0) & (core[:, 0] == OPCODES.index("DAT")))[0]
    assert len(bombed) > 300 and set((bombed - 4) % 4) == {0}


def _copies(core: np.ndarray, code: np.ndarray) -> int:
    """Places where the first three instructions of ``code`` appear (opcodes, modifiers and modes)."""
    cols = [0, 1, 2, 4]
    pattern = code[:3][:, cols]
    rows = core[:, cols]
    match = np.ones(len(core), dtype=bool)
    for i in range(3):
        match &= (np.roll(rows, -i, axis=0) == pattern[i]).all(axis=1)
    return int(match.sum())


@pytest.mark.parametrize(("name", "offset"), [("paper", 0), ("silk", 3)])
def test_papers_replicate(name, offset, library):
    warrior = library[name]
    body = warrior.instructions[offset:]
    mars = _alone(warrior, 10_000)
    assert _copies(mars.core, body) >= 20
    assert mars.processes[0] >= 50


def test_paper_beats_stones(library):
    for stone in ("dwarf", "stone"):
        wins, _, losses = _record(library["paper"], library[stone])
        assert wins >= 20 and losses <= 4, stone


def test_scanner_finds_and_kills_a_stationary_target_and_never_hits_itself(library):
    scanner = library["scanner"]
    assert _record(scanner, SITTER) == (40, 0, 0)
    mars = _alone(scanner)
    # after the scan and a full core clear its instructions are all still there (only the
    # pointer and counter fields have moved)
    cols = [0, 1, 2, 4]
    assert mars.core[: len(scanner), cols].tolist() == scanner.instructions[:, cols].tolist()
    assert (mars.owner == 0).all()
    # the scan finds a target long before the clear reaches it: the first bombs land on it
    target = assemble(";redcode-94\n;assert 1\n" + "jmp 1\n" * 9 + "jmp -9\n")
    r = battle([scanner, target], rounds=40, seed=SEED)
    assert r.wins[0] == 40 and np.median(r.steps) < 4000


def test_clear_wipes_the_core_and_keeps_its_code(library):
    clear = library["clear"]
    assert _record(clear, SITTER) == (40, 0, 0)
    mars = _alone(clear)
    core = mars.core
    assert core[1 : len(clear)].tolist() == clear.instructions[1:].tolist()
    assert (mars.owner == 0).all()  # every cell was written by the clear


def test_vampire_drops_fangs_that_point_into_its_pit(library):
    vampire = library["vampire"]
    mars = _alone(vampire, 3 * 200)
    core = mars.core
    pit = next(i for i, row in enumerate(vampire.instructions) if OPCODES[row[0]] == "SPL")
    outside = np.arange(len(vampire), 8000)
    fangs = outside[core[outside, 0] == OPCODES.index("JMP")]
    assert len(fangs) == 200
    assert {int((f + core[f, 3]) % 8000) for f in fangs} == {pit}
    # captured imps never escape: the vampire beats an imp more often than a dwarf does
    v_wins, _, v_losses = _record(vampire, library["imp"])
    d_wins, _, _ = _record(library["dwarf"], library["imp"])
    assert v_wins > d_wins and v_losses == 0
    assert _record(vampire, SITTER)[0] == 40


def test_gate_stops_imps(library):
    for imp in ("imp", "imp_ring"):
        wins, _, losses = _record(library["gate"], library[imp])
        assert wins >= 24 and losses == 0, imp


def test_round_robin_over_the_library_is_not_all_ties(library):
    names = sorted(library)
    rounds = 20
    decided = 0
    scores = dict.fromkeys(names, 0)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            r = battle([library[a], library[b]], rounds=rounds, seed=SEED)
            assert r.wins[0] + r.wins[1] + r.ties == rounds
            assert r.scores == [3 * r.wins[0] + r.ties, 3 * r.wins[1] + r.ties]
            scores[a] += r.scores[0]
            scores[b] += r.scores[1]
            decided += r.ties < rounds
    pairs = len(names) * (len(names) - 1) // 2
    assert decided >= pairs * 2 // 3
    # and the library is not dominated by one warrior: at least four score over 1 point a round
    per_round = {name: s / (rounds * (len(names) - 1)) for name, s in scores.items()}
    assert sum(v > 1.0 for v in per_round.values()) >= 4
