"""A report of one or more Red Queen runs: plots (matplotlib), JSON and an HTML page.

:func:`write_report` reads run folders (:func:`~redqueen.trainers.red_queen.loop.load_run`) and writes
``report.png``, ``report.json`` and ``report.html`` into ``out``. The figure has six panels:

* champion fitness per round (a hollow marker: a champion that did not beat or tie every earlier
  champion);
* generality per round (the fraction of the held-out warriors defeated or tied), where the runs
  measured it;
* archive coverage per round (filled cells over all cells);
* behavioural diversity across runs: per round, the mean pairwise distance between the runs'
  champions in descriptor space (``log10(1 + value)`` per axis) and the number of distinct cells they
  occupy (needs two or more runs);
* every champion in descriptor space, coloured by run;
* the first run's last archive as a fitness heat map.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redqueen.trainers.red_queen.loop import load_run

__all__ = ["diversity", "summarize", "write_report"]


def _vector(descriptors: dict[str, int], axes: Sequence[str]) -> tuple[float, ...]:
    return tuple(math.log10(1 + max(0, int(descriptors.get(a, 0)))) for a in axes)


def diversity(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per round that two or more runs finished: the mean pairwise distance between their champions'
    descriptor vectors (``log10(1 + value)`` per axis) and how many distinct archive cells they hold."""
    if not runs:
        return []
    axes = runs[0]["config"]["archive"]["axes"]
    by_round: dict[int, list[dict[str, Any]]] = {}
    for run in runs:
        for record in run["rounds"]:
            by_round.setdefault(int(record["round"]), []).append(record)
    out = []
    for t in sorted(by_round):
        records = by_round[t]
        if len(records) < 2:
            continue
        vectors = [_vector(r["descriptors"], axes) for r in records]
        pairs = list(itertools.combinations(vectors, 2))
        mean = sum(math.dist(a, b) for a, b in pairs) / len(pairs)
        out.append(
            {
                "round": t,
                "runs": len(records),
                "mean_distance": mean,
                "distinct_cells": len({tuple(r["cell"]) for r in records}),
            }
        )
    return out


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The report's data: per run the per-round numbers, and the diversity across runs."""
    out = []
    for run in runs:
        shape = run["rounds"][0]["archive"]["shape"] if run["rounds"] else [6, 6]
        cells = int(shape[0]) * int(shape[1])
        rows = []
        for r in run["rounds"]:
            rows.append(
                {
                    "round": r["round"],
                    "fitness": r["fitness"],
                    "beats_all": r["beats_all"],
                    "generality": r["generality"],
                    "coverage": r["coverage"],
                    "coverage_fraction": r["coverage"] / cells,
                    "descriptors": r["descriptors"],
                    "cell": r["cell"],
                    "accepted": r["accepted"],
                    "rejected": r["rejected"],
                    "iterations": r["iterations"],
                    "evaluations": r["evaluations"],
                    "seconds": r["seconds"],
                }
            )
        out.append(
            {
                "run": run["out"],
                "seed": run["config"]["seed"],
                "fitness_mode": run["config"]["fitness"]["mode"],
                "rounds": rows,
            }
        )
    return {"runs": out, "diversity": diversity(runs)}


def _plot(runs: Sequence[dict[str, Any]], summary: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from redqueen.game import RedqueenError

        raise RedqueenError("the report's plots need matplotlib: pip install 'redqueen[plots]'") from None
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    (ax_fit, ax_gen, ax_cov), (ax_div, ax_desc, ax_map) = axes
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    mode = runs[0]["config"]["fitness"]["mode"]
    names = [Path(run["out"]).name for run in runs]
    unique = len(set(names)) == len(names)
    for k, (run, data) in enumerate(zip(runs, summary["runs"], strict=True)):
        color = colors[k % len(colors)]
        label = names[k] if unique else f"{names[k]} (seed {run['config']['seed']})"
        rounds = [r["round"] for r in data["rounds"]]
        fitness = [r["fitness"] for r in data["rounds"]]
        ax_fit.plot(rounds, fitness, "-", color=color, label=label)
        for r in data["rounds"]:
            face = color if r["beats_all"] else "white"
            ax_fit.plot(r["round"], r["fitness"], "o", color=color, markerfacecolor=face)
        general = [(r["round"], r["generality"]) for r in data["rounds"] if r["generality"] is not None]
        if general:
            ax_gen.plot(*zip(*general, strict=True), "o-", color=color, label=label)
        ax_cov.plot(rounds, [r["coverage_fraction"] for r in data["rounds"]], "o-", color=color, label=label)
        axes_names = run["config"]["archive"]["axes"]
        points = [_vector(r["descriptors"], axes_names) for r in data["rounds"]]
        if points:
            xs, ys = zip(*points, strict=True)
            ax_desc.plot(xs, ys, "-", color=color, alpha=0.3)
            ax_desc.scatter(xs, ys, color=color, s=[12 + 4 * t for t in rounds], label=label, alpha=0.8)
    ax_fit.set(title=f"champion fitness per round ({mode})", xlabel="round", ylabel="fitness")
    ax_gen.set(
        title="generality: held-out warriors defeated or tied",
        xlabel="round",
        ylabel="fraction",
        ylim=(-0.02, 1.02),
    )
    if not ax_gen.lines:
        ax_gen.text(
            0.5,
            0.5,
            "no generality measured\n([generality] folder)",
            ha="center",
            va="center",
            transform=ax_gen.transAxes,
        )
    ax_cov.set(title="archive coverage", xlabel="round", ylabel="filled cells / all cells", ylim=(0, 1.02))
    div = summary["diversity"]
    if div:
        ax_div.plot(
            [d["round"] for d in div],
            [d["mean_distance"] for d in div],
            "o-",
            color="black",
            label="mean distance",
        )
        twin = ax_div.twinx()
        twin.plot(
            [d["round"] for d in div],
            [d["distinct_cells"] for d in div],
            "s--",
            color="tab:gray",
            label="distinct cells",
        )
        twin.set_ylabel("distinct cells among the runs' champions")
        twin.yaxis.get_major_locator().set_params(integer=True)
        lines = ax_div.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        ax_div.legend(lines, [str(line.get_label()) for line in lines], loc="upper right", fontsize=8)
    else:
        ax_div.text(0.5, 0.5, "needs two or more runs", ha="center", va="center", transform=ax_div.transAxes)
    ax_div.set(
        title="behavioural diversity across runs", xlabel="round", ylabel="mean pairwise descriptor distance"
    )
    a, b = runs[0]["config"]["archive"]["axes"]
    ax_desc.set(
        title="champions in descriptor space (size: round)",
        xlabel=f"log10(1 + {a})",
        ylabel=f"log10(1 + {b})",
    )
    if runs[0]["rounds"]:
        last = runs[0]["rounds"][-1]
        grid = [[math.nan if v is None else v for v in row] for row in last["archive"]["fitness_grid"]]
        image = ax_map.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
        fig.colorbar(image, ax=ax_map, label="fitness")
        ax_map.set(
            title=f"{Path(runs[0]['out']).name}: archive of round {last['round']}",
            xlabel=f"{b} bin",
            ylabel=f"{a} bin",
        )
    for ax in (ax_fit, ax_gen, ax_cov, ax_div):
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in (ax_fit, ax_gen, ax_cov, ax_desc):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _row(cells: Sequence[Any], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(str(c))}</{tag}>" for c in cells) + "</tr>"


def _html(summary: dict[str, Any], image: Path) -> str:
    encoded = base64.b64encode(image.read_bytes()).decode()
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Red Queen report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>",
        "<h1>Red Queen report</h1>",
        f"<img src='data:image/png;base64,{encoded}' style='max-width:100%'>",
    ]
    for run in summary["runs"]:
        title = f"{run['run']} (seed {run['seed']}, fitness {run['fitness_mode']})"
        parts.append(f"<h2>{html.escape(title)}</h2><table>")
        head = ("round", "fitness", "beats all earlier", "generality", "archive cells", "descriptors")
        parts.append(_row((*head, "accepted", "rejected", "iterations", "seconds"), "th"))
        for r in run["rounds"]:
            general = "" if r["generality"] is None else f"{r['generality']:.3f}"
            desc = ", ".join(f"{k} {v}" for k, v in r["descriptors"].items())
            cells = (
                r["round"],
                f"{r['fitness']:.4f}",
                "yes" if r["beats_all"] else "no",
                general,
                r["coverage"],
            )
            parts.append(
                _row((*cells, desc, r["accepted"], r["rejected"], r["iterations"], f"{r['seconds']:.1f}"))
            )
        parts.append("</table>")
    if summary["diversity"]:
        parts.append("<h2>Diversity across runs</h2><table>")
        parts.append(_row(("round", "runs", "mean distance", "distinct cells"), "th"))
        for d in summary["diversity"]:
            parts.append(_row((d["round"], d["runs"], f"{d['mean_distance']:.3f}", d["distinct_cells"])))
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(runs: Sequence[str | Path], out: str | Path | None = None) -> dict[str, Path]:
    """Write ``report.png``, ``report.json`` and ``report.html`` for the run folders ``runs`` into
    ``out`` (default: ``RUN/report`` for one run, else ``report`` beside the first run). Returns the
    paths by kind."""
    if isinstance(runs, str | Path):
        runs = [runs]
    if not runs:
        raise ValueError("write_report() needs at least one run folder")
    loaded = [load_run(r) for r in runs]
    if out is None:
        first = Path(runs[0])
        out = first / "report" if len(runs) == 1 else first.parent / "report"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(loaded)
    paths = {"png": out / "report.png", "json": out / "report.json", "html": out / "report.html"}
    _plot(loaded, summary, paths["png"])
    paths["json"].write_text(json.dumps(summary, indent=1) + "\n")
    paths["html"].write_text(_html(summary, paths["png"]))
    return paths
