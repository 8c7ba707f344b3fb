"""KuhnNashAgent and CFRAgent: decoding observations, sampling, multi-hand play and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from redqueen import make_game
from redqueen.agents import CFRAgent, KuhnNashAgent, make_agent
from redqueen.envs.kuhn_poker import KuhnPoker
from redqueen.envs.tictactoe import TicTacToe
from redqueen.evaluation import expected_returns, policy_table
from redqueen.game import agent_observation


def pettingzoo_obs(state, player) -> dict:
    """What a PettingZoo AEC env hands an agent: the tensor and the mask, nothing else."""
    return {"observation": state.observation_tensor(player), "action_mask": state.action_mask(player)}


def one_hand_key(state, player) -> str:
    """OpenSpiel's key of the same decision in a single hand played from the same position."""
    return f"{state.cards[player]}{state.moves}"


def decisions(game):
    """Every decision state (with its player) of the explicit-chance tree of ``game``."""
    stack = [game.new_initial_state(explicit_chance=True)]
    while stack:
        state = stack.pop()
        if state.is_terminal():
            continue
        if state.is_chance_node():
            actions = [a for a, _ in state.chance_outcomes()]
        else:
            yield state, state.current_player
            actions = state.legal_actions()
        for action in actions:
            child = state.clone()
            child.apply_action(action)
            stack.append(child)


# ---- KuhnNashAgent -------------------------------------------------------------------------------


def test_nash_agent_strategy_table():
    a = 0.2
    table = policy_table(KuhnNashAgent(a))
    bet = {key: probs[1] for key, probs in table.items()}
    expected = {
        # first to act: J bluffs with alpha, Q checks, K bets with 3 alpha
        "0": a, "1": 0.0, "2": 3 * a,
        # first to act, after check-bet: J folds, Q calls with alpha + 1/3, K calls
        "0pb": 0.0, "1pb": a + 1 / 3, "2pb": 1.0,
        # second to act, after a check: J bluffs 1/3, Q checks, K bets
        "0p": 1 / 3, "1p": 0.0, "2p": 1.0,
        # second to act, facing a bet: J folds, Q calls 1/3, K calls
        "0b": 0.0, "1b": 1 / 3, "2b": 1.0,
    }  # fmt: skip
    assert bet == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("make", [KuhnNashAgent, lambda: CFRAgent(iterations=300)], ids=["nash", "cfr"])
def test_agents_play_every_hand_of_a_three_hand_match(make):
    agent = make()
    single = policy_table(agent)  # the agent's one-hand strategy
    game = make_game("kuhn_poker", rounds=3)
    hands_seen = set()
    for seed in range(30):
        state = game.new_initial_state(seed=seed)
        agent.reset(seed=seed)
        while not state.is_terminal():
            player = state.current_player
            obs = pettingzoo_obs(state, player)
            assert obs["observation"].shape == (13,)
            probs = agent.action_probabilities(obs)
            assert probs == pytest.approx(single[one_hand_key(state, player)], abs=1e-12)
            action = agent.act(obs)
            assert action in state.legal_actions()
            hands_seen.add((state.hand, state.position(player)))
            state.apply_action(action)
    assert hands_seen == {(h, pos) for h in range(3) for pos in (0, 1)}


@pytest.mark.parametrize("alpha", [0.0, 1 / 6, 1 / 3])
def test_nash_agent_sampling_matches_its_probabilities(alpha):
    agent = KuhnNashAgent(alpha, seed=1234)
    n = 2000
    seen = set()
    for state, player in decisions(make_game("kuhn_poker")):
        key = state.information_state_key(player)
        if key in seen:
            continue
        seen.add(key)
        obs = agent_observation(state, player, "tensor")
        p = agent.action_probabilities(obs)[1]
        bets = sum(agent.act(obs) for _ in range(n))
        if p in (0.0, 1.0):
            assert bets == n * p
        else:
            sigma = math.sqrt(p * (1 - p) / n)
            assert abs(bets / n - p) <= 5 * sigma, (key, bets / n, p)
    assert len(seen) == 12


def test_nash_self_play_averages_the_game_value():
    agent = KuhnNashAgent(1 / 6, seed=5)
    game = make_game("kuhn_poker")
    rng = np.random.default_rng(6)
    n = 10_000
    results = np.empty(n)
    for i in range(n):
        state = game.new_initial_state(seed=rng)
        while not state.is_terminal():
            state.apply_action(agent.act(pettingzoo_obs(state, state.current_player)))
        results[i] = state.returns()[0]
    standard_error = results.std() / math.sqrt(n)
    assert abs(results.mean() - expected_returns(agent)[0]) <= 4 * standard_error


def test_nash_agent_rejects_bad_observations():
    agent = KuhnNashAgent()
    state = make_game("kuhn_poker").new_initial_state(seed=0)
    good = pettingzoo_obs(state, state.current_player)
    with pytest.raises(ValueError, match="'observation'"):
        agent.action_probabilities({"action_mask": good["action_mask"]})
    with pytest.raises(ValueError, match="at least 11"):
        agent.action_probabilities({"observation": np.zeros(5)})
    with pytest.raises(ValueError, match="one-hot"):
        agent.action_probabilities({"observation": np.zeros(11)})
    bent = good["observation"].copy()
    bent[2:5] = 0.5
    with pytest.raises(ValueError, match="0 or 1"):
        agent.action_probabilities({"observation": bent})
    gap = good["observation"].copy()
    gap[7] = 1.0  # a second betting step with no first one
    with pytest.raises(ValueError, match="betting"):
        agent.action_probabilities({"observation": gap})
    waiting = pettingzoo_obs(state, 1 - state.current_player)
    with pytest.raises(ValueError, match="action mask"):
        agent.action_probabilities(waiting)
    after_check_check = good["observation"].copy()
    after_check_check[[5, 7]] = 1.0
    with pytest.raises(ValueError, match="no decision"):
        agent.action_probabilities({"observation": after_check_check})


def test_make_agent_short_names():
    nash = make_agent("nash", "kuhn_poker", seed=3)
    assert isinstance(nash, KuhnNashAgent) and nash.alpha == 0.0
    cfr = make_agent("cfr", KuhnPoker(rounds=2), iterations=50)
    assert isinstance(cfr, CFRAgent) and cfr.iterations == 50
    state = cfr.game.new_initial_state(seed=1)
    assert cfr.act(pettingzoo_obs(state, state.current_player)) in (0, 1)


# ---- CFRAgent ------------------------------------------------------------------------------------


def test_cfr_agent_info_state_and_tensor_lookups_agree():
    agent = CFRAgent(iterations=100)
    for state, player in decisions(make_game("kuhn_poker")):
        full = agent_observation(state, player, "tensor")
        assert full["info_state"] in agent.policy
        by_key = agent.action_probabilities({"info_state": full["info_state"]})
        by_tensor = agent.action_probabilities(pettingzoo_obs(state, player))
        assert by_key == by_tensor == agent.policy[full["info_state"]]
        assert sum(by_key.values()) == pytest.approx(1.0, abs=1e-12)


def test_cfr_agent_policy_is_the_solver_average():
    import pyspiel

    agent = CFRAgent(iterations=150, algorithm="cfr+")
    solver = pyspiel.CFRPlusSolver(pyspiel.load_game("kuhn_poker"))
    for _ in range(150):
        solver.evaluate_and_update_policy()
    average = solver.average_policy()
    for key, probs in agent.policy.items():
        assert probs == pytest.approx(dict(average.action_probabilities(key)), abs=1e-12)


def test_cfr_agent_errors():
    with pytest.raises(ValueError, match="algorithm"):
        CFRAgent(iterations=10, algorithm="mccfr")
    with pytest.raises(ValueError, match="iterations"):
        CFRAgent(iterations=0)

    class NoBridgeTicTacToe(TicTacToe):
        def openspiel_game(self):
            return None

    with pytest.raises(ValueError, match="no OpenSpiel counterpart"):
        CFRAgent(NoBridgeTicTacToe(), iterations=1)
    agent = CFRAgent(iterations=10)
    with pytest.raises(ValueError, match="cannot map"):
        agent.action_probabilities({"info_state": "nonsense", "observation": np.zeros(11)})
    state = make_game("kuhn_poker").new_initial_state(seed=0)
    obs = pettingzoo_obs(state, state.current_player)
    obs["action_mask"] = np.array([1, 0], dtype=np.int8)
    with pytest.raises(ValueError, match="action mask"):
        agent.action_probabilities(obs)


def test_agents_play_the_pettingzoo_env_for_three_hands():
    from redqueen.envs import kuhn_poker_v0

    seats = {"player_0": KuhnNashAgent(1 / 3, seed=0), "player_1": CFRAgent(iterations=100, seed=1)}
    for seed in range(5):
        env = kuhn_poker_v0.env(rounds=3)
        env.reset(seed=seed)
        decisions_made = 0
        totals = dict.fromkeys(seats, 0.0)
        for name in env.agent_iter():
            obs, reward, terminated, truncated, _ = env.last()
            totals[name] += reward
            action = None
            if not (terminated or truncated):
                assert set(obs) == {"observation", "action_mask"}
                action = seats[name].act(obs)
                assert obs["action_mask"][action] == 1
                decisions_made += 1
            env.step(action)
        assert decisions_made >= 6  # at least two decisions in each of the three hands
        assert totals["player_0"] == -totals["player_1"]
