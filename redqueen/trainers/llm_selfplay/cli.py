"""``redqueen llm-selfplay CONFIG.toml``: run (or resume) a self-play training run from a TOML config.

:func:`add_parser` adds the subcommand to the ``redqueen`` command's subparsers; the subcommand
carries its handler (``args.handler``), :func:`run_command`. The same runs as ``python -m
redqueen.trainers.llm_selfplay CONFIG.toml``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redqueen.cli import _positive_int
from redqueen.game import RedqueenError

COMMAND = "llm-selfplay"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``llm-selfplay`` to ``sub`` (an ``add_subparsers()`` object); returns its parser."""
    parser = sub.add_parser(
        COMMAND, help="LLM self-play RL (SPIRAL-style) from a TOML config; resumes a stopped run"
    )
    _arguments(parser)
    parser.set_defaults(handler=run_command)
    return parser


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config", type=Path, help="the run's TOML config (see redqueen.trainers.llm_selfplay.config)"
    )
    parser.add_argument("--out", type=Path, default=None, help="run folder (default: the config's out)")
    parser.add_argument(
        "--iterations", type=_positive_int, default=None, help="override the config's iterations"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the summary as JSON")


def run_command(args: argparse.Namespace, console: Any = None) -> dict[str, Any]:
    """Run the config of ``args`` and print a summary; returns the summary."""
    from redqueen.trainers.llm_selfplay.config import load_config
    from redqueen.trainers.llm_selfplay.trainer import Trainer

    config = load_config(args.config)
    changes: dict[str, Any] = {}
    if args.out is not None:
        changes["out"] = str(args.out)
    if args.iterations is not None:
        changes["iterations"] = args.iterations
    if changes:
        config = dataclasses.replace(config, **changes)
    summary = Trainer(config, progress=not args.quiet).run()
    lines = [
        f"{summary['iterations']} iterations, {summary['games']} games, "
        f"{summary['wall_s']:.1f} s wall, {summary['cpu_s']:.1f} CPU-s; run folder {summary['out']}"
    ]
    for key, value in summary["best_exploitability"].items():
        lines.append(f"best {key.removeprefix('eval/')}: {value:.4f}")
    for key in sorted(summary["final"]):
        if key.endswith(("/exploitability", "/exact_vs_random", "invalid_rate", "/win")):
            lines.append(f"final {key.removeprefix('eval/')}: {summary['final'][key]:.4f}")
    text = "\n".join(lines)
    if console is not None:
        console.print(text, markup=False)
    else:
        print(text)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m redqueen.trainers.llm_selfplay CONFIG.toml [options]``."""
    parser = argparse.ArgumentParser(prog=f"redqueen {COMMAND}", description=__doc__.splitlines()[0])
    _arguments(parser)
    args = parser.parse_args(argv)
    try:
        summary = run_command(args)
    except (RedqueenError, ValueError, TypeError) as err:
        print(f"redqueen {COMMAND}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nredqueen {COMMAND}: interrupted (run it again to resume)", file=sys.stderr)
        return 130
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0
