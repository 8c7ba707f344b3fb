"""The self-play trainer's algorithm on hand-made trajectories: RAE, MARS, training returns, losses.

Every expected number here was worked out by hand from the definitions in
redqueen.trainers.llm_selfplay.algorithm (SPIRAL's RAE: baseline read before its update; MARS: per
game and player centring, reward-to-go, per game and player normalisation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from redqueen.trainers.llm_selfplay.algorithm import (  # noqa: E402
    RoleBaselines,
    Trajectory,
    Turn,
    aggregate,
    k3_kl,
    legal_distribution,
    legal_regulariser,
    mars_advantages,
    outcome_advantages,
    policy_loss,
    training_returns,
    turn_rewards,
    wilson,
)


def _turn(game: str, player: int, accumulated: float = 0.0) -> Turn:
    return Turn(game, player, "p", (1,), (2,), "bet", False, ("check", "bet"), accumulated)


def _game(game: str, index: int, returns: list[float], players: list[int], acc=None) -> Trajectory:
    acc = acc or [0.0] * len(players)
    turns = [_turn(game, p, a) for p, a in zip(players, acc, strict=True)]
    r = np.array(returns, dtype=np.float64)
    return Trajectory(game, index, turns, r, r.copy(), None, ("live", "live"))


def _adv(traj: Trajectory, player: int) -> list[float]:
    return [t.advantage for t in traj.player_turns(player)]


def test_rae_reads_the_baseline_before_updating_it_per_game_and_role():
    a = _game("kuhn", 0, [1.0, -1.0], [0, 1, 0])
    b = _game("kuhn", 1, [-2.0, 2.0], [0, 1, 1])
    c = _game("ttt", 2, [1.0, -1.0], [0, 1])
    baselines = RoleBaselines(0.95)
    outcome_advantages([a, b, c], baselines, gamma=1.0)
    # game a: both baselines start at 0, so the advantage is the return; then b = 0.05 R
    assert _adv(a, 0) == [1.0, 1.0] and _adv(a, 1) == [-1.0]
    # game b: p0 reads b = 0.05, p1 reads b = -0.05
    assert _adv(b, 0) == pytest.approx([-2.05]) and _adv(b, 1) == pytest.approx([2.05, 2.05])
    assert baselines.get("kuhn", 0) == pytest.approx(0.95 * 0.05 + 0.05 * -2.0)  # -0.0525
    assert baselines.get("kuhn", 1) == pytest.approx(0.95 * -0.05 + 0.05 * 2.0)  # 0.0525
    # another game keeps baselines of its own, starting at 0
    assert _adv(c, 0) == [1.0] and _adv(c, 1) == [-1.0]
    assert baselines.get("ttt", 0) == pytest.approx(0.05)


def test_rae_discounts_from_the_players_last_turn_and_none_has_no_baseline():
    a = _game("kuhn", 0, [2.0, -2.0], [0, 1, 0, 1, 0])
    outcome_advantages([a], RoleBaselines(0.95), gamma=0.5)
    assert _adv(a, 0) == [0.5, 1.0, 2.0]  # 2 * 0.5^2, 2 * 0.5, 2
    assert _adv(a, 1) == [-1.0, -2.0]
    b = _game("kuhn", 1, [2.0, -2.0], [0, 1])
    c = _game("kuhn", 2, [2.0, -2.0], [0, 1])
    outcome_advantages([b, c], None, gamma=1.0)
    assert _adv(c, 0) == [2.0] and _adv(c, 1) == [-2.0]  # no baseline: the return itself


def test_baselines_round_trip_through_their_state():
    baselines = RoleBaselines(0.9)
    baselines.advantage("kuhn", 0, 1.0)
    baselines.advantage("ttt", 1, -1.0)
    again = RoleBaselines()
    again.load_state_dict(baselines.state_dict())
    assert again.values == baselines.values and again.decay == 0.9
    with pytest.raises(ValueError, match="decay"):
        RoleBaselines(1.0)


def test_turn_rewards_are_the_changes_of_the_players_return():
    # a three-hand match: player 0 is +1 after hand 1 when it next acts, still +1 at its last turn,
    # and ends on +3
    traj = _game("kuhn3", 0, [3.0, -3.0], [0, 1, 0, 1, 0], acc=[0.0, 0.0, 1.0, -1.0, 1.0])
    assert turn_rewards(traj, 0) == [1.0, 0.0, 2.0]
    assert turn_rewards(traj, 1) == [-1.0, -2.0]


def test_mars_turn_level_advantages_normalised_per_game_and_player():
    a = _game("kuhn", 0, [1.0, -1.0], [0, 1, 0])
    b = _game("kuhn", 1, [-2.0, 2.0], [0, 1])
    mars_advantages([a, b], gamma=1.0, std=False)
    # player 0: turn rewards [0, 1] and [-2], mean -1/3 -> centred [1/3, 4/3], [-5/3];
    # rewards-to-go [5/3, 4/3], [-5/3], mean 4/9 -> advantages [11/9, 8/9], [-19/9]
    assert _adv(a, 0) == pytest.approx([11 / 9, 8 / 9])
    assert _adv(b, 0) == pytest.approx([-19 / 9])
    # player 1: rewards [-1] and [2], mean 1/2 -> [-3/2], [3/2], already centred
    assert _adv(a, 1) == pytest.approx([-1.5]) and _adv(b, 1) == pytest.approx([1.5])


def test_mars_with_standard_deviation_and_discount():
    a = _game("kuhn", 0, [1.0, -1.0], [0, 1, 0])
    b = _game("kuhn", 1, [-2.0, 2.0], [0, 1])
    mars_advantages([a, b], gamma=0.5, std=True)
    # player 0: centred rewards [1/3, 4/3], [-5/3]; rewards-to-go with gamma 0.5: [1/3 + 2/3, 4/3]
    # = [1, 4/3], [-5/3]; mean 2/9; population std of [1, 4/3, -5/3]
    g = np.array([1.0, 4 / 3, -5 / 3])
    expected = (g - g.mean()) / g.std()
    assert _adv(a, 0) + _adv(b, 0) == pytest.approx(list(expected), rel=1e-6)
    assert _adv(a, 1) == pytest.approx([-1.0], rel=1e-6) and _adv(b, 1) == pytest.approx([1.0], rel=1e-6)


def test_an_invalid_answer_pays_spirals_training_returns():
    assert list(training_returns(np.array([-2.0, 2.0]), 0)) == [-1.5, 0.5]
    assert list(training_returns(np.array([2.0, -2.0]), 1)) == [0.5, -1.5]
    assert list(training_returns(np.array([1.0, -1.0]), None)) == [1.0, -1.0]
    custom = training_returns(np.array([-1.0, 1.0]), 0, invalid_reward=-3.0, invalid_other_reward=0.0)
    assert list(custom) == [-3.0, 0.0]


def test_ppo_clip_loss_and_aggregations_by_hand():
    logp = torch.tensor([[-1.0, -0.5]])
    old = torch.tensor([[-1.2, -0.5]])
    mask = torch.ones(1, 2)
    # A = 2: ratios [e^0.2, 1], the first clipped to 1.2: per token [-2.4, -2.0]
    loss, stats = policy_loss(logp, old, torch.tensor([2.0]), mask, kind="ppo", clip=0.2, normalizer=4.0)
    assert float(loss) == pytest.approx(-4.4 / 4)
    assert stats["clip_fraction"] == pytest.approx(0.5)
    mean, _ = policy_loss(logp, old, torch.tensor([2.0]), mask, kind="ppo", aggregation="mean")
    assert float(mean) == pytest.approx(-2.2)
    # A = -1: the unclipped ratio is the larger loss: [e^0.2, 1]
    neg, _ = policy_loss(logp, old, torch.tensor([-1.0]), mask, kind="ppo", normalizer=1.0)
    assert float(neg) == pytest.approx(math.exp(0.2) + 1.0)
    reinforce, _ = policy_loss(logp, old, torch.tensor([2.0]), mask, kind="reinforce", normalizer=4.0)
    assert float(reinforce) == pytest.approx(2.0 * 1.5 / 4)
    with pytest.raises(ValueError, match="unknown loss"):
        policy_loss(logp, old, torch.tensor([1.0]), mask, kind="dpo")


def test_aggregation_ignores_padding_and_kl_is_zero_only_at_the_reference():
    per_token = torch.tensor([[5.0, 1.0, 2.0], [3.0, 3.0, 3.0]])
    mask = torch.tensor([[0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    assert aggregate(per_token, mask, "sum", 3.0).tolist() == pytest.approx([1.0, 3.0])
    assert aggregate(per_token, mask, "mean", 0.0).tolist() == pytest.approx([1.5, 3.0])
    logp = torch.tensor([[-1.0, -2.0]])
    assert float(k3_kl(logp, logp.clone(), torch.ones(1, 2))) == 0.0
    d = 0.3  # ref - logp on one token: exp(d) - d - 1
    value = k3_kl(torch.tensor([[-1.0]]), torch.tensor([[-0.7]]), torch.ones(1, 1))
    assert float(value) == pytest.approx(math.exp(d) - d - 1.0, rel=1e-5)


def test_legal_move_kl_and_entropy():
    scores = [torch.log(torch.tensor([0.1, 0.3])), torch.log(torch.tensor([0.2, 0.2]))]
    log_q = legal_distribution(scores)  # renormalised over the legal moves: [0.25, 0.75], [0.5, 0.5]
    assert log_q[0].exp().tolist() == pytest.approx([0.25, 0.75])
    magnet = [torch.log(torch.tensor([0.5, 0.5])), torch.log(torch.tensor([0.5, 0.5]))]
    kl, entropy = legal_regulariser(log_q, magnet, [3, 1])
    kl0 = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    h0 = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert float(kl) == pytest.approx(0.75 * kl0, rel=1e-5)  # the second decision is at the magnet
    assert float(entropy) == pytest.approx(0.75 * h0 + 0.25 * math.log(2), rel=1e-5)


def test_wilson_interval():
    low, high = wilson(50, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)
