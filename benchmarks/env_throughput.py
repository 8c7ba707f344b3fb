"""Random legal play throughput: redqueen against its anchors, in one run.

(a) redqueen's PettingZoo AEC env vs PettingZoo's ``tictactoe_v3.env()`` (default wrappers) and ``raw_env``;
(b) redqueen's raw engines vs pyspiel's ``tic_tac_toe`` / ``kuhn_poker`` driven from Python by the same loop
    (Kuhn is played with explicit chance nodes on both sides, so a "step" is the same thing in both);
(c) redqueen's text env vs TextArena 0.7.4's ``TicTacToe-v0`` / ``KuhnPoker-v0`` (default wrappers, a fresh
    env per game as TextArena needs), replies = uniformly random legal moves written as text; both Kuhn
    games are 3-hand matches (``rounds=3`` on redqueen's side).

Each figure is the best of ``--reps`` runs. Prints one line per comparison and writes JSON
(default ``benchmarks/results/env_throughput.json``). Targets (issue #2): AEC >= 3x PettingZoo ``env()``,
text env >= 3x TextArena, raw engines >= 0.5x pyspiel.

    OMP_NUM_THREADS=1 python benchmarks/env_throughput.py            # full run, about a minute
    python benchmarks/env_throughput.py --quick                      # smoke run, a few seconds
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np

Runner = Callable[[int, int], tuple[int, int]]  # (n_games, seed) -> (steps, games)

TARGETS = {"aec": 3.0, "text": 3.0, "raw": 0.5}


def best_of(fn: Runner, n_games: int, reps: int) -> dict[str, float]:
    best: tuple[float, int] | None = None
    for r in range(reps):
        t0 = time.perf_counter()
        steps, _games = fn(n_games, r)
        dt = time.perf_counter() - t0
        if best is None or dt < best[0]:
            best = (dt, steps)
    dt, steps = best  # type: ignore[misc]
    return {"steps_per_s": steps / dt, "games_per_s": n_games / dt, "steps_per_game": steps / n_games}


# ---- (a) AEC -------------------------------------------------------------------------------------------
def aec_runner(make_env: Callable[[], object]) -> Runner:
    """PettingZoo's AEC loop; every env.step counts (the action=None steps of finished agents too)."""

    def run(n: int, seed: int) -> tuple[int, int]:
        env = make_env()
        rng = random.Random(seed)
        steps = 0
        for g in range(n):
            env.reset(seed=seed) if g == 0 else env.reset()
            for _agent in env.agent_iter():
                obs, _rew, term, trunc, _info = env.last()
                if term or trunc:
                    action = None
                else:
                    action = rng.choice(np.flatnonzero(obs["action_mask"]).tolist())
                env.step(action)
                steps += 1
        return steps, n

    return run


# ---- (b) raw engines -----------------------------------------------------------------------------------
def raw_runner(new_state: Callable[[], object]) -> Runner:
    """The same driver for pyspiel and redqueen states (both have these five methods)."""

    def run(n: int, seed: int) -> tuple[int, int]:
        rng = random.Random(seed)
        choice, choices = rng.choice, rng.choices
        steps = 0
        for _ in range(n):
            s = new_state()
            while not s.is_terminal():
                if s.is_chance_node():
                    outcomes, probs = zip(*s.chance_outcomes(), strict=True)
                    s.apply_action(choices(outcomes, probs)[0])
                else:
                    s.apply_action(choice(s.legal_actions()))
                steps += 1
            s.returns()
        return steps, n

    return run


def redqueen_sampled_runner(game) -> Runner:
    """redqueen's own path: chance drawn inside the engine from a seeded numpy Generator."""

    def run(n: int, seed: int) -> tuple[int, int]:
        rng = random.Random(seed)
        gen = np.random.default_rng(seed)
        choice = rng.choice
        steps = 0
        for _ in range(n):
            s = game.new_initial_state(gen)
            while not s.is_terminal():
                s.apply_action(choice(s.legal_actions()))
                steps += 1
            s.returns()
        return steps, n

    return run


# ---- (c) text envs -------------------------------------------------------------------------------------
def redqueen_text_runner(game_id: str, **params: int) -> Runner:
    from redqueen.envs.text import TextEnv

    def run(n: int, seed: int) -> tuple[int, int]:
        env = TextEnv(game_id, **params)
        rng = random.Random(seed)
        steps = 0
        for g in range(n):
            _text, info = env.reset(seed=seed) if g == 0 else env.reset()
            done = False
            while not done:
                _text, _rewards, term, trunc, info = env.step(rng.choice(info["legal_moves"]))
                done = term or trunc
                steps += 1
        return steps, n

    return run


def textarena_runner(env_id: str) -> Runner:
    import textarena as ta

    def legal_moves(env) -> list[str]:
        state = env.state  # reached through TextArena's wrappers
        if env_id.startswith("TicTacToe"):
            board = state.game_state["board"]
            return [f"[{r * 3 + c}]" for r in range(3) for c in range(3) if board[r][c] == ""]
        return [f"[{move}]" for move in state.game_state["current_legal_action_tree"]]

    def run(n: int, seed: int) -> tuple[int, int]:
        rng = random.Random(seed)
        steps = 0
        for g in range(n):
            env = ta.make(env_id)
            env.reset(num_players=2, seed=seed * 100_000 + g)
            done = False
            while not done:
                _pid, _obs = env.get_observation()
                done, _info = env.step(rng.choice(legal_moves(env)))
                steps += 1
            env.close()
        return steps, n

    return run


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny game counts: a smoke run, not a measurement"
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "env_throughput.json")
    parser.add_argument(
        "--only", choices=["aec", "raw", "text"], action="append", help="run only these parts"
    )
    args = parser.parse_args(argv)
    scale = 0.01 if args.quick else 1.0
    reps = 1 if args.quick else args.reps
    parts = set(args.only or ["aec", "raw", "text"])

    import pyspiel

    import redqueen
    from redqueen.envs.kuhn_poker import KuhnPoker
    from redqueen.envs.tictactoe import TicTacToe

    def n(x: int) -> int:
        return max(5, int(x * scale))

    comparisons: list[tuple[str, str, str, Runner, Runner | None, int]] = []
    if "aec" in parts:
        from pettingzoo.classic import tictactoe_v3
        from pettingzoo.classic.tictactoe.tictactoe import raw_env as pz_ttt_raw

        from redqueen.envs import kuhn_poker_v0, tictactoe_v0

        comparisons += [
            ("aec", "tictactoe", "pettingzoo tictactoe_v3.env()",
             aec_runner(tictactoe_v0.env), aec_runner(tictactoe_v3.env), n(3000)),
            ("aec", "tictactoe", "pettingzoo tictactoe raw_env",
             aec_runner(tictactoe_v0.raw_env), aec_runner(pz_ttt_raw), n(3000)),
            ("aec", "kuhn_poker", "-", aec_runner(kuhn_poker_v0.env), None, n(5000)),
        ]  # fmt: skip
    if "raw" in parts:
        os_ttt, os_kuhn = pyspiel.load_game("tic_tac_toe"), pyspiel.load_game("kuhn_poker")
        ttt, kuhn = TicTacToe(), KuhnPoker()
        comparisons += [
            ("raw", "tictactoe", "pyspiel tic_tac_toe",
             raw_runner(ttt.new_initial_state), raw_runner(os_ttt.new_initial_state), n(30000)),
            ("raw", "kuhn_poker", "pyspiel kuhn_poker",
             raw_runner(lambda: kuhn.new_initial_state(explicit_chance=True)),
             raw_runner(os_kuhn.new_initial_state), n(30000)),
            ("raw", "kuhn_poker (sampled chance)", "-", redqueen_sampled_runner(kuhn), None, n(30000)),
        ]  # fmt: skip
    if "text" in parts:
        comparisons += [
            ("text", "tictactoe", "textarena TicTacToe-v0",
             redqueen_text_runner("tictactoe"), textarena_runner("TicTacToe-v0"), n(3000)),
            ("text", "kuhn_poker", "textarena KuhnPoker-v0 (3 hands)",
             redqueen_text_runner("kuhn_poker", rounds=3), textarena_runner("KuhnPoker-v0"), n(3000)),
        ]  # fmt: skip

    results = []
    for kind, game, anchor, ours, theirs, games in comparisons:
        mine = best_of(ours, games, reps)
        row = {"kind": kind, "game": game, "games": games, "redqueen": mine, "anchor": anchor}
        row["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        # the targets compare against the anchors' user-facing envs; the raw_env row is for information
        target = None if "raw_env" in anchor else TARGETS[kind]
        line = f"{game} {kind} steps/s: redqueen {mine['steps_per_s'] / 1e3:,.1f}k"
        if theirs is not None:
            ref = best_of(theirs, games, reps)
            ratio = mine["steps_per_s"] / ref["steps_per_s"]
            row.update(anchor_result=ref, ratio=ratio, target=target)
            line += f", {anchor} {ref['steps_per_s'] / 1e3:,.1f}k, ratio {ratio:.2f}"
            if target is not None:
                row["meets_target"] = ratio >= target
                line += f" (target {target})"
        else:
            line += f" ({mine['games_per_s'] / 1e3:,.1f}k games/s)"
        print(line, flush=True)
        results.append(row)

    if args.only and args.out.exists():
        # a partial run replaces its own rows and keeps the others (each row has its own "time")
        try:
            kept = [r for r in json.loads(args.out.read_text())["results"] if r["kind"] not in parts]
        except (ValueError, KeyError, TypeError):
            kept = []
        results = kept + results
    out = {
        "benchmark": "env_throughput",
        "quick": args.quick,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "redqueen": redqueen.__version__,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
