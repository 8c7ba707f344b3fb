"""The names scripts outside the project use, with these exact spellings, from a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import gymnasium as gym
import numpy as np
import redqueen

# lazily loaded attributes must work after a plain `import redqueen`
aec = redqueen.envs.kuhn_poker_v0.env()
raw = redqueen.envs.tictactoe_v0.raw_env()
aec.reset(seed=0)
raw.reset(seed=0)
from redqueen.agents import CFRAgent, HumanAgent, KuhnNashAgent, MinimaxAgent, RandomAgent, SB3Agent

for env_id in ("redqueen/KuhnPoker-v0", "redqueen/TicTacToe-v0"):
    for opponent in ("random", "nash", RandomAgent(seed=1)):
        env = gym.make(env_id, opponent=opponent)
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
env = gym.make("redqueen/TicTacToe-v0", opponent="minimax")
env = gym.make("redqueen/KuhnPoker-v0", opponent="cfr")
result = redqueen.play("kuhn_poker", [KuhnNashAgent(), RandomAgent()], n_games=4, seed=0)
assert isinstance(result, redqueen.MatchResult)
assert result.returns.shape == (4, 2) and result.invalid_answers.shape == (2,)
value = redqueen.evaluation.exploitability(KuhnNashAgent(alpha=0.1), "kuhn_poker")
assert abs(value) < 1e-9, value
print("ok")
"""


def test_public_names_in_a_fresh_interpreter():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")
