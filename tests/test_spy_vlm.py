"""Pictures reach a vision-language model through the LLM backends: Who-Is-the-Spy's picture games
against a local fake OpenAI-compatible server, which must receive each player's own picture as an
``image_url`` content part."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("openai")

from redqueen.agents import AgentError
from redqueen.agents.llm import LLMAgent, OpenAIBackend
from redqueen.agents.llm.prompts import content_parts
from redqueen.envs.spy.agents import SPY_PROMPT, ScriptedSpyAgent
from redqueen.envs.spy.game import WhoIsTheSpy
from redqueen.game import agent_observation
from redqueen.match import play


class VisionServer:
    """An OpenAI-compatible chat server on 127.0.0.1 that records every request and answers a clue or
    a vote, depending on what the prompt asks."""

    def __init__(self):
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                content = body["messages"][-1]["content"]
                text = content if isinstance(content, str) else " ".join(
                    p["text"] for p in content if p["type"] == "text"
                )  # fmt: skip
                if "Decision: vote" in text:
                    answer = "Nobody stood out. \\boxed{n/a}"
                else:
                    answer = "I look at the picture. \\boxed{There is a shape in my picture.}"
                data = json.dumps(
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": answer},
                            }
                        ],
                        "usage": {"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    fake = VisionServer()
    yield fake
    fake.close()


def _vlm(server, mode="chat") -> LLMAgent:
    return LLMAgent(
        OpenAIBackend("fake-vlm", server.url, mode=mode, sleep=lambda s: None), SPY_PROMPT, name="vlm"
    )


def _decode(url: str) -> np.ndarray:
    head, _, data = url.partition(",")
    assert head == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


@pytest.mark.parametrize("blank", [False, True])
def test_each_player_sends_its_own_picture_as_an_image_part(server, blank):
    game = WhoIsTheSpy(payload="scenes", image_size=96, blank_spy=blank)
    finals = {}
    agents = [_vlm(server)] + [ScriptedSpyAgent(game) for _ in range(3)]
    spies = [game.new_initial_state(s).spy for s in range(40)]
    seeds = [spies.index(0), next(s for s, spy in enumerate(spies) if spy != 0)]  # as the spy, and not
    for seed in seeds:
        server.requests.clear()
        result = play(game, agents, n_games=1, seed=seed, on_game_end=lambda k, s, r: finals.update(s=s))
        state = finals["s"]
        assert result.invalid_answers[0] == 0
        assert len(server.requests) == 2 + (state.spy != 0)  # two clues, and a vote unless it is the spy
        for body in server.requests:
            messages = body["messages"]
            assert messages[0]["role"] == "system" and "Who Is the Spy?" in messages[0]["content"]
            parts = messages[-1]["content"]
            images = [p for p in parts if p["type"] == "image_url"]
            assert len(images) == 1 and any("You are Player 0" in p.get("text", "") for p in parts)
            assert not any("base64" in p.get("text", "") for p in parts)  # the picture is not sent as text
            np.testing.assert_array_equal(_decode(images[0]["image_url"]["url"]), state.observation_image(0))
        if blank and state.spy == 0:
            assert (state.observation_image(0) == 255).all()
        # the clue the model boxed is the clue played
        assert any(c["player"] == 0 and c["text"] == "There is a shape in my picture" for c in state.clues)


def test_word_games_send_plain_text_and_described_scenes_send_no_picture(server):
    agent = _vlm(server)
    for game in (WhoIsTheSpy(), WhoIsTheSpy(payload="scenes", image_size=64, image_text="describe")):
        state = game.new_initial_state(0)
        agent.act(agent_observation(state, state.current_player, "text"))
        content = server.requests[-1]["messages"][-1]["content"]
        assert isinstance(content, str) and "data:image" not in content


def test_backends_that_cannot_send_pictures_refuse_with_a_clear_error(server):
    state = WhoIsTheSpy(payload="scenes", image_size=64).new_initial_state(0)
    obs = agent_observation(state, state.current_player, "text")
    with pytest.raises(AgentError, match="completion mode cannot send"):
        _vlm(server, mode="completion").act(obs)

    class TextOnly:
        mode = "chat"

        def generate(self, prompt, n=1, seed=None):
            raise AssertionError("never asked")

    with pytest.raises(AgentError, match="cannot send; use an OpenAIBackend"):
        LLMAgent(TextOnly()).act(obs)
    assert server.requests == []


def test_content_parts_keep_the_text_around_each_picture_in_order():
    uri = "data:image/png;base64,iVBORw0KGgo="
    parts = content_parts(f"before ![a]({uri}) middle ![b]({uri})")
    assert [p["type"] for p in parts] == ["text", "image_url", "text", "image_url"]
    assert parts[0]["text"] == "before " and parts[2]["text"] == " middle "
    assert content_parts("no pictures") == [{"type": "text", "text": "no pictures"}]
