"""The hf backend: a tiny transformers model made here from a config (random weights, a tokenizer
trained on the spot), so nothing is downloaded."""

from __future__ import annotations

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from redqueen.agents import RandomAgent  # noqa: E402
from redqueen.agents.llm import LLMAgent, from_spec  # noqa: E402
from redqueen.agents.llm.hf import HFBackend  # noqa: E402
from redqueen.evaluation import exploitability  # noqa: E402
from redqueen.match import play  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from redqueen.agents.llm.prompts import PromptTemplate
    from redqueen.game import agent_observation
    from redqueen.registry import make_game

    corpus = []
    for game_id in ("kuhn_poker", "tictactoe"):
        state = make_game(game_id).new_initial_state(0)
        obs = agent_observation(state, state.current_player, "text")
        corpus += [PromptTemplate().completion(obs), "\\boxed{bet} \\boxed{check} \\boxed{4} call fold"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(
        corpus * 5, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<eos>"])
    )
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")
    config = transformers.GPT2Config(
        vocab_size=fast.vocab_size, n_positions=1024, n_embd=32, n_layer=2, n_head=2, eos_token_id=1
    )
    import torch

    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config)
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_a_tiny_local_model_plays_full_games(tiny_model):
    backend = HFBackend(tiny_model, max_new_tokens=12, temperature=1.0)
    agent = LLMAgent(backend, name="tiny")
    for game in ("kuhn_poker", "tictactoe"):
        result = play(game, [agent, RandomAgent()], n_games=2, seed=0, invalid="random", transcript=True)
        assert result.n_games == 2
        for turns in result.transcripts:
            mine = [t for t in turns if t["agent"] == "tiny"]
            assert mine and all(isinstance(t["reply"], str) for t in mine)
            assert all(t["action"] is not None for t in mine)  # each move played (its own or the fallback)
    assert backend.stats.requests > 0 and backend.stats.completion_tokens > 0


def test_seeded_sampling_is_reproducible_and_leaves_torch_alone(tiny_model):
    import torch

    backend = HFBackend(tiny_model, max_new_tokens=8, temperature=1.0)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = backend.generate("Your card: Q", n=2, seed=7)
    after = torch.rand(1)
    b = backend.generate("Your card: Q", n=2, seed=7)
    assert [g.text for g in a] == [g.text for g in b]
    assert torch.equal(before, after)  # generation did not move the global generator


def test_logprob_probabilities_score_the_legal_moves_exactly(tiny_model):
    agent = from_spec({"backend": "hf", "path": str(tiny_model), "max_new_tokens": 4}, name="tiny")
    assert agent.probabilities == "logprob"
    obs = {"text": "Your card: K", "legal_moves": ["[check]", "[bet]"], "game_id": "kuhn_poker"}
    probs = agent.action_probabilities(obs)
    assert set(probs) == {"[check]", "[bet]"} and sum(probs.values()) == pytest.approx(1.0)
    scores = agent.backend.score(agent.prompt(obs), [" \\boxed{check}", " \\boxed{bet}"])
    assert probs["[bet]"] == pytest.approx(1 / (1 + np.exp(scores[0] - scores[1])))
    value = exploitability(agent, "kuhn_poker")  # an exact score of the model's direct-answer policy
    assert 0 < value <= 1


def test_no_download_and_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        HFBackend(tmp_path / "missing")
    with pytest.raises(ValueError, match="'path'"):
        from_spec({"backend": "hf"})
