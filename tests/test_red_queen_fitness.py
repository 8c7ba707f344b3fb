"""Red Queen fitness: DRQ's per-cycle credit from pMARS death steps, the pairwise mode, the behaviour
probe and generality (``redqueen.trainers.red_queen.fitness``)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redqueen.envs.corewar import Mars, Settings, assemble, battle
from redqueen.envs.corewar import warriors as lib
from redqueen.evaluation import hill
from redqueen.trainers.red_queen import Evaluator, Opponent, death_cycles, drq_credits, generality, probe

SHORT = Settings(cycles=100)
IMP = "mov.i $0, $1"
DAT = "dat #0, #0"


def nop_then_dat(k: int, settings: Settings = SHORT):
    """A warrior that dies on its k-th turn: k-1 NOPs, then a DAT."""
    return assemble("\n".join(["nop $0, $0"] * (k - 1) + [DAT]), settings)


def imp(settings: Settings = SHORT):
    return assemble(IMP, settings)


def credits(warriors, settings: Settings = SHORT, seed: int = 7) -> list[float]:
    result = battle(warriors, rounds=1, seed=seed, settings=settings)
    return drq_credits(result.death_steps[0], settings.cycles, result.first_movers[0])


# ---- hand-built cases --------------------------------------------------------------------------------


def test_an_imp_alone_earns_one():
    assert credits([imp()]) == [1.0]


def test_two_imps_earn_one_each():
    assert credits([imp(), imp()]) == [1.0, 1.0]


def test_a_warrior_that_dies_at_once_earns_nothing_and_its_opponent_everything():
    assert credits([assemble(DAT, SHORT), imp()]) == [0.0, 2.0]
    assert credits([imp(), assemble(DAT, SHORT)]) == [2.0, 0.0]
    assert credits([assemble(DAT, SHORT)]) == [0.0]  # alone and dead: nothing to share


@pytest.mark.parametrize("k", [2, 5, 37])
def test_a_warrior_dying_on_turn_k_earns_half_of_k_minus_one_cycles(k):
    # alive at the end of cycles 1..k-1 with two alive: 2/T * (k-1)/2; the imp gets the rest
    t = SHORT.cycles
    got = credits([nop_then_dat(k), imp()])
    assert got == pytest.approx([(k - 1) / t, 2 - (k - 1) / t])


def test_three_warriors_share_by_the_number_alive():
    t = SHORT.cycles
    # warrior 1 dies on its 5th turn: 4 cycles of three alive, then two
    got = credits([imp(), nop_then_dat(5), imp()])
    assert got == pytest.approx([3 / t * (4 / 3 + (t - 4) / 2), 3 / t * 4 / 3, 3 / t * (4 / 3 + (t - 4) / 2)])
    assert sum(got) == pytest.approx(3.0)


def test_death_cycles_follow_pmars_rotation_after_a_death():
    # warrior 0 dies on its 2nd turn (step 4); pMARS then skips warrior 1 once: 2, 1, 2, 1 (w1 dies on step 8)
    result = battle([nop_then_dat(2), nop_then_dat(3), imp()], rounds=1, seed=5, settings=SHORT)
    assert [int(s) for s in result.death_steps[0]] == [4, 8, -1]
    assert death_cycles(result.death_steps[0]) == [2, 3, None]


def test_death_cycles_reject_steps_that_cannot_happen():
    with pytest.raises(ValueError, match="turn"):
        death_cycles([2, -1])  # step 2 of two warriors is warrior 1's turn
    with pytest.raises(ValueError, match="first"):
        death_cycles([1, -1], first=2)


@settings(max_examples=25, deadline=None)
@given(
    kinds=st.lists(
        st.tuples(st.sampled_from(["imp", "dies", "splits"]), st.integers(1, 40)), min_size=1, max_size=5
    ),
    seed=st.integers(1, 10**6),
)
def test_death_cycles_match_a_step_by_step_replay(kinds, seed):
    """Each warrior's death cycle is the number of turns it had, counted by stepping the MARS."""
    warriors = []
    for kind, k in kinds:
        if kind == "imp":
            warriors.append(imp())
        elif kind == "dies":
            warriors.append(nop_then_dat(k))
        else:
            warriors.append(assemble("spl 1\n" + "\n".join(["nop $0, $0"] * (k - 1) + [DAT]), SHORT))
    result = battle(warriors, rounds=1, seed=seed, settings=SHORT)
    mars = Mars(SHORT)
    mars.load(warriors, list(result.positions[0]), 0)
    turns, truth = [0] * len(warriors), [None] * len(warriors)
    while not mars.done:
        w = mars.next_warrior
        mars.run(1)
        turns[w] += 1
        if mars.death_steps[w] >= 0 and truth[w] is None:
            truth[w] = turns[w]
    assert death_cycles(result.death_steps[0]) == truth
    got = drq_credits(result.death_steps[0], SHORT.cycles)
    alive_cycles = max((SHORT.cycles if d is None else d - 1) for d in truth)
    assert sum(got) == pytest.approx(len(warriors) * min(alive_cycles, SHORT.cycles) / SHORT.cycles)


# ---- evaluations -------------------------------------------------------------------------------------


def test_drq_evaluation_averages_credits_over_seeds_and_records_every_opponent():
    settings = Settings(cycles=300)
    field = [
        Opponent("imp", imp(settings), "initial"),
        Opponent("quitter", nop_then_dat(50, settings), "champion"),
    ]
    evaluator = Evaluator(settings, "drq", battles=3, probe_cycles=0)
    (mine,) = evaluator.evaluate([imp(settings)], field)
    # by hand: the quitter dies on its 50th turn in every seed (nothing can reach it in 50 cycles)
    t = 300
    assert mine.fitness == pytest.approx(3 / t * (49 / 3 + (t - 49) / 2))
    records = {r.name: r for r in mine.opponents}
    assert records["imp"].opponent_score == pytest.approx(mine.fitness) and records["imp"].beats
    assert records["quitter"].opponent_score == pytest.approx(3 / t * 49 / 3) and records["quitter"].beats
    assert mine.beats_all()
    (loser,) = evaluator.evaluate([assemble(DAT, settings)], field)
    assert loser.fitness == 0.0 and not loser.beats_all() and not loser.opponents[0].beats


def test_pairwise_evaluation_is_pmars_scoring_averaged_over_opponents_and_rounds():
    settings = Settings()
    dwarf, stone, paper = lib.load("dwarf"), lib.load("stone"), lib.load("paper")
    field = [Opponent("stone", stone, "initial"), Opponent("paper", paper, "champion")]
    evaluator = Evaluator(settings, "pairwise", battles=10, battle_seed=4, probe_cycles=0)
    (mine,) = evaluator.evaluate([dwarf], field)
    from redqueen.evaluation.hill import pmars_seed

    scores = []
    for record, opponent in zip(mine.opponents, (stone, paper), strict=True):
        expected = battle([dwarf, opponent], rounds=10, seed=pmars_seed(4), settings=settings)
        assert (record.wins, record.ties, record.losses) == (
            expected.wins[0],
            expected.ties,
            expected.losses[0],
        )
        assert record.beats == (expected.wins[0] >= expected.losses[0])
        scores.append((3 * expected.wins[0] + expected.ties) / 10)
    assert mine.fitness == pytest.approx(sum(scores) / 2)


def test_bad_modes_and_budgets_are_refused():
    with pytest.raises(ValueError, match="drq, pairwise"):
        Evaluator(Settings(), "elo")
    with pytest.raises(ValueError, match="battles"):
        Evaluator(Settings(), "drq", battles=0)
    with pytest.raises(ValueError, match="at least one opponent"):
        Evaluator(Settings(), "pairwise").evaluate([imp()], [])


# ---- probe and generality ----------------------------------------------------------------------------


def test_probe_counts_spawned_processes_and_written_cells():
    settings = Settings(processes=50)
    assert probe(imp(settings), 100, settings) == (0, 101)  # its own cell and 100 copies
    # SPL #0 then JMP back: every spawn lives, up to the process limit
    assert probe(assemble("spl #0, #0\njmp -1", settings), 200, settings) == (49, 2)
    # SPL #0 alone: the spawned process dies on the empty cell after it, so it spawns on every other turn
    assert probe(assemble("spl #0, #0", settings), 200, settings) == (100, 1)
    assert probe(assemble(DAT, settings), 100, settings) == (0, 1)
    # a bomber writes one cell per loop; splits make more writers
    assert probe(lib.load("dwarf", settings), 300, settings)[0] == 0
    spawned, written = probe(lib.load("paper", settings), 1000, settings)
    assert spawned > 0 and written > len(lib.load("paper", settings))


def test_generality_is_the_fraction_defeated_or_tied_in_hill_battles():
    result = generality("paper", lib.DIRECTORY, rounds=10, seed=3, workers=1)
    rows = hill("paper", lib.DIRECTORY, rounds=10, seed=3, workers=1).rows
    assert [r["opponent"] for r in result.rows] == [r.opponent for r in rows]
    assert [r["beats"] for r in result.rows] == [r.wins >= r.losses for r in rows]
    assert result.fraction == pytest.approx(sum(r.wins >= r.losses for r in rows) / len(rows))
    assert "wins >= losses" in result.to_dict()["threshold"]
    assert set(result.beaten) == {r.opponent for r in rows if r.wins >= r.losses}
    assert math.isclose(generality("imp", ["imp"], rounds=5).fraction, 1.0)  # an imp ties an imp
