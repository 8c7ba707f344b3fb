"""The SB3 league learner's pieces: per-episode opponents, outcome counts, reproducible chunks."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from redqueen.agents import KuhnNashAgent, RandomAgent
from redqueen.agents.minimax import MinimaxAgent
from redqueen.envs.single import SingleAgentEnv
from redqueen.league.matchmaking import Match
from redqueen.registry import make_game
from redqueen.trainers.sb3_league import (
    ChunkLR,
    LeagueOpponent,
    OutcomeRecorder,
    TrainerError,
    algo_class,
    check_game,
    new_model,
    save_model,
    train_chunk,
)

TINY = {"n_steps": 64, "batch_size": 32, "n_epochs": 1}


def _opponents(seed: int = 0):
    pool = {"rand": RandomAgent(seed=seed), "mm": MinimaxAgent(seed=seed)}

    def choose(rng):
        return Match(["rand", "mm"][int(rng.integers(2))], "uniform")

    return pool, choose


def test_league_opponent_draws_a_new_opponent_every_episode_and_the_recorder_counts_results():
    pool, choose = _opponents()
    opponent = LeagueOpponent(choose, pool.__getitem__)
    env = OutcomeRecorder(SingleAgentEnv("tictactoe", opponent=opponent, seat="alternate"), opponent)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    finished = 0
    while finished < 60:
        mask = env.action_masks()
        _, _, terminated, _, _ = env.step(int(rng.choice(np.flatnonzero(mask))))
        if terminated:
            finished += 1
            env.reset()
    names = [m.opponent for m in opponent.history]
    assert set(names) == {"rand", "mm"}
    counts = env.outcomes
    assert sum(sum(row) for row in counts.values()) == 60
    # a random learner never beats minimax, and beats random sometimes
    assert counts["mm"][0] == 0 and counts["mm"][2] > 0
    assert counts["rand"][0] > 0
    # episodes per opponent agree with the draws that were played to the end
    assert sum(counts["mm"]) == names[:60].count("mm")


def test_league_opponent_needs_a_reset_first():
    pool, choose = _opponents()
    opponent = LeagueOpponent(choose, pool.__getitem__)
    with pytest.raises(RuntimeError, match="reset"):
        _ = opponent.view
    with pytest.raises(RuntimeError, match="reset"):
        opponent.act({})


def test_same_checkpoint_and_seed_train_the_same_weights(tmp_path):
    game = make_game("kuhn_poker")
    model = new_model(game, "auto", seed=1, hyperparams=TINY)
    start = save_model(model, tmp_path / "start.zip")
    pool = {"nash": KuhnNashAgent(), "rand": RandomAgent()}

    def choose(rng):
        return Match(["nash", "rand"][int(rng.integers(2))], "uniform")

    weights = []
    for k in range(3):
        chunk = train_chunk(
            game, "auto", start, 128, seed=7 if k < 2 else 8, choose=choose, build=pool.__getitem__
        )
        assert chunk.steps == 128
        assert sum(sum(row) for row in chunk.outcomes.values()) > 20
        assert chunk.branches == {"uniform": sum(chunk.branches.values())}
        path = save_model(chunk.model, tmp_path / f"after{k}.zip")
        with zipfile.ZipFile(path) as archive:
            weights.append(archive.read("policy.pth"))
    assert weights[0] == weights[1]  # same start, same seed
    assert weights[0] != weights[2]  # another seed


def test_linear_learning_rate_covers_the_chunk_share_of_the_budget():
    lr = ChunkLR(1e-3, 0.25, 0.5)
    assert lr(1.0) == pytest.approx(1e-3 * 0.75)
    assert lr(0.0) == pytest.approx(1e-3 * 0.5)
    assert ChunkLR(1e-3, 0.9, 1.0)(0.0) > 0  # never exactly zero


def test_unsupported_games_and_algos_are_refused():
    class ThreePlayers:
        id, num_players, num_distinct_actions = "three", 3, 2

    with pytest.raises(TrainerError, match="two-player"):
        check_game(ThreePlayers())  # type: ignore[arg-type]
    with pytest.raises(TrainerError, match="unknown algo"):
        algo_class("DQN-ish")
    with pytest.raises(TrainerError, match="hyperparams"):
        new_model(make_game("tictactoe"), "PPO", seed=0, hyperparams={"n_stepz": 3})


def test_saves_are_atomic_and_loadable(tmp_path):
    from redqueen.agents.sb3 import SB3Agent

    model = new_model(make_game("tictactoe"), "PPO", seed=0, hyperparams=TINY)
    path = save_model(model, tmp_path / "deep" / "m.zip")
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["m.zip"]
    agent = SB3Agent(path, deterministic=True)
    env = SingleAgentEnv("tictactoe")
    obs, info = env.reset(seed=0)
    assert info["action_mask"][agent.act({"observation": obs, "action_mask": info["action_mask"]})]


def test_the_oracle_exploiter_is_recomputed_from_the_live_policy(tmp_path, monkeypatch):
    from redqueen.agents.best_response import BestResponseAgent
    from redqueen.trainers.sb3_league import Oracle

    updates = []
    original = BestResponseAgent.update

    def counting(self, target):
        updates.append(target.model.num_timesteps)
        original(self, target)

    monkeypatch.setattr(BestResponseAgent, "update", counting)
    game = make_game("kuhn_poker")
    start = save_model(new_model(game, "auto", seed=0, hyperparams=TINY), tmp_path / "start.zip")
    pool = {"rand": RandomAgent()}
    chunk = train_chunk(
        game,
        "auto",
        start,
        512,
        seed=1,
        choose=lambda rng: Match("rand", "uniform"),
        build=pool.__getitem__,
        n_envs=2,
        oracle=Oracle("oracle(ppo)", weight=0.5, refresh_every=128),
    )
    assert chunk.steps == 512
    assert set(chunk.outcomes) == {"oracle(ppo)", "rand"}
    assert set(chunk.branches) == {"oracle", "uniform"}
    share = chunk.branches["oracle"] / sum(chunk.branches.values())
    assert 0.35 < share < 0.65
    # computed at the start, then at every rollout once 128 more steps were trained (2 envs x 64 steps)
    assert updates == [0, 128, 256, 384]
    # the learner's results: it loses more often to its exact best response than to random play
    oracle, rand = chunk.outcomes["oracle(ppo)"], chunk.outcomes["rand"]
    assert oracle[2] / sum(oracle) > rand[2] / sum(rand)
