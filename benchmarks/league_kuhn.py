"""Kuhn poker league: how fast a PPO learner's exploitability falls, next to OpenSpiel's CFR, in one run.

The league (``redqueen league``, config written to ``OUT/league.toml``): random and CFR as fixed members;
one MaskablePPO learner that trains against an *oracle exploiter* (an exact best response to its own
current policy, recomputed every 2,048 steps, PSRO's exact oracle) and snapshots itself into the league
every 20k steps; each snapshot plays every other member and its exploitability (OpenSpiel) is measured.
The anchor, in the same process: OpenSpiel's C++ ``CFRSolver`` on ``kuhn_poker``, its average policy's
exploitability after each iteration.

Prints one line per comparison, writes ``benchmarks/results/league_kuhn.json`` and a plot of
exploitability against CPU-seconds (both) and against learner steps (PPO) to
``benchmarks/results/league_kuhn.png``, and the league's HTML report to ``OUT/report.html``.
Target (issue #3): exploitability below 0.05 within 15 CPU-minutes.

    OMP_NUM_THREADS=1 python benchmarks/league_kuhn.py         # full run, about 4 CPU-minutes
    python benchmarks/league_kuhn.py --quick                  # smoke run, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent
TARGET = 0.05
CPU_BUDGET = 15 * 60


def league_config(steps: int, snapshot_every: int, seed: int, games_per_pair: int) -> dict[str, Any]:
    return {
        "name": "kuhn-league",
        "game": "kuhn_poker",
        "games_per_pair": games_per_pair,
        "seed": seed,
        "agents": [
            {"name": "random", "spec": "random"},
            {"name": "cfr", "spec": "cfr", "params": {"iterations": 1000}},
        ],
        "learners": [
            {
                "name": "ppo",
                "steps": steps,
                "snapshot_every": snapshot_every,
                "n_envs": 8,
                "lr_schedule": "linear",
                "lr_final": 3e-5,
                "oracle": {"weight": 1.0, "refresh_every": 2048},
                "metrics": ["exploitability"],
                "policy_kwargs": {"net_arch": [64, 64]},
                "hyperparams": {
                    "learning_rate": 3e-4,
                    "n_steps": 256,
                    "batch_size": 512,
                    "n_epochs": 4,
                    "ent_coef": 0.003,
                    "gamma": 1.0,
                    "gae_lambda": 1.0,
                },
            }
        ],
    }


def run_ppo_league(config: dict[str, Any], out: Path) -> dict[str, Any]:
    from redqueen.league.config import config_toml, parse_config
    from redqueen.league.manager import League

    out.mkdir(parents=True, exist_ok=True)
    (out / "league.toml").write_text(config_toml(config))
    cpu0 = time.process_time()
    curve: list[dict[str, float]] = []

    def on_generation(learner: str, result: dict[str, Any]) -> None:
        cpu = time.process_time() - cpu0
        curve.append({"steps": result["steps"], "cpu_s": cpu, **result["metrics"]})

    with League(parse_config(config), out, progress=sys.stdout.isatty()) as league:
        summary = league.run(on_generation=on_generation)
        initial = [
            t for t in league.store.training("ppo") if t.generation == 0 and t.metric == "exploitability"
        ]
    cpu = time.process_time() - cpu0
    if initial:  # the untrained learner, measured when it joined
        curve.insert(0, {"steps": 0, "cpu_s": initial[0].seconds or 0.0, "exploitability": initial[0].value})
    first = next((p for p in curve if p["exploitability"] < TARGET), None)
    return {
        "curve": curve,
        "cpu_s": cpu,
        "final_exploitability": curve[-1]["exploitability"] if curve else None,
        "best_exploitability": min((p["exploitability"] for p in curve), default=None),
        "first_below_target": first,
        "stays_below_after_first": bool(first)
        and all(p["exploitability"] < TARGET for p in curve if p["steps"] >= first["steps"]),
        "games": summary.games,
        "members": summary.agents,
        "ratings": summary.ratings,
        "db": str(summary.db_path),
    }


def run_cfr(max_iterations: int, cpu_limit: float) -> dict[str, Any]:
    """OpenSpiel's C++ CFR on kuhn_poker: exploitability of the average policy over iterations."""
    import pyspiel

    game = pyspiel.load_game("kuhn_poker")
    solver = pyspiel.CFRSolver(game)
    curve = []
    cpu0 = time.process_time()
    iteration, next_mark = 0, 1
    while iteration < max_iterations:
        solver.evaluate_and_update_policy()
        iteration += 1
        if iteration >= next_mark:
            value = pyspiel.exploitability(game, solver.average_policy())
            curve.append(
                {"iterations": iteration, "cpu_s": time.process_time() - cpu0, "exploitability": value}
            )
            next_mark = max(next_mark + 1, int(next_mark * 1.25))
            if time.process_time() - cpu0 > cpu_limit:
                break
    first = next((p for p in curve if p["exploitability"] < TARGET), None)
    return {"curve": curve, "first_below_target": first, "final_exploitability": curve[-1]["exploitability"]}


def plot(ppo: dict[str, Any], cfr: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    p_cpu = [p["cpu_s"] for p in ppo["curve"]]
    p_exp = [p["exploitability"] for p in ppo["curve"]]
    ax1.plot(p_cpu, p_exp, "o-", color="tab:blue", label="PPO learner in the league (redqueen)")
    ax1.plot(
        [c["cpu_s"] for c in cfr["curve"]],
        [c["exploitability"] for c in cfr["curve"]],
        "-",
        color="tab:orange",
        label="OpenSpiel CFR (C++), average policy",
    )
    for ax in (ax1, ax2):
        ax.axhline(TARGET, color="tab:red", linestyle="--", linewidth=1, label=f"target {TARGET}")
        ax.axhline(11 / 24, color="tab:gray", linestyle=":", linewidth=1, label="uniform random (11/24)")
        ax.set_yscale("log")
        ax.set_ylabel("exploitability (chips per hand)")
    ax1.set_xscale("log")
    ax1.set_xlabel("CPU-seconds (league run: training, evaluation games, metrics)")
    ax1.set_title("Kuhn poker: exploitability against CPU time")
    ax1.legend(fontsize=8)
    ax2.plot([p["steps"] for p in ppo["curve"]], p_exp, "o-", color="tab:blue", label="PPO learner")
    ax2.set_xlabel("learner env steps")
    ax2.set_title("PPO learner against steps (CFR: top axis, iterations)")
    top = ax2.twiny()
    top.plot(
        [c["iterations"] for c in cfr["curve"]],
        [c["exploitability"] for c in cfr["curve"]],
        "-",
        color="tab:orange",
        label="OpenSpiel CFR",
    )
    top.set_xscale("log")
    top.set_xlabel("CFR iterations")
    ax2.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=400_000, help="learner step budget (default 400k)")
    parser.add_argument("--snapshot-every", type=int, default=20_000)
    parser.add_argument("--games-per-pair", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny budget")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "league_kuhn.json")
    parser.add_argument("--run-dir", type=Path, default=None, help="league folder (default: next to --out)")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.snapshot_every, args.games_per_pair = 4096, 2048, 4
    run_dir = args.run_dir or args.out.with_suffix("")
    shutil.rmtree(run_dir, ignore_errors=True)

    config = league_config(args.steps, args.snapshot_every, args.seed, args.games_per_pair)
    ppo = run_ppo_league(config, run_dir)
    cfr = run_cfr(max_iterations=10 if args.quick else 100_000, cpu_limit=max(1.0, ppo["cpu_s"]))

    first_ppo, first_cfr = ppo["first_below_target"], cfr["first_below_target"]
    ratio = (
        first_ppo["cpu_s"] / first_cfr["cpu_s"]
        if first_ppo and first_cfr and first_cfr["cpu_s"] > 0
        else None
    )
    data = {
        "benchmark": "league_kuhn",
        "quick": bool(args.quick),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "config": config,
        "target": {"exploitability": TARGET, "cpu_s": CPU_BUDGET},
        "ppo": ppo,
        "cfr": cfr,
        "cpu_ratio_ppo_over_cfr_to_target": ratio,
        "met": bool(first_ppo and first_ppo["cpu_s"] <= CPU_BUDGET),
    }
    print(
        f"kuhn league: PPO exploitability {ppo['final_exploitability']:.4f} after {args.steps} steps "
        f"({ppo['cpu_s']:.0f} CPU-s, {ppo['games']} league games)"
    )
    if first_ppo:
        print(
            f"kuhn exploitability < {TARGET}: PPO at {first_ppo['steps']} steps, "
            f"{first_ppo['cpu_s']:.1f} CPU-s "
            f"(target {CPU_BUDGET} CPU-s: {'met' if data['met'] else 'missed'}); "
            + (
                f"OpenSpiel CFR at {first_cfr['iterations']} iterations, {first_cfr['cpu_s']:.4f} CPU-s; "
                f"ratio {ratio:.3g}"
                if first_cfr and ratio
                else "OpenSpiel CFR: not reached"
            )
        )
    else:
        print(f"kuhn exploitability < {TARGET}: PPO not reached (best {ppo['best_exploitability']:.4f})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    try:
        plot(ppo, cfr, args.out.with_suffix(".png"))
        from redqueen.league.report import write_report

        write_report(ppo["db"])
    except ImportError as err:
        print(f"(no plot: {err})")
    print(f"results: {args.out}, plot: {args.out.with_suffix('.png')}, league: {run_dir}")
    return data


if __name__ == "__main__":
    main()
