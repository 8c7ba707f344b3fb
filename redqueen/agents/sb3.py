"""A trained stable-baselines3 model as a redqueen :class:`~redqueen.agents.Agent`.

``SB3Agent(model)`` plays with the policy of a PPO, A2C, DQN model or an sb3-contrib MaskablePPO,
TRPO or QR-DQN model; ``SB3Agent("runs/ppo.zip")`` loads a saved one first. The agent reads the
tensor view (``obs["observation"]``) and never plays an illegal move: the policy's action
distribution is restricted to the legal actions of ``obs["action_mask"]`` and renormalised, so even
a model trained without masks can sit at any table. Q-learning models (DQN, QR-DQN) have no
distribution; they play the legal action with the highest Q-value.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm

from redqueen.agents.base import Agent, legal_from_mask

_SB3_ALGOS = ("PPO", "A2C", "DQN")
_CONTRIB_ALGOS = ("MaskablePPO", "TRPO", "QRDQN")


def _algo_class(algo: str | type[BaseAlgorithm]) -> type[BaseAlgorithm]:
    if isinstance(algo, type) and issubclass(algo, BaseAlgorithm):
        return algo
    if algo in _SB3_ALGOS:
        import stable_baselines3

        return getattr(stable_baselines3, algo)
    if algo in _CONTRIB_ALGOS:
        try:
            import sb3_contrib
        except ImportError:
            raise ImportError(f"algo {algo!r} needs sb3-contrib: pip install 'redqueen[rl]'") from None
        return getattr(sb3_contrib, algo)
    raise ValueError(
        f"unknown algo {algo!r}; use a stable-baselines3 algorithm class or one of "
        f"{', '.join(_SB3_ALGOS + _CONTRIB_ALGOS)}"
    )


def _resolve_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if p.is_file():
        return p
    zipped = p.with_name(p.name + ".zip")
    if zipped.is_file():
        return zipped
    raise FileNotFoundError(f"no saved stable-baselines3 model at {str(p)!r} (nor {str(zipped)!r})")


def detect_algo(path: str | os.PathLike[str]) -> str:
    """The name of the algorithm that saved the model zip at ``path`` (``"PPO"``, ``"MaskablePPO"``...).

    Read from the zip's ``data`` entry (the policy class's module and the algorithm's
    hyper-parameters); raises ValueError when it cannot tell.
    """
    file = _resolve_path(path)
    try:
        with zipfile.ZipFile(file) as archive:
            data = json.loads(archive.read("data"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"{str(file)!r} is not a stable-baselines3 model zip ({err})") from None
    policy = data.get("policy_class")
    module = policy.get("__module__", "") if isinstance(policy, dict) else ""
    if "recurrent" in module:
        raise ValueError(f"{str(file)!r} holds a recurrent policy, which SB3Agent does not support")
    if "maskable" in module:
        return "MaskablePPO"
    if "cg_damping" in data:
        return "TRPO"
    if "clip_range" in data:
        return "PPO"
    if "n_quantiles" in data:
        return "QRDQN"
    if "exploration_rate" in data:
        return "DQN"
    if "rollout_buffer_class" in data or "vf_coef" in data:
        return "A2C"
    raise ValueError(f"cannot tell which algorithm saved {str(file)!r}; pass algo= (e.g. algo='PPO')")


class SB3Agent(Agent):
    """Plays with a stable-baselines3 model's policy, restricted to the legal moves.

    Args:
        model_or_path: a trained model (``PPO``, ``A2C``, ``DQN``, sb3-contrib ``MaskablePPO``,
            ``TRPO``, ``QRDQN``...) or the path of a saved model zip.
        name: the agent's name (default: the zip's file name, or the algorithm's name).
        seed: seed of the agent's own generator (used when ``deterministic=False``).
        deterministic: play the most likely legal action (True) or sample from the masked,
            renormalised distribution (False).
        algo: with a path, the algorithm class or its name; by default it is read from the zip
            (see :func:`detect_algo`).
        device: torch device to load a saved model on (default ``"cpu"``: one observation at a
            time is fastest there).

    When neither ``OMP_NUM_THREADS`` nor ``MKL_NUM_THREADS`` is set, torch is set to one thread
    (single-observation inference is fastest so, and it keeps parallel matches from fighting for
    cores).
    """

    name = "sb3"
    view = "tensor"

    def __init__(
        self,
        model_or_path: BaseAlgorithm | str | os.PathLike[str],
        name: str | None = None,
        seed: int | None = None,
        deterministic: bool = True,
        algo: str | type[BaseAlgorithm] | None = None,
        device: str = "cpu",
    ):
        if isinstance(model_or_path, BaseAlgorithm):
            if algo is not None:
                raise ValueError("algo= is only used when loading a model from a path")
            model = model_or_path
            default_name = type(model).__name__
        elif isinstance(model_or_path, str | os.PathLike):
            file = _resolve_path(model_or_path)
            cls = _algo_class(algo if algo is not None else detect_algo(file))
            model = cls.load(file, device=device)
            default_name = file.stem
        else:
            raise TypeError(
                "SB3Agent needs a stable-baselines3 model or the path of a saved one, "
                f"got {type(model_or_path).__name__}"
            )
        super().__init__(name if name is not None else default_name, seed)
        if not isinstance(model.action_space, gymnasium.spaces.Discrete):
            raise ValueError(
                f"SB3Agent plays discrete actions; the model's action space is {model.action_space}"
            )
        if not isinstance(model.observation_space, gymnasium.spaces.Box):
            raise ValueError(
                f"SB3Agent reads the tensor view (a Box); the model's observation space is "
                f"{model.observation_space}"
            )
        policy = model.policy
        if hasattr(policy, "get_distribution"):
            self._kind = "distribution"
        elif hasattr(policy, "q_net") or hasattr(policy, "quantile_net"):
            self._kind = "q"
        else:
            raise TypeError(f"SB3Agent cannot read actions from a {type(policy).__name__} policy")
        if getattr(policy, "lstm_actor", None) is not None:
            raise TypeError("SB3Agent does not support recurrent policies")
        self.model = model
        self.policy = policy
        self.deterministic = bool(deterministic)
        self._n_actions = int(model.action_space.n)
        self._obs_shape = tuple(model.observation_space.shape)
        policy.set_training_mode(False)
        if "OMP_NUM_THREADS" not in os.environ and "MKL_NUM_THREADS" not in os.environ:
            torch.set_num_threads(1)

    # ---- policy ----------------------------------------------------------------------------------
    def _scores(self, observation: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(legal actions, their logits or Q-values) for one observation."""
        legal = legal_from_mask(observation)
        mask = np.asarray(observation["action_mask"])
        if mask.shape != (self._n_actions,):
            raise ValueError(
                f"the action mask has shape {mask.shape}, but the model has {self._n_actions} actions"
            )
        try:
            obs = np.asarray(observation["observation"])
        except KeyError:
            raise ValueError(
                "SB3Agent needs the tensor view: an observation dict with 'observation'"
            ) from None
        if obs.shape != self._obs_shape:
            if obs.size != int(np.prod(self._obs_shape)):
                raise ValueError(
                    f"observation of shape {obs.shape} does not fit the model's observation space "
                    f"{self._obs_shape}; was the model trained on this game with these parameters?"
                )
            obs = obs.reshape(self._obs_shape)
        policy = self.policy
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            if self._kind == "distribution":
                scores = policy.get_distribution(tensor).distribution.logits
            elif hasattr(policy, "q_net"):
                scores = policy.q_net(tensor)
            else:
                scores = policy.quantile_net(tensor).mean(dim=1)
        values = scores.reshape(-1).cpu().numpy().astype(np.float64)
        return legal, values[legal]

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[int, float]:
        """Probability of each legal action under the policy :meth:`act` plays.

        Stochastic agents (``deterministic=False``): the model's distribution restricted to the legal
        actions and renormalised. Deterministic agents and Q-learning models: one-hot on the move
        :meth:`act` returns, so exploitability scores the policy that is actually played.
        """
        legal, scores = self._scores(observation)
        if self.deterministic or self._kind == "q":
            probs = np.zeros(legal.size)
            probs[int(np.argmax(scores))] = 1.0
        else:
            z = np.exp(scores - scores.max())
            probs = z / z.sum()
        return {int(a): float(p) for a, p in zip(legal, probs, strict=True)}

    def act(self, observation: Mapping[str, Any]) -> int:
        legal, scores = self._scores(observation)
        if self.deterministic or self._kind == "q":
            return int(legal[int(np.argmax(scores))])
        z = np.exp(scores - scores.max())
        return int(legal[int(self.rng.choice(legal.size, p=z / z.sum()))])

    def fork(self) -> SB3Agent:
        """A copy sharing the (read-only) model; the match resets its generator every game."""
        return self.shallow_fork()  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"SB3Agent(name={self.name!r}, model={type(self.model).__name__})"
