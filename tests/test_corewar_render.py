"""Pictures of Core War battles (``redqueen.envs.corewar.render``) and the ``redqueen corewar`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from redqueen import cli
from redqueen.envs.corewar import Settings
from redqueen.envs.corewar import warriors as lib
from redqueen.envs.corewar.mars import battle
from redqueen.envs.corewar.render import (
    DEFAULT_CELL,
    TITLE_HEIGHT,
    cell_owners,
    record,
    render_frame,
    save_gif,
    save_png,
)

Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def paper_vs_dwarf():
    return record([lib.load("paper"), lib.load("dwarf")], seed=777, frames=12)


def test_frames_span_the_round_and_match_battle(paper_vs_dwarf):
    rec = paper_vs_dwarf
    expected = battle([lib.load("paper"), lib.load("dwarf")], rounds=1, seed=777)
    assert rec.positions == tuple(int(p) for p in expected.positions[0])
    assert rec.steps == expected.steps[0]
    assert rec.survivors == list(expected.round(0).survivors)
    assert len(rec.frames) == 12
    steps = [f.steps for f in rec.frames]
    assert steps[0] == 0 and steps[-1] == rec.steps and steps == sorted(set(steps))
    assert all(f.cycle == -(-f.steps // 2) for f in rec.frames) and rec.frames[-1].cycle == rec.cycles
    assert rec.names == ["Origami", "Dwarf"] and rec.lengths == [9, 4]


def test_first_frame_shows_the_loaded_warriors(paper_vs_dwarf, tmp_path):
    rec = paper_vs_dwarf
    path = save_gif(rec, tmp_path / "b.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == len(rec.frames)
        assert gif.size == (100 * DEFAULT_CELL, TITLE_HEIGHT + 80 * DEFAULT_CELL)
        gif.seek(0)
        owner, process = cell_owners(gif, 2)
    for w, (start, length) in enumerate(zip(rec.positions, rec.lengths, strict=True)):
        cells = np.nonzero(owner == w)[0]
        assert cells.tolist() == list(range(start, start + length))
    # one process each, at its start cell
    starts = [rec.positions[0] + lib.load("paper").start, rec.positions[1] + lib.load("dwarf").start]
    assert np.nonzero(process)[0].tolist() == sorted(starts)


def test_later_frames_follow_the_owner_array(paper_vs_dwarf, tmp_path):
    rec = paper_vs_dwarf
    for k in (5, len(rec.frames) - 1):
        image = render_frame(rec, k)
        owner, process = cell_owners(image, 2)
        frame = rec.frames[k]
        drawn = frame.owner.astype(np.int64).copy()
        for w, queue in enumerate(frame.processes):
            drawn[queue] = w
        assert (owner == drawn).all()
        assert set(np.nonzero(process)[0].tolist()) == {int(a) for q in frame.processes for a in q}
    png = save_png(rec, tmp_path / "last.png", cell=2)
    with Image.open(png) as image:
        assert image.size == (200, TITLE_HEIGHT + 160)
        owner, _ = cell_owners(image, 2, cell=2)
    assert (owner >= 0).sum() == (rec.frames[-1].owner >= 0).sum()


def test_every_and_frames_and_positions():
    imp = lib.load("imp")
    rec = record([imp, imp], positions=[0, 4000], every=20000)
    assert [f.cycle for f in rec.frames] == [0, 20000, 40000, 60000, 80000]
    assert rec.outcome == "tie" and rec.seed is None
    capped = record([imp, imp], positions=[0, 4000], every=20000, frames=3)
    assert [f.cycle for f in capped.frames] == [0, 20000, 80000]
    assert [f.cycle for f in record([imp, imp], seed=1, every=20000, frames=1).frames] == [80000]
    spread = record([imp, imp], seed=1, frames=9)
    assert [f.cycle for f in spread.frames] == [i * 10000 for i in range(9)]
    assert len(record([imp, imp], seed=1, frames=1).frames) == 1
    # a short round gives at most one frame per cycle
    suicide = lib.resolve("dat 0, 0")
    short = record([lib.load("dwarf"), suicide], seed=3, frames=50)
    assert short.outcome == "Dwarf wins" and len(short.frames) == 2
    alone = record([lib.load("dwarf")], frames=3)
    assert alone.outcome == "survived" and alone.positions == (0,)


def test_bad_arguments():
    imp = lib.load("imp")
    with pytest.raises(ValueError, match="frames"):
        record([imp, imp], seed=1, frames=0)
    with pytest.raises(ValueError, match="every"):
        record([imp, imp], seed=1, every=-5)
    with pytest.raises(ValueError, match="at most 2000"):
        record([imp, imp], seed=1, every=10)  # 8001 frames
    with pytest.raises(ValueError, match="at most 2000"):
        record([imp, imp], seed=1, frames=5000)
    with pytest.raises(ValueError, match="not both"):
        record([imp, imp], positions=[0, 100], seed=1)
    with pytest.raises(ValueError, match="names"):
        record([imp, imp], seed=1, names=["just one"])
    with pytest.raises(ValueError, match="at least one"):
        record([], seed=1)
    rec = record([imp, imp], seed=1, frames=2)
    with pytest.raises(ValueError, match="cell"):
        render_frame(rec, cell=0)


def test_small_core():
    small = Settings(coresize=800, cycles=2000, processes=64, maxlength=20, mindistance=20)
    rec = record([lib.load("dwarf", small), lib.load("stone", small)], seed=2, frames=4, settings=small)
    image = render_frame(rec, 0, cell=3, columns=40)
    assert image.size == (120, TITLE_HEIGHT + 20 * 3)
    owner, _ = cell_owners(image, 2, coresize=800, cell=3, columns=40)
    assert (owner >= 0).sum() == 4 + 5


# ---- the command -----------------------------------------------------------------------------------


def test_cli_show_writes_a_gif_and_a_png(tmp_path, capsys):
    gif, png, data = tmp_path / "out" / "b.gif", tmp_path / "b.png", tmp_path / "show.json"
    args = ["corewar", "show", "scanner", "imp", "--out", str(gif), "--png", str(png), "--frames", "6"]
    assert cli.main([*args, "--seed", "4", "--json", str(data)]) == 0
    out = capsys.readouterr().out
    assert "scanner vs imp (seed 4" in out and "6 frames written" in out
    with Image.open(gif) as image:
        assert image.n_frames == 6
    assert png.is_file()
    summary = json.loads(data.read_text())
    assert summary["seed"] == 4 and summary["frames"] == 6 and summary["positions"][0] == 0
    # --position places warrior 2 exactly; --png alone writes no GIF
    only = tmp_path / "only.png"
    assert cli.main(["corewar", "show", "imp", "dwarf", "--png", str(only), "--position", "1234"]) == 0
    assert only.is_file() and "loaded at 0, 1234" in capsys.readouterr().out
    assert not (tmp_path / "battle.gif").exists()


def test_cli_show_defaults_to_battle_gif(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    red = tmp_path / "mine.red"
    red.write_text(lib.source("dwarf"))
    assert cli.main(["corewar", "show", str(red), "imp", "--every", "20000", "--seed", "1"]) == 0
    with Image.open(tmp_path / "battle.gif") as image:
        assert image.n_frames == 5
    assert "mine vs imp" in capsys.readouterr().out


def test_cli_battle_prints_a_table(capsys, tmp_path):
    data = tmp_path / "battle.json"
    assert (
        cli.main(
            ["corewar", "battle", "paper", "dwarf", "--rounds", "10", "--seed", "2", "--json", str(data)]
        )
        == 0
    )
    out = capsys.readouterr().out
    for word in ("paper", "dwarf", "Origami", "wins", "ties", "losses", "score", "10 rounds (seed 2)"):
        assert word in out
    result = json.loads(data.read_text())
    paper, dwarf = result["warriors"]
    assert paper["wins"] + paper["ties"] + paper["losses"] == 10 and paper["wins"] == dwarf["losses"]
    assert paper["score"] == 3 * paper["wins"] + paper["ties"]
    # the same numbers as the hill with the same seed
    from redqueen.evaluation import hill

    row = hill("paper", ["dwarf"], rounds=10, seed=2).rows[0]
    assert (row.wins, row.ties, row.losses) == (paper["wins"], paper["ties"], paper["losses"])
    assert cli.main(["corewar", "battle", "imp", "imp", "--rounds", "3", "--position", "4000"]) == 0
    assert "position 4000" in capsys.readouterr().out


def test_cli_hill_prints_a_table(capsys, tmp_path):
    data = tmp_path / "hill.json"
    args = ["corewar", "hill", "vampire", "imp", "dwarf", "stone", "--rounds", "10", "--workers", "1"]
    assert cli.main([*args, "--json", str(data)]) == 0
    out = capsys.readouterr().out
    for word in ("vampire", "imp", "dwarf", "stone", "total", "per round"):
        assert word in out
    result = json.loads(data.read_text())
    assert result["total"]["rounds"] == 30 and len(result["opponents"]) == 3


def test_cli_reports_bad_warriors(capsys, tmp_path):
    assert cli.main(["corewar", "battle", "dwarff", "imp"]) == 2
    err = capsys.readouterr().err
    assert "redqueen corewar battle: error:" in err and "clear, dwarf, gate" in err
    assert cli.main(["corewar", "hill", "imp", str(tmp_path / "nope.red")]) == 2
    assert "no Redcode file" in capsys.readouterr().err
    bad = tmp_path / "bad.red"
    bad.write_text(";redcode-94\n;assert 1\nspl\n")
    assert cli.main(["corewar", "show", str(bad), "imp"]) == 2
    assert "bad.red: line 3" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["corewar", "show", "imp", "imp", "--seed", "1", "--position", "200"])
