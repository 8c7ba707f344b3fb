"""The negotiation games in one run: scripted agents' deal rates, speed against anchors, and SB3 training.

(a) every pair of scripted agents (greedy, fair, conceder) plays every game, seats swapped:
    agreement rate, Pareto-optimal share, joint-value efficiency and points per agent (Deal or No Deal in
    both variants, resource trading, price bargaining);
(b) speed: redqueen's text env for resource trading vs TextArena 0.7.4's ``SimpleNegotiation-v0``
    (default wrappers, a fresh env per game as TextArena needs) fed the same scripted messages (offers
    with talk, alternately denied and accepted); redqueen's Deal or No Deal engine vs pyspiel's
    ``negotiation`` (``enable_utterances=False``: proposals and an accept, as here) under random legal
    play driven by the same loop (the rules differ in the pools and values they draw; a step is one
    proposal or accept on both sides); and the AEC envs' random-play steps/s (no anchor);
(c) MaskablePPO on each game's discrete view against its default scripted opponent, seats alternating:
    mean return of uniform random play, of the untrained policy and of the trained one on the same
    scenarios.

Prints one summary line per comparison, writes JSON (default ``benchmarks/results/negotiation.json``)
and a plot next to it (``negotiation.png``: deal-rate heatmaps and the PPO bars).

    OMP_NUM_THREADS=1 python benchmarks/negotiation.py            # full run, a few minutes
    python benchmarks/negotiation.py --quick                      # smoke run, seconds
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

AGENT_NAMES = ("greedy", "fair", "conceder")
GAMES: dict[str, tuple[str, dict[str, Any]]] = {  # label -> (game id, parameters)
    "deal_or_no_deal": ("negotiation", {}),
    "deal_or_no_deal_fair": ("negotiation", {"variant": "fair"}),
    "resource_trading": ("resource_trading", {}),
    "price_bargaining": ("price_bargaining", {}),
}
GYM_IDS = {
    "deal_or_no_deal": "redqueen/Negotiation-v0",
    "resource_trading": "redqueen/ResourceTrading-v0",
    "price_bargaining": "redqueen/PriceBargaining-v0",
}


# ---- (a) deal rates ------------------------------------------------------------------------------------
def deal_rates(n_games: int, seed: int, progress: Progress) -> list[dict[str, Any]]:
    from redqueen.envs.negotiation.agents import SCRIPTED_AGENTS
    from redqueen.envs.negotiation.evaluation import evaluate

    pairs = list(itertools.combinations_with_replacement(AGENT_NAMES, 2))
    task = progress.add_task("deal rates", total=len(GAMES) * len(pairs))
    rows = []
    for label, (game_id, params) in GAMES.items():
        for a, b in pairs:
            report = evaluate(
                game_id, [SCRIPTED_AGENTS[a](), SCRIPTED_AGENTS[b]()], n_games=n_games, seed=seed, **params
            )
            rows.append({"game": label, "agents": [a, b], **report.to_dict()})
            progress.advance(task)
    return rows


# ---- (b) speed -----------------------------------------------------------------------------------------
Runner = Callable[[int, int], int]  # (n_games, seed) -> steps


def best_of(fn: Runner, n_games: int, reps: int) -> dict[str, float]:
    best: tuple[float, int] | None = None
    for r in range(reps):
        t0 = time.perf_counter()
        steps = fn(n_games, r)
        dt = time.perf_counter() - t0
        if best is None or dt < best[0]:
            best = (dt, steps)
    dt, steps = best  # type: ignore[misc]
    return {"steps_per_s": steps / dt, "games_per_s": n_games / dt, "steps_per_game": steps / n_games}


_OFFERS = (
    "I could use some wood. [Offer: 2 Wheat -> 1 Wood]",
    "Sheep for brick? [Offer: 2 Sheep -> 1 Brick]",
    "How about ore? [Offer: 1 Brick, 1 Sheep -> 1 Ore]",
)


def scripted_message(step: int) -> str:
    """The same message stream for both text envs: offers by the writer of even steps, answered
    alternately by a denial and an accept."""
    if step % 2 == 0:
        return _OFFERS[(step // 2) % len(_OFFERS)]
    return "No, thanks. [Deny]" if (step // 2) % 2 == 0 else "Deal. [Accept]"


def redqueen_trading_text(n: int, seed: int) -> int:
    from redqueen.envs.text import TextEnv

    env = TextEnv("resource_trading")
    steps = 0
    for g in range(n):
        env.reset(seed=seed) if g == 0 else env.reset()
        done, k = False, 0
        while not done:
            _text, _rewards, done, _trunc, info = env.step(scripted_message(k))
            if info["invalid"]:
                raise RuntimeError(f"redqueen refused a scripted message: {info['reason']}")
            k += 1
            steps += 1
    return steps


def textarena_trading_text(n: int, seed: int) -> int:
    import textarena as ta

    steps = 0
    for g in range(n):
        env = ta.make("SimpleNegotiation-v0")
        env.reset(num_players=2, seed=seed * 100_000 + g)
        done, k = False, 0
        while not done:
            _pid, _obs = env.get_observation()
            done, _info = env.step(scripted_message(k))
            k += 1
            steps += 1
        env.close()
    return steps


def redqueen_dond_raw(n: int, seed: int) -> int:
    from redqueen.envs.negotiation.deal_or_no_deal import DealOrNoDeal

    game = DealOrNoDeal()
    gen = np.random.default_rng(seed)
    choice = random.Random(seed).choice
    steps = 0
    for _ in range(n):
        s = game.new_initial_state(gen)
        while not s.is_terminal():
            s.apply_action(choice(s.legal_actions()))
            steps += 1
        s.returns()
    return steps


def pyspiel_negotiation_raw(n: int, seed: int) -> int:
    import pyspiel

    game = pyspiel.load_game("negotiation", {"enable_utterances": False, "rng_seed": seed})
    rng = random.Random(seed)
    steps = 0
    for _ in range(n):
        s = game.new_initial_state()
        while not s.is_terminal():
            if s.is_chance_node():
                outcomes, probs = zip(*s.chance_outcomes(), strict=True)
                s.apply_action(rng.choices(outcomes, probs)[0])
            else:
                s.apply_action(rng.choice(s.legal_actions()))
                steps += 1
        s.returns()
    return steps


def aec_random(module_name: str) -> Runner:
    def run(n: int, seed: int) -> int:
        import importlib

        env = importlib.import_module(f"redqueen.envs.{module_name}").env()
        rng = random.Random(seed)
        steps = 0
        for g in range(n):
            env.reset(seed=seed) if g == 0 else env.reset()
            for _agent in env.agent_iter():
                obs, _r, term, trunc, _i = env.last()
                action = None if term or trunc else rng.choice(np.flatnonzero(obs["action_mask"]).tolist())
                env.step(action)
                steps += 1
        return steps

    return run


def speed(n_games: int, reps: int, progress: Progress) -> list[dict[str, Any]]:
    plan: list[tuple[str, str, Runner, Runner | None, str | None]] = [
        (
            "text",
            "resource_trading",
            redqueen_trading_text,
            textarena_trading_text,
            "textarena SimpleNegotiation-v0",
        ),
        ("raw", "deal_or_no_deal", redqueen_dond_raw, pyspiel_negotiation_raw, "pyspiel negotiation"),
        ("aec", "deal_or_no_deal", aec_random("negotiation_v0"), None, None),
        ("aec", "resource_trading", aec_random("resource_trading_v0"), None, None),
        ("aec", "price_bargaining", aec_random("price_bargaining_v0"), None, None),
    ]
    task = progress.add_task("speed", total=len(plan))
    rows = []
    for kind, game, ours, anchor, anchor_name in plan:
        row: dict[str, Any] = {"kind": kind, "game": game, "redqueen": best_of(ours, n_games, reps)}
        if anchor is not None:
            try:
                row["anchor"] = anchor_name
                row["anchor_result"] = best_of(anchor, n_games, reps)
                row["ratio"] = row["redqueen"]["steps_per_s"] / row["anchor_result"]["steps_per_s"]
            except ImportError as err:
                row["anchor_missing"] = str(err)
        rows.append(row)
        progress.advance(task)
    return rows


# ---- (c) SB3 -------------------------------------------------------------------------------------------
def ppo(steps: int, n_episodes: int, progress: Progress) -> list[dict[str, Any]]:
    import gymnasium as gym
    import torch
    from sb3_contrib import MaskablePPO

    import redqueen  # noqa: F401  (registers the gym ids)
    from redqueen.envs.negotiation.evaluation import mean_return

    torch.set_num_threads(1)
    task = progress.add_task("MaskablePPO", total=len(GYM_IDS))
    rows = []
    for label, env_id in GYM_IDS.items():
        env = gym.make(env_id, seat="alternate")
        model = MaskablePPO(
            "MlpPolicy",
            env,
            n_steps=256,
            batch_size=64,
            n_epochs=4,
            learning_rate=1e-3,
            ent_coef=0.01,
            policy_kwargs={"net_arch": [64, 64]},
            seed=0,
        )
        initial = mean_return(env_id, model, n_episodes)
        t0 = time.process_time()
        model.learn(steps)
        cpu = time.process_time() - t0
        rows.append(
            {
                "game": label,
                "env_id": env_id,
                "opponent": env.unwrapped.opponent.name,
                "steps": steps,
                "train_cpu_s": cpu,
                "random": mean_return(env_id, None, n_episodes),
                "initial": initial,
                "trained": mean_return(env_id, model, n_episodes),
                "episodes": n_episodes,
            }
        )
        progress.advance(task)
    return rows


# ---- report ----------------------------------------------------------------------------------------------
def plot(rates: list[dict[str, Any]], ppo_rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(GAMES)
    fig, axes = plt.subplots(1, len(labels) + 1, figsize=(4.2 * (len(labels) + 1), 4.0))
    index = {n: i for i, n in enumerate(AGENT_NAMES)}
    for ax, label in zip(axes, labels, strict=False):
        grid = np.full((len(AGENT_NAMES), len(AGENT_NAMES)), np.nan)
        for row in rates:
            if row["game"] == label:
                a, b = (index[n] for n in row["agents"])
                grid[a, b] = grid[b, a] = row["agreement_rate"]
        ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, f"{value:.0%}", ha="center", va="center", color="white" if value < 0.6 else "black")
        ax.set_xticks(range(len(AGENT_NAMES)), AGENT_NAMES)
        ax.set_yticks(range(len(AGENT_NAMES)), AGENT_NAMES)
        ax.set_title(f"{label}: deal rate")
    ax = axes[-1]
    if ppo_rows:
        x = np.arange(len(ppo_rows))
        for k, (key, colour) in enumerate(
            [("random", "grey"), ("initial", "tab:orange"), ("trained", "tab:green")]
        ):
            ax.bar(x + (k - 1) * 0.27, [r[key] for r in ppo_rows], 0.27, label=key, color=colour)
        ax.set_xticks(x, [r["game"].replace("_", "\n") for r in ppo_rows])
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(f"MaskablePPO, {ppo_rows[0]['steps']} steps: mean return")
        ax.legend()
    else:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--games", type=int, default=400, help="games per pair of scripted agents")
    parser.add_argument("--speed-games", type=int, default=1000, help="games per speed measurement")
    parser.add_argument("--reps", type=int, default=3, help="speed: best of this many runs")
    parser.add_argument("--ppo-steps", type=int, default=10240, help="MaskablePPO steps per game (0: skip)")
    parser.add_argument("--episodes", type=int, default=300, help="evaluation episodes of the PPO part")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "negotiation.json")
    args = parser.parse_args(argv)
    if args.quick:  # tiny counts, except where given on the command line
        quick = {"games": 10, "speed_games": 20, "reps": 1, "ppo_steps": 512, "episodes": 10}
        for name, value in quick.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    console = Console(width=max(Console().width, 120))
    with Progress(console=console, transient=True) as progress:
        rates = deal_rates(args.games, args.seed, progress)
        speeds = speed(args.speed_games, args.reps, progress)
        ppo_rows = ppo(args.ppo_steps, args.episodes, progress) if args.ppo_steps > 0 else []

    table = Table(title=f"scripted agents, {args.games} games per pair (seats swapped)")
    for column in ("game", "agents", "deals", "Pareto-optimal", "joint efficiency", "points (each)"):
        table.add_column(column, justify="left" if column in ("game", "agents") else "right")
    for row in rates:
        table.add_row(
            row["game"],
            " vs ".join(row["agents"]),
            f"{row['agreement_rate']:.1%}",
            f"{row['pareto_rate']:.1%}",
            f"{row['joint_efficiency']:.1%}",
            " / ".join(f"{p:.2f}" for p in row["mean_points"]),
        )
    console.print(table)
    for row in speeds:
        ours = row["redqueen"]["steps_per_s"]
        line = f"{row['game']} {row['kind']} steps/s: redqueen {ours / 1000:.1f}k"
        if "ratio" in row:
            theirs = row["anchor_result"]["steps_per_s"]
            line += f", {row['anchor']} {theirs / 1000:.1f}k, ratio {row['ratio']:.2f}"
        print(line)
    for row in ppo_rows:
        print(
            f"{row['game']} MaskablePPO vs {row['opponent']}, {row['steps']} steps ({row['train_cpu_s']:.0f} "
            f"CPU-s): mean return random {row['random']:+.2f}, initial {row['initial']:+.2f}, "
            f"trained {row['trained']:+.2f} ({row['trained'] - row['random']:+.2f} over random)"
        )

    out = {
        "benchmark": "negotiation",
        "quick": bool(args.quick),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "deal_rates": rates,
        "speed": speeds,
        "ppo": ppo_rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    plot(rates, ppo_rows, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return out


if __name__ == "__main__":
    main()
