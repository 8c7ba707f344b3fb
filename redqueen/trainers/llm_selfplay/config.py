"""The trainer's configuration: a TOML file (or a dict) checked into a :class:`SelfPlayConfig`.

A whole config, every key optional but ``[[games]]``::

    seed = 0
    out = "runs/kuhn"            # run folder: checkpoint, metrics.csv, eval.csv, curves.png, policy/
    iterations = 200             # policy updates
    games_per_iteration = 128
    checkpoint_every = 10        # iterations (and at the end)

    [[games]]                    # several entries: each game is drawn with probability ~ weight
    id = "kuhn_poker"
    weight = 1.0
    params = {}                  # game parameters, e.g. {rounds = 3}
    exploitability = "auto"      # exact exploitability at every evaluation ("auto": Kuhn poker)

    [model]
    path = ""                    # a local model folder or a .gguf file; "" builds the tiny model
    tiny = {n_layer = 2, n_embd = 64, n_head = 4, n_positions = 64}
    lora = {}                    # e.g. {r = 16, alpha = 32}; empty: train every weight
    dtype = "float32"
    device = "cpu"

    [generation]
    backend = "hf"               # or "vllm" (GPU; pip install 'redqueen[vllm]')
    prompt = "compact"           # "compact" (tiny models), "direct" or "spiral" (pretrained ones)
    max_new_tokens = 6
    temperature = 1.0
    top_p = 1.0

    [algorithm]
    advantage = "rae"            # "rae", "none" or "mars"
    rae_decay = 0.95
    gamma = 1.0
    mars_std = false
    loss = "ppo"                 # or "reinforce"
    clip = 0.2
    epochs = 2
    aggregation = "sum"          # "sum" (Dr. GRPO: token sum / normalizer) or "mean"
    normalizer = 0               # 0: max_new_tokens
    minibatch = 0                # samples per optimizer step; 0: the whole iteration's
    lr = 1e-4
    lr_schedule = "constant"     # or "linear", "cosine" (down to lr_final)
    lr_final = 0.0
    weight_decay = 0.0
    max_grad_norm = 1.0
    kl_coef = 0.0                # k3 KL to the frozen policy the run started from
    magnet_coef = 0.0            # regularised self-play: KL(pi || magnet) over the legal moves
    magnet_refresh = 0           # iterations between magnet refreshes (0: never)
    entropy_coef = 0.0           # entropy bonus over the legal moves
    invalid_reward = -1.5        # training return of an invalid answer (the game ends)
    invalid_other_reward = 0.5   # ... and of the other players
    drop_zero_advantage = false

    [warmup]                     # behaviour cloning of a random policy, to teach the answer format
    steps = 0
    batch = 64
    lr = 1e-3
    games = 200                  # random games whose positions the warm-up draws from

    [opponents]
    mode = "self_play"           # "self_play", "fixed" or "league"
    fixed = "random"             # mode "fixed": the opponent's agent spec
    league = ["random"]          # mode "league": the fixed members (agent specs)
    matchmaking = "pfsp"         # "pfsp", "pfsp_var" or "uniform" over members and snapshots
    snapshot_every = 10          # iterations between snapshots joining the league
    max_snapshots = 20
    self_play = 0.5              # share of the games that are pure self-play in league mode

    [eval]
    every = 10                   # iterations (0: never; also at the start and the end)
    games = 100                  # sampled games per opponent and game (seats alternate)
    opponents = ["random", "nash"]   # "nash" is the scripted expert: Kuhn Nash, TicTacToe minimax
    seed = 12345

    [log]
    tensorboard = false          # also write TensorBoard events (needs tensorboard)
    plot = true                  # curves.png at every evaluation
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redqueen.answers import INVALID_MODES
from redqueen.game import RedqueenError


class ConfigError(RedqueenError, ValueError):
    """A trainer configuration that cannot be used; the message names the field."""


@dataclass(frozen=True)
class GameEntry:
    id: str
    weight: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)
    exploitability: str = "auto"
    invalid: str = "forfeit"
    name: str = ""
    """How baselines, metrics and logs name this entry (default: the id, with the params)."""

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if not self.params:
            return self.id
        return self.id + "(" + ",".join(f"{k}={v}" for k, v in sorted(self.params.items())) + ")"


@dataclass(frozen=True)
class ModelConfig:
    path: str = ""
    tiny: dict[str, Any] = field(default_factory=dict)
    lora: dict[str, Any] = field(default_factory=dict)
    dtype: str = "float32"
    device: str = "cpu"


@dataclass(frozen=True)
class GenerationConfig:
    backend: str = "hf"
    prompt: str = "compact"
    max_new_tokens: int = 6
    temperature: float = 1.0
    top_p: float = 1.0
    batch_size: int = 512
    vllm: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlgorithmConfig:
    advantage: str = "rae"
    rae_decay: float = 0.95
    gamma: float = 1.0
    mars_std: bool = False
    loss: str = "ppo"
    clip: float = 0.2
    epochs: int = 2
    aggregation: str = "sum"
    normalizer: float = 0.0
    minibatch: int = 0
    lr: float = 1e-4
    lr_schedule: str = "constant"
    lr_final: float = 0.0
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.95)
    max_grad_norm: float = 1.0
    kl_coef: float = 0.0
    magnet_coef: float = 0.0
    magnet_refresh: int = 0
    entropy_coef: float = 0.0
    invalid_reward: float = -1.5
    invalid_other_reward: float = 0.5
    drop_zero_advantage: bool = False


@dataclass(frozen=True)
class WarmupConfig:
    steps: int = 0
    batch: int = 64
    lr: float = 1e-3
    games: int = 200
    low: float = 0.15
    high: float = 0.85


@dataclass(frozen=True)
class OpponentsConfig:
    mode: str = "self_play"
    fixed: Any = "random"
    league: tuple[Any, ...] = ("random",)
    matchmaking: str = "pfsp"
    snapshot_every: int = 10
    max_snapshots: int = 20
    self_play: float = 0.5


@dataclass(frozen=True)
class EvalConfig:
    every: int = 10
    games: int = 100
    opponents: tuple[Any, ...] = ("random", "nash")
    seed: int = 12345


@dataclass(frozen=True)
class LogConfig:
    tensorboard: bool = False
    plot: bool = True


@dataclass(frozen=True)
class SelfPlayConfig:
    """The whole configuration (see the module docstring for every key)."""

    games: tuple[GameEntry, ...]
    seed: int = 0
    out: str = "runs/llm_selfplay"
    iterations: int = 100
    games_per_iteration: int = 128
    checkpoint_every: int = 10
    model: ModelConfig = field(default_factory=ModelConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    algorithm: AlgorithmConfig = field(default_factory=AlgorithmConfig)
    warmup: WarmupConfig = field(default_factory=WarmupConfig)
    opponents: OpponentsConfig = field(default_factory=OpponentsConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def identity(self) -> dict[str, Any]:
        """What a resumed run must share with the run it continues (everything that changes the
        weights; not the iteration budget, the run folder or the logging)."""
        out = self.to_dict()
        for key in ("iterations", "out", "log", "checkpoint_every"):
            out.pop(key)
        return out

    def replace(self, **changes: Any) -> SelfPlayConfig:
        return dataclasses.replace(self, **changes)


_CHOICES: dict[str, tuple[str, ...]] = {
    "generation.backend": ("hf", "vllm"),
    "generation.prompt": ("compact", "direct", "spiral"),
    "model.dtype": ("float32", "bfloat16", "float16"),
    "algorithm.advantage": ("rae", "none", "mars"),
    "algorithm.loss": ("ppo", "reinforce"),
    "algorithm.aggregation": ("sum", "mean"),
    "algorithm.lr_schedule": ("constant", "linear", "cosine"),
    "opponents.mode": ("self_play", "fixed", "league"),
    "opponents.matchmaking": ("pfsp", "pfsp_var", "uniform"),
    "games.exploitability": ("auto", "true", "false"),
    "games.invalid": INVALID_MODES,
}
_POSITIVE = {
    "iterations", "games_per_iteration", "checkpoint_every", "generation.max_new_tokens",
    "generation.batch_size", "algorithm.epochs", "warmup.batch", "warmup.games", "eval.games",
    "opponents.snapshot_every", "opponents.max_snapshots",
}  # fmt: skip
_UNIT = {"algorithm.rae_decay", "algorithm.gamma", "opponents.self_play", "generation.top_p"}


def _value(default: Any, value: Any, where: str) -> Any:
    """``value`` checked against the type of the field's ``default``."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    if isinstance(default, tuple):
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return tuple(value)
    if isinstance(default, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a table, got {value!r}")
        return dict(value)
    return value  # Any: an agent spec (string or table), checked when the agent is built


def _section(cls: type, data: Any, where: str) -> Any:
    if data is None:
        return cls()
    if not isinstance(data, Mapping):
        raise ConfigError(f"[{where}] must be a table, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"[{where}]: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    defaults = cls() if cls is not GameEntry else None
    values = {}
    for key, value in data.items():
        if defaults is not None:
            default = getattr(defaults, key)
        elif key == "id":
            default = ""
        else:
            default = fields[key].default
            if default is dataclasses.MISSING:
                default = fields[key].default_factory()  # type: ignore[misc]
        name = f"{where}.{key}"
        if isinstance(value, bool) and key == "exploitability":
            value = "true" if value else "false"
        values[key] = _value(default, value, name)
        _check(name, values[key])
    try:
        return cls(**values)
    except TypeError as err:
        raise ConfigError(f"[{where}]: {err}") from None


def _check(name: str, value: Any) -> None:
    key = re.sub(r"\[\d+\]", "", name)  # games[2].weight -> games.weight
    if key in _CHOICES and value not in _CHOICES[key]:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, _CHOICES[key]))}, got {value!r}")
    if key in _POSITIVE and value < 1:
        raise ConfigError(f"{name} must be >= 1, got {value!r}")
    if key in _UNIT and not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {value!r}")
    if key == "algorithm.rae_decay" and value >= 1.0:
        raise ConfigError(f"{name} must be < 1, got {value!r}")
    if key in ("algorithm.lr", "warmup.lr", "generation.temperature", "games.weight") and value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value!r}")
    nonnegative = (
        "algorithm.clip", "algorithm.kl_coef", "algorithm.magnet_coef", "algorithm.entropy_coef",
        "algorithm.minibatch", "algorithm.magnet_refresh", "algorithm.normalizer", "warmup.steps",
        "eval.every", "seed",
    )  # fmt: skip
    if key in nonnegative and value < 0:
        raise ConfigError(f"{name} must be >= 0, got {value!r}")
    if key == "algorithm.betas" and (
        len(value) != 2 or not all(isinstance(b, int | float) and 0 <= b < 1 for b in value)
    ):
        raise ConfigError(f"{name} must be two numbers in [0, 1), got {value!r}")


def parse_config(data: Mapping[str, Any], base_dir: str | os.PathLike[str] | None = None) -> SelfPlayConfig:
    """A checked config from a dict (as TOML reads it). Relative ``out`` and ``model.path`` are taken
    from ``base_dir`` when given (the config file's folder)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"a trainer config is a table, got {type(data).__name__}")
    sections = {
        "model": ModelConfig,
        "generation": GenerationConfig,
        "algorithm": AlgorithmConfig,
        "warmup": WarmupConfig,
        "opponents": OpponentsConfig,
        "eval": EvalConfig,
        "log": LogConfig,
    }
    top = {"games", "seed", "out", "iterations", "games_per_iteration", "checkpoint_every", *sections}
    unknown = sorted(set(data) - top)
    if unknown:
        raise ConfigError(f"unknown top-level key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    games_data = data.get("games")
    if isinstance(games_data, Mapping):
        games_data = [games_data]
    if not games_data or not isinstance(games_data, list | tuple):
        raise ConfigError('a trainer config needs at least one [[games]] entry, e.g. id = "kuhn_poker"')
    games = []
    for i, entry in enumerate(games_data):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            raise ConfigError(f"games[{i}] must be a table with an 'id' (a game id such as 'kuhn_poker')")
        games.append(_section(GameEntry, entry, f"games[{i}]"))
    labels = [g.label for g in games]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"two [[games]] entries share the name {labels!r}; give them distinct 'name's")
    values: dict[str, Any] = {"games": tuple(games)}
    defaults = SelfPlayConfig(games=tuple(games))
    for key in ("seed", "out", "iterations", "games_per_iteration", "checkpoint_every"):
        if key in data:
            values[key] = _value(getattr(defaults, key), data[key], key)
            _check(key, values[key])
    for key, cls in sections.items():
        if key in data:
            values[key] = _section(cls, data[key], key)
    config = SelfPlayConfig(**values)
    if base_dir is not None:
        base = Path(base_dir)
        out = Path(config.out)
        changes: dict[str, Any] = {}
        if not out.is_absolute():
            changes["out"] = str(base / out)
        path = config.model.path
        if path and not Path(path).is_absolute() and (base / path).exists():
            changes["model"] = dataclasses.replace(config.model, path=str(base / path))
        if changes:
            config = config.replace(**changes)
    _check_whole(config)
    return config


def _check_whole(config: SelfPlayConfig) -> None:
    from redqueen.registry import make_game

    for entry in config.games:
        try:
            game = make_game(entry.id, **entry.params)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"games: cannot make {entry.id!r} with {entry.params}: {err}") from None
        if game.num_players != 2:
            raise ConfigError(
                f"games: {entry.id} has {game.num_players} players; the trainer plays two-player games"
            )
    algo = config.algorithm
    if algo.magnet_refresh and not algo.magnet_coef:
        raise ConfigError("algorithm.magnet_refresh is set but magnet_coef is 0: give magnet_coef > 0")
    if (
        config.opponents.mode == "league"
        and not config.opponents.league
        and config.opponents.self_play >= 1.0
    ):
        raise ConfigError("opponents.mode 'league' needs league members, snapshots or self_play < 1")
    if config.generation.backend == "vllm" and config.model.device == "cpu":
        raise ConfigError('generation.backend "vllm" runs on a GPU: set model.device = "cuda"')


def load_config(path: str | os.PathLike[str]) -> SelfPlayConfig:
    """Read and check a TOML trainer config."""
    file = Path(path)
    try:
        text = file.read_text()
    except FileNotFoundError:
        raise ConfigError(f"no trainer config at {str(file)!r}") from None
    except (IsADirectoryError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read trainer config {str(file)!r}: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{str(file)!r} is not valid TOML: {err}") from None
    return parse_config(data, base_dir=file.parent)
