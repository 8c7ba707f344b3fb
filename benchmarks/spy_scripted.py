"""Who-Is-the-Spy with scripted players: how often the scripted civilians catch the scripted spy, against
chance, in every form of the game; per-role ratings of a mixed table; speed.

For each setting (the built-in words, procedural scenes, the blank-spy scenes, classic Undercover
where nobody knows their role, and the elimination variant) four :class:`ScriptedSpyAgent` players play
``--games`` independent games, and the same table again with civilians that vote uniformly at
random (same clues): the measured chance anchor (for the one-vote games it is also computed exactly,
:func:`~redqueen.envs.spy.evaluation.chance_catch_rate`). One line per setting::

    spy words: caught 0.360 [0.339, 0.381], chance 0.262 (exact 0.259), ratio 1.37; n/a 0.000; 260 games/s

Then a mixed table on the word game (seats rotated; two scripted players, one whose spy plays at
random, one whose civilian votes at random) gives per-role win rates and OpenSkill ratings per
(agent, role), and what OpenSkill predicts for the spy of a scripted table from per-role ratings
(each seat its own rating) and from team sums of per-agent ratings (three civilians against one
spy), next to the measured spy win rate. Writes ``benchmarks/results/spy_scripted.json`` and a
bar chart ``spy_scripted.png``.

    OMP_NUM_THREADS=1 python benchmarks/spy_scripted.py           # about two minutes
    python benchmarks/spy_scripted.py --quick                     # smoke run
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

import numpy as np

from redqueen.agents import RandomAgent
from redqueen.envs.spy.agents import RoleAgent, ScriptedSpyAgent
from redqueen.envs.spy.evaluation import SpyEvaluation, chance_catch_rate, evaluate
from redqueen.envs.spy.game import SIMULTANEOUS, WhoIsTheSpy

ROOT = Path(__file__).resolve().parent
SETTINGS: dict[str, dict[str, Any]] = {
    "words": {},
    "scenes": {"payload": "scenes"},
    "blank": {"payload": "scenes", "blank_spy": True},
    "undercover": {"spy_knows_role": False},
    "elimination": {"variant": "elimination"},
}


class UniformVoter(ScriptedSpyAgent):
    """The scripted player's clues, but a uniformly random vote for another player (never n/a)."""

    name = "uniform-voter"

    def _vote(self, legal: np.ndarray, own: np.ndarray, said: np.ndarray, me: int) -> int:
        v, n = self.game.vocabulary_size, self.game.num_players
        targets = legal[(legal >= v) & (legal < v + n)]
        return self._choose(targets)


def _line(name: str, ev: SpyEvaluation, anchor: SpyEvaluation, exact: float, speed: float) -> str:
    low, high = ev.caught_interval
    exact_text = f" (exact {exact:.3f})" if exact == exact else ""
    ratio = ev.caught_rate / anchor.caught_rate if anchor.caught_rate else float("nan")
    return (
        f"spy {name}: caught {ev.caught_rate:.3f} [{low:.3f}, {high:.3f}], chance {anchor.caught_rate:.3f}"
        f"{exact_text}, ratio {ratio:.2f}; n/a {ev.na_rate:.3f}; {speed:.0f} games/s"
    )


def _engine_speed(game: WhoIsTheSpy, seconds: float) -> float:
    """Decisions per second of the raw engine with random legal moves."""
    rng = np.random.default_rng(0)
    steps, started, seed = 0, time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        state = game.new_initial_state(seed)
        seed += 1
        while not state.is_terminal():
            if state.current_player == SIMULTANEOUS:
                voters = state.voters()
                state.apply_actions({p: int(rng.choice(state.legal_actions(p))) for p in voters})
                steps += len(voters)
            else:
                legal = state.legal_actions()
                state.apply_action(legal[int(rng.integers(len(legal)))])
                steps += 1
    return steps / (time.perf_counter() - started)


def _predictions(table: SpyEvaluation, ffa: dict[str, Any]) -> dict[str, float]:
    """OpenSkill's probability that the spy of a scripted table wins: per-role ratings vs team sums."""
    from openskill.models import PlackettLuce

    model = PlackettLuce()

    def rating(r: Any) -> Any:
        return model.rating(mu=r.mu, sigma=r.sigma)

    spy = table.ratings[("s1", "spy")]
    civilians = [table.ratings[("s2", "civilian")]] * 3
    per_role = model.predict_win([[rating(spy)], *[[rating(c)] for c in civilians]])[0]
    team = model.predict_win([[rating(ffa["s1"])], [rating(ffa["s2"])] * 3])[0]
    return {"per_role": float(per_role), "team_sum": float(team)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--games", type=int, default=2000, help="games per setting (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a smoke run with a few games")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "spy_scripted.json")
    args = parser.parse_args(argv)
    games = 24 if args.quick else args.games
    from rich.progress import Progress

    from redqueen.league.ratings import openskill_ratings

    rows = []
    with Progress(transient=True) as bar:
        task = bar.add_task("Who Is the Spy settings", total=len(SETTINGS) + 1)
        for name, params in SETTINGS.items():
            game = WhoIsTheSpy(**params)
            started = time.perf_counter()
            # one agent at every seat: independent games (no seat rotation), so the intervals hold
            table = [ScriptedSpyAgent(game) for _ in range(4)]
            ev = evaluate(table, games, args.seed, game=game, swap_seats=False)
            speed = games / (time.perf_counter() - started)
            voters = [UniformVoter(game) for _ in range(4)]
            anchor = evaluate(voters, games, args.seed, game=game, swap_seats=False)
            exact = chance_catch_rate(game) if game.variant == "vision_zero" else float("nan")
            print(_line(name, ev, anchor, exact, speed))
            rows.append(
                {
                    "setting": name,
                    "params": params,
                    "scripted": ev.to_dict(),
                    "uniform_voters": anchor.to_dict(),
                    "exact_chance": exact,
                    "ratio": ev.caught_rate / anchor.caught_rate if anchor.caught_rate else None,
                    "games_per_s": speed,
                    "engine_decisions_per_s": _engine_speed(game, 0.3 if args.quick else 2.0),
                }
            )
            bar.advance(task)
        game = WhoIsTheSpy()
        table = [
            ScriptedSpyAgent(game, name="s1"),
            ScriptedSpyAgent(game, name="s2"),
            RoleAgent(game, ScriptedSpyAgent(game), RandomAgent(), name="random-spy"),
            RoleAgent(game, UniformVoter(game), ScriptedSpyAgent(game), name="random-voter"),
        ]
        mixed = evaluate(table, games, args.seed + 1, game=game)
        bar.advance(task)
    print(mixed.summary())
    # per-agent ratings from the same games (every seat ranked by the outcome, roles ignored): what a
    # team-sum model would add up
    per_agent = openskill_ratings(mixed.records)
    spy_rate = mixed.win_rate("s1", "spy")
    prediction = _predictions(mixed, per_agent)
    print(
        f"spy s1 win rate: measured {spy_rate:.3f}; OpenSkill per-role ratings predict "
        f"{prediction['per_role']:.3f}, team sums of per-agent ratings predict {prediction['team_sum']:.3f}"
    )
    data = {
        "benchmark": "spy_scripted",
        "quick": bool(args.quick),
        "games": games,
        "seed": args.seed,
        "machine": platform.platform(),
        "settings": rows,
        "mixed_table": mixed.to_dict(),
        "spy_win_prediction": {"measured": spy_rate, **prediction},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    _plot(rows, args.out.with_suffix(".png"))
    return data


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["setting"] for r in rows]
    caught = [r["scripted"]["caught_rate"] for r in rows]
    low = [r["scripted"]["caught_rate"] - r["scripted"]["caught_interval"][0] for r in rows]
    high = [r["scripted"]["caught_interval"][1] - r["scripted"]["caught_rate"] for r in rows]
    chance = [r["uniform_voters"]["caught_rate"] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar(x - 0.2, caught, 0.4, yerr=[low, high], capsize=3, label="scripted civilians vs scripted spy")
    ax.bar(x + 0.2, chance, 0.4, color="0.7", label="civilians voting at random (chance)")
    ax.set_xticks(x, names)
    ax.set_ylabel("spy caught (share of games)")
    ax.set_ylim(0, 1)
    ax.set_title(f"Who Is the Spy, 4 players, {rows[0]['scripted']['games']} games per bar")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
