"""League configuration: a TOML file (or a dict) checked into a :class:`LeagueConfig`.

The minimal form::

    game = "tictactoe"
    runner = "local"          # or "processes", "ray"
    games_per_pair = 20
    seed = 0
    [[agents]]
    name = "rand"
    spec = "random"
    [[agents]]
    name = "mm"
    spec = "minimax"

Everything else is optional:

* top level: ``name``, ``game_params`` (a table, e.g. ``{rounds = 3}``), ``workers`` (processes or
  Ray CPUs), ``ray_address``, ``invalid`` (invalid-answer policy of league games: ``"forfeit"``,
  ``"retry"``, ``"random"``), ``transcripts`` (keep every move of every league game as JSON lines),
  ``concurrency`` (games of a job played at once in threads, for agents that wait on a model
  server; 1), ``decay`` (of the payoff table, 0.99), ``pfsp_p`` (2.0), ``draw_score`` (what a draw counts in
  the win rates matchmaking reads: 0.5, or 1.0 to focus PFSP on the opponents a learner still loses
  to, for games whose perfect play draws);
* ``[[agents]]``: ``params`` (a table merged into the spec); a spec is a string or a table, see
  :mod:`redqueen.league.specs`;
* ``[[learners]]``: SB3 learners trained inside the league (see :class:`LearnerConfig`).
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from redqueen.answers import INVALID_MODES
from redqueen.game import RedqueenError
from redqueen.league.matchmaking import MATCHMAKING, ROLES
from redqueen.league.runners import RUNNERS
from redqueen.league.specs import normalize_spec

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-+()=]*$")
_ALGOS = ("auto", "MaskablePPO", "PPO")


class ConfigError(RedqueenError, ValueError):
    """A league configuration that cannot be used; the message names the field."""


@dataclass(frozen=True)
class AgentConfig:
    name: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class LearnerConfig:
    """An SB3 learner of the league. TOML keys:

    * ``name``; ``algo``: ``"auto"`` (default: sb3-contrib's ``MaskablePPO`` where it is installed,
      else ``"PPO"``), ``"MaskablePPO"`` or ``"PPO"``;
    * ``role``: ``"main"``, ``"main_exploiter"`` or ``"league_exploiter"`` (see
      :mod:`redqueen.league.matchmaking`); ``matchmaking``: ``"role"`` (default: the role's rules),
      ``"uniform"``, ``"pfsp"``, ``"pfsp_var"`` or ``"self_play"``;
    * ``steps``: the step budget; ``snapshot_every``: steps between snapshots (each snapshot joins the
      league and plays ``eval_games`` (default ``games_per_pair``) games against every other member);
    * ``deterministic``: its snapshots play the most likely move (default False: they sample);
      ``eval_deterministic``: the policy its metrics measure (default: as ``deterministic``);
    * ``opponents``: whom its PFSP and uniform draws pick from: member names and the groups
      ``"fixed"``, ``"snapshots"``, ``"all"`` (default ``["all"]``);
    * ``policy_kwargs``, ``hyperparams``: passed to the SB3 algorithm (e.g. ``{n_steps = 512,
      ent_coef = 0.01}``); ``n_envs``: environments stepped together (default 1);
      ``lr_schedule``: ``"constant"`` or ``"linear"`` (from ``hyperparams.learning_rate`` to
      ``lr_final``, default 0, over ``steps``);
    * ``oracle``: ``{weight = 1.0, refresh_every = 2048}`` adds an *oracle exploiter*, an exact best
      response to the learner's current policy (OpenSpiel's tree walk, for games OpenSpiel can
      solve), played with probability ``weight`` per episode and recomputed every
      ``refresh_every`` steps; the other episodes follow ``matchmaking``;
    * ``metrics``, measured at every snapshot: ``"exploitability"`` (games OpenSpiel can judge) and
      ``"vs:NAME"`` (score, draw and loss rates against member NAME over ``target.games`` or
      ``eval_games`` games);
    * ``target``, to stop early: ``{exploitability = 0.05}``, or ``{vs = "mm", games = 500,
      max_losses = 0, min_draw_rate = 0.95, min_score = 0.5}`` (any subset of the bounds).
    """

    name: str
    algo: str = "auto"
    role: str = "main"
    matchmaking: str = "role"
    steps: int = 10_000
    snapshot_every: int = 2_048
    eval_games: int | None = None
    deterministic: bool = False
    eval_deterministic: bool = False
    opponents: tuple[str, ...] = ("all",)
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    hyperparams: dict[str, Any] = field(default_factory=dict)
    n_envs: int = 1
    lr_schedule: str = "constant"
    lr_final: float = 0.0
    oracle: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    target: dict[str, Any] = field(default_factory=dict)

    def all_metrics(self) -> tuple[str, ...]:
        """The metrics it measures: ``metrics`` plus what ``target`` needs."""
        extra = []
        if "exploitability" in self.target:
            extra.append("exploitability")
        if "vs" in self.target:
            extra.append(f"vs:{self.target['vs']}")
        return tuple(dict.fromkeys([*self.metrics, *extra]))


@dataclass(frozen=True)
class LeagueConfig:
    game: str
    agents: tuple[AgentConfig, ...]
    learners: tuple[LearnerConfig, ...] = ()
    name: str = "league"
    game_params: dict[str, Any] = field(default_factory=dict)
    runner: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    games_per_pair: int = 20
    seed: int = 0
    invalid: str = "forfeit"
    transcripts: bool = False
    concurrency: int = 1
    decay: float = 0.99
    pfsp_p: float = 2.0
    draw_score: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def identity(self) -> dict[str, Any]:
        """What must not change between a run and its resume (the runner and workers may)."""
        out = self.to_dict()
        for key in ("runner", "workers", "ray_address", "concurrency"):
            out.pop(key)
        return out

    @property
    def members(self) -> list[str]:
        return [a.name for a in self.agents]


def _check_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or "@" in value or "|" in value:
        raise ConfigError(
            f"{where}: name must be a non-empty string of letters, digits and _.-+()= (no '@' or '|'), "
            f"got {value!r}"
        )
    return value


def _int(value: Any, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where} must be an integer >= {minimum}, got {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    return float(value)


def _table(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table, got {value!r}")
    return dict(value)


def _unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)}; "
            f"known: {', '.join(sorted(allowed))}"
        )


_TOP = {
    "game", "agents", "learners", "name", "game_params", "runner", "workers", "ray_address",
    "games_per_pair", "seed", "invalid", "transcripts", "concurrency", "decay", "pfsp_p", "draw_score",
}  # fmt: skip
_LEARNER = {
    "name", "algo", "role", "matchmaking", "steps", "snapshot_every", "eval_games", "deterministic",
    "eval_deterministic", "opponents",
    "policy_kwargs", "hyperparams", "n_envs", "lr_schedule", "lr_final", "oracle", "metrics", "target",
}  # fmt: skip
_TARGET = {"exploitability", "vs", "games", "max_losses", "min_draw_rate", "min_score"}


def _learner(data: Any, where: str) -> LearnerConfig:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table, got {data!r}")
    _unknown(data, _LEARNER, where)
    name = _check_name(data.get("name"), where)
    algo = data.get("algo", "auto")
    if algo not in _ALGOS:
        raise ConfigError(f"{where}.algo must be one of {', '.join(_ALGOS)}, got {algo!r}")
    role = data.get("role", "main")
    if role not in ROLES:
        raise ConfigError(f"{where}.role must be one of {', '.join(ROLES)}, got {role!r}")
    matchmaking = data.get("matchmaking", "role")
    if matchmaking not in MATCHMAKING:
        raise ConfigError(f"{where}.matchmaking must be one of {', '.join(MATCHMAKING)}, got {matchmaking!r}")
    steps = _int(data.get("steps", 10_000), f"{where}.steps")
    snapshot_every = _int(data.get("snapshot_every", min(2_048, steps)), f"{where}.snapshot_every")
    eval_games = data.get("eval_games")
    if eval_games is not None:
        eval_games = _int(eval_games, f"{where}.eval_games")
    lr_schedule = data.get("lr_schedule", "constant")
    if lr_schedule not in ("constant", "linear"):
        raise ConfigError(f"{where}.lr_schedule must be 'constant' or 'linear', got {lr_schedule!r}")
    metrics = data.get("metrics", [])
    if not isinstance(metrics, list | tuple) or not all(isinstance(m, str) for m in metrics):
        raise ConfigError(f"{where}.metrics must be a list of strings, got {metrics!r}")
    for metric in metrics:
        if metric != "exploitability" and not (metric.startswith("vs:") and len(metric) > 3):
            raise ConfigError(
                f"{where}.metrics: unknown metric {metric!r}; use 'exploitability' or 'vs:NAME'"
            )
    target = _table(data.get("target"), f"{where}.target")
    _unknown(target, _TARGET, f"{where}.target")
    if "exploitability" in target:
        _number(target["exploitability"], f"{where}.target.exploitability")
    bounds = {"max_losses", "min_draw_rate", "min_score", "games"} & set(target)
    if bounds and "vs" not in target:
        raise ConfigError(f"{where}.target: {', '.join(sorted(bounds))} need 'vs' (the opponent's name)")
    if "vs" in target:
        _check_name(target["vs"], f"{where}.target.vs")
        if "games" in target:
            _int(target["games"], f"{where}.target.games")
        for key in ("max_losses", "min_draw_rate", "min_score"):
            if key in target:
                _number(target[key], f"{where}.target.{key}")
    n_envs = _int(data.get("n_envs", 1), f"{where}.n_envs")
    lr_final = _number(data.get("lr_final", 0.0), f"{where}.lr_final")
    if lr_final < 0:
        raise ConfigError(f"{where}.lr_final must be >= 0, got {lr_final}")
    oracle = _table(data.get("oracle"), f"{where}.oracle")
    _unknown(oracle, {"weight", "refresh_every"}, f"{where}.oracle")
    if "oracle" in data:
        weight = _number(oracle.setdefault("weight", 1.0), f"{where}.oracle.weight")
        if not 0 < weight <= 1:
            raise ConfigError(f"{where}.oracle.weight must be in (0, 1], got {weight}")
        _int(oracle.setdefault("refresh_every", 2048), f"{where}.oracle.refresh_every")
    deterministic = data.get("deterministic", False)
    if not isinstance(deterministic, bool):
        raise ConfigError(f"{where}.deterministic must be true or false, got {deterministic!r}")
    eval_deterministic = data.get("eval_deterministic", deterministic)
    if not isinstance(eval_deterministic, bool):
        raise ConfigError(f"{where}.eval_deterministic must be true or false, got {eval_deterministic!r}")
    opponents = data.get("opponents", ["all"])
    if isinstance(opponents, str):
        opponents = [opponents]
    if (
        not isinstance(opponents, list | tuple)
        or not opponents
        or not all(isinstance(o, str) for o in opponents)
    ):
        raise ConfigError(f"{where}.opponents must be a non-empty list of names or groups, got {opponents!r}")
    return LearnerConfig(
        name=name,
        algo=algo,
        role=role,
        matchmaking=matchmaking,
        steps=steps,
        snapshot_every=snapshot_every,
        eval_games=eval_games,
        deterministic=deterministic,
        eval_deterministic=eval_deterministic,
        opponents=tuple(opponents),
        policy_kwargs=_table(data.get("policy_kwargs"), f"{where}.policy_kwargs"),
        hyperparams=_table(data.get("hyperparams"), f"{where}.hyperparams"),
        n_envs=n_envs,
        lr_schedule=lr_schedule,
        lr_final=lr_final,
        oracle=oracle,
        metrics=tuple(metrics),
        target=target,
    )


def parse_config(data: Mapping[str, Any], base_dir: str | os.PathLike[str] | None = None) -> LeagueConfig:
    """A checked :class:`LeagueConfig` from a dict (e.g. parsed TOML). ``base_dir`` resolves
    relative model paths of ``sb3:`` specs (the config file's folder)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"a league config is a table, got {type(data).__name__}")
    _unknown(data, _TOP, "config")
    from redqueen.registry import list_games, make_game

    game = data.get("game")
    if not isinstance(game, str) or game not in list_games():
        raise ConfigError(f"config.game must be one of {', '.join(list_games())}, got {game!r}")
    game_params = _table(data.get("game_params"), "config.game_params")
    try:
        make_game(game, **game_params)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"config.game_params {game_params} do not fit {game!r}: {err}") from None
    runner = data.get("runner", "local")
    if runner not in RUNNERS:
        raise ConfigError(f"config.runner must be one of {', '.join(RUNNERS)}, got {runner!r}")
    workers = data.get("workers")
    if workers is not None:
        workers = _int(workers, "config.workers")
    ray_address = data.get("ray_address")
    if ray_address is not None and not isinstance(ray_address, str):
        raise ConfigError(f"config.ray_address must be a string, got {ray_address!r}")
    invalid = data.get("invalid", "forfeit")
    if invalid not in INVALID_MODES:
        raise ConfigError(f"config.invalid must be one of {', '.join(INVALID_MODES)}, got {invalid!r}")
    transcripts = data.get("transcripts", False)
    if not isinstance(transcripts, bool):
        raise ConfigError(f"config.transcripts must be true or false, got {transcripts!r}")
    seed = _int(data.get("seed", 0), "config.seed", minimum=0)
    concurrency = _int(data.get("concurrency", 1), "config.concurrency")
    decay = _number(data.get("decay", 0.99), "config.decay")
    if not 0 < decay <= 1:
        raise ConfigError(f"config.decay must be in (0, 1], got {decay}")
    pfsp_p = _number(data.get("pfsp_p", 2.0), "config.pfsp_p")
    if pfsp_p <= 0:
        raise ConfigError(f"config.pfsp_p must be > 0, got {pfsp_p}")
    draw_score = _number(data.get("draw_score", 0.5), "config.draw_score")
    if not 0 <= draw_score <= 1:
        raise ConfigError(f"config.draw_score must be in [0, 1], got {draw_score}")

    raw_agents = data.get("agents", [])
    if not isinstance(raw_agents, list):
        raise ConfigError("config.agents must be an array of tables ([[agents]])")
    agents = []
    for i, entry in enumerate(raw_agents):
        where = f"agents[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a table with 'name' and 'spec', got {entry!r}")
        _unknown(entry, {"name", "spec", "params"}, where)
        name = _check_name(entry.get("name"), where)
        if "spec" not in entry:
            raise ConfigError(f"{where} ({name}) needs a 'spec', e.g. spec = \"random\"")
        try:
            spec = normalize_spec(entry["spec"], _table(entry.get("params"), f"{where}.params"))
        except ValueError as err:
            raise ConfigError(f"{where} ({name}): {err}") from None
        if spec["type"] == "sb3" and base_dir is not None and not Path(str(spec["path"])).is_absolute():
            spec["path"] = str((Path(base_dir) / str(spec["path"])).resolve())
        agents.append(AgentConfig(name, spec))
    raw_learners = data.get("learners", [])
    if not isinstance(raw_learners, list):
        raise ConfigError("config.learners must be an array of tables ([[learners]])")
    learners = tuple(_learner(entry, f"learners[{i}]") for i, entry in enumerate(raw_learners))

    names = [a.name for a in agents] + [learner.name for learner in learners]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"names must be unique among agents and learners; repeated: {', '.join(duplicates)}"
        )
    if len(agents) + len(learners) < 2 and not learners:
        raise ConfigError("a league needs at least two agents (or a learner)")
    if not agents and learners and all(learner.role != "main" for learner in learners):
        raise ConfigError("exploiters need someone to exploit: add agents or a main learner")
    for learner in learners:
        needs_openspiel = bool(learner.oracle) or "exploitability" in learner.all_metrics()
        if needs_openspiel and make_game(game, **game_params).openspiel_game() is None:
            raise ConfigError(
                f"learner {learner.name!r}: 'oracle' and the 'exploitability' metric need a game OpenSpiel "
                f"can solve; {game!r} with {game_params or 'default parameters'} has no OpenSpiel counterpart"
            )
        groups = {"all", "fixed", "snapshots"}
        unknown = [o for o in learner.opponents if o not in groups and o not in [a.name for a in agents]]
        if unknown:
            raise ConfigError(
                f"learner {learner.name!r}: opponents {unknown} are neither agents of the league nor one of "
                f"{sorted(groups)}"
            )
        vs = learner.target.get("vs")
        targets = [vs] if vs else []
        targets += [m[3:] for m in learner.metrics if m.startswith("vs:")]
        for opponent in targets:
            if opponent not in [a.name for a in agents]:
                raise ConfigError(
                    f"learner {learner.name!r} measures itself against {opponent!r}, which is not one of "
                    f"the league's agents ({', '.join(a.name for a in agents) or 'none'})"
                )
    games_per_pair = _int(data.get("games_per_pair", 20), "config.games_per_pair")
    name = data.get("name", "league")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"config.name must be a non-empty string, got {name!r}")
    return LeagueConfig(
        game=game,
        agents=tuple(agents),
        learners=learners,
        name=name,
        game_params=game_params,
        runner=runner,
        workers=workers,
        ray_address=ray_address,
        games_per_pair=games_per_pair,
        seed=seed,
        invalid=invalid,
        transcripts=transcripts,
        concurrency=concurrency,
        decay=decay,
        pfsp_p=pfsp_p,
        draw_score=draw_score,
    )


def load_config(path: str | os.PathLike[str]) -> LeagueConfig:
    """Read and check a TOML league config."""
    file = Path(path)
    try:
        text = file.read_text()
    except FileNotFoundError:
        raise ConfigError(f"no league config at {str(file)!r}") from None
    except (IsADirectoryError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read league config {str(file)!r}: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{str(file)!r} is not valid TOML: {err}") from None
    return parse_config(data, base_dir=file.parent)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ConfigError(f"cannot write {value!r} to a TOML league config")
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot write a {type(value).__name__} to a TOML league config")


def config_toml(data: Mapping[str, Any]) -> str:
    """A league config dict (as :func:`parse_config` takes it) as TOML text that reads back the same,
    e.g. to save the config of a league built in Python next to its results."""
    lines = [f"{key} = {_toml_value(v)}" for key, v in data.items() if key not in ("agents", "learners")]
    for table in ("agents", "learners"):
        for entry in data.get(table, []):
            lines.append(f"\n[[{table}]]")
            lines += [f"{key} = {_toml_value(v)}" for key, v in entry.items()]
    return "\n".join(lines) + "\n"
