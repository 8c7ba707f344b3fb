"""Configuration of a Red Queen run: a TOML file (or a dict) checked into a :class:`RedQueenConfig`.

Every key is optional; the defaults are DRQ's released settings where DRQ has one (20 seeds, an imp
as the only initial opponent, 8 initial warriors, 10% new warriors, the 6x6 ``tsp`` x ``mc`` grid)::

    seed = 0                  # the run's seed: every random choice of the loop and the generator
    rounds = 10               # T
    iterations = 100          # I: MAP-Elites iterations per round
    max_iterations = 200      # rounds go on to this while no elite beats or ties every earlier champion
    initial = ["imp"]         # initial opponents: library names, .red files or folders
    last_k = 0                # opponents of round t: initial + the last K champions (0: all of them)
    n_init = 8                # create requests at the start of a round
    new_fraction = 0.1        # probability that an iteration creates instead of mutating
    batch = 1                 # requests per iteration (evaluated together, placed in order)
    warmup = true             # re-evaluate the initial opponents and earlier champions as candidates
    require_beats = true      # an elite that beats or ties every earlier champion outranks one that does not
    stop_fitness = 2.5        # end a round early once its champion reaches this fitness (default: never)
    workers = 4               # battle processes (default: one per CPU; never changes the results)

    [fitness]
    mode = "drq"              # or "pairwise"
    battles = 20              # drq: seeds (one free-for-all each); pairwise: rounds per opponent
    seed = 0                  # where the battle seeds start (the same placements for every candidate)

    [archive]
    axes = ["tsp", "mc"]      # two of tsp, mc, uo (unique opcodes), pl (program length)
    probe_cycles = 8000       # length of the solo run that measures tsp and mc
    [archive.bins]            # upper bin edges per axis (len + 1 bins); these are DRQ's
    tsp = [1, 10, 100, 1000, 10000]
    mc = [10, 100, 500, 1000, 4000]

    [settings]                # the MARS (redqueen.envs.corewar.Settings); default the 94nop hill
    cycles = 80000

    [generator]               # type "mutation" (default) or "llm"
    type = "mutation"
    start = "mixed"           # mutation: "examples", "random" or "mixed"; mutations = 3; crossover = 0.1

    [generality]              # held-out warriors scored after every round (optional)
    folder = "human_warriors" # a folder of .red files (relative to the config file), or "library"
    rounds = 100
    seed = 0

An LLM generator: ``[generator] type = "llm"`` with ``backend = "openai"`` (``model``, ``base_url``,
``mode`` "chat" or "completion", ``max_tokens``, ``temperature``), ``backend = "llamacpp"`` (``model``:
a GGUF file or ``"gemma3-270m"``, in process) or ``backend = "server"`` (``model`` as for llamacpp,
served by :class:`~redqueen.agents.llm.llamacpp.LlamaCppServer` for the run's duration); and
``feedback`` (false: DRQ's setting), ``n`` (replies per request). Errors name the key.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from redqueen.envs.corewar.core import Settings
from redqueen.league.config import ConfigError, _table, _unknown  # one config error for all TOML configs
from redqueen.trainers.red_queen.fitness import FITNESS_MODES

__all__ = [
    "AXES",
    "DEFAULT_BINS",
    "ConfigError",
    "RedQueenConfig",
    "config_toml",
    "load_config",
    "parse_config",
]

AXES = ("tsp", "mc", "uo", "pl")
DEFAULT_BINS: dict[str, tuple[int, ...]] = {
    "tsp": (1, 10, 100, 1000, 10000),
    "mc": (10, 100, 500, 1000, 4000),
    "uo": (4, 6, 8, 10, 14),
    "pl": (5, 12, 20, 35, 60),
}
"""DRQ's bin edges: a value goes in the first bin whose edge it is below (the last bin: above all)."""

GENERATOR_TYPES = ("mutation", "llm")
LLM_BACKENDS = ("openai", "llamacpp", "server")


@dataclass(frozen=True)
class RedQueenConfig:
    """A checked Red Queen configuration (see the module docstring for every key)."""

    seed: int = 0
    rounds: int = 10
    iterations: int = 100
    max_iterations: int | None = None
    initial: tuple[str, ...] = ("imp",)
    last_k: int = 0
    n_init: int = 8
    new_fraction: float = 0.1
    batch: int = 1
    warmup: bool = True
    require_beats: bool = True
    stop_fitness: float | None = None
    workers: int | None = None
    fitness: str = "drq"
    battles: int = 20
    battle_seed: int = 0
    axes: tuple[str, str] = ("tsp", "mc")
    bins: dict[str, tuple[int, ...]] = field(default_factory=lambda: dict(DEFAULT_BINS))
    probe_cycles: int = 8000
    settings: Settings = field(default_factory=Settings)
    generator: dict[str, Any] = field(default_factory=lambda: {"type": "mutation"})
    generality: dict[str, Any] | None = None
    base_dir: str | None = None
    """Folder that relative paths (initial opponents, the generality folder) are read from."""

    @property
    def iteration_cap(self) -> int:
        return self.max_iterations if self.max_iterations is not None else 2 * self.iterations

    def to_dict(self) -> dict[str, Any]:
        """The config as :func:`parse_config` reads it (TOML-able: no None values)."""
        top: dict[str, Any] = {
            "seed": self.seed,
            "rounds": self.rounds,
            "iterations": self.iterations,
            "max_iterations": self.iteration_cap,
            "initial": list(self.initial),
            "last_k": self.last_k,
            "n_init": self.n_init,
            "new_fraction": self.new_fraction,
            "batch": self.batch,
            "warmup": self.warmup,
            "require_beats": self.require_beats,
        }
        if self.stop_fitness is not None:
            top["stop_fitness"] = self.stop_fitness
        if self.workers is not None:
            top["workers"] = self.workers
        top["fitness"] = {"mode": self.fitness, "battles": self.battles, "seed": self.battle_seed}
        top["archive"] = {
            "axes": list(self.axes),
            "probe_cycles": self.probe_cycles,
            "bins": {axis: list(edges) for axis, edges in self.bins.items()},
        }
        settings = {k: v for k, v in asdict(self.settings).items() if v is not None and k != "warriors"}
        top["settings"] = settings
        top["generator"] = dict(self.generator)
        if self.generality is not None:
            top["generality"] = dict(self.generality)
        return top

    def identity(self) -> dict[str, Any]:
        """What a resumed run must share with the run it continues: everything but ``workers`` and
        ``rounds`` (round t depends only on the rounds before it, so a run can be extended)."""
        out = self.to_dict()
        out.pop("workers", None)
        out.pop("rounds", None)
        return json.loads(json.dumps(out))


def _int(value: Any, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _number(value: Any, where: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{where} must be in [{low}, {high}], got {value!r}")
    return float(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return value


_TOP = {
    "seed", "rounds", "iterations", "max_iterations", "initial", "last_k", "n_init", "new_fraction",
    "batch", "warmup", "require_beats", "stop_fitness", "workers", "fitness", "archive", "settings",
    "generator", "generality",
}  # fmt: skip
_SETTINGS = {
    "coresize",
    "cycles",
    "processes",
    "maxlength",
    "mindistance",
    "pspacesize",
    "read_limit",
    "write_limit",
}
_MUTATION = {"type", "start", "mutations", "crossover", "random_length"}
_LLM = {"type", "backend", "model", "base_url", "mode", "max_tokens", "temperature", "top_p", "feedback", "n",
        "reference", "timeout", "n_ctx", "threads"}  # fmt: skip


def _generator(data: Any) -> dict[str, Any]:
    table = _table(data, "generator") or {"type": "mutation"}
    kind = table.setdefault("type", "mutation")
    if kind not in GENERATOR_TYPES:
        raise ConfigError(f"generator.type must be one of {', '.join(GENERATOR_TYPES)}, got {kind!r}")
    if kind == "mutation":
        _unknown(table, _MUTATION, "generator")
        from redqueen.trainers.red_queen.generators import STARTS

        if table.get("start", "mixed") not in STARTS:
            raise ConfigError(f"generator.start must be one of {', '.join(STARTS)}, got {table['start']!r}")
        for key in ("mutations", "random_length"):
            if key in table:
                _int(table[key], f"generator.{key}")
        if "crossover" in table:
            _number(table["crossover"], "generator.crossover", 0.0, 1.0)
        return table
    _unknown(table, _LLM, "generator")
    backend = table.setdefault("backend", "openai")
    if backend not in LLM_BACKENDS:
        raise ConfigError(f"generator.backend must be one of {', '.join(LLM_BACKENDS)}, got {backend!r}")
    if not isinstance(table.get("model"), str) or not table["model"]:
        raise ConfigError(
            f"generator.model: an LLM generator needs a model name or GGUF file, got {table.get('model')!r}"
        )
    if table.get("mode", "chat" if backend == "openai" else "completion") not in ("chat", "completion"):
        raise ConfigError(f"generator.mode must be 'chat' or 'completion', got {table['mode']!r}")
    for key in ("max_tokens", "n", "n_ctx", "threads"):
        if key in table:
            _int(table[key], f"generator.{key}")
    for key in ("temperature", "top_p", "timeout"):
        if key in table:
            _number(table[key], f"generator.{key}", 0.0)
    for key in ("feedback", "reference"):
        if key in table:
            _bool(table[key], f"generator.{key}")
    return table


def parse_config(data: Mapping[str, Any], base_dir: str | os.PathLike[str] | None = None) -> RedQueenConfig:
    """Check a config dict (a parsed TOML file) and build a :class:`RedQueenConfig`; raises
    :class:`ConfigError` naming the first bad key."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"a Red Queen config is a table, got {type(data).__name__}")
    _unknown(data, _TOP, "config")
    out: dict[str, Any] = {}
    for key, minimum in (
        ("seed", 0),
        ("rounds", 1),
        ("iterations", 0),
        ("last_k", 0),
        ("n_init", 0),
        ("batch", 1),
    ):
        if key in data:
            out[key] = _int(data[key], key, minimum)
    if "max_iterations" in data:
        out["max_iterations"] = _int(data["max_iterations"], "max_iterations", 0)
        if out["max_iterations"] < out.get("iterations", 100):
            raise ConfigError(f"max_iterations ({out['max_iterations']}) must be >= iterations")
    if "workers" in data:
        out["workers"] = _int(data["workers"], "workers")
    if "new_fraction" in data:
        out["new_fraction"] = _number(data["new_fraction"], "new_fraction", 0.0, 1.0)
    if "stop_fitness" in data:
        out["stop_fitness"] = _number(data["stop_fitness"], "stop_fitness")
    for key in ("warmup", "require_beats"):
        if key in data:
            out[key] = _bool(data[key], key)
    if "initial" in data:
        initial = data["initial"]
        if isinstance(initial, str):
            initial = [initial]
        if not isinstance(initial, list | tuple) or not all(isinstance(s, str) and s for s in initial):
            raise ConfigError(f"initial must be a list of warrior names, files or folders, got {initial!r}")
        out["initial"] = tuple(initial)

    fitness = _table(data.get("fitness"), "fitness")
    _unknown(fitness, {"mode", "battles", "seed"}, "fitness")
    mode = fitness.get("mode", "drq")
    if mode not in FITNESS_MODES:
        raise ConfigError(f"fitness.mode must be one of {', '.join(FITNESS_MODES)}, got {mode!r}")
    out["fitness"] = mode
    if "battles" in fitness:
        out["battles"] = _int(fitness["battles"], "fitness.battles")
    if "seed" in fitness:
        out["battle_seed"] = _int(fitness["seed"], "fitness.seed", 0)
    if mode == "pairwise" and not out.get("initial", ("imp",)):
        raise ConfigError(
            "fitness.mode 'pairwise' needs at least one initial opponent (round 1 has no champions)"
        )

    archive = _table(data.get("archive"), "archive")
    _unknown(archive, {"axes", "bins", "probe_cycles"}, "archive")
    axes = archive.get("axes", ["tsp", "mc"])
    if (
        not isinstance(axes, list | tuple)
        or len(axes) != 2
        or any(a not in AXES for a in axes)
        or axes[0] == axes[1]
    ):
        raise ConfigError(f"archive.axes must be two different names of {', '.join(AXES)}, got {axes!r}")
    out["axes"] = tuple(axes)
    bins = dict(DEFAULT_BINS)
    for axis, edges in _table(archive.get("bins"), "archive.bins").items():
        if axis not in AXES:
            raise ConfigError(f"archive.bins: unknown axis {axis!r}; axes: {', '.join(AXES)}")
        if (
            not isinstance(edges, list | tuple)
            or not edges
            or not all(isinstance(e, int) and not isinstance(e, bool) for e in edges)
            or list(edges) != sorted(set(edges))
        ):
            raise ConfigError(f"archive.bins.{axis} must be increasing integers, got {edges!r}")
        bins[axis] = tuple(edges)
    out["bins"] = bins
    if "probe_cycles" in archive:
        out["probe_cycles"] = _int(archive["probe_cycles"], "archive.probe_cycles", 0)

    settings = _table(data.get("settings"), "settings")
    _unknown(settings, _SETTINGS, "settings")
    try:
        out["settings"] = Settings(**settings)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"settings: {err}") from None
    if out["settings"].mindistance < out["settings"].maxlength:
        raise ConfigError("settings: mindistance must be >= maxlength (warriors may not overlap)")

    out["generator"] = _generator(data.get("generator"))
    if data.get("generality") is not None:
        generality = _table(data["generality"], "generality")
        _unknown(generality, {"folder", "rounds", "seed"}, "generality")
        if not isinstance(generality.get("folder"), str) or not generality["folder"]:
            raise ConfigError("generality.folder must name a folder of .red files (or 'library')")
        for key, minimum in (("rounds", 1), ("seed", 0)):
            if key in generality:
                _int(generality[key], f"generality.{key}", minimum)
        out["generality"] = generality
    out["base_dir"] = None if base_dir is None else str(base_dir)
    return RedQueenConfig(**out)


def load_config(path: str | os.PathLike[str]) -> RedQueenConfig:
    """Read and check a TOML config; relative paths in it are read from the file's folder."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no config file at {str(file)!r}")
    try:
        data = tomllib.loads(file.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{str(file)!r} is not valid TOML: {err}") from None
    return parse_config(data, base_dir=file.resolve().parent)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot write a {type(value).__name__} to TOML")


def config_toml(data: Mapping[str, Any]) -> str:
    """A config dict (:meth:`RedQueenConfig.to_dict`) as TOML text that reads back the same."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines.append(f"\n[{key}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"
