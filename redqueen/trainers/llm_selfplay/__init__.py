"""LLM self-play RL: SPIRAL's multi-turn, multi-agent trainer on any redqueen text game.

One policy, a Hugging Face causal LM (optionally with a LoRA adapter), plays both seats of text
games through :class:`~redqueen.envs.text.TextEnv`; every turn is a training sample, the game's
outcome is the reward, and a per-game, per-role EMA baseline (RAE) or MARS's turn-level advantages
assign credit; the update is PPO-clip or REINFORCE with Dr. GRPO aggregation. Opponents can be the
policy itself, a fixed agent, or a league of scripted agents, SB3 models and the policy's own
snapshots (PFSP / fictitious self-play), and regularised self-play (a KL pull toward a periodically
refreshed magnet policy, plus entropy, over the legal moves) is there for imperfect-information
games, where plain self-play does not settle at an equilibrium.

``train(config)`` runs a :class:`SelfPlayConfig` (or a TOML file: ``redqueen llm-selfplay
CONFIG.toml``); :func:`build_tiny_model` makes a small model and a character tokenizer locally, so a
CPU learns Kuhn poker in minutes; :class:`PolicyAgent` plays a trained policy anywhere an agent can.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "RoleBaselines": "algorithm",
    "Trajectory": "algorithm",
    "Turn": "algorithm",
    "mars_advantages": "algorithm",
    "outcome_advantages": "algorithm",
    "policy_loss": "algorithm",
    "training_returns": "algorithm",
    "turn_rewards": "algorithm",
    "ConfigError": "config",
    "SelfPlayConfig": "config",
    "load_config": "config",
    "parse_config": "config",
    "PromptFormat": "formats",
    "register_compact": "formats",
    "HFGenerator": "policy",
    "LoraSettings": "policy",
    "Policy": "policy",
    "PolicyError": "policy",
    "Reply": "policy",
    "PolicyAgent": "rollout",
    "load_policy_agent": "rollout",
    "play_batch": "rollout",
    "build_tiny_model": "tiny",
    "char_tokenizer": "tiny",
    "Trainer": "trainer",
    "TrainerError": "trainer",
    "read_metrics": "trainer",
    "train": "trainer",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    # loaded on first use, so `redqueen --help` does not pay for the trainer's imports
    if name in _LAZY:
        return getattr(importlib.import_module(f"redqueen.trainers.llm_selfplay.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'redqueen.trainers.llm_selfplay' has no attribute {name!r}")
