"""One self-contained HTML report of a league run, read from its store.

:func:`write_report` opens the league's SQLite store, summarises it with :func:`report_data` (a
JSON-able dict: tests and other tools read that) and writes one HTML file with no external CSS, JS or
network access: plots are PNGs embedded as base64 ``<img>`` tags. The report holds

* a header: league name, game, agents, games, learners, when the games were played;
* the results table: per agent its kind, role, parent, games, wins/draws/losses, score against the
  field with a Wilson interval, latest Elo (two-player games: the latest stored ``"elo"`` ratings, or
  :func:`~redqueen.league.ratings.elo_fit` over all games when none are stored), OpenSkill mu/sigma
  (games of more than two players, or when ``"openskill"`` ratings are stored), and for two-player
  games the Nash-average weight and alpha-rank mass;
* plots (when matplotlib is installed; otherwise a note saying how to install it): rating over time
  (one colour family per lineage of snapshots), the payoff heatmap (values written in the cells up to
  20 agents), scores against the field with intervals, training curves (exploitability on a log
  axis);
* the pairwise table (games, score with interval, mean returns with intervals, per pair of agents that
  met), a learners table, and notes on whatever was skipped (a rating that failed, a missing plot).

Scoring: in each game every seat is compared with the seats held by *other* agents; it wins when its
return is above all of theirs, draws when it ties the best of them, and loses otherwise (for two
players: the usual win/draw/loss). A seat with no other agent at the table (an agent against itself)
is counted in ``self_play`` only. The score is ``(wins + draws / 2) / games``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import statistics
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redqueen.league import ratings
from redqueen.league.store import (
    AgentRecord,
    LeagueStore,
    MatchRecord,
    RatingRecord,
    TrainingRecord,
    atomic_write_bytes,
)

PLOTS_HINT = "pip install 'redqueen[plots]'"
"""What the report tells a reader whose Python has no matplotlib."""

_ANNOTATE_UP_TO = 20  # the heatmap writes its values in the cells up to this many agents
# sequential colour maps for lineages, in the order of tab10's hues (blue, orange, green, red, ...), so
# that agents without relatives can take the tab10/tab20 hues no lineage uses
_FAMILY_COLOURS = ("Blues", "Oranges", "Greens", "Reds", "Purples", "YlOrBr", "RdPu", "Greys", "YlGn", "GnBu")


# ---- the data --------------------------------------------------------------------------------------


def report_data(store: LeagueStore, *, confidence: float = 0.95, rankings: bool = True) -> dict[str, Any]:
    """Summarise the league in ``store`` as a JSON-able dict (NaN becomes None); the HTML report is
    built from it alone. ``confidence`` is the level of every interval; ``rankings=False`` skips the
    Nash average and alpha-rank (the slow part for a large league: ``nash`` and ``alpha_rank`` are
    then None). Keys:

    * ``title``, ``name``, ``game_id``, ``players`` (seat counts seen), ``n_agents``, ``n_games``,
      ``n_learners``, ``first_game``/``last_game``/``last_update``/``generated`` (as
      "YYYY-MM-DD HH:MM:SS UTC"), ``config``;
    * ``agents``: one dict per agent in rank order (``rank`` from 1; by Elo, else OpenSkill mu, else
      score): ``name``, ``joined`` (its place in the order agents joined, from 0), ``kind``, ``role``,
      ``parent``, ``version``, ``games``, ``wins``, ``draws``, ``losses``, ``self_play``, ``invalid``,
      ``mean_return``, ``score``, ``score_low``, ``score_high``, ``elo``, ``elo_step`` (the step of
      the stored rating; None when fitted), ``mu``, ``sigma``, ``ordinal``, ``nash``, ``alpha_rank``;
    * ``elo_source`` ("stored", "elo_fit" or None), ``skill_source`` ("stored", "openskill" or None);
    * ``matrix``: ``agents``, ``games``, ``score``, ``score_low``, ``score_high`` (row against column);
    * ``pairs``: one dict per pair of agents that met (``row``, ``col``, ``games``, ``wins``,
      ``draws``, ``losses``, ``score``, ``score_low``, ``score_high``, ``row_return``,
      ``row_return_ci``, ``col_return``, ``col_return_ci``);
    * ``history``: ``system`` ("elo" or "openskill") and ``series`` ``{agent: [[step, value], ...]}``;
    * ``training``: ``{learner: {metric: [[steps, value], ...]}}`` and ``training_scores``
      ``{learner: [[steps, score, games], ...]}`` (the learner's own training games per chunk);
    * ``learners``: one dict per learner (``name``, ``generations``, ``steps``, ``games``,
      ``wins``, ``draws``, ``losses``, ``metrics``: the latest value of each metric);
    * ``notes``: what was skipped and why.
    """
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    config = store.config() or {}
    agent_rows = store.agents()
    matches = store.matches()
    training = store.training()
    elo_rows = store.ratings("elo")
    skill_rows = store.ratings("openskill")
    notes: list[str] = []

    records: dict[str, AgentRecord | None] = {a.name: a for a in agent_rows}
    strays = [name for m in matches for name in m.seats if name not in records]
    for name in dict.fromkeys(strays):
        records[name] = None
    if strays:
        notes.append(f"{len(set(strays))} agent(s) played games but are not in the agents table")
    names = list(records)

    stats = _agent_stats(names, matches, z)
    players = sorted({len(m.seats) for m in matches})
    two_player = players == [2]
    played = [name for name in names if stats[name]["games"] > 0]

    # ---- ratings (each computation that fails leaves a note instead of costing the report)
    def attempt(what: str, compute: Callable[[], Any]) -> Any:
        try:
            return compute()
        except Exception as err:
            notes.append(f"{what} skipped: {type(err).__name__}: {err}")
            return None

    stored_elo = _latest(elo_rows)
    elo = {name: value for name, (value, _, _) in stored_elo.items()}
    elo_step = {name: step for name, (_, _, step) in stored_elo.items()}
    elo_source = "stored" if elo else None
    if not elo and two_player and played:
        fitted = attempt("Elo fit", lambda: ratings.elo_fit(matches))
        if fitted is not None:
            elo, elo_source = {str(k): float(v) for k, v in fitted.items()}, "elo_fit"
    skill = {name: (value, sigma) for name, (value, sigma, _) in _latest(skill_rows).items()}
    skill_source = "stored" if skill else None
    ordinal: dict[str, float] = {}
    if not skill and played and any(p > 2 for p in players):
        computed = attempt("OpenSkill ratings", lambda: ratings.openskill_ratings(matches, mode="ffa"))
        if computed is not None:
            skill = {str(k): (float(r.mu), float(r.sigma)) for k, r in computed.items()}
            ordinal = {str(k): float(r.ordinal) for k, r in computed.items()}
            skill_source = "openskill"

    # ---- payoff matrix, Nash average, alpha-rank
    matrix_data: dict[str, Any] = {"agents": [], "games": [], "score": [], "score_low": [], "score_high": []}
    pairs: list[dict[str, Any]] = []
    nash: dict[str, float] = {}
    alpha: dict[str, float] = {}
    if played and not two_player:
        notes.append("the payoff matrix, Nash average and alpha-rank are computed for two-player games only")
    elif played:
        seated = {name for m in matches for name in m.seats}
        matrix = attempt(
            "payoff matrix",
            lambda: ratings.payoff_matrix(matches, [n for n in names if n in seated], confidence=confidence),
        )
        if matrix is not None:
            matrix_data, pairs = _matrix_data(matrix)
        if matrix is not None and rankings:
            weights = attempt("Nash average", lambda: ratings.nash_average(matrix).weights)
            nash = {str(k): float(v) for k, v in (weights or {}).items()}
            mass = attempt("alpha-rank", lambda: ratings.alpha_rank(matrix))
            alpha = {str(k): float(v) for k, v in (mass or {}).items()}

    agents: list[dict[str, Any]] = []
    for joined, name in enumerate(names):
        record = records[name]
        row: dict[str, Any] = {
            "name": name,
            "joined": joined,
            "kind": record.kind if record else None,
            "role": record.role if record else None,
            "parent": record.parent if record else None,
            "version": record.version if record else None,
            **stats[name],
            "elo": elo.get(name),
            "elo_step": elo_step.get(name),
            "mu": skill[name][0] if name in skill else None,
            "sigma": skill[name][1] if name in skill else None,
            "ordinal": ordinal.get(name),
            "nash": nash.get(name),
            "alpha_rank": alpha.get(name),
        }
        agents.append(row)

    def rank_key(row: dict[str, Any]) -> tuple[float, float, float]:
        first = row["elo"] if elo else row["mu"] if skill else row["score"]
        return (
            -first if _finite(first) else math.inf,
            -row["score"] if _finite(row["score"]) else math.inf,
            -row["games"],
        )

    agents.sort(key=rank_key)
    for rank, row in enumerate(agents, 1):
        row["rank"] = rank

    history_rows, system = (elo_rows, "elo") if elo_rows else (skill_rows, "openskill")
    series: dict[str, list[list[float]]] = defaultdict(list)
    for r in sorted(history_rows, key=lambda r: r.step):
        series[r.agent].append([r.step, r.value])

    metrics, scores, learners = _training_data(training, agent_rows)

    stamps = [m.created for m in matches]
    updates = stamps + [a.created for a in agent_rows] + [r.created for r in elo_rows + skill_rows]
    updates += [t.created for t in training]
    game_ids = sorted({m.game_id for m in matches})
    configured_game = config.get("game_id", config.get("game"))
    name = config.get("name") or config.get("league")
    data = {
        "title": str(name) if name else _default_title(game_ids or [configured_game], store.path),
        "name": name,
        "game_id": ", ".join(game_ids) or (configured_game if isinstance(configured_game, str) else None),
        "players": players,
        "n_agents": len(names),
        "n_games": len(matches),
        "n_learners": len(learners),
        "first_game": _when(min(stamps)) if stamps else None,
        "last_game": _when(max(stamps)) if stamps else None,
        "last_update": _when(max(updates)) if updates else None,
        "generated": _when(time.time()),
        "confidence": confidence,
        "config": config,
        "agents": agents,
        "elo_source": elo_source,
        "skill_source": skill_source,
        "matrix": matrix_data,
        "pairs": pairs,
        "history": {"system": system if history_rows else None, "series": dict(series)},
        "training": metrics,
        "training_scores": scores,
        "learners": learners,
        "notes": notes,
    }
    return _jsonable(data)


def _default_title(games: Sequence[Any], path: Path) -> str:
    """'tictactoe league (out)' for a league of tictactoe stored in out/league.sqlite."""
    game = ", ".join(g for g in games if isinstance(g, str))
    where = path.parent.name if path.stem == "league" else path.stem
    return f"{game + ' league' if game else 'League'}" + (f" ({where})" if where else "")


def _agent_stats(names: Sequence[str], matches: Sequence[MatchRecord], z: float) -> dict[str, dict[str, Any]]:
    counts = {name: [0, 0, 0, 0, 0, 0.0] for name in names}  # wins, draws, losses, self-play, invalid, return
    for m in matches:
        for i, name in enumerate(m.seats):
            c = counts[name]
            c[4] += m.invalid[i]
            others = [r for other, r in zip(m.seats, m.returns, strict=True) if other != name]
            if not others:
                c[3] += 1
                continue
            best, own = max(others), m.returns[i]
            c[0 if own > best else 1 if own == best else 2] += 1
            c[5] += own
    stats = {}
    for name, (wins, draws, losses, self_play, invalid, total) in counts.items():
        games = wins + draws + losses
        score = (wins + draws / 2) / games if games else math.nan
        low, high = _wilson(wins + draws / 2, games, z)
        stats[name] = {
            "games": games,
            "wins": wins,
            "draws": draws,
            "losses": losses,
            "self_play": self_play,
            "invalid": invalid,
            "mean_return": total / games if games else math.nan,
            "score": score,
            "score_low": low,
            "score_high": high,
        }
    return stats


def _wilson(successes: float, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion (``successes`` may be fractional: draws count a half)."""
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _latest(rows: Sequence[RatingRecord]) -> dict[str, tuple[float, float | None, int]]:
    """Each agent's rating at its highest step (the later row on a tie): (value, sigma, step)."""
    latest: dict[str, tuple[float, float | None, int]] = {}
    for r in rows:
        if r.agent not in latest or r.step >= latest[r.agent][2]:
            latest[r.agent] = (r.value, r.sigma, r.step)
    return latest


def _matrix_data(matrix: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import numpy as np

    agents = [str(a) for a in matrix.agents]
    fields = ("games", "wins", "draws", "losses", "score", "score_low", "score_high")
    arrays = {f: np.asarray(getattr(matrix, f), dtype=float) for f in fields}
    mean = np.asarray(matrix.mean_return, dtype=float)
    ci = np.asarray(matrix.mean_return_ci, dtype=float)
    pairs = []
    for i, j in zip(*np.triu_indices(len(agents), 1), strict=True):
        if arrays["games"][i, j] > 0:
            pair: dict[str, Any] = {"row": agents[i], "col": agents[j]}
            pair.update({f: int(arrays[f][i, j]) for f in fields[:4]})
            pair.update({f: float(arrays[f][i, j]) for f in fields[4:]})
            pair.update(
                row_return=float(mean[i, j]),
                row_return_ci=float(ci[i, j]),
                col_return=float(mean[j, i]),
                col_return_ci=float(ci[j, i]),
            )
            pairs.append(pair)
    data = {
        "agents": agents,
        **{f: arrays[f].tolist() for f in ("games", "score", "score_low", "score_high")},
    }
    return data, pairs


def _training_data(
    training: Sequence[TrainingRecord], agent_rows: Sequence[AgentRecord]
) -> tuple[dict[str, dict[str, list[list[float]]]], dict[str, list[list[float]]], list[dict[str, Any]]]:
    metrics: dict[str, dict[str, list[list[float]]]] = defaultdict(lambda: defaultdict(list))
    chunks: dict[str, dict[tuple[int, int], list[float]]] = defaultdict(dict)
    summary: dict[str, dict[str, Any]] = {}
    for name in [a.name for a in agent_rows if a.kind == "learner"] + [t.learner for t in training]:
        summary.setdefault(
            name,
            {
                "name": name,
                "generations": 0,
                "steps": 0,
                "games": 0,
                "wins": 0.0,
                "draws": 0.0,
                "losses": 0.0,
            },
        )
    latest: dict[str, dict[str, tuple[int, float]]] = defaultdict(dict)
    for t in training:
        s = summary[t.learner]
        s["generations"] = max(s["generations"], t.generation)
        s["steps"] = max(s["steps"], t.steps)
        if t.metric is not None:
            if t.value is not None and math.isfinite(t.value):
                metrics[t.learner][t.metric].append([t.steps, t.value])
                if t.metric not in latest[t.learner] or t.steps >= latest[t.learner][t.metric][0]:
                    latest[t.learner][t.metric] = (t.steps, t.value)
            continue
        s["games"] += t.games
        s["wins"] += t.wins
        s["draws"] += t.draws
        s["losses"] += t.losses
        total = chunks[t.learner].setdefault((t.generation, t.steps), [0.0, 0.0])
        total[0] += t.wins + t.draws / 2
        total[1] += t.games
    for s in summary.values():
        s["metrics"] = {metric: value for metric, (_, value) in sorted(latest[s["name"]].items())}
    curves = {
        learner: {metric: sorted(points, key=lambda p: p[0]) for metric, points in sorted(by_metric.items())}
        for learner, by_metric in metrics.items()
    }
    scores = {
        learner: [
            [steps, won / games, games] for (_, steps), (won, games) in sorted(by_chunk.items()) if games
        ]
        for learner, by_chunk in chunks.items()
    }
    return curves, {k: v for k, v in scores.items() if v}, list(summary.values())


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# ---- the file --------------------------------------------------------------------------------------


def write_report(
    db_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Path:
    """Write the HTML report of the league stored at ``db_path`` to ``out_path`` (default:
    ``report.html`` next to the store), through a temporary file and a rename; returns its path.
    Raises :class:`~redqueen.league.store.StoreError` when there is no league store at ``db_path``.
    """
    with LeagueStore(db_path, create=False) as store:
        data = report_data(store)
    if title is not None:
        data["title"] = title
    out = Path(out_path) if out_path is not None else Path(db_path).parent / "report.html"
    return atomic_write_bytes(out, render_html(data).encode("utf-8"))


def render_html(data: dict[str, Any]) -> str:
    """The HTML document of a :func:`report_data` dict."""
    e = _escape
    plots, plot_note = _plots(data)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(data['title'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(data['title'])}</h1>",
        '<section id="summary"><table class="summary">',
    ]
    players = data["players"]
    summary = [
        ("Game", data["game_id"] or "?"),
        ("Players per game", ", ".join(map(str, players)) if players else "-"),
        ("Agents", data["n_agents"]),
        ("Games", data["n_games"]),
        ("Learners", data["n_learners"]),
        ("Games played", f"{data['first_game']} to {data['last_game']}" if data["first_game"] else "-"),
        ("Last update", data["last_update"] or "-"),
        ("Report generated", data["generated"]),
    ]
    parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in summary]
    parts.append("</table>")
    if data["config"]:
        config = json.dumps(data["config"], indent=2, sort_keys=True, default=str)
        parts.append(f"<details><summary>Configuration</summary><pre>{e(config)}</pre></details>")
    parts.append("</section>")

    parts.append('<section id="results"><h2>Results</h2>')
    if not data["n_games"]:
        parts.append('<p class="note">No games have been played yet.</p>')
    parts.append(_results_table(data))
    parts.append("</section>")

    parts.append('<section id="plots"><h2>Plots</h2>')
    if plot_note:
        parts.append(f'<p class="note">{e(plot_note)}</p>')
    for caption, png, note in plots:
        parts.append(f"<figure><figcaption>{e(caption)}</figcaption>")
        if png is not None:
            encoded = base64.b64encode(png).decode("ascii")
            parts.append(f'<img alt="{e(caption)}" src="data:image/png;base64,{encoded}">')
        else:
            parts.append(f'<p class="note">{e(note)}</p>')
        parts.append("</figure>")
    parts.append("</section>")

    parts.append('<section id="pairwise"><h2>Pairwise results</h2>')
    parts.append(
        _pairs_table(data) if data["pairs"] else '<p class="note">No pairs of agents have met yet.</p>'
    )
    parts.append("</section>")

    if data["learners"]:
        parts.append('<section id="learners"><h2>Learners</h2>')
        parts.append(_learners_table(data))
        parts.append("</section>")
    if data["notes"]:
        parts.append('<section id="notes"><h2>Notes</h2><ul>')
        parts += [f"<li>{e(note)}</li>" for note in data["notes"]]
        parts.append("</ul></section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.2em .5em}th{background:#f0f0f0;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".note{color:#775;font-style:italic}figure{margin:1em 0}figcaption{font-weight:bold}"
    "img{max-width:100%}"
)


def _escape(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any, digits: int = 3) -> str:
    if not _finite(value):
        return ""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # "-0.000" -> "0.000"


def _interval(value: Any, low: Any, high: Any) -> str:
    if not _finite(value):
        return ""
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[tuple[str, bool]]]) -> str:
    """``rows`` of (already escaped text, numeric) cells."""
    head = "".join(f"<th>{_escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{t}</td>' if n else f"<td>{t}</td>" for t, n in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _results_table(data: dict[str, Any]) -> str:
    e = _escape
    pct = f"{data['confidence']:.0%}"
    agents = data["agents"]
    columns: list[tuple[str, Callable[[dict[str, Any]], tuple[str, bool]]]] = [
        ("#", lambda a: (str(a["rank"]), True)),
        ("Agent", lambda a: (e(a["name"]), False)),
        ("Kind", lambda a: (e(a["kind"]), False)),
        ("Role", lambda a: (e(a["role"]), False)),
        ("Parent", lambda a: (e(a["parent"]), False)),
        ("Games", lambda a: (str(a["games"]), True)),
        ("W/D/L", lambda a: (f"{a['wins']}/{a['draws']}/{a['losses']}", True)),
        (f"Score vs field [{pct}]", lambda a: (_interval(a["score"], a["score_low"], a["score_high"]), True)),
    ]
    if any(a["self_play"] for a in agents):
        columns.append(("Self-play seats", lambda a: (str(a["self_play"]), True)))
    if any(a["invalid"] for a in agents):
        columns.append(("Invalid answers", lambda a: (str(a["invalid"]), True)))
    if data["elo_source"]:
        label = "Elo (stored)" if data["elo_source"] == "stored" else "Elo (fitted)"
        columns.append((label, lambda a: (_num(a["elo"], 1), True)))
    if data["skill_source"]:
        columns.append(("OpenSkill mu ± σ", lambda a: (_pm(a["mu"], a["sigma"], 2), True)))
    if any(a["nash"] is not None for a in agents):
        columns.append(("Nash weight", lambda a: (_num(a["nash"]), True)))
    if any(a["alpha_rank"] is not None for a in agents):
        columns.append(("α-rank mass", lambda a: (_num(a["alpha_rank"]), True)))
    return _table([c[0] for c in columns], [[cell(a) for _, cell in columns] for a in agents])


def _pm(value: Any, spread: Any, digits: int = 3) -> str:
    if not _finite(value):
        return ""
    return f"{value:.{digits}f} ± {spread:.{digits}f}" if _finite(spread) else f"{value:.{digits}f}"


def _pairs_table(data: dict[str, Any]) -> str:
    e = _escape
    pct = f"{data['confidence']:.0%}"
    header = [
        "Row agent",
        "Column agent",
        "Games",
        "W/D/L (row)",
        f"Row score [{pct}]",
        "Row mean return",
        "Column mean return",
    ]
    rows = [
        [
            (e(p["row"]), False),
            (e(p["col"]), False),
            (str(p["games"]), True),
            (f"{p['wins']}/{p['draws']}/{p['losses']}", True),
            (_interval(p["score"], p["score_low"], p["score_high"]), True),
            (_pm(p["row_return"], p["row_return_ci"]), True),
            (_pm(p["col_return"], p["col_return_ci"]), True),
        ]
        for p in data["pairs"]
    ]
    return _table(header, rows)


def _learners_table(data: dict[str, Any]) -> str:
    e = _escape
    header = ["Learner", "Generations", "Steps", "Training games", "W/D/L", "Latest metrics"]
    rows = [
        [
            (e(s["name"]), False),
            (str(s["generations"]), True),
            (str(s["steps"]), True),
            (str(s["games"]), True),
            (f"{s['wins']:g}/{s['draws']:g}/{s['losses']:g}", True),
            (e(", ".join(f"{k}: {v:.4g}" for k, v in s["metrics"].items() if v is not None)), False),
        ]
        for s in data["learners"]
    ]
    return _table(header, rows)


# ---- the plots -------------------------------------------------------------------------------------

Plot = tuple[str, bytes | None, str | None]  # caption, PNG (None when skipped), why skipped


def _plots(data: dict[str, Any]) -> tuple[list[Plot], str | None]:
    """The report's plots, or ([], a note) when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401  (first, so a missing matplotlib fails here)
        from matplotlib.figure import Figure
    except ImportError:
        return [], f"Plots need matplotlib: {PLOTS_HINT}"
    makers: list[tuple[str, Callable[[type, dict[str, Any]], bytes | str]]] = [
        ("Rating over time", _plot_history),
        ("Payoff matrix: row's score against column, in rank order", _plot_heatmap),
        (f"Score against the field ({data['confidence']:.0%} Wilson interval)", _plot_scores),
        ("Training curves", _plot_training),
    ]
    plots: list[Plot] = []
    for caption, make in makers:
        try:
            result = make(Figure, data)
        except Exception as err:  # one failing plot must not cost the report
            result = f"plot failed: {type(err).__name__}: {err}"
        plots.append((caption, result, None) if isinstance(result, bytes) else (caption, None, result))
    return plots, None


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # names in scripts the default font lacks: boxes, not a warning each
        warnings.filterwarnings("ignore", "Glyph .* missing", UserWarning)
        figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _label(name: str) -> str:
    """A user-given name as matplotlib text: ``$`` would start mathtext, a leading ``_`` hides a legend
    entry."""
    name = name.replace("$", r"\$")
    return " " + name if name.startswith("_") else name


def _colours(data: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """One colour family per lineage (an agent and its snapshots, following ``parent``), lighter for
    members that joined earlier; agents without relatives get ``tab20`` colours, hues no lineage uses
    first."""
    import matplotlib

    parent = {a["name"]: a["parent"] for a in data["agents"]}
    joined = {a["name"]: a["joined"] for a in data["agents"]}

    def root(name: str) -> str:
        seen = {name}
        while parent.get(name) in parent and parent[name] not in seen:
            name = parent[name]
            seen.add(name)
        return name

    families: dict[str, list[str]] = defaultdict(list)
    for name in sorted(names, key=lambda name: joined.get(name, len(joined))):
        families[root(name)].append(name)
    colours = {}
    lineages = [members for members in families.values() if len(members) > 1]
    for k, members in enumerate(lineages):
        cmap = matplotlib.colormaps[_FAMILY_COLOURS[k % len(_FAMILY_COLOURS)]]
        for m, name in enumerate(members):
            colours[name] = cmap(0.35 + 0.6 * m / (len(members) - 1))
    singles = [members[0] for members in families.values() if len(members) == 1]
    used = min(len(lineages), 10)
    hues = list(range(used, 10)) + list(range(used))  # tab10 hue indices, those of lineages last
    palette = matplotlib.colormaps["tab20"]  # tab20[2h] is tab10's hue h, tab20[2h + 1] a lighter one
    for k, name in enumerate(singles):
        colours[name] = palette(2 * hues[k % 10] + (k // 10) % 2)
    return colours


def _legend(ax: Any, n: int) -> None:
    ax.legend(fontsize=8 if n <= 12 else 6, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=1 + n // 30)


def _plot_history(Figure: type, data: dict[str, Any]) -> bytes | str:
    series = data["history"]["series"]
    if not series:
        return "no ratings are stored yet"
    order = list(dict.fromkeys([a["name"] for a in data["agents"] if a["name"] in series] + list(series)))
    colours = _colours(data, order)
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    ax = figure.add_subplot()
    for name in order:
        steps, values = zip(*series[name], strict=True)
        ax.plot(
            steps, values, marker="." if len(steps) < 30 else None, color=colours[name], label=_label(name)
        )
    ax.set_xlabel("league games stored (step)")
    ax.set_ylabel("Elo" if data["history"]["system"] == "elo" else "OpenSkill mu")
    ax.grid(alpha=0.3)
    _legend(ax, len(order))
    return _png(figure)


def _plot_heatmap(Figure: type, data: dict[str, Any]) -> bytes | str:
    import matplotlib
    import numpy as np

    agents = data["matrix"]["agents"]
    if not agents:
        return "no games yet"
    score = np.array(
        [[np.nan if v is None else v for v in row] for row in data["matrix"]["score"]], dtype=float
    )
    index = {name: i for i, name in enumerate(agents)}
    order = [index[a["name"]] for a in data["agents"] if a["name"] in index]  # rank order
    agents, score = [agents[i] for i in order], score[np.ix_(order, order)]
    n = len(agents)
    side = min(16.0, 2.5 + 0.42 * n)
    figure = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = figure.add_subplot()
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_invalid(score), cmap=cmap, vmin=0.0, vmax=1.0)
    labels = [_label(a) for a in agents]
    ax.set_xticks(range(n), labels, rotation=90, fontsize=7 if n > 12 else 9)
    ax.set_yticks(range(n), labels, fontsize=7 if n > 12 else 9)
    ax.set_xlabel("column (opponent)")
    ax.set_ylabel("row")
    if n <= _ANNOTATE_UP_TO:  # drawing hundreds of texts is slow; the pairwise table has the values
        size = 8 if n <= 10 else 6
        for i, j in zip(*np.nonzero(np.isfinite(score)), strict=True):
            text = ax.text(j, i, f"{score[i, j]:.2f}", ha="center", va="center", fontsize=size)
            text.set_in_layout(False)  # inside the axes anyway; keeps constrained layout fast
    figure.colorbar(image, ax=ax, shrink=0.8, label="score")
    return _png(figure)


def _plot_scores(Figure: type, data: dict[str, Any]) -> bytes | str:
    rows = [a for a in data["agents"] if a["games"] and a["score"] is not None]
    if not rows:
        return "no games yet"
    rows.sort(key=lambda a: a["score"])
    figure = Figure(figsize=(8, 1.2 + 0.28 * len(rows)), layout="constrained")
    ax = figure.add_subplot()
    y = range(len(rows))
    scores = [a["score"] for a in rows]
    errors = [[a["score"] - a["score_low"] for a in rows], [a["score_high"] - a["score"] for a in rows]]
    ax.errorbar(scores, y, xerr=errors, fmt="o", capsize=3, color="tab:blue")
    ax.axvline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_yticks(list(y), [_label(a["name"]) for a in rows], fontsize=7 if len(rows) > 15 else 9)
    ax.set_xlim(0, 1)
    ax.set_xlabel("score against the field: (wins + draws / 2) / games")
    ax.grid(axis="x", alpha=0.3)
    return _png(figure)


def _plot_training(Figure: type, data: dict[str, Any]) -> bytes | str:
    curves: dict[str, dict[str, list[list[float]]]] = defaultdict(dict)  # metric -> learner -> points
    for learner, by_metric in data["training"].items():
        for metric, points in by_metric.items():
            curves[metric][learner] = points
    if data["training_scores"]:
        curves["training score"] = {k: [p[:2] for p in v] for k, v in data["training_scores"].items()}
    if not curves:
        return "no training metrics are stored"
    learners = list(dict.fromkeys(name for by_learner in curves.values() for name in by_learner))
    colours = _colours(data, learners)
    columns = min(3, len(curves))
    rows = math.ceil(len(curves) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.3 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax, (metric, by_learner) in zip(axes.flat, sorted(curves.items()), strict=False):
        for learner, points in by_learner.items():
            steps, values = zip(*points, strict=True)
            marker = "." if len(steps) < 30 else None
            ax.plot(steps, values, marker=marker, color=colours.get(learner), label=_label(learner))
        values = [v for points in by_learner.values() for _, v in points]
        if metric.startswith("exploitability"):
            ax.set_yscale("log" if all(v > 0 for v in values) else "symlog")
        ax.set_title(_label(metric), fontsize=9)
        ax.set_xlabel("steps", fontsize=8)
        ax.grid(alpha=0.3)
        if len(by_learner) > 1:
            ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(curves) :]:
        ax.set_visible(False)
    return _png(figure)
