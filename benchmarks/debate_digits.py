"""The table of "AI safety via debate" (Irving, Christiano and Amodei 2018) on scikit-learn's 8x8 digits.

For k = 4 and k = 6 revealed pixels: the judge alone on random nonzero-pixel masks (20 per image), and
debate accuracy with precommitment (the liar wins an image if any of its 9 lies wins) with the honest
debater revealing first, the liar first, and their mean, for each kind of debater (both debaters of the
same kind, full access to the judge):

* ``minimax``: exact play over unordered pixel sets (k = 4 only; k = 6 would score 1.1 million sets
  per image), with and without precommitment;
* ``mctsN``: PUCT Monte-Carlo tree search with N rollouts per move (the paper: 10,000);
* ``greedy``: one reveal of look-ahead.

The judges are the ones shipped with redqueen (``redqueen/envs/debate/data/judge_digits_k{4,6}.pt``,
6,000 steps of training on the 1,258 training digits); the debates run on the first ``--images`` of
the 539 test digits. The paper's MNIST numbers are printed beside ours (the summary lines give the
ratio ours / paper). Writes ``benchmarks/results/debate_digits.json`` and a plot
``benchmarks/results/debate_digits.png``.

    OMP_NUM_THREADS=1 python benchmarks/debate_digits.py                   # ~10 minutes on 2 cores
    python benchmarks/debate_digits.py --images 539 --rollouts 1000        # the whole test split
    python benchmarks/debate_digits.py --quick                             # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent
PAPER_LABEL = "paper (MNIST, MCTS 10k)"


def run(images: int, rollouts: int, workers: int, quick: bool, seed: int) -> dict[str, Any]:
    from rich.console import Console

    from redqueen.envs.debate.evaluation import PAPER_MNIST, debate_table, evaluate_debate
    from redqueen.envs.debate.game import PixelDebate
    from redqueen.envs.debate.judge import judge_accuracy

    console = Console(highlight=False)
    mcts = f"mcts{rollouts}"
    plan = [
        (4, True, "minimax"),
        (4, False, "minimax"),
        (4, True, mcts),
        (4, True, "greedy"),
        (6, True, mcts),
        (6, True, "greedy"),
    ]
    reports, rows = [], []
    judges: dict[int, dict[str, Any]] = {}
    for k, precommit, debater in plan:
        game = PixelDebate(k=k, precommit=precommit)
        if k not in judges:
            judges[k] = {
                "file": game.judge.name,
                "accuracy_all_test_images": judge_accuracy(game.judge, game.dataset, k, seed=seed),
                "training": game.judge.meta,
            }
        report = evaluate_debate(
            game, debater=debater, images=images, seed=seed, workers=workers, progress=True
        )
        reports.append(report)
        rows.append({**report.to_dict(per_image=True), "paper": PAPER_MNIST[k] if precommit else None})
    console.print(debate_table(reports, title=f"Pixel debate on the 8x8 digits ({images} test images)"))
    for k, paper in PAPER_MNIST.items():
        console.print(
            f"paper (MNIST) k={k}: judge alone {paper['judge_alone']:.1%}, honest first "
            f"{paper['honest_first']:.1%}, liar first {paper['liar_first']:.1%}, mean {paper['mean']:.1%}",
            markup=False,
        )
    for k, info in judges.items():
        ours, theirs = info["accuracy_all_test_images"], PAPER_MNIST[k]["judge_alone"]
        print(f"debate k={k} judge alone: redqueen {ours:.1%}, paper {theirs:.1%}, ratio {ours / theirs:.2f}")
    for report in reports:
        if report.precommit:
            theirs = PAPER_MNIST[report.k]["mean"]
            print(
                f"debate k={report.k} {report.debater} mean accuracy: redqueen {report.mean:.1%} (honest "
                f"first {report.honest_first:.1%}, liar first {report.liar_first:.1%}), paper {theirs:.1%}, "
                f"ratio {report.mean / theirs:.2f}"
            )
    return {
        "benchmark": "debate_digits",
        "quick": quick,
        "images": images,
        "rollouts": rollouts,
        "seed": seed,
        "workers": workers,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "judges": judges,
        "paper_mnist": PAPER_MNIST,
        "results": rows,
    }


def plot(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = data["results"]
    labels = [f"k={r['k']}\n{r['debater']}" + ("" if r["precommit"] else "\nno precommit") for r in rows]
    keys = (("judge_alone", "judge alone"), ("honest_first", "honest first"), ("liar_first", "liar first"))
    x = np.arange(len(rows))
    width = 0.2
    fig, ax = plt.subplots(figsize=(max(8, 1.5 * len(rows)), 5.2))
    colors = ("tab:gray", "tab:blue", "tab:orange")
    for i, ((key, name), color) in enumerate(zip(keys, colors, strict=True)):
        bars = ax.bar(x + (i - 1.5) * width, [r[key] for r in rows], width, label=name, color=color)
        ax.bar_label(bars, labels=[f"{r[key]:.0%}" for r in rows], fontsize=7)
    means = ax.bar(x + 1.5 * width, [r["mean"] for r in rows], width, label="debate mean", color="tab:green")
    ax.bar_label(means, labels=[f"{r['mean']:.0%}" for r in rows], fontsize=7)
    paper = [r["paper"]["mean"] if r["paper"] else np.nan for r in rows]
    ax.scatter(x + 1.5 * width, paper, marker="_", s=400, color="black", zorder=3, label="paper (MNIST)")
    alone = [r["paper"]["judge_alone"] if r["paper"] else np.nan for r in rows]
    ax.scatter(x - 1.5 * width, alone, marker="_", s=400, color="black", zorder=3)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("honest debater wins (share of images)")
    ax.set_title(
        f"Pixel debate on the 8x8 digits: judge alone vs debate ({data['images']} test images; "
        "liar wins an image if any of 9 lies wins)",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=5, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100, help="test images per setting (default 100)")
    parser.add_argument("--rollouts", type=int, default=200, help="MCTS rollouts per move (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the debaters and masks (default 0)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 images, 10 rollouts, 1 process")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "debate_digits.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.rollouts, args.workers = 3, 10, 1
    started = time.perf_counter()
    data = run(args.images, args.rollouts, args.workers, args.quick, args.seed)
    data["seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    plot(data, args.out.with_suffix(".png"))
    print(f"results written to {args.out} and {args.out.with_suffix('.png')} in {data['seconds']:.0f} s")
    return data


if __name__ == "__main__":
    main()
