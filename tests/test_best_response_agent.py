"""BestResponseAgent: an exact best response, checked against the evaluation module and OpenSpiel."""

from __future__ import annotations

import pytest

from redqueen.agents import BestResponseAgent, KuhnNashAgent, RandomAgent
from redqueen.evaluation import best_response_values, expected_returns, exploitability, nash_conv


@pytest.mark.parametrize("target", [RandomAgent(), KuhnNashAgent(alpha=0.2)], ids=["random", "nash"])
def test_values_are_the_best_response_values_and_the_agent_earns_them(target):
    br = BestResponseAgent(target, "kuhn_poker")
    assert br.values == pytest.approx(list(best_response_values(target, "kuhn_poker")), abs=1e-12)
    assert sum(br.values) == pytest.approx(nash_conv(target, "kuhn_poker"), abs=1e-12)
    # playing it against the target earns exactly those values, seat by seat
    assert expected_returns([br, target], "kuhn_poker")[0] == pytest.approx(br.values[0], abs=1e-12)
    assert expected_returns([target, br], "kuhn_poker")[1] == pytest.approx(br.values[1], abs=1e-12)


def test_a_best_response_to_random_is_itself_exploitable_and_update_moves_it():
    br = BestResponseAgent(RandomAgent(), "kuhn_poker")
    before = dict(br.actions)
    assert exploitability(br, "kuhn_poker") > 0.2  # a pure strategy is easy to exploit
    br.update(KuhnNashAgent(alpha=1 / 3))
    assert br.actions != before
    assert sum(br.values) == pytest.approx(0.0, abs=1e-12)  # nobody gains against an equilibrium


def test_observations_without_a_known_information_state_are_refused():
    br = BestResponseAgent(RandomAgent(), "kuhn_poker")
    with pytest.raises(ValueError, match="info_state"):
        br.act({"observation": None})
    with pytest.raises(Exception, match="no best-response move"):
        br.act({"info_state": "not a state"})
