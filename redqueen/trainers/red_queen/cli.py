"""The ``redqueen evolve`` command: Red Queen evolution of Core War warriors.

* ``redqueen evolve run CONFIG.toml [--out DIR] [--workers N] [--rounds T] [--quiet]``: run the loop
  of the config (see :mod:`redqueen.trainers.red_queen.config`) into ``DIR`` (default
  ``runs/<config name>``); run it again to resume after the last finished round;
* ``redqueen evolve status DIR``: the finished rounds of a run, as a table;
* ``redqueen evolve report DIR [DIR...] [--out FOLDER]``: plots (fitness, generality, archive
  coverage, diversity across runs), ``report.json`` and ``report.html``.

:func:`add_parser` adds the group to the ``redqueen`` parser; each subcommand sets ``handler``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from redqueen.cli import _positive_int

__all__ = ["add_parser"]


def _status_table(records: list[Any], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for column in (
        "round",
        "fitness",
        "beats all",
        "generality",
        "archive",
        "tsp",
        "mc",
        "ok",
        "rejected",
        "s",
    ):
        table.add_column(column, justify="right")
    for r in records:
        table.add_row(
            str(r.round),
            f"{r.fitness:.4f}",
            "yes" if r.beats_all else "no",
            "" if r.generality is None else f"{r.generality:.3f}",
            str(r.coverage),
            str(r.descriptors.get("tsp", "")),
            str(r.descriptors.get("mc", "")),
            str(r.accepted),
            str(r.rejected),
            f"{r.seconds:.1f}",
        )
    return table


def run_evolve(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """``redqueen evolve run CONFIG.toml``."""
    from dataclasses import replace

    from redqueen.trainers.red_queen.config import load_config
    from redqueen.trainers.red_queen.loop import run_red_queen

    config = load_config(args.config)
    if args.rounds is not None:
        config = replace(config, rounds=args.rounds)
    out = args.out if args.out is not None else Path("runs") / args.config.stem
    result = run_red_queen(config, out, workers=args.workers, progress=not args.quiet, console=console)
    if result.resumed_from:
        console.print(f"resumed after round {result.resumed_from}", markup=False)
    console.print(_status_table(result.rounds, f"Red Queen run {out} ({config.fitness} fitness)"))
    console.print(f"champions in {out}/round_*/champion.red", markup=False)
    return {"out": str(out), "rounds": [r.to_dict() for r in result.rounds]}


def run_status(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """``redqueen evolve status DIR``."""
    from redqueen.trainers.red_queen.loop import RoundRecord, load_run

    try:
        data = load_run(args.run)
    except FileNotFoundError as err:
        raise ValueError(str(err)) from None
    records = [RoundRecord.from_dict(r) for r in data["rounds"]]
    total = data.get("rounds_planned", "?")
    console.print(_status_table(records, f"{args.run}: {len(records)} of {total} rounds finished"))
    return {"out": str(args.run), "finished": len(records), "rounds": [r.to_dict() for r in records]}


def run_report(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """``redqueen evolve report DIR [DIR...]``."""
    from redqueen.trainers.red_queen.report import write_report

    try:
        paths = write_report(args.runs, args.out)
    except FileNotFoundError as err:
        raise ValueError(str(err)) from None
    for kind, path in paths.items():
        console.print(f"{kind}: {path}", markup=False)
    return {kind: str(path) for kind, path in paths.items()}


def add_parser(sub: Any) -> None:
    """Add ``evolve run|status|report`` to the ``redqueen`` command's subparsers."""
    evolve = sub.add_parser("evolve", help="Red Queen evolution of Core War warriors (DRQ loop)")
    ev = evolve.add_subparsers(dest="evolve_command", required=True, metavar="EVOLVE_COMMAND")
    run = ev.add_parser("run", help="run (or resume) a Red Queen loop from a TOML config")
    run.add_argument("config", type=Path, help="the run's TOML config")
    run.add_argument("--out", type=Path, default=None, help="output folder (default runs/<config name>)")
    run.add_argument(
        "--workers", type=_positive_int, default=None, help="battle processes (default: one per CPU)"
    )
    run.add_argument("--rounds", type=_positive_int, default=None, help="override the config's rounds")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--json", type=Path, metavar="PATH", help="also write a summary as JSON")
    run.set_defaults(handler=run_evolve)
    status = ev.add_parser("status", help="the finished rounds of a run")
    status.add_argument("run", type=Path, help="the run's folder")
    status.add_argument("--json", type=Path, metavar="PATH", help="also write the status as JSON")
    status.set_defaults(handler=run_status)
    show = ev.add_parser("report", help="plots and an HTML report of one or more runs")
    show.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run folders (several: compared)")
    show.add_argument("--out", type=Path, default=None, help="folder for report.png/.json/.html")
    show.add_argument("--json", type=Path, metavar="PATH", help=argparse.SUPPRESS)
    show.set_defaults(handler=run_report)
