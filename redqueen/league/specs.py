"""Agent specs: the plain data that rebuilds a league member in any process.

A spec is a dict with a ``type`` and that type's parameters; configs may also give a short string:

* a short agent name of :func:`redqueen.agents.make_agent` (``"random"``, ``"minimax"``, ``"nash"``,
  ``"cfr"``) -> ``{"type": "random"}``; extra keys are passed to the agent's constructor
  (``{"type": "cfr", "iterations": 200}``, ``{"type": "nash", "alpha": 0.3}``);
* ``"sb3:PATH"`` -> ``{"type": "sb3", "path": PATH}``: a saved stable-baselines3 model
  (``deterministic`` (default False: sample from the policy) and ``algo`` may be added);
* ``"package.module:factory"`` -> ``{"type": "python", "factory": "package.module:factory"}``: your own
  agent; ``factory(**params)`` must return an :class:`~redqueen.agents.Agent` (an Agent subclass
  will do) and is also given those of ``game=<Game>``, ``seed=<int>`` and ``name=<str>`` that it
  takes as keyword arguments;
* ``{"type": "llm", ...}``: language-model agents (``redqueen.agents.llm``), once that package exists.

Relative paths are read from the league's folder (``base_dir``), so a league folder can be moved.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redqueen.agents import AGENT_NAMES, Agent, make_agent
from redqueen.game import Game, RedqueenError


class SpecError(RedqueenError, ValueError):
    """An agent spec that cannot be read or built."""


_LEAGUE_NAMES = tuple(n for n in AGENT_NAMES if n != "human")


def normalize_spec(spec: str | Mapping[str, Any], params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The dict form of ``spec`` (see the module docstring), with ``params`` merged in."""
    if isinstance(spec, str):
        text = spec.strip()
        if text in _LEAGUE_NAMES:
            out: dict[str, Any] = {"type": text}
        elif text == "human":
            raise SpecError(
                "a human cannot play in a league run (it would wait for input); use `redqueen play`"
            )
        elif text.startswith("sb3:"):
            path = text[4:].strip()
            if not path:
                raise SpecError(f"agent spec {spec!r}: give the model's path after 'sb3:'")
            out = {"type": "sb3", "path": path}
        elif text.startswith("llm:"):
            out = {"type": "llm", "model": text[4:].strip()}
        elif ":" in text and all(part.strip() for part in text.split(":", 1)):
            out = {"type": "python", "factory": text}
        else:
            raise SpecError(
                f"unknown agent spec {spec!r}; use one of {', '.join(_LEAGUE_NAMES)}, 'sb3:PATH', "
                "'package.module:factory' or a table with a 'type'"
            )
    elif isinstance(spec, Mapping):
        out = dict(spec)
        if not isinstance(out.get("type"), str):
            raise SpecError(f"agent spec {dict(spec)!r} needs a 'type' (e.g. 'random', 'sb3', 'python')")
    else:
        raise SpecError(f"an agent spec is a string or a table, got {type(spec).__name__} {spec!r}")
    if params:
        clash = sorted(set(params) & {"type"})
        if clash:
            raise SpecError(f"agent params may not set {clash}")
        out.update(params)
    return out


def spec_kind(spec: Mapping[str, Any]) -> str:
    """The store's ``kind`` of an agent with this spec."""
    kind = spec["type"]
    if kind in _LEAGUE_NAMES:
        return "scripted"
    if kind in ("sb3", "python", "llm"):
        return str(kind)
    raise SpecError(f"unknown agent type {kind!r}")


def _path(value: Any, base_dir: str | Path | None) -> Path:
    path = Path(str(value))
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def build_agent(
    spec: Mapping[str, Any],
    game: Game,
    *,
    name: str,
    seed: int | None = None,
    base_dir: str | Path | None = None,
) -> Agent:
    """The agent a spec describes, named ``name``, for ``game``."""
    params = {k: v for k, v in spec.items() if k != "type"}
    kind = spec.get("type")
    try:
        if kind in _LEAGUE_NAMES:
            agent = make_agent(str(kind), game, seed=seed, **params)
        elif kind == "sb3":
            from redqueen.agents.sb3 import SB3Agent

            path = params.pop("path", None)
            if path is None:
                raise SpecError(f"agent {name!r}: an 'sb3' spec needs a 'path'")
            agent = SB3Agent(
                _path(path, base_dir),
                name=name,
                seed=seed,
                deterministic=bool(params.pop("deterministic", False)),
                **params,
            )
        elif kind == "python":
            factory = _import(str(params.pop("factory", "")), name)
            agent = factory(**_accepted(factory, {"game": game, "seed": seed, "name": name}), **params)
        elif kind == "llm":
            try:
                llm = importlib.import_module("redqueen.agents.llm")
            except ImportError:
                raise SpecError(
                    f"agent {name!r}: LLM agents need redqueen.agents.llm, which this version does not have"
                ) from None
            agent = llm.from_spec(params, game=game, seed=seed, name=name)
        else:
            raise SpecError(f"agent {name!r}: unknown agent type {kind!r}")
    except SpecError:
        raise
    except (TypeError, ValueError, FileNotFoundError, ImportError) as err:
        raise SpecError(f"agent {name!r} ({dict(spec)}): {err}") from err
    if not isinstance(agent, Agent):
        raise SpecError(f"agent {name!r}: the spec built a {type(agent).__name__}, not a redqueen Agent")
    agent.name = name
    return agent


def _accepted(factory: Any, offered: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``offered`` that ``factory`` takes (all of them with ``**kwargs``)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return offered
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return offered
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return {k: v for k, v in offered.items() if k in names}


def _import(target: str, name: str) -> Any:
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise SpecError(f"agent {name!r}: factory must look like 'package.module:name', got {target!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise SpecError(f"agent {name!r}: cannot import {module_name!r}: {err}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SpecError(f"agent {name!r}: {module_name!r} has no {attr!r}") from None
    if not callable(obj):
        raise SpecError(f"agent {name!r}: {target!r} is not callable")
    return obj
