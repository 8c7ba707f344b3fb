"""LLMAgent through the openai backend, against a local fake OpenAI-compatible server."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

pytest.importorskip("openai")

from redqueen.agents import AgentError, RandomAgent
from redqueen.agents.llm import LLMAgent, OpenAIBackend, PromptTemplate, from_spec, parse_llm_spec
from redqueen.evaluation import exploitability
from redqueen.match import play

LEGAL = re.compile(r"Your legal moves: ([^\n]*?)\. Put your final answer")


def legal_moves(prompt: str) -> list[str]:
    found = LEGAL.findall(prompt)
    assert found, f"no legal moves in the prompt: {prompt[-300:]!r}"
    return [m.strip() for m in found[-1].split(",")]


class FakeServer:
    """An OpenAI-compatible server on 127.0.0.1 with scripted behaviour.

    ``answer(prompt, k)`` gives the text of choice k; ``faults`` is a list consumed one per request:
    an int HTTP status to fail with, "sleep" to answer too late, or None to answer normally."""

    def __init__(self, answer=None):
        self.answer = answer or (lambda prompt, k: f"Let me think. \\boxed{{{legal_moves(prompt)[-1]}}}")
        self.faults: list = []
        self.requests: list[dict] = []
        self.delay = 0.0
        self.in_flight = self.most_in_flight = 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    server.requests.append({"path": self.path, **body})
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    self.answer_request(body)
                finally:
                    self.leave()

            def leave(self):
                # counted out once the answer is ready, before it is sent: the client may send its
                # next request as soon as it has read this one
                if not getattr(self, "_left", False):
                    self._left = True
                    with lock:
                        server.in_flight -= 1

            def answer_request(self, body):
                time.sleep(server.delay)
                fault = server.faults.pop(0) if server.faults else None
                if fault == "sleep":
                    time.sleep(1.5)
                elif isinstance(fault, int):
                    self.leave()
                    self.send_response(fault)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps({"error": {"message": f"fault {fault}"}}).encode())
                    return
                chat = self.path.endswith("/chat/completions")
                prompt = body["messages"][-1]["content"] if chat else body["prompt"]
                texts = [server.answer(prompt, k) for k in range(body.get("n", 1))]
                choices = [
                    {"index": k, "finish_reason": "stop", "logprobs": None}
                    | ({"message": {"role": "assistant", "content": t}} if chat else {"text": t})
                    for k, t in enumerate(texts)
                ]
                payload = {
                    "id": "x",
                    "object": "chat.completion" if chat else "text_completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": choices,
                    "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
                }
                data = json.dumps(payload).encode()
                self.leave()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout tests)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    fake = FakeServer()
    yield fake
    fake.close()


def _agent(server, mode="chat", **kwargs) -> LLMAgent:
    backend = OpenAIBackend("fake-model", server.url, mode=mode, sleep=lambda s: None, **kwargs)
    return LLMAgent(backend, name="llm")


@pytest.mark.parametrize("mode", ["chat", "completion"])
@pytest.mark.parametrize("game", ["kuhn_poker", "tictactoe"])
def test_full_games_against_random_with_complete_transcripts(server, mode, game):
    agent = _agent(server, mode)
    result = play(game, [agent, RandomAgent()], n_games=4, seed=1, swap_seats=True, transcript=True)
    assert result.invalid_answers[0] == 0
    for k, turns in enumerate(result.transcripts):
        mine = [t for t in turns if t["agent"] == "llm"]
        assert mine and all(t["outcome"] == "played" for t in mine)
        # every recorded reply is the server's, and the move played is the one it boxed
        for t in mine:
            assert t["reply"].startswith("Let me think.") and f"\\boxed{{{t['move']}}}" in t["reply"]
        assert len(turns) == result.lengths[k]
    assert len(server.requests) == sum(len([t for t in g if t["agent"] == "llm"]) for g in result.transcripts)
    request = server.requests[0]
    if mode == "chat":
        assert request["path"].endswith("/chat/completions")
        assert request["messages"][0]["role"] == "system"
        assert "two-player zero-sum game" in request["messages"][0]["content"]
    else:
        assert request["path"].endswith("/completions") and request["prompt"].rstrip().endswith("):")
    stats = agent.stats.to_dict()
    assert stats["requests"] == len(server.requests) and stats["completion_tokens"] == 7 * stats["requests"]


def test_retries_with_backoff_then_success(server):
    slept = []
    backend = OpenAIBackend("m", server.url, max_retries=3, backoff=0.5, sleep=slept.append)
    agent = LLMAgent(backend)
    server.faults = [503, 429, 500]
    obs = {"text": "Pick.", "legal_moves": ["[a]", "[b]"], "game_id": "g"}
    assert agent.act(obs) == "Let me think. \\boxed{b}"
    assert slept == [0.5, 1.0, 2.0]
    assert backend.stats.retries == 3 and backend.stats.requests == 1


def test_a_server_that_keeps_failing_or_refuses_gives_agent_error(server):
    obs = {"text": "Pick.", "legal_moves": ["[a]"], "game_id": "g"}
    agent = _agent(server, max_retries=2)
    server.faults = [503, 503, 503]
    with pytest.raises(AgentError, match="failed after 3 attempts"):
        agent.act(obs)
    server.faults = [400]  # e.g. the prompt is longer than the context: no retry
    with pytest.raises(AgentError, match="refused"):
        agent.act(obs)
    assert agent.stats.failures == 2 and agent.stats.retries == 2


def test_timeouts_and_a_dead_server(server):
    obs = {"text": "Pick.", "legal_moves": ["[a]"], "game_id": "g"}
    agent = _agent(server, timeout=0.3, max_retries=1)
    server.faults = ["sleep", "sleep"]
    with pytest.raises(AgentError, match="APITimeoutError"):
        agent.act(obs)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    dead = LLMAgent(OpenAIBackend("m", f"http://127.0.0.1:{port}/v1", max_retries=1, sleep=lambda s: None))
    with pytest.raises(AgentError, match="APIConnectionError"):
        dead.act(obs)


def test_a_server_killed_mid_match_stops_the_match_and_stores_no_half_game(server, tmp_path):
    from redqueen.league.config import parse_config
    from redqueen.league.manager import run_league
    from redqueen.league.runners import RunnerError
    from redqueen.league.store import LeagueStore

    config = parse_config(
        {
            "game": "tictactoe",
            "games_per_pair": 60,
            "agents": [
                {"name": "rand", "spec": "random"},
                {"name": "llm", "spec": f"llm:openai:fake@{server.url}", "params": {"max_retries": 0}},
            ],
        }
    )
    server.faults = [None] * 100 + [503] * 1000  # a job takes 60-70 answers: it breaks in job 2
    with pytest.raises((AgentError, RunnerError)):
        run_league(config, tmp_path / "out", progress=False)
    with LeagueStore(tmp_path / "out" / "league.sqlite", create=False) as store:
        games = store.matches()
    assert len(games) == 20  # the first job, whole; nothing of the broken one
    for game in games:
        assert sum(game.returns) == 0 and game.invalid == (0, 0)


def test_exact_exploitability_of_a_language_model():
    # a "model" that always answers the last legal move (bet, or call facing a bet): AlwaysBet, 1/3
    class Scripted:
        mode = "chat"

        def generate(self, prompt, n=1, seed=None):
            from redqueen.agents.llm import Generation

            move = legal_moves(prompt[-1]["content"])[-1]
            return [Generation(f"\\boxed{{{move}}}")] * n

    agent = LLMAgent(Scripted(), samples=4)
    assert exploitability(agent, "kuhn_poker") == pytest.approx(1 / 3, abs=1e-12)


def test_sampled_action_probabilities_count_the_answers():
    class Mixed:
        mode = "chat"

        def generate(self, prompt, n=1, seed=None):
            from redqueen.agents.llm import Generation

            rng = np.random.default_rng(seed)
            replies = ["\\boxed{bet}", "I check. [check]", "\\boxed{fold}", "no idea"]
            return [Generation(replies[int(rng.choice(4, p=[0.5, 0.3, 0.1, 0.1]))]) for _ in range(n)]

    agent = LLMAgent(Mixed(), samples=2000, seed=0)
    probs = agent.action_probabilities({"text": "t", "legal_moves": ["[check]", "[bet]"], "game_id": "g"})
    assert set(probs) == {"[check]", "[bet]"} and sum(probs.values()) == pytest.approx(1.0)
    # illegal and unparsable answers are left out: 0.5 / (0.5 + 0.3), within 4 standard errors
    assert probs["[bet]"] == pytest.approx(0.5 / 0.8, abs=0.05)


def test_templates_history_and_few_shot():
    template = PromptTemplate(system="Game {game_id}.", examples=(("Q?", "\\boxed{a}"),), history=True)
    obs = {"text": "Board.", "legal_moves": ["[0]", "[4]"], "game_id": "tictactoe"}
    messages = template.messages(obs, history=[("earlier", "\\boxed{4}")])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[0]["content"] == "Game tictactoe."
    assert "Your legal moves: 0, 4." in messages[-1]["content"]
    text = PromptTemplate().completion(obs)
    assert text.startswith("You are playing a two-player zero-sum game") and "\\boxed{0}" in text
    with pytest.raises(ValueError, match="cannot be filled"):
        PromptTemplate(user="{nope}").user_text(obs)
    with pytest.raises(ValueError, match="text view"):
        PromptTemplate().messages({"observation": np.zeros(3)})


def test_a_huge_reply_is_an_invalid_answer_not_a_hang(server):
    server.answer = lambda prompt, k: "\\boxed{" * 50_000 + "x" * 50_000
    agent = _agent(server)
    started = time.perf_counter()
    result = play("kuhn_poker", [agent, RandomAgent()], n_games=2, seed=0, transcript=True)
    assert time.perf_counter() - started < 30
    assert result.invalid_answers[0] == 2 and all(r[0] < 0 for r in result.returns)


def test_specs():
    assert parse_llm_spec("openai:qwen@http://h:1/v1") == {
        "backend": "openai",
        "model": "qwen",
        "base_url": "http://h:1/v1",
    }
    assert parse_llm_spec("qwen") == {"backend": "openai", "model": "qwen"}
    agent = from_spec(
        {"model": "openai:m@http://127.0.0.1:9/v1", "mode": "completion", "samples": 3}, name="x"
    )
    assert agent.backend.mode == "completion" and agent.samples == 3 and agent.name == "x"
    with pytest.raises(ValueError, match="unknown LLM settings"):
        from_spec({"model": "m", "temprature": 1})
    with pytest.raises(ValueError, match="no model"):
        parse_llm_spec("openai:@http://h")


def test_match_command_with_an_llm_spec_writes_the_transcript(server, tmp_path, capsys):
    from redqueen.cli import main

    transcript = tmp_path / "t.jsonl"
    out = tmp_path / "r.json"
    options = ["--games", "4", "--seed", "2", "--quiet", "--transcript", str(transcript), "--json", str(out)]
    rc = main(["match", "tictactoe", f"llm:openai:fake@{server.url}", "random", *options])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "mean return (95% CI)" in printed and "completion tokens" in printed
    lines = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert len(lines) == 4 and all(line["turns"] for line in lines)
    data = json.loads(out.read_text())
    name = data["agent_names"][0]
    assert data["usage"][name]["requests"] == len(server.requests) > 0
    assert main(["match", "tictactoe", "alphazero", "random"]) == 2
    assert "unknown agent spec" in capsys.readouterr().err


def test_concurrent_games_keep_several_requests_in_flight(server):
    server.delay = 0.05
    agent = _agent(server)
    sequential = play("tictactoe", [agent, RandomAgent()], n_games=8, seed=4, transcript=True)
    assert server.most_in_flight == 1
    concurrent = play("tictactoe", [agent, RandomAgent()], n_games=8, seed=4, transcript=True, concurrency=8)
    assert server.most_in_flight > 1
    assert np.array_equal(sequential.returns, concurrent.returns)
    assert sequential.transcripts == concurrent.transcripts
    assert agent.stats.requests == len(server.requests)  # the forks share the backend's counters


def test_league_games_with_an_llm_are_the_same_with_concurrency(server, tmp_path):
    from redqueen.league.config import parse_config
    from redqueen.league.manager import run_league
    from redqueen.league.store import LeagueStore

    results = []
    for concurrency in (1, 4):
        config = parse_config(
            {
                "game": "kuhn_poker",
                "games_per_pair": 8,
                "concurrency": concurrency,
                "agents": [
                    {"name": "rand", "spec": "random"},
                    {"name": "llm", "spec": f"llm:openai:m@{server.url}"},
                ],
            }
        )
        summary = run_league(config, tmp_path / str(concurrency), progress=False)
        with LeagueStore(summary.db_path, create=False) as store:
            results.append({m.key: (m.seats, m.returns, m.invalid) for m in store.matches()})
    assert len(results[0]) == 8 and results[0] == results[1]


def test_match_command_reports_the_games_played_when_the_server_dies(server, tmp_path, capsys):
    from redqueen.cli import main

    server.faults = [None] * 9 + [503] * 1000  # tictactoe: the LLM answers 3-5 times a game
    transcript, out = tmp_path / "t.jsonl", tmp_path / "r.json"
    options = ["--games", "6", "--seed", "1", "--quiet", "--transcript", str(transcript), "--json", str(out)]
    llm = ["--llm", "max_retries=0", "--llm", "mode=completion"]
    rc = main(["match", "tictactoe", f"llm:openai:fake@{server.url}", "random", *options, *llm])
    assert rc == 1
    err = capsys.readouterr().err
    assert "stopped" in err and "failed after 1 attempts" in err and "not played" in err
    data = json.loads(out.read_text())
    played = data["game_indices"]
    assert 1 <= len(played) < 6 and played == list(range(len(played)))
    assert data["not_played"] == list(range(len(played), 6)) and len(data["returns"]) == len(played)
    lines = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert len(lines) == len(played)  # the transcript holds the finished games only
    assert all(r["path"].endswith("/completions") and "prompt" in r for r in server.requests)
    assert main(["match", "tictactoe", "random", "random", "--llm", "mode=chat"]) == 2
    assert "no agent is an LLM" in capsys.readouterr().err
