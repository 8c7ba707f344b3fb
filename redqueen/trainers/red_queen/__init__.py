"""Red Queen evolution for Core War: the Digital Red Queen (DRQ) loop on redqueen's pMARS-exact MARS.

In round t a new warrior is evolved against the initial opponents and every earlier champion (or the
last K); a MAP-Elites archive over behaviour descriptors is filled by a generator's create and mutate
requests, and the archive's best becomes the round's champion. Any generator works: a language model
(:class:`LLMGenerator`, through the backends of :mod:`redqueen.agents.llm`) or plain mutation
(:class:`MutationGenerator`, no model, runs on any CPU).

::

    from redqueen.trainers.red_queen import parse_config, run_red_queen

    config = parse_config({"rounds": 5, "iterations": 40, "generality": {"folder": "library"}})
    result = run_red_queen(config, "runs/drq", progress=True)
    result.fitness, result.generality        # per round
    # command line: redqueen evolve run drq.toml --out runs/drq; redqueen evolve report runs/drq

Pieces: :mod:`~redqueen.trainers.red_queen.config` (the TOML config), :mod:`.fitness` (``drq`` and
``pairwise`` fitness, descriptors, generality, the battle pool), :mod:`.generators` (the generator
protocol, the intake that rejects and counts bad texts, the two generators), :mod:`.guide` (the
Redcode reference and examples written for the project), :mod:`.loop` (rounds, archive, output
folder, resuming), :mod:`.report` (plots: :func:`write_report`), :mod:`.cli` (``redqueen evolve``).

Champions in a league: :func:`champion_agent` is an agent factory for league specs, and
:func:`league_agents` lists a run's champions as ``[[agents]]`` entries of a ``game = "corewar"``
league config.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

_CONFIG = "redqueen.trainers.red_queen.config"
_FITNESS = "redqueen.trainers.red_queen.fitness"
_GENERATORS = "redqueen.trainers.red_queen.generators"
_LOOP = "redqueen.trainers.red_queen.loop"
# loaded on first use, so `redqueen --help` (which adds the evolve command) stays light
_LAZY = {
    **dict.fromkeys(("ConfigError", "RedQueenConfig", "config_toml", "load_config", "parse_config"), _CONFIG),
    **dict.fromkeys(
        (
            "FITNESS_MODES", "BattlePool", "Evaluation", "Evaluator", "GeneralityResult", "Opponent",
            "OpponentRecord", "death_cycles", "drq_credits", "generality", "probe",
        ),
        _FITNESS,
    ),
    **dict.fromkeys(
        (
            "REJECTIONS", "Generator", "Intake", "LLMGenerator", "MutationGenerator", "Parent", "Request",
            "extract_redcode",
        ),
        _GENERATORS,
    ),
    **dict.fromkeys(("EXAMPLES", "REFERENCE"), "redqueen.trainers.red_queen.guide"),
    **dict.fromkeys(
        (
            "Archive", "Elite", "RedQueenError", "RoundRecord", "RunResult", "champions", "load_run",
            "make_generator", "run_red_queen",
        ),
        _LOOP,
    ),
    "write_report": "redqueen.trainers.red_queen.report",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'redqueen.trainers.red_queen' has no attribute {name!r}")


__all__ = [
    "EXAMPLES",
    "FITNESS_MODES",
    "REFERENCE",
    "REJECTIONS",
    "Archive",
    "BattlePool",
    "ConfigError",
    "Elite",
    "Evaluation",
    "Evaluator",
    "GeneralityResult",
    "Generator",
    "Intake",
    "LLMGenerator",
    "MutationGenerator",
    "Opponent",
    "OpponentRecord",
    "Parent",
    "RedQueenConfig",
    "RedQueenError",
    "Request",
    "RoundRecord",
    "RunResult",
    "champion_agent",
    "champions",
    "config_toml",
    "death_cycles",
    "drq_credits",
    "extract_redcode",
    "generality",
    "league_agents",
    "load_config",
    "load_run",
    "make_generator",
    "parse_config",
    "probe",
    "run_red_queen",
    "write_report",
]


def champion_agent(
    run: str, round: int | None = None, name: str | None = None, seed: int | None = None
) -> Any:
    """A :class:`~redqueen.envs.corewar.WarriorAgent` playing the champion of ``round`` (default: the
    last finished round) of the run folder ``run``: the factory of a league spec
    ``{type = "python", factory = "redqueen.trainers.red_queen:champion_agent", run = "...", round = 3}``."""
    from redqueen.envs.corewar.agents import WarriorAgent
    from redqueen.trainers.red_queen.loop import RedQueenError, champions

    found = champions(run)
    if not found:
        raise RedQueenError(f"the run in {run} has no finished round yet")
    key = list(found)[-1] if round is None else f"round_{int(round):03d}"
    if key not in found:
        raise RedQueenError(f"the run in {run} has no champion for round {round}; it has {', '.join(found)}")
    source = (Path(run) / key / "champion.red").read_text()
    return WarriorAgent(source, name=name or key, seed=seed)


def league_agents(
    run: str | Path, prefix: str = "drq", rounds: list[int] | None = None
) -> list[dict[str, Any]]:
    """The champions of the run folder ``run`` as ``[[agents]]`` entries of a league config
    (``{"name": "drq-r003", "spec": {...champion_agent...}}``), every round's or those in ``rounds``."""
    from redqueen.trainers.red_queen.loop import load_run

    data = load_run(run)
    out = []
    for record in data["rounds"]:
        t = int(record["round"])
        if rounds is not None and t not in rounds:
            continue
        spec = {
            "type": "python",
            "factory": "redqueen.trainers.red_queen:champion_agent",
            "run": str(Path(run).resolve()),
            "round": t,
        }
        out.append({"name": f"{prefix}-r{t:03d}", "spec": spec})
    return out
