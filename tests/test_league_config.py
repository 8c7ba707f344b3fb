"""League configs: defaults, checks and the TOML writer."""

from __future__ import annotations

import tomllib

import pytest

from redqueen.league.config import ConfigError, config_toml, parse_config

BASE = {"game": "kuhn_poker", "agents": [{"name": "r", "spec": "random"}, {"name": "n", "spec": "nash"}]}


def test_minimal_config_defaults():
    config = parse_config(BASE)
    assert (config.runner, config.games_per_pair, config.seed, config.invalid) == ("local", 20, 0, "forfeit")
    assert [a.spec for a in config.agents] == [{"type": "random"}, {"type": "nash"}]
    assert config.learners == ()


def test_learner_options_are_checked_and_kept():
    data = {
        **BASE,
        "learners": [
            {
                "name": "ppo",
                "steps": 1000,
                "snapshot_every": 100,
                "n_envs": 4,
                "lr_schedule": "linear",
                "lr_final": 1e-5,
                "oracle": {"weight": 0.5},
                "metrics": ["exploitability", "vs:n"],
                "target": {"exploitability": 0.1},
            }
        ],
    }
    learner = parse_config(data).learners[0]
    assert learner.oracle == {"weight": 0.5, "refresh_every": 2048}
    assert learner.all_metrics() == ("exploitability", "vs:n")
    for key, value, message in [
        ("n_envs", 0, "n_envs must be an integer >= 1"),
        ("lr_final", -1.0, "lr_final must be >= 0"),
        ("oracle", {"weight": 2}, "weight must be in"),
        ("oracle", {"every": 3}, "unknown key every"),
        ("metrics", ["elo"], "unknown metric"),
        ("target", {"min_score": 0.5}, "need 'vs'"),
        ("lr_schedule", "cosine", "lr_schedule"),
        ("algo", "DQN", "algo must be"),
    ]:
        bad = {**data, "learners": [{**data["learners"][0], key: value}]}
        with pytest.raises(ConfigError, match=message):
            parse_config(bad)


def test_config_toml_reads_back_the_same():
    data = {
        **BASE,
        "game_params": {"rounds": 1},
        "seed": 3,
        "learners": [
            {"name": "p", "policy_kwargs": {"net_arch": [64, 64]}, "hyperparams": {"ent_coef": 1e-3}}
        ],
    }
    text = config_toml(data)
    assert tomllib.loads(text) == data
    assert parse_config(tomllib.loads(text)) == parse_config(data)
    with pytest.raises(ConfigError, match="cannot write"):
        config_toml({"game": "kuhn_poker", "x": float("nan")})
