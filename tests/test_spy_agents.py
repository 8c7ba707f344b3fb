"""Who-Is-the-Spy's scripted players and evaluation: the describer says true things, the spy echoes
common attributes, the voter follows the most inconsistent clue; scripted civilians catch the scripted
spy more often than chance; per-role win rates and per-role ratings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from redqueen.agents import Agent, RandomAgent
from redqueen.envs.spy.agents import RoleAgent, ScriptedSpyAgent
from redqueen.envs.spy.evaluation import chance_catch_rate, evaluate, role_records, wilson
from redqueen.envs.spy.game import SIMULTANEOUS, WhoIsTheSpy
from redqueen.game import agent_observation

WORDS = WhoIsTheSpy()
SCENES = WhoIsTheSpy(payload="scenes", image_size=64)


def scripted_game(game: WhoIsTheSpy, seed: int):
    """One game of four scripted players, playing from the tensor view."""
    agents = [ScriptedSpyAgent(game, seed=seed * 10 + p) for p in range(game.num_players)]
    state = game.new_initial_state(seed)
    while not state.is_terminal():
        if state.current_player == SIMULTANEOUS:
            state.apply_actions(
                {p: agents[p].act(agent_observation(state, p, "tensor")) for p in state.voters()}
            )
        else:
            p = state.current_player
            state.apply_action(agents[p].act(agent_observation(state, p, "tensor")))
    return state


@pytest.mark.parametrize("game", [WORDS, SCENES], ids=["words", "scenes"])
def test_describers_say_true_fresh_attributes_and_the_spy_echoes(game):
    echoed = 0
    for seed in range(30):
        state = scripted_game(game, seed)
        said: list[int] = []
        for clue in state.clues:
            p, a = clue["player"], clue["attribute"]
            assert a is not None
            if p != state.spy:
                assert a in state.attributes(p)  # a civilian's clue is true of its payload
                assert a not in said or set(state.attributes(p)) <= set(said)  # and new, while it can be
            else:
                by_others = [
                    c["attribute"] for c in state.clues[: state.clues.index(clue)] if c["player"] != p
                ]
                common = set(by_others) & state.attributes(p)
                mine = {c["attribute"] for c in state.clues[: state.clues.index(clue)] if c["player"] == p}
                if common - mine:
                    assert a in common - mine  # it echoes an attribute said before and true of its own
                    echoed += 1
                else:
                    assert a in state.attributes(p)
            said.append(a)
    assert echoed > 0


def test_the_voter_follows_the_most_inconsistent_clues():
    for seed in range(40):
        state = WORDS.new_initial_state(seed)
        rng = np.random.default_rng(seed)
        while state.phase == "clue":
            state.apply_action(int(rng.choice(state.legal_actions())))
        agent = ScriptedSpyAgent(WORDS, seed=seed)
        for voter in state.voters():
            own = state.attributes(voter)
            false = {
                p: sum(c["attribute"] not in own for c in state.clues if c["player"] == p) for p in range(4)
            }
            false.pop(voter)
            worst = max(false.values())
            target = agent.act(agent_observation(state, voter, "tensor")) - WORDS.vocabulary_size
            assert false[target] == worst


def test_the_voter_abstains_when_too_many_are_equally_suspicious():
    game = WhoIsTheSpy(players=6)
    state = game.new_initial_state(0)
    civ = next(p for p in range(6) if p != state.spy)
    own = sorted(state.attributes(civ))
    while state.phase == "clue":  # everybody says something true of the civilians' word
        state.apply_action(own[len(state.clues) % len(own)])
    na = game.vocabulary_size + game.num_players
    assert ScriptedSpyAgent(game).act(agent_observation(state, civ, "tensor")) == na
    assert ScriptedSpyAgent(game, abstain_from=6).act(agent_observation(state, civ, "tensor")) != na


class UniformVoter(Agent):
    """Any legal clue; votes uniformly for another player (never n/a): the chance baseline."""

    view = "tensor"

    def __init__(self, game):
        super().__init__("uniform")
        self.na = game.vocabulary_size + game.num_players

    def act(self, observation):
        legal = np.flatnonzero(observation["action_mask"])
        legal = legal[legal != self.na]
        return int(legal[int(self.rng.integers(len(legal)))])


def test_chance_catch_rate_matches_random_voters_in_the_game():
    game = WhoIsTheSpy(payload="scenes", image_size=64)
    # 4 players: each of 3 civilians votes for one of 3 others; the spy must get the most votes alone
    assert chance_catch_rate(game) == pytest.approx(7 / 27)
    measured = evaluate([UniformVoter(game) for _ in range(4)], 1200, seed=0, game=game, swap_seats=False)
    low, high = measured.caught_interval
    assert low < chance_catch_rate(game) < high
    low, high = wilson(measured.correct_votes, measured.civilian_votes)
    assert low < 1 / 3 < high and measured.na_rate == 0.0
    six = WhoIsTheSpy(players=6, spy_knows_role=False)
    assert 0 < chance_catch_rate(six) < chance_catch_rate(WhoIsTheSpy(players=6)) < 1


@pytest.mark.parametrize(
    "params",
    [{}, {"payload": "scenes", "image_size": 64}, {"payload": "scenes", "image_size": 64, "blank_spy": True}],
    ids=["words", "scenes", "blank"],
)
def test_scripted_civilians_catch_the_scripted_spy_more_often_than_chance(params):
    game = WhoIsTheSpy(**params)
    # one agent in every seat: independent games (no seat rotation), so the Wilson interval holds
    result = evaluate([ScriptedSpyAgent(game) for _ in range(4)], 600, seed=0, game=game, swap_seats=False)
    low, _ = result.caught_interval
    print(f"{params}: caught {result.caught_rate:.3f} (95% from {low:.3f}), chance {result.chance:.3f}")
    assert low > result.chance  # the 95% interval lies above chance
    assert result.forfeits == 0 and result.invalid_answers == [0, 0, 0, 0]
    assert result.role_win_rate("civilian") == pytest.approx(result.caught_rate)
    assert result.role_win_rate("spy") == pytest.approx(1 - result.caught_rate)


def test_evaluation_per_role_rates_and_ratings():
    game = WORDS
    weak_spy = RoleAgent(game, ScriptedSpyAgent(game), RandomAgent(), name="weak-spy")
    agents = [
        weak_spy,
        ScriptedSpyAgent(game, name="s1"),
        ScriptedSpyAgent(game, name="s2"),
        RandomAgent(name="rnd"),
    ]
    result = evaluate(agents, n_games=240, seed=1, game=game)
    assert sum(result.role_games[a]["spy"] for a in result.agent_names) == 240
    for a in result.agent_names:  # rotated seats deal everyone both roles
        assert result.role_games[a]["spy"] > 30 and result.role_games[a]["civilian"] > 90
    # a random spy says random attributes and is caught far more often than a scripted one
    assert result.win_rate("weak-spy", "spy") < result.win_rate("s1", "spy")
    assert result.win_rate("rnd", "spy") < result.win_rate("s2", "spy")
    ratings = result.ratings
    assert set(ratings) == {(a, r) for a in result.agent_names for r in ("civilian", "spy")}
    assert ratings[("weak-spy", "spy")].mu < ratings[("s1", "spy")].mu
    assert ratings[("rnd", "civilian")].mu < ratings[("s1", "civilian")].mu  # random votes lose games
    # every seat is a record of its own, ranked by the game's outcome (no team sums)
    records = role_records([scripted_game(game, 0)], np.array([[0, 1, 2, 3]]), ["a", "b", "c", "d"])
    assert len(records[0].seats) == 4 and sorted(records[0].roles) == ["civilian"] * 3 + ["spy"]
    summary = result.summary()
    assert "spy caught" in summary and "weak-spy" in summary
    data = result.to_dict()
    assert data["games"] == 240 and "weak-spy/spy" in data["ratings"]


def test_forfeits_are_counted_and_left_out_of_the_rates():
    class Mute(Agent):
        view = "text"

        def act(self, observation):
            return ""

    game = WORDS
    result = evaluate(
        [Mute("mute"), ScriptedSpyAgent(game), ScriptedSpyAgent(game), ScriptedSpyAgent(game)], 8, game=game
    )
    assert result.forfeits + result.decided == 8 and result.forfeits >= 2
    assert result.invalid_answers[0] == result.forfeits


def test_wilson_interval():
    assert all(math.isnan(x) for x in wilson(0, 0))
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
