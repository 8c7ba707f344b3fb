"""Pictures of a self-play run, from its ``metrics.csv`` (matplotlib, ``pip install
'redqueen[plots]'``): exact exploitability and expected return against random play, win rates against
the evaluation opponents per seat with their 95% intervals, the invalid-answer rate and the mean
reply length, each against the run's wall time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from redqueen.trainers.llm_selfplay.trainer import read_metrics


def _series(rows: list[dict[str, Any]], name: str) -> tuple[list[float], list[float]]:
    picked = [(r["wall_s"], r["value"]) for r in rows if r["name"] == name]
    return [p[0] / 60 for p in picked], [p[1] for p in picked]


def plot_run(folder: str | os.PathLike[str], path: str | os.PathLike[str] | None = None) -> Path:
    """Draw a run's curves into ``path`` (default ``FOLDER/curves.png``); returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(folder)
    names = sorted({r["name"] for r in rows})
    target = Path(path) if path is not None else Path(folder) / "curves.png"
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax = axes[0][0]
    for name in names:
        if name.endswith("/exploitability") or name.endswith("/exact_vs_random"):
            x, y = _series(rows, name)
            ax.plot(x, y, marker=".", label=name.removeprefix("eval/"))
    ax.axhline(0.1, color="gray", linestyle=":", linewidth=1)
    ax.set_title("exact (Kuhn poker): exploitability and return vs random")
    ax.set_ylabel("chips per hand")
    ax = axes[0][1]
    for name in names:
        if name.endswith("/win") and "/vs_" in name:
            x, y = _series(rows, name)
            _, low = _series(rows, name + "_low")
            _, high = _series(rows, name + "_high")
            (line,) = ax.plot(x, y, marker=".", label=name.removeprefix("eval/").removesuffix("/win"))
            if len(low) == len(x) and len(high) == len(x):
                ax.fill_between(x, low, high, color=line.get_color(), alpha=0.15)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("win rate per opponent and seat (95% Wilson intervals)")
    ax = axes[1][0]
    for name in ("train/invalid_rate", "eval/invalid_rate"):
        x, y = _series(rows, name)
        if x:
            ax.plot(x, y, label=name)
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_title("invalid-answer rate")
    ax = axes[1][1]
    for name in ("train/reply_chars", "train/reply_tokens"):
        x, y = _series(rows, name)
        if x:
            ax.plot(x, y, label=name)
    ax.set_title("mean reply length (thinking collapse shows here)")
    for row in axes:
        for a in row:
            a.set_xlabel("wall time (min)")
            if a.get_legend_handles_labels()[0]:
                a.legend(fontsize=7)
            a.grid(alpha=0.3)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
