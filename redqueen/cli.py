"""The ``redqueen`` command (also ``python -m redqueen``).

Subcommands:

* ``redqueen demo [--games N] [--seed S] [--json PATH] [--plot PATH]``: a round robin on Kuhn poker
  and TicTacToe with rich tables of wins, draws, losses and mean returns, and the exploitability of
  the Kuhn agents;
* ``redqueen list``: the games and the short agent names;
* ``redqueen play GAME AGENT AGENT [--games N] [--seed S] [--swap] [--invalid MODE] [--json PATH]``:
  a match between agents given by short name (``human`` lets you play in the terminal);
* ``redqueen match GAME SPEC SPEC [--games N] [--llm KEY=VALUE] [--transcript PATH]``: a match between
  agents given by spec (``sb3:PATH``, ``llm:openai:MODEL@URL``, ``llm:llamacpp:FILE.gguf``,
  ``llm:hf:FOLDER``, ``package.module:factory``, short names, ``human``), with a results table (95%
  intervals), token usage of LLM agents, and the transcript as JSON lines. If an LLM's server dies,
  the games played to the end are reported, the rest are listed as not played, and the exit status
  is 1;
* ``redqueen league run CONFIG.toml --out DIR [--runner R] [--workers N]``: run (or resume) a league
  into ``DIR/league.sqlite`` (see :mod:`redqueen.league.config`);
* ``redqueen league status DB``: members, games, ratings and learners of a league;
* ``redqueen league report DB [--out HTML]``: the HTML report (``DIR/report.html`` by default);
* ``redqueen corewar battle A B [--rounds N] [--seed S | --position F]``: a Core War battle (pMARS
  0.9.4 rules, 94nop settings) between library warriors or ``.red`` files: wins, ties, losses, scores;
* ``redqueen corewar hill WARRIOR OPPONENT... [--rounds N] [--seed S] [--workers N]``: the warrior
  against each opponent (:func:`redqueen.evaluation.hill`), as a table;
* ``redqueen corewar show A B [--out GIF] [--png PNG] [--seed S | --position F] [--frames N]
  [--every CYCLES]``: an animated GIF (and/or PNG) of who owns which core cell during round 1
  (:mod:`redqueen.envs.corewar.render`). ``--seed`` means the same placement in all three commands.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

from redqueen.agents.base import AgentError
from redqueen.answers import INVALID_MODES, InvalidAnswerPolicy
from redqueen.game import RedqueenError

DEMO_GAMES = 1000
DEMO_SEED = 0
CFR_ITERATIONS = 1000
PPO_STEPS = 8192
# a person who mistypes is asked again rather than losing the game
HUMAN_POLICY = InvalidAnswerPolicy("retry", max_retries=5)


def _console(file: Any = None) -> Any:
    from rich.console import Console

    return Console(file=file if file is not None else sys.stdout, highlight=False)


# ---- demo ------------------------------------------------------------------------------------------


def _kuhn_demo_agents(seed: int) -> list[Any]:
    """random, nash (alpha 0 and 1/3) and CFR for Kuhn poker."""
    from redqueen.agents import CFRAgent, KuhnNashAgent, RandomAgent

    return [
        RandomAgent(name="random", seed=seed),
        KuhnNashAgent(name="nash", seed=seed, alpha=0.0),
        KuhnNashAgent(name="nash(a=1/3)", seed=seed, alpha=1 / 3),
        CFRAgent(game="kuhn_poker", iterations=CFR_ITERATIONS, name="cfr", seed=seed),
    ]


def _train_ppo(steps: int, seed: int, console: Any) -> Any:
    """A PPO policy for Kuhn poker, trained ``steps`` env steps against random play (both seats).

    MaskablePPO (sb3-contrib) when it is installed, else PPO: the SB3Agent masks illegal moves either way.
    """
    import os

    import gymnasium as gym
    import torch

    from redqueen.agents import SB3Agent

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)  # small MLPs on few cores: threads only cost time
    env = gym.make("redqueen/KuhnPoker-v0", opponent="random", seat="alternate")
    try:
        from sb3_contrib import MaskablePPO as Algo
    except ImportError:
        from stable_baselines3 import PPO as Algo
    model = Algo("MlpPolicy", env, n_steps=512, batch_size=128, n_epochs=4, seed=seed, verbose=0)
    with console.status(f"training {Algo.__name__} on Kuhn poker for {steps} steps against random..."):
        started = time.perf_counter()
        model.learn(total_timesteps=steps)
    console.print(f"{Algo.__name__}: {steps} steps in {time.perf_counter() - started:.1f} s")
    # poker needs mixed strategies: the agent samples from the policy (and is scored as it plays)
    return SB3Agent(model, name="ppo", seed=seed, deterministic=False)


def _half_width(values: Any) -> float:
    """Half-width of the normal 95% confidence interval of the mean of ``values``."""
    n = len(values)
    return 0.0 if n < 2 else float(1.96 * values.std(ddof=1) / n**0.5)


def run_demo(
    games: int = DEMO_GAMES, seed: int = DEMO_SEED, console: Any = None, ppo_steps: int = PPO_STEPS
) -> dict[str, Any]:
    """Play the demo round robin, print rich tables, and return the results as JSON-able data.

    Every pairing plays ``games`` games with ``swap_seats=True`` and the same ``seed`` (so every
    pairing of a game sees the same deals). With ``ppo_steps > 0`` a PPO policy trained that many
    steps against random play joins the Kuhn poker line-up (and the exploitability table).
    """
    from rich.table import Table

    from redqueen.agents import RandomAgent
    from redqueen.agents.minimax import MinimaxAgent
    from redqueen.match import play

    console = console if console is not None else _console()
    started = time.perf_counter()
    kuhn_agents = _kuhn_demo_agents(seed)
    if ppo_steps > 0:
        kuhn_agents.append(_train_ppo(ppo_steps, seed, console))
    line_up = {
        "kuhn_poker": kuhn_agents,
        "tictactoe": [RandomAgent(name="random", seed=seed), MinimaxAgent(name="minimax", seed=seed)],
    }
    titles = {"kuhn_poker": "Kuhn poker", "tictactoe": "TicTacToe"}
    report: dict[str, Any] = {"games_per_pairing": games, "seed": seed, "games": {}}
    for game_id, agents in line_up.items():
        table = Table(title=f"{titles[game_id]}: {games} games per pairing, seats swapped")
        for column in ("agent A", "agent B", "A wins", "draws", "B wins", "A mean return (95% CI)"):
            justify = "left" if column.startswith("agent") else "right"
            table.add_column(column, justify=justify)
        pairings = []
        for a, b in combinations(agents, 2):
            result = play(game_id, [a, b], n_games=games, seed=seed, swap_seats=True)
            table.add_row(
                a.name,
                b.name,
                str(result.wins[0]),
                str(result.draws[0]),
                str(result.wins[1]),
                f"{result.mean_returns[0]:+.3f} ± {_half_width(result.returns[:, 0]):.3f}",
            )
            pairings.append(result.to_dict())
        console.print(table)
        report["games"][game_id] = {"agents": [a.name for a in agents], "pairings": pairings}

    from redqueen.evaluation import exploitability as exploitability_of

    exploitability: dict[str, float] = {}
    table = Table(title="Kuhn poker exploitability", caption="0 = a Nash equilibrium")
    table.add_column("agent")
    table.add_column("exploitability", justify="right")
    for agent in line_up["kuhn_poker"]:
        value = float(exploitability_of(agent, "kuhn_poker"))
        exploitability[agent.name] = value
        table.add_row(agent.name, f"{value:.4f}")
    console.print(table)
    report["exploitability"] = exploitability
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


# ---- list ------------------------------------------------------------------------------------------


def _agent_games() -> dict[str, str]:
    """Short agent name -> the games it plays, as text."""
    from redqueen.agents import agent_games

    table = agent_games()
    return {name: ", ".join("any game" if g == "*" else g for g in games) for name, games in table.items()}


def run_list(console: Any = None) -> None:
    from rich.table import Table

    from redqueen.registry import list_games, make_game

    console = console if console is not None else _console()
    games = Table(title="games")
    for column in ("id", "name", "players", "actions"):
        games.add_column(column)
    for game_id in list_games():
        game = make_game(game_id)
        games.add_row(game_id, game.name, str(game.num_players), str(game.num_distinct_actions))
    console.print(games)
    agents = Table(title="agents (short names for `redqueen play`)")
    agents.add_column("name")
    agents.add_column("games")
    for name, where in _agent_games().items():
        agents.add_row(name, where)
    console.print(agents)


# ---- play ------------------------------------------------------------------------------------------


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    value: Any = raw
    for convert in (int, float):
        try:
            value = convert(raw)
            break
        except ValueError:
            pass
    return key, value


def _human(game: str) -> Any:
    """A HumanAgent that talks to the terminal as it is now (sys.stdin / sys.stdout at call time)."""
    from redqueen.agents import make_agent

    return make_agent("human", game, input_fn=input, output=sys.stdout)


def _invalid_policy(mode: str | None, human: bool) -> Any:
    """The policy a command asked for; by default forfeit, or retry when a person plays."""
    return mode or (HUMAN_POLICY if human else "forfeit")


def run_play(args: argparse.Namespace, console: Any = None) -> dict[str, Any]:
    from redqueen.match import play

    console = console if console is not None else _console()
    human = "human" in args.agents

    def show_end(k: int, state: Any, returns: Any) -> None:
        console.print(state.render(), markup=False)
        console.print(f"game {k + 1}: returns " + ", ".join(f"{r:+g}" for r in returns), markup=False)

    result = play(
        args.game,
        [_human(args.game) if spec == "human" else spec for spec in args.agents],
        n_games=args.games,
        seed=args.seed,
        invalid=_invalid_policy(args.invalid, human),
        swap_seats=args.swap,
        progress=args.progress and not human,
        transcript=args.transcript,
        on_game_end=show_end if human else None,
        **dict(args.param),
    )
    console.print(result.summary(), markup=False)
    if args.transcript and result.transcripts:
        for k, turns in enumerate(result.transcripts):
            console.print(f"game {k + 1}:", markup=False)
            for turn in turns:
                shown = turn["move"] if turn["move"] is not None else "-"
                extra = f" ({turn['outcome']}: {turn['reason']})" if turn["invalid"] else ""
                console.print(f"  seat {turn['player']} {turn['agent']}: {shown}{extra}", markup=False)
    return result.to_dict()


# ---- match -----------------------------------------------------------------------------------------


def _match_agent(spec: str, game: Any, index: int, seed: int, llm: Sequence[tuple[str, Any]] = ()) -> Any:
    """An agent from a command-line spec: a short name, ``sb3:PATH``, ``llm:openai:MODEL@URL``,
    ``llm:llamacpp:FILE``, ``llm:hf:FOLDER``, ``package.module:factory`` or ``human``; ``llm`` holds
    settings for LLM agents (``--llm KEY=VALUE``)."""
    from redqueen.league.specs import build_agent, normalize_spec

    if spec == "human":
        return _human(game.id)
    name = spec if len(spec) <= 40 else f"{spec[:37]}..."
    parsed = normalize_spec(spec)
    if parsed["type"] == "llm":
        parsed.update(dict(llm))
    return build_agent(parsed, game, name=name, seed=seed + index)


def run_match(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """A match between agents given by spec, with a results table (95% intervals) and transcripts."""
    from rich.table import Table

    from redqueen.match import play
    from redqueen.registry import make_game

    game = make_game(args.game, **dict(args.param))
    seed = args.seed if args.seed is not None else int(time.time_ns() % 2**31)
    agents = [_match_agent(spec, game, i, seed, args.llm) for i, spec in enumerate(args.agents)]
    if args.llm and not any(getattr(a, "view", None) == "text" and hasattr(a, "backend") for a in agents):
        raise ValueError("--llm settings given, but no agent is an LLM (llm:...)")
    human = "human" in args.agents
    started = time.perf_counter()
    error: AgentError | None = None
    try:
        result = play(
            game,
            agents,
            n_games=args.games,
            seed=seed,
            invalid=_invalid_policy(args.invalid, human),
            swap_seats=not args.no_swap,
            progress=not args.quiet and not human,
            transcript=args.transcript is not None,
            concurrency=args.concurrency,
        )
    except AgentError as err:  # a dead model server: report the games played to the end, and stop
        error, result = err, err.result  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    title = f"{game.id}: {result.n_games} games, seed {seed}" + ("" if args.no_swap else ", seats swapped")
    if error is not None:
        title += f" ({len(result.not_played)} of {args.games} not played)"
    table = Table(title=title)
    for column in ("agent", "mean return (95% CI)", "W", "D", "L", "win rate", "invalid"):
        table.add_column(column, justify="left" if column == "agent" else "right")
    for i, name in enumerate(result.agent_names):
        table.add_row(
            name,
            f"{result.mean_returns[i]:+.3f} ± {_half_width(result.returns[:, i]):.3f}",
            str(result.wins[i]),
            str(result.draws[i]),
            str(result.losses[i]),
            f"{result.wins[i] / max(result.n_games, 1):.3f}",
            str(result.invalid_answers[i]),
        )
    console.print(table)
    data = result.to_dict()
    data["seconds"] = seconds
    usage = {}
    for name, agent in zip(result.agent_names, agents, strict=True):
        stats = getattr(agent, "stats", None)
        if stats is not None and hasattr(stats, "to_dict"):
            usage[name] = stats.to_dict()
            console.print(
                f"{name}: {stats.requests} requests, {stats.completion_tokens} completion tokens, "
                f"{usage[name]['mean_latency_s']:.2f} s a request, {stats.retries} retries",
                markup=False,
            )
    data["usage"] = usage
    console.print(f"{result.n_games / seconds * 60:.1f} games/minute", markup=False)
    if args.transcript is not None:
        from redqueen.league.runners import write_transcripts

        keys = [f"game {k}" for k in result.indices]
        write_transcripts(args.transcript, result.transcripts or [], keys)
        console.print(f"transcript written to {args.transcript}", markup=False)
    if error is not None:
        data["error"] = str(error)
        print(f"redqueen match: stopped: {error}", file=sys.stderr)
        print(
            f"redqueen match: {result.n_games} of {args.games} games played to the end and reported; "
            f"games {_ranges(result.not_played)} not played",
            file=sys.stderr,
        )
    return data


def _ranges(indices: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` as ``"0-2, 5"``."""
    parts: list[str] = []
    for k in indices:
        if parts and k == int(parts[-1].rsplit("-", 1)[-1]) + 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{k}"
        else:
            parts.append(str(k))
    return ", ".join(parts)


# ---- league ----------------------------------------------------------------------------------------


def run_league_command(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    from redqueen.league.config import load_config
    from redqueen.league.manager import run_league

    config = load_config(args.config)
    out = args.out if args.out is not None else Path("runs") / args.config.stem
    summary = run_league(
        config, out, runner=args.runner, workers=args.workers, progress=not args.quiet, console=console
    )
    console.print(
        f"{config.name}: {summary.games} games stored ({summary.new_games} new) among "
        f"{len(summary.agents)} agents in {summary.seconds:.1f} s -> {summary.db_path}",
        markup=False,
    )
    for name, state in summary.learners.items():
        console.print(
            f"  learner {name}: {state['steps']} steps, {state['reason'] or 'unfinished'}", markup=False
        )
    console.print(f"report: redqueen league report {summary.db_path}", markup=False)
    return {
        "db": str(summary.db_path),
        "games": summary.games,
        "new_games": summary.new_games,
        "agents": summary.agents,
        "learners": summary.learners,
        "ratings": summary.ratings,
    }


def _open_store(path: Path) -> Any:
    from redqueen.league.manager import DB_NAME
    from redqueen.league.store import LeagueStore

    if path.is_dir():
        path = path / DB_NAME
    return LeagueStore(path, create=False)


def run_league_status(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    from rich.table import Table

    from redqueen.league.report import report_data

    with _open_store(args.db) as store:
        data = report_data(store, rankings=False)
    console.print(
        f"{data['title']}: {data['game_id'] or 'no game yet'}, {data['n_agents']} agents, "
        f"{data['n_games']} games (last {data['last_game'] or '-'})",
        markup=False,
    )
    table = Table(title="members, best first")
    for column in ("#", "agent", "kind", "games", "W", "D", "L", "score (95% CI)", "Elo"):
        table.add_column(column, justify="left" if column in ("agent", "kind") else "right")
    for row in data["agents"]:
        if not row["games"] and row["kind"] == "learner":
            continue
        score = (
            "-"
            if row["score"] is None
            else f"{row['score']:.3f} [{row['score_low']:.2f}, {row['score_high']:.2f}]"
        )
        elo = "-" if row["elo"] is None else f"{row['elo']:.0f}"
        table.add_row(
            str(row["rank"]), row["name"], str(row["kind"]), str(row["games"]), str(row["wins"]),
            str(row["draws"]), str(row["losses"]), score, elo,
        )  # fmt: skip
    console.print(table)
    for learner in data["learners"]:
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in learner["metrics"].items())
        console.print(
            f"learner {learner['name']}: {learner['steps']} steps, {learner['generations']} snapshots"
            + (f"; latest {metrics}" if metrics else ""),
            markup=False,
        )
    for note in data["notes"]:
        console.print(f"note: {note}", markup=False)
    return data


def run_league_report(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    from redqueen.league.report import write_report

    with _open_store(args.db) as store:
        db_path = store.path
    path = write_report(db_path, args.out)
    console.print(f"report written to {path}", markup=False)
    return {"report": str(path)}


# ---- corewar ---------------------------------------------------------------------------------------


def _corewar_warriors(specs: Sequence[str]) -> dict[str, Any]:
    """Warriors from library names or .red files (or folders), by name; OSError as RedqueenError."""
    from redqueen.envs.corewar.warriors import resolve_many

    try:
        return resolve_many(list(specs))
    except OSError as err:
        raise RedqueenError(str(err)) from None


def _corewar_placement(args: argparse.Namespace) -> tuple[int | None, int | None, int | None]:
    """(user seed, pMARS RNG seed, fixed position) from --seed / --position (a random seed if neither)."""
    import secrets

    from redqueen.evaluation.hill import pmars_seed

    if args.position is not None:
        return None, None, args.position
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    return seed, pmars_seed(seed), None


def run_corewar_battle(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """``redqueen corewar battle A B``: wins, ties, losses and pMARS scores over --rounds rounds."""
    from rich.table import Table

    from redqueen.envs.corewar.mars import battle

    warriors = _corewar_warriors(args.warriors)
    if len(warriors) < 2:
        raise ValueError("a battle needs at least two warriors")
    seed, rng_seed, position = _corewar_placement(args)
    started = time.perf_counter()
    result = battle(list(warriors.values()), rounds=args.rounds, seed=rng_seed, fixed_position=position)
    seconds = time.perf_counter() - started
    where = f"position {position}" if position is not None else f"seed {seed}"
    table = Table(title=f"Core War: {args.rounds} rounds ({where}), ties: {result.ties}")
    for column in ("warrior", "name", "length", "wins", "ties", "losses", "score", "per round"):
        table.add_column(column, justify="left" if column in ("warrior", "name") else "right")
    rows = []
    for i, (key, warrior) in enumerate(warriors.items()):
        row = {
            "warrior": key,
            "name": warrior.name,
            "length": len(warrior),
            "wins": result.wins[i],
            "ties": result.ties,
            "losses": result.losses[i],
            "score": result.scores[i],
            "mean_score": result.scores[i] / args.rounds,
        }
        rows.append(row)
        table.add_row(*(str(v) for v in list(row.values())[:-1]), f"{row['mean_score']:.3f}")
    console.print(table)
    console.print(f"{sum(result.steps)} instructions in {seconds:.2f} s", markup=False)
    return {"rounds": args.rounds, "seed": seed, "fixed_position": position, "warriors": rows}


def run_corewar_hill(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """``redqueen corewar hill WARRIOR OPPONENT...``: the warrior's record against each opponent."""
    from redqueen.evaluation.hill import hill

    try:
        result = hill(args.warrior, args.opponents, rounds=args.rounds, seed=args.seed, workers=args.workers)
    except OSError as err:
        raise RedqueenError(str(err)) from None
    console.print(result.table())
    console.print(f"{result.seconds:.2f} s with {result.workers} worker(s)", markup=False)
    return result.to_dict()


def run_corewar_show(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """``redqueen corewar show A B``: a GIF (and/or PNG) of core ownership during round 1."""
    from redqueen.envs.corewar.render import record, save_gif, save_png

    warriors = _corewar_warriors(args.warriors)
    seed, rng_seed, position = _corewar_placement(args)
    out = args.out if args.out is not None or args.png is not None else Path("battle.gif")
    started = time.perf_counter()
    recording = record(
        list(warriors.values()),
        seed=rng_seed,
        fixed_position=position,
        frames=args.frames,
        every=args.every,
        names=list(warriors),
    )
    files = []
    if out is not None:
        files.append(str(save_gif(recording, out, cell=args.cell)))
    if args.png is not None:
        files.append(str(save_png(recording, args.png, cell=args.cell)))
    seconds = time.perf_counter() - started
    where = f"position {position}" if position is not None else f"seed {seed}"
    console.print(
        f"{' vs '.join(warriors)} ({where}, loaded at {', '.join(map(str, recording.positions))}): "
        f"{recording.outcome} after {recording.cycles} cycles",
        markup=False,
    )
    console.print(
        f"{len(recording.frames)} frames written to {', '.join(files)} in {seconds:.2f} s", markup=False
    )
    return {
        "warriors": list(warriors),
        "seed": seed,
        "fixed_position": position,
        "positions": list(recording.positions),
        "outcome": recording.outcome,
        "cycles": recording.cycles,
        "frames": len(recording.frames),
        "files": files,
    }


def _add_corewar_parser(sub: Any) -> None:
    """The ``corewar`` subcommand group: battle, hill, show."""
    corewar = sub.add_parser("corewar", help="Core War (pMARS 0.9.4 rules): battles, hills and pictures")
    cw = corewar.add_subparsers(dest="corewar_command", required=True, metavar="COREWAR_COMMAND")
    spec = "a library warrior name (imp, dwarf, paper, ...) or a .red file"

    def placement(parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--seed", type=_seed, default=None, help="placement seed (default: random, reported)"
        )
        group.add_argument(
            "--position", type=int, default=None, metavar="F", help="pMARS -F: warrior 2 starts at F (>= 100)"
        )

    fight = cw.add_parser("battle", help="wins, ties, losses and pMARS scores between warriors")
    fight.add_argument("warriors", nargs="+", metavar="WARRIOR", help=spec)
    fight.add_argument("--rounds", type=_positive_int, default=100, help="rounds (default 100)")
    placement(fight)
    fight.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")

    hill = cw.add_parser("hill", help="one warrior against each of a set of opponents")
    hill.add_argument("warrior", help=spec)
    hill.add_argument("opponents", nargs="+", metavar="OPPONENT", help=spec + ", or a folder of them")
    hill.add_argument("--rounds", type=_positive_int, default=100, help="rounds per opponent (default 100)")
    hill.add_argument("--seed", type=_seed, default=0, help="placement seed (default 0)")
    hill.add_argument("--workers", type=_positive_int, default=None, help="processes (default: one per core)")
    hill.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")

    show = cw.add_parser("show", help="an animated GIF / PNG of core ownership during a battle")
    show.add_argument("warriors", nargs="+", metavar="WARRIOR", help=spec)
    show.add_argument("--out", type=Path, default=None, metavar="GIF", help="GIF path (default battle.gif)")
    show.add_argument(
        "--png", type=Path, default=None, metavar="PNG", help="also (or only) the last frame as PNG"
    )
    placement(show)
    show.add_argument(
        "--frames", type=_positive_int, default=None, help="frames over the battle (default 100)"
    )
    show.add_argument(
        "--every", type=_positive_int, default=None, metavar="CYCLES", help="a frame every CYCLES"
    )
    show.add_argument(
        "--cell", type=_positive_int, default=4, metavar="PX", help="pixels per core cell (default 4)"
    )
    show.add_argument("--json", type=Path, metavar="PATH", help="also write a summary as JSON")


# ---- entry point -------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer seed, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer seed, got {value}")
    return value


def _add_param(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--param",
        type=_parse_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="game parameter, e.g. -p rounds=3 for Kuhn poker (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redqueen", description="Multi-agent games for LLM text agents and RL agents."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="round robin on Kuhn poker and TicTacToe, with exploitability")
    demo.add_argument(
        "--games", type=_positive_int, default=DEMO_GAMES, help=f"games per pairing (default {DEMO_GAMES})"
    )
    demo.add_argument("--seed", type=_seed, default=DEMO_SEED, help=f"match seed (default {DEMO_SEED})")
    demo.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    demo.add_argument("--plot", type=Path, metavar="PATH", help="also draw the results (PNG, matplotlib)")
    demo.add_argument(
        "--ppo-steps",
        type=int,
        default=PPO_STEPS,
        help=f"train a PPO Kuhn agent for this many steps first; 0 skips it (default {PPO_STEPS})",
    )

    sub.add_parser("list", help="list the games and the short agent names")

    match = sub.add_parser("play", help="play a match between agents given by short name")
    match.add_argument("game", help="game id, e.g. kuhn_poker or tictactoe")
    match.add_argument("agents", nargs="+", metavar="AGENT", help="one short agent name per seat")
    match.add_argument("--games", type=_positive_int, default=1, help="number of games (default 1)")
    match.add_argument("--seed", type=_seed, default=None, help="match seed (default: random, reported)")
    match.add_argument("--swap", action="store_true", help="rotate the seats every game")
    match.add_argument(
        "--invalid",
        choices=INVALID_MODES,
        default=None,
        help="invalid-answer policy (default: forfeit; retry, up to 5 times, when a human plays)",
    )
    _add_param(match)
    match.add_argument("--transcript", action="store_true", help="print every move")
    match.add_argument("--progress", action="store_true", help="show a progress bar")
    match.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")

    versus = sub.add_parser("match", help="a match between agents given by spec (models, LLMs, scripts)")
    versus.add_argument("game", help="game id, e.g. kuhn_poker or tictactoe")
    versus.add_argument(
        "agents",
        nargs="+",
        metavar="AGENT",
        help="one spec per seat: random, minimax, nash, cfr, sb3:PATH, llm:openai:MODEL@URL, "
        "llm:llamacpp:FILE.gguf (or llm:llamacpp:gemma3-270m), llm:hf:FOLDER, package.module:factory, human",
    )
    versus.add_argument("--games", type=_positive_int, default=10, help="number of games (default 10)")
    versus.add_argument("--seed", type=_seed, default=None, help="match seed (default: random, reported)")
    versus.add_argument("--no-swap", action="store_true", help="keep the seats (default: rotate every game)")
    versus.add_argument("--invalid", choices=INVALID_MODES, default=None, help="invalid-answer policy")
    _add_param(versus)
    versus.add_argument(
        "--llm",
        type=_parse_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="setting of every LLM agent, e.g. --llm mode=completion --llm template=direct "
        "--llm max_tokens=8 --llm temperature=0 (repeatable)",
    )
    versus.add_argument("--transcript", type=Path, metavar="PATH", help="write every move as JSON lines")
    versus.add_argument(
        "--concurrency",
        type=_positive_int,
        default=1,
        help="games played at once (LLM servers: requests in flight)",
    )
    versus.add_argument("--quiet", action="store_true", help="no progress bar")
    versus.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")

    league = sub.add_parser("league", help="run, inspect and report leagues")
    league_sub = league.add_subparsers(dest="league_command", required=True, metavar="LEAGUE_COMMAND")
    run = league_sub.add_parser("run", help="run (or resume) a league from a TOML config")
    run.add_argument("config", type=Path, help="the league's TOML config")
    run.add_argument("--out", type=Path, default=None, help="output folder (default runs/<config name>)")
    run.add_argument(
        "--runner", choices=("local", "processes", "ray"), default=None, help="override the config"
    )
    run.add_argument("--workers", type=_positive_int, default=None, help="worker processes / Ray CPUs")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--json", type=Path, metavar="PATH", help="also write a summary as JSON")
    status = league_sub.add_parser("status", help="members, games, ratings and learners of a league")
    status.add_argument("db", type=Path, help="the league's league.sqlite (or its folder)")
    status.add_argument("--json", type=Path, metavar="PATH", help="also write the status as JSON")
    report = league_sub.add_parser("report", help="write the league's HTML report")
    report.add_argument("db", type=Path, help="the league's league.sqlite (or its folder)")
    report.add_argument(
        "--out", type=Path, default=None, help="HTML path (default: report.html beside the db)"
    )
    report.add_argument("--json", type=Path, metavar="PATH", help=argparse.SUPPRESS)
    _add_corewar_parser(sub)
    from redqueen.envs.debate.cli import add_parser as _add_debate_parser

    _add_debate_parser(sub)
    from redqueen.trainers.red_queen.cli import add_parser as _add_evolve_parser

    _add_evolve_parser(sub)
    from redqueen.trainers.llm_selfplay.cli import add_parser as _add_llm_selfplay_parser

    _add_llm_selfplay_parser(sub)
    return parser


def plot_demo(data: dict[str, Any], path: Path) -> None:
    """A picture of the demo: the Kuhn poker payoff matrix and the agents' exploitability."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RedqueenError("--plot needs matplotlib: pip install 'redqueen[plots]'") from None
    import numpy as np

    kuhn = data["games"]["kuhn_poker"]
    names = kuhn["agents"]
    index = {name: i for i, name in enumerate(names)}
    payoff = np.full((len(names), len(names)), np.nan)
    for pairing in kuhn["pairings"]:
        a, b = (index[n] for n in pairing["agent_names"])
        payoff[a, b], payoff[b, a] = pairing["mean_returns"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1.3, 1]})
    bound = max(0.1, float(np.nanmax(np.abs(payoff))))
    image = ax1.imshow(payoff, cmap="RdBu", vmin=-bound, vmax=bound)
    for (i, j), value in np.ndenumerate(payoff):
        if not np.isnan(value):
            color = "white" if abs(value) > 0.6 * bound else "black"
            ax1.text(j, i, f"{value:+.2f}", ha="center", va="center", fontsize=9, color=color)
    ax1.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax1.set_yticks(range(len(names)), names)
    ax1.set_title(f"Kuhn poker: row agent's mean chips per hand\n({data['games_per_pairing']} games a pair)")
    fig.colorbar(image, ax=ax1, shrink=0.8)
    expl = data["exploitability"]
    bars = ax2.bar(list(expl), list(expl.values()), color="tab:gray")
    ax2.bar_label(bars, labels=[f"{v:.4f}" for v in expl.values()], fontsize=8)
    ax2.axhline(11 / 24, color="tab:red", linestyle="--", linewidth=1, label="uniform random (11/24)")
    ax2.set_ylabel("exploitability (chips per hand)")
    ax2.set_title("Kuhn poker exploitability (0 = Nash)")
    ax2.tick_params(axis="x", rotation=30)
    ax2.set_ylim(0, max(0.5, *expl.values()) * 1.15)
    ax2.legend(loc="upper center")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _write_json(path: Path, data: dict[str, Any], console: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    console.print(f"results written to {path}", markup=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``redqueen`` command; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    console = _console()
    if args.command == "list":
        run_list(console)
        return 0
    try:
        if args.command == "demo":
            data = run_demo(args.games, args.seed, console, ppo_steps=args.ppo_steps)
            if args.plot is not None:
                plot_demo(data, args.plot)
                console.print(f"plot written to {args.plot}")
        elif args.command == "match":
            data = run_match(args, console)
        elif args.command == "league":
            handler = {"run": run_league_command, "status": run_league_status, "report": run_league_report}
            data = handler[args.league_command](args, console)
        elif args.command == "corewar":
            handler = {"battle": run_corewar_battle, "hill": run_corewar_hill, "show": run_corewar_show}
            data = handler[args.corewar_command](args, console)
        elif callable(getattr(args, "handler", None)):  # a group added by a module's add_parser(sub)
            data = args.handler(args, console)
        else:
            data = run_play(args, console)
    except (RedqueenError, ValueError, TypeError) as err:
        if args.command == "demo":  # the demo's input is checked by argparse: this is a bug, show it
            raise
        command = args.command if args.command != "league" else f"league {args.league_command}"
        if args.command == "corewar":
            command = f"corewar {args.corewar_command}"
        print(f"redqueen {command}: error: {err}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print(f"\nredqueen {args.command}: interrupted", file=sys.stderr)
        return 130
    if args.json is not None:
        _write_json(args.json, data, console)
    return 1 if isinstance(data, dict) and "error" in data else 0


if __name__ == "__main__":
    raise SystemExit(main())
