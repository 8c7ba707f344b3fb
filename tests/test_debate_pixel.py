"""The pixel debate (issue 8): data, judge, rules, exact minimax, debaters, evaluation, envs, CLI."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gzip
import itertools
import json
import warnings
from math import comb

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pettingzoo.test import api_test, seed_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import redqueen
from redqueen import IllegalAction
from redqueen.agents import Agent, RandomAgent
from redqueen.envs import debate_v0
from redqueen.envs.debate import judge as judge_module
from redqueen.envs.debate.agents import GreedyDebater, MCTSDebater, MinimaxDebater, make_debater
from redqueen.envs.debate.data import ImageDataset, load_dataset, load_digits_dataset, read_idx, write_idx
from redqueen.envs.debate.evaluation import debate_table, evaluate_debate
from redqueen.envs.debate.game import HONEST, LIAR, PixelDebate, split_observation
from redqueen.envs.debate.judge import (
    Judge,
    LinearJudge,
    MLPJudge,
    build_net,
    default_judge,
    judge_accuracy,
    load_judge,
    train_judge,
)
from redqueen.envs.debate.single import DebateEnv
from redqueen.envs.debate.solver import colex_combinations, colex_rank, solve, solve_image
from redqueen.envs.single import SingleAgentEnv
from redqueen.game import agent_observation

torch.set_num_threads(1)


# ---- helpers -------------------------------------------------------------------------------------
def tiny_dataset(n: int = 12, shape=(3, 3), classes: int = 3, seed: int = 0) -> ImageDataset:
    """Small random images with a few blank pixels each, labels cycling through the classes."""
    rng = np.random.default_rng(seed)
    images = rng.integers(1, 10, size=(n, *shape)) / 9.0
    images[rng.random(images.shape) < 0.2] = 0.0
    return ImageDataset(images.astype(np.float32), np.arange(n) % classes, classes, "tiny")


def random_mlp_judge(shape=(3, 3), classes: int = 3, seed: int = 0) -> MLPJudge:
    """A nonlinear judge with random weights (a hand-made judge for exact checks)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = build_net(shape[0] * shape[1], classes, (8,))
        for layer in net:
            if hasattr(layer, "weight"):
                torch.nn.init.normal_(layer.weight, std=3.0)
    return MLPJudge(net, shape, classes, k=None, hidden=(8,), name="random-mlp")


def brute_force_value(state) -> int:
    """Honest debater's result (1 win / 0 loss) under exact play, by searching every move order."""
    if state.is_terminal():
        return int(state.returns()[HONEST] > 0)
    values = []
    for action in state.legal_actions():
        child = state.clone()
        child.apply_action(action)
        values.append(brute_force_value(child))
    return max(values) if state.current_player == HONEST else min(values)


def play(state, agents, seed: int = 0):
    for i, agent in enumerate(agents):
        agent.reset(seed=seed + i)
    while not state.is_terminal():
        p = state.current_player
        state.apply_action(int(agents[p].act(agent_observation(state, p))))
    return state


@pytest.fixture(scope="module")
def digits_k4() -> PixelDebate:
    return PixelDebate(k=4)


# ---- data ----------------------------------------------------------------------------------------
def test_digits_split_is_stratified_disjoint_and_fixed():
    train, test, everything = (load_digits_dataset(s) for s in ("train", "test", "all"))
    assert len(everything) == 1797 and everything.shape == (8, 8)
    assert len(train) + len(test) == 1797 and len(test) == 539
    # every class keeps its share in the test split
    for c in range(10):
        share = (test.labels == c).sum() / (everything.labels == c).sum()
        assert abs(share - 0.3) < 0.02
    assert everything.images.min() == 0.0 and everything.images.max() == 1.0
    rows = {row.tobytes() for row in everything.flat}
    assert len(rows) > 1700  # the splits really are different images
    again = load_digits_dataset("test")
    assert np.array_equal(again.images, test.images) and np.array_equal(again.labels, test.labels)
    with pytest.raises(ValueError, match="split must be one of"):
        load_digits_dataset("valid")


def _write_mnist(folder, rng, n_train=60, n_test=20, size=6, gz=False):
    """A small MNIST-format folder: class c lights row c % size (plus noise)."""
    folder.mkdir(exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, size, size)) < 0.15) * rng.integers(1, 256, (n, size, size))
        for i, c in enumerate(labels):
            images[i, c % size] = 200 + c
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", images.astype(np.uint8))
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", labels)
    return folder


def test_idx_files_round_trip_and_mnist_folders(tmp_path):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (5, 4, 3)).astype(np.uint8)
    for name in ("a-idx3-ubyte", "a-idx3-ubyte.gz"):
        path = write_idx(tmp_path / name, array)
        assert np.array_equal(read_idx(path), array)
    assert gzip.decompress((tmp_path / "a-idx3-ubyte.gz").read_bytes())[:4] == b"\x00\x00\x08\x03"
    ints = np.arange(-3, 3, dtype=np.int32)
    assert np.array_equal(read_idx(write_idx(tmp_path / "i-idx1", ints)), ints)

    for gz in (False, True):
        folder = _write_mnist(tmp_path / f"mnist{gz}", np.random.default_rng(1), gz=gz)
        train, test = load_dataset(folder, "train"), load_dataset(str(folder), "test")
        assert (len(train), len(test)) == (60, 20) and train.shape == (6, 6) and train.num_classes == 10
        assert train.images.max() <= 1.0 and np.allclose(train.images * 255, np.round(train.images * 255))
        assert len(load_dataset(folder, "all")) == 80


def test_idx_errors_name_the_problem(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="first two bytes must be zero"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    with pytest.raises(ValueError, match="announces 5 values"):
        read_idx(tmp_path / "short")
    with pytest.raises(OSError, match="cannot read IDX file"):
        read_idx(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_dataset(tmp_path / "empty", "train")
    with pytest.raises(FileNotFoundError, match="'digits' or a folder"):
        load_dataset("digit", "test")
    with pytest.raises(ValueError, match="uint8, int8 or int32"):
        write_idx(tmp_path / "f", np.zeros(3))
    with pytest.raises(ValueError, match="labels must be in"):
        ImageDataset(np.zeros((2, 2, 2)), np.array([0, 5]), 3, "x")


# ---- judge ---------------------------------------------------------------------------------------
def test_judge_trains_to_40_percent_at_k4_on_a_small_budget(tmp_path):
    judge = train_judge("digits", 4, steps=700, batch_size=256, seed=0, eval_masks=5)
    assert judge.k == 4 and judge.shape == (8, 8) and judge.num_classes == 10
    accuracy = judge.meta["accuracy"]
    assert accuracy >= 0.40, accuracy  # chance is 10%; the shipped judge (6000 steps) reaches ~50%
    # the same accuracy measured again, and after a save/load round trip
    assert judge_accuracy(judge, "digits", 4, masks_per_image=5) == accuracy
    path = judge.save(tmp_path / "j.pt")
    loaded = load_judge(path)
    test = load_digits_dataset("test")
    masks = judge_module.random_masks(test.flat[:50], 4, np.random.default_rng(3))
    assert np.array_equal(loaded.logits(test.flat[:50], masks), judge.logits(test.flat[:50], masks))
    assert loaded.meta["accuracy"] == accuracy and loaded.k == 4


def test_numpy_inference_matches_the_torch_module_and_set_scoring():
    judge = default_judge(6)
    test = load_digits_dataset("test")
    x = test.flat[:40]
    masks = judge_module.random_masks(x, 6, np.random.default_rng(0))
    assert np.allclose(judge.logits(x, masks), judge.torch_logits(x, masks), atol=1e-4)
    sets = np.sort(np.argwhere(masks)[:, 1].reshape(40, 6), axis=1)
    by_set = np.vstack([judge.set_logits(x[i], sets[i]) for i in range(40)])
    assert np.allclose(by_set, judge.logits(x, masks), atol=1e-12)
    # one set or a batch: the same pixel sums (BLAS may round the products differently in the last bit)
    batch = judge.set_logits(x[0], np.vstack([sets[0]] * 3 + [sets[1]]))
    assert np.allclose(batch[0], judge.set_logits(x[0], sets[0])[0], rtol=0, atol=1e-12)
    # random masks take nonzero pixels only (while the image has k of them)
    assert not (masks & (x <= 0)).any() and (masks.sum(axis=1) == 6).all()


def test_shipped_judges_and_their_accuracy_alone():
    for k, low, high in ((4, 0.44, 0.56), (6, 0.57, 0.69)):
        judge = default_judge(k)
        assert judge is default_judge(k) and judge.k == k and judge.pixels == "nonzero"
        acc = judge_accuracy(judge, "digits", k, masks_per_image=5, seed=1)
        assert low <= acc <= high, (k, acc)  # the paper's MNIST judges: 48.2% (k=4), 59.4% (k=6)
    size = (judge_module._DATA_DIR / "judge_digits_k4.pt").stat().st_size
    assert size < 200_000


def test_default_judge_for_other_k_is_trained_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("REDQUEEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(judge_module, "_DEFAULTS", {})
    calls = []
    real = judge_module.train_judge

    def quick(dataset, k, pixels="nonzero"):
        calls.append(k)
        return real(dataset, k, pixels=pixels, steps=20, batch_size=64, eval_masks=1)

    monkeypatch.setattr(judge_module, "train_judge", quick)
    first = default_judge(3)
    assert calls == [3] and (tmp_path / "debate" / "judge_digits_k3_nonzero_v1.pt").is_file()
    monkeypatch.setattr(judge_module, "_DEFAULTS", {})
    again = default_judge(3)
    assert calls == [3]  # loaded from the cache, not trained again
    x = load_digits_dataset("test").flat[:3]
    m = judge_module.random_masks(x, 3, np.random.default_rng(0))
    assert np.array_equal(first.logits(x, m), again.logits(x, m))


def test_judge_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="train one with"):
        load_judge(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_text("not a judge")
    with pytest.raises(ValueError, match="is not a judge file"):
        load_judge(tmp_path / "junk.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a redqueen debate judge file"):
        load_judge(tmp_path / "other.pt")
    with pytest.raises(ValueError, match="judges 3x3 images"):
        PixelDebate(k=2, judge=random_mlp_judge())
    with pytest.raises(ValueError, match="no default judge"):
        PixelDebate(k=2, dataset=tiny_dataset())


# ---- exact minimax ---------------------------------------------------------------------------------
def test_colex_ranks_index_the_combinations():
    for n, m in ((7, 3), (10, 1), (6, 0), (9, 5)):
        rows = colex_combinations(n, m)
        assert rows.shape == (comb(n, m), m)
        assert np.array_equal(colex_rank(rows), np.arange(comb(n, m)))
        assert {tuple(r) for r in rows} == set(itertools.combinations(range(n), m))


def test_linear_judge_value_solved_by_hand():
    """With a judge additive in the pixels, each debater simply takes its best remaining pixels: the
    honest one the largest margins, the liar the smallest; so the value is the sign of the sum of the
    top a and bottom b margins (a, b = reveals of each), whoever starts."""
    rng = np.random.default_rng(7)
    for trial in range(40):
        p = 8
        margins = rng.normal(size=p)
        weights = np.zeros((2, p))
        weights[0] = margins  # logit 0 (the truth) - logit 1 (the lie) = sum of the revealed margins
        judge = LinearJudge(weights, (2, 4))
        image = np.ones(p)
        k = int(rng.integers(1, 6))
        for honest_first in (True, False):
            a = (k + 1) // 2 if honest_first else k // 2
            b = k - a
            order = np.sort(margins)
            by_hand = int(order[p - a :].sum() + order[:b].sum() > 0)
            solution = solve(judge, image, 0, k, candidates=range(p), honest_first=honest_first, lies=[1])
            assert solution.value[0] == by_hand, (trial, k, honest_first)
        both = solve_image(judge, image, 0, k, range(p))
        assert both["honest_first"][0] == solve(judge, image, 0, k, candidates=range(p), lies=[1]).value[0]


class ParityJudge(Judge):
    """Hand-made and as nonlinear as it gets: label 0 wins when an even number of the revealed pixels
    lie in the left half of the image, label 1 when an odd number do."""

    def __init__(self, shape=(2, 4)):
        self.shape, self.num_classes, self.name = shape, 2, "parity"

    def logits(self, images, masks):
        left = (np.arange(self.num_pixels) % self.shape[1]) < self.shape[1] // 2
        odd = (np.asarray(masks, dtype=bool) & left).sum(axis=1) % 2
        return np.stack([1.0 - odd, odd.astype(float)], axis=1)


def test_parity_judge_the_last_mover_wins_by_hand_and_by_search():
    data = ImageDataset(np.ones((2, 2, 4), dtype=np.float32), np.array([0, 1]), 2, "ones")
    judge = ParityJudge()
    for k in (1, 2, 3, 4):
        game = PixelDebate(k=k, dataset=data, judge=judge)
        for first in ("honest", "liar"):
            honest_last = (k % 2 == 1) == (first == "honest")
            for index in (0, 1):
                exact = solve_image(judge, data.flat[index], index, k, range(8))[f"{first}_first"]
                state = game.state_for(index, lie=1 - index, first=first)
                assert exact.tolist() == [int(honest_last)] == [brute_force_value(state)], (k, first)
                end = play(state, [MinimaxDebater(game), MinimaxDebater(game)])
                assert (end.returns()[HONEST] > 0) == honest_last


def test_minimax_value_agrees_with_brute_force_on_a_nonlinear_judge():
    data = tiny_dataset(n=6)
    judge = random_mlp_judge(seed=3)
    order_matters = 0
    for precommit in (True, False):
        game = PixelDebate(k=4, dataset=data, judge=judge, precommit=precommit)
        for index in range(len(data)):
            label = int(data.labels[index])
            pool = np.flatnonzero(game.pool_of(index))
            lies = [c for c in range(3) if c != label] if precommit else [None]
            exact = solve_image(judge, data.flat[index], label, 4, pool, precommit=precommit)
            order_matters += int((exact["honest_first"] != exact["liar_first"]).sum())
            for first in ("honest", "liar"):
                for j, lie in enumerate(lies):
                    state = game.state_for(index, lie=lie, first=first)
                    assert exact[f"{first}_first"][j] == brute_force_value(state), (index, first, lie)
                    # and from a position in the middle of the game
                    state.apply_action(int(pool[0]))
                    mid = solve(
                        judge,
                        data.flat[index],
                        label,
                        4,
                        candidates=pool,
                        revealed=[int(pool[0])],
                        honest_first=first == "honest",
                        lies=None if lie is None else [lie],
                        precommit=precommit,
                    )
                    assert mid.value[0] == brute_force_value(state)
    assert order_matters >= 1  # some of these games are won by whoever reveals last


def test_solver_refuses_huge_problems_with_a_clear_error():
    judge = LinearJudge(np.zeros((2, 784)), (28, 28))
    with pytest.raises(ValueError, match="use the MCTS debater"):
        solve(judge, np.ones(784), 0, 6, candidates=range(784), lies=[1])


# ---- rules -----------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 6), moves=st.lists(st.integers(0, 63), max_size=8))
def test_random_play_follows_the_rules(digits_k4, seed, k, moves):
    game = PixelDebate(k=k, first="random", judge=digits_k4.judge, dataset=digits_k4.dataset)
    state = game.new_initial_state(seed)
    y, lie = state.claims
    assert y == state.label and lie is not None and lie != y and 0 <= lie < 10
    assert state.pool.sum() >= k and np.array_equal(state.pool, state.image > 0)
    space = game.observation_space(0)
    rng = np.random.default_rng(seed)
    order = []
    for step in range(k):
        assert state.current_player == state.mover_of(step)
        for p in (HONEST, LIAR):
            obs = state.observation_tensor(p)
            assert obs in space
            parts = split_observation(obs, game)
            assert parts["left"] == k - step and parts["honest"] == (p == HONEST)
            assert parts["own_claim"] == state.claims[p] and parts["opponent_claim"] == state.claims[1 - p]
            mask = state.action_mask(p)
            assert (np.flatnonzero(mask).tolist() == state.legal_actions()) == (p == state.current_player)
        legal = state.legal_actions()
        tried = moves[step] if step < len(moves) else int(rng.choice(legal))
        if tried in legal:
            action = tried
        else:
            with pytest.raises(IllegalAction):
                state.clone().apply_action(tried)
            action = int(rng.choice(legal))
        text = state.action_to_text(state.current_player, action)
        assert state.parse_action(state.current_player, f"I pick \\boxed{{{text}}}") == action
        state.apply_action(action)
        order.append(action)
    assert state.is_terminal() and state.revealed == order and len(set(order)) == k
    assert sorted(state.returns().tolist()) == [-1.0, 1.0]
    z = state.judge_logits
    assert (state.returns()[HONEST] > 0) == (z[y] > z[lie])
    assert state.judge_choice() in (y, lie)


def test_same_seed_same_game_and_seeds_vary(digits_k4):
    a, b = digits_k4.new_initial_state(5), digits_k4.new_initial_state(5)
    assert (a.image_index, a.claims, a.first) == (b.image_index, b.claims, b.first)
    drawn = {(s.image_index, s.claims) for s in map(digits_k4.new_initial_state, range(30))}
    assert len(drawn) > 25
    lies = [digits_k4.new_initial_state(s) for s in range(300)]
    counts = np.bincount([(s.claims[1] - s.label) % 10 for s in lies], minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 10  # every wrong label is drawn as the lie


def test_text_view_and_readable_errors(digits_k4):
    state = digits_k4.state_for(0, lie=3 if digits_k4.dataset.labels[0] != 3 else 4, first="honest")
    text = state.observation_text(HONEST)
    assert "honest debater" in text and "[reveal" in text and "intensity 0-9" in text
    grid = state.image_text().splitlines()
    assert len(grid) == 9 and grid[0].split() == [str(c) for c in range(8)]
    digits = np.array([[int(ch) for ch in row.split()[1:]] for row in grid[1:]])
    assert np.array_equal(digits > 0, state.image.reshape(8, 8) > 0)  # blank exactly where the image is
    blank = int(np.flatnonzero(state.image == 0)[0])
    r, c = divmod(blank, 8)
    with pytest.raises(IllegalAction, match=rf"pixel \({r}, {c}\) is blank"):
        state.parse_action(HONEST, f"[reveal {r} {c}]")
    with pytest.raises(IllegalAction, match="outside the 8x8 image"):
        state.parse_action(HONEST, "[reveal 8 1]")
    with pytest.raises(IllegalAction, match="not a move"):
        state.parse_action(HONEST, "I reveal the nicest one")
    with pytest.raises(IllegalAction, match="not to move"):
        state.parse_action(LIAR, "[reveal 1 1]")
    legal = state.legal_actions()[0]
    r, c = divmod(legal, 8)
    for reply in (f"[reveal {r} {c}]", f"reveal {r},{c}", f"({r}, {c})", f"\\boxed{{{r} {c}}}"):
        assert state.parse_action(HONEST, reply) == legal
    state.apply_action(legal)
    with pytest.raises(IllegalAction, match="already revealed"):
        state.apply_action(legal)
    assert f"({r}, {c}) = " in state.observation_text(LIAR) and "by opponent" in state.observation_text(LIAR)
    with pytest.raises(IllegalAction, match="integer index"):
        state.apply_action("3")


def test_game_options_and_bad_parameters(digits_k4):
    no_claim = PixelDebate(k=4, precommit=False, judge=digits_k4.judge)
    state = play(no_claim.new_initial_state(1), [GreedyDebater(no_claim), GreedyDebater(no_claim)])
    z = state.judge_logits
    assert state.claims[1] is None and (state.returns()[0] > 0) == (z.argmax() == state.label)
    everywhere = PixelDebate(k=4, pixels="all", judge=digits_k4.judge)
    s = everywhere.new_initial_state(0)
    assert len(s.legal_actions()) == 64
    fixed = PixelDebate(k=4, lie=7, judge=digits_k4.judge, first="liar")
    for seed in range(10):
        s = fixed.new_initial_state(seed)
        assert s.current_player == LIAR and (s.claims[1] == 7 or s.label == 7)
    for bad, match in (
        ({"k": 0}, "k must be a positive"),
        ({"first": "judge"}, "first must be"),
        ({"pixels": "some"}, "pixels must be"),
        ({"lie": 12}, "lie must be a label"),
        ({"precommit": False, "lie": 3}, "needs precommit=True"),
        ({"k": 65}, "more pixels than an image"),
    ):
        with pytest.raises(ValueError, match=match):
            PixelDebate(judge=digits_k4.judge, **{"k": 4, **bad})
    with pytest.raises(ValueError, match="other than the true"):
        digits_k4.state_for(0, lie=int(digits_k4.dataset.labels[0]))


# ---- debaters ----------------------------------------------------------------------------------------
def test_exact_debaters_play_to_the_solved_value_on_digits():
    game = PixelDebate(k=3, judge=default_judge(4))  # exact solves are instant at k=3 (C(33, 3) sets)
    for index in (0, 1, 2):
        label = int(game.dataset.labels[index])
        exact = solve_image(
            game.judge, game.dataset.flat[index], label, 3, np.flatnonzero(game.pool_of(index))
        )
        lies = [c for c in range(10) if c != label]
        for first in ("honest", "liar"):
            for j in (0, 4, 8):
                state = game.state_for(index, lie=lies[j], first=first)
                agents = [MinimaxDebater(game), MinimaxDebater(game)]
                obs = agent_observation(state, state.current_player)
                own_value = agents[state.current_player].value(obs)
                honest_value = own_value if state.current_player == HONEST else 1 - own_value
                assert honest_value == exact[f"{first}_first"][j]
                final = play(state, agents, seed=index)
                assert int(final.returns()[HONEST] > 0) == exact[f"{first}_first"][j]
                # an exact debater that can win does win, against anyone
                winner = HONEST if exact[f"{first}_first"][j] else LIAR
                others = [GreedyDebater(game), RandomAgent()]
                for other in others:
                    seats = [MinimaxDebater(game), MinimaxDebater(game)]
                    seats[1 - winner] = other
                    end = play(game.state_for(index, lie=lies[j], first=first), seats, seed=3)
                    assert end.returns()[winner] > 0


def test_mcts_finds_the_exact_result_in_small_games():
    data = tiny_dataset(n=9, seed=3)
    judge = random_mlp_judge(seed=2)
    game = PixelDebate(k=3, dataset=data, judge=judge)
    checked = 0
    for index in range(len(data)):
        label = int(data.labels[index])
        exact = solve_image(judge, data.flat[index], label, 3, np.flatnonzero(game.pool_of(index)))
        lie = (label + 1) % 3
        for first in ("honest", "liar"):
            value = exact[f"{first}_first"][[c for c in range(3) if c != label].index(lie)]
            winner = HONEST if value else LIAR
            seats = [MinimaxDebater(game), MinimaxDebater(game)]
            seats[winner] = MCTSDebater(game, rollouts=300, seed=index)
            end = play(game.state_for(index, lie=lie, first=first), seats, seed=index)
            assert end.returns()[winner] > 0, (index, first)  # MCTS converts every won position
            checked += 1
    assert checked == 18


def test_greedy_debater_takes_the_best_next_pixel(digits_k4):
    state = digits_k4.new_initial_state(3)
    obs = agent_observation(state, state.current_player)
    greedy = GreedyDebater(digits_k4, seed=0)
    chosen = greedy.act(obs)
    y, lie = state.claims
    margins = {}
    for a in state.legal_actions():
        z = digits_k4.judge.set_logits(state.image, [a])[0]
        margins[a] = z[y] - z[lie] if state.current_player == HONEST else z[lie] - z[y]
    assert margins[chosen] == max(margins.values())
    assert set(greedy.action_probabilities(obs)) == {
        a for a, m in margins.items() if m == max(margins.values())
    }
    assert (
        isinstance(make_debater("mcts50", digits_k4), MCTSDebater)
        and make_debater("mcts50", digits_k4).rollouts == 50
    )
    with pytest.raises(ValueError, match="unknown debater"):
        make_debater("oracle", digits_k4)
    with pytest.raises(ValueError, match="tensor view"):
        greedy.act({"text": "hi", "legal_moves": []})


# ---- evaluation ----------------------------------------------------------------------------------
def test_evaluation_exact_fast_path_equals_played_games():
    game = PixelDebate(k=3, judge=default_judge(4))
    fast = evaluate_debate(game, debater="minimax", images=4, judge_masks=4)
    slow = evaluate_debate(
        game, debater=lambda g, seed: MinimaxDebater(g, seed=seed), images=4, judge_masks=4
    )
    assert fast.honest_first_wins == slow.honest_first_wins and fast.liar_first_wins == slow.liar_first_wins
    assert fast.per_lie_honest_first == slow.per_lie_honest_first
    assert fast.mean == (fast.honest_first + fast.liar_first) / 2 and fast.images == 4
    assert 0 <= fast.judge_alone <= 1
    # "the liar wins an image if any of the 9 lies wins": image accuracy <= per-lie accuracy
    assert fast.honest_first <= fast.per_lie_honest_first and fast.liar_first <= fast.per_lie_liar_first
    data = fast.to_dict(per_image=True)
    assert json.loads(json.dumps(data))["image_indices"] == game.eligible[:4].tolist()
    table = debate_table([fast, slow])
    assert table.row_count == 2 and len(table.columns) == 6
    with pytest.raises(ValueError, match="not playable images"):
        evaluate_debate(game, images=[10_000])


# ---- environments ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{"k": 4, "text_observations": True}, {"k": 3, "precommit": False, "first": "random", "pixels": "all"}],
)
def test_pettingzoo_api_and_seed_tests(kwargs):
    kwargs = {**kwargs, "judge": default_judge(4)}  # the shipped judge, also for k=3 and all pixels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(debate_v0.env(**kwargs), num_cycles=40)
    seed_test(lambda: debate_v0.raw_env(**{k: v for k, v in kwargs.items() if k != "text_observations"}), 40)


def test_gym_make_without_arguments_and_the_official_checkers():
    env = gym.make("redqueen/Debate-v0")
    inner = env.unwrapped
    assert isinstance(inner, DebateEnv) and isinstance(inner, SingleAgentEnv)
    assert inner.game.k == 6 and inner.opponent.name == "greedy" and inner.seat == HONEST
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(inner)
        sb3_check_env(env)
    assert [str(w.message) for w in caught] == []
    gym_check_env(gym.make("redqueen/Debate-v0", k=4, seat="alternate", opponent="random").unwrapped)
    _, info = env.reset(seed=11)
    total, done = 0.0, False
    while not done:
        _, reward, done, _, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))
        total += reward
    assert total in (-1.0, 1.0) and info["returns"].tolist() in ([1.0, -1.0], [-1.0, 1.0])


def test_gym_opponents_by_name_and_object():
    env = gym.make("redqueen/Debate-v0", k=4, opponent="minimax", seat=1)
    assert isinstance(env.unwrapped.opponent, MinimaxDebater)
    _, info = env.reset(seed=0)
    assert info["seat"] == LIAR
    game = PixelDebate(k=4)
    mine = MCTSDebater(game, rollouts=20)
    assert gym.make("redqueen/Debate-v0", game=game, opponent=mine).unwrapped.opponent is mine
    with pytest.raises(ValueError, match="unknown debater"):
        gym.make("redqueen/Debate-v0", opponent="nash")


def test_match_runner_plays_text_and_tensor_debaters():
    game = PixelDebate(k=4)

    class TextDebater(Agent):
        """Answers the middle legal move in words, as an LLM would."""

        name, view = "talker", "text"

        def act(self, observation):
            moves = observation["legal_moves"]
            return f"I will show this one: {moves[len(moves) // 2]}"

    result = redqueen.play(game, [TextDebater(), GreedyDebater(game)], n_games=6, seed=0, swap_seats=False)
    assert result.returns.shape == (6, 2) and set(result.returns.ravel().tolist()) <= {-1.0, 1.0}
    assert result.invalid_answers.sum() == 0


def test_cli_train_judge_on_idx_files_and_eval(tmp_path, capsys):
    from redqueen.cli import main

    folder = _write_mnist(tmp_path / "mnist", np.random.default_rng(2), n_train=200, n_test=40)
    out = tmp_path / "judge.pt"
    train = ["debate", "train-judge", "--dataset", str(folder), "--k", "3", "--steps", "150"]
    code = main(
        [
            *train,
            "--batch-size",
            "64",
            "--hidden",
            "16",
            "--out",
            str(out),
            "--quiet",
            "--json",
            str(tmp_path / "t.json"),
        ]
    )
    assert code == 0 and out.is_file()
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["k"] == 3 and record["test_images"] == 40 and record["accuracy"] > 0.3  # chance is 0.1
    judge = load_judge(out)
    assert judge.shape == (6, 6) and judge.hidden == (16,)
    game = PixelDebate(k=3, dataset=folder, judge=out)
    assert play(game.new_initial_state(0), [GreedyDebater(game), GreedyDebater(game)]).is_terminal()

    evaluate = ["debate", "eval", "--dataset", str(folder), "--judge", str(out), "--k", "2", "--images", "3"]
    code = main([*evaluate, "--quiet", "--json", str(tmp_path / "e.json")])
    assert code == 0
    report = json.loads((tmp_path / "e.json").read_text())
    assert (
        report["images"] == 3 and report["debater"] == "minimax" and "honest first" in capsys.readouterr().out
    )
    assert main(["debate", "eval", "--judge", str(tmp_path / "nope.pt"), "--quiet"]) == 2
    assert "no judge file" in capsys.readouterr().err
