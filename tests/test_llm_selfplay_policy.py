"""The trainer's policy pieces on a tiny model built here (nothing downloaded): the character
tokenizer, batched scoring, seeded generation, LoRA, prompt formats, the policy as an agent, the
batched text-env rollouts, and the vLLM backend's code path with vLLM absent (a stand-in module)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from redqueen.agents import KuhnNashAgent, RandomAgent  # noqa: E402
from redqueen.envs.text import TextEnv  # noqa: E402
from redqueen.evaluation import exploitability, policy_table  # noqa: E402
from redqueen.game import agent_observation  # noqa: E402
from redqueen.match import play  # noqa: E402
from redqueen.registry import make_game  # noqa: E402
from redqueen.trainers.llm_selfplay import (  # noqa: E402
    Policy,
    PolicyAgent,
    PolicyError,
    PromptFormat,
    build_tiny_model,
    char_tokenizer,
    play_batch,
)
from redqueen.trainers.llm_selfplay.rollout import AgentSeat, Job, PolicySeat  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), seed=3)


@pytest.fixture
def policy(tiny):
    return Policy.load(tiny)


def _kuhn_observations():
    game = make_game("kuhn_poker")
    seen = {}
    for history in ([0, 1], [2, 0], [1, 2], [0, 1, 0], [2, 0, 1], [1, 2, 0, 1]):
        state = game.new_initial_state(explicit_chance=True)
        for a in history:
            state.apply_action(a)
        obs = agent_observation(state, state.current_player, "text")
        seen[obs["info_state"]] = obs
    return seen


def test_character_tokenizer_round_trips_text():
    tok = char_tokenizer()
    text = "check,bet>K\nx.o.x....> [4] \\boxed{call}"
    ids = tok(text)["input_ids"]
    assert len(ids) == len(text) and tok.decode(ids) == text
    assert tok.pad_token_id == 0 and tok.eos_token_id == 1 and tok.padding_side == "left"
    with pytest.raises(ValueError, match="single characters"):
        char_tokenizer(("ab",))


def test_batched_scores_do_not_depend_on_padding(policy):
    prompts = ["check,bet>K", ">J", "bet>Q"]
    answers = [["fold", "call"], ["check", "bet"], ["fold", "call"]]
    together = policy.score(prompts, answers, eos=True)
    for prompt, options, joint in zip(prompts, answers, together, strict=True):
        alone = policy.score([prompt], [options], eos=True)[0]
        assert torch.allclose(joint, alone, atol=1e-5)
    # the sum of the token log-probabilities, scored token by token without any batch
    ids = list(policy.encode(">J")) + list(policy.encode_answer("bet", eos=True))
    with torch.no_grad():
        logits = policy.model(torch.tensor([ids])).logits[0].log_softmax(-1)
    start = len(policy.encode(">J"))
    manual = sum(float(logits[i - 1, ids[i]]) for i in range(start, len(ids)))
    assert float(together[1][1]) == pytest.approx(manual, abs=1e-4)


def test_seeded_generation_is_reproducible_and_leaves_torch_alone(policy):
    prompts = ["check,bet>K", ">J"] * 4
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    a = policy.generate(prompts, max_new_tokens=6, seed=11)
    after = torch.rand(1)
    b = policy.generate(prompts, max_new_tokens=6, seed=11)
    assert torch.equal(before, after)
    assert [r.token_ids for r in a] == [r.token_ids for r in b]
    for reply in a:
        assert 1 <= len(reply.token_ids) <= 6
        assert reply.finished == (reply.token_ids[-1] == policy.eos_id)
        assert reply.text == policy.decode(reply.token_ids)
    # the replies' log-probabilities from the batched scorer are finite and negative
    logp, mask = policy.token_logprobs([policy.encode(p) for p in prompts], [r.token_ids for r in a])
    assert mask.sum(-1).tolist() == [float(len(r.token_ids)) for r in a]
    assert torch.isfinite(logp).all() and (logp <= 0).all()


def test_lora_trains_only_the_adapter_and_saves_merged(tiny, tmp_path):
    pytest.importorskip("peft")
    policy = Policy.load(tiny, lora={"r": 4, "alpha": 8})
    assert policy.is_lora
    trainable = policy.trainable_state()
    assert trainable and all("lora_" in name for name in trainable)
    total = sum(p.numel() for p in policy.model.parameters())
    assert sum(t.numel() for t in trainable.values()) < total / 5
    before = policy.score([">K"], [["check", "bet"]], eos=True)[0]
    with torch.no_grad():
        for p in policy.trainable_parameters():
            p.add_(0.05)
    changed = policy.score([">K"], [["check", "bet"]], eos=True)[0]
    assert not torch.allclose(before, changed)
    folder = policy.save(tmp_path / "merged")
    reloaded = Policy.load(folder)
    assert not reloaded.is_lora
    assert torch.allclose(reloaded.score([">K"], [["check", "bet"]], eos=True)[0], changed, atol=1e-5)
    restored = Policy.load(tiny, lora={"r": 4, "alpha": 8})
    restored.load_trainable_state(policy.trainable_state())
    assert torch.allclose(restored.score([">K"], [["check", "bet"]], eos=True)[0], changed, atol=1e-6)
    with pytest.raises(PolicyError, match="LoRA settings"):
        Policy.load(tiny, lora={"rank": 4})


def test_loading_errors_are_clear(tmp_path):
    with pytest.raises(PolicyError, match="no local model folder"):
        Policy.load(tmp_path / "missing")
    with pytest.raises(PolicyError, match="no GGUF file"):
        Policy.load(tmp_path / "missing.gguf")
    with pytest.raises(PolicyError, match="dtype"):
        Policy.load(tmp_path, dtype="int4")


def test_compact_prompts_put_the_private_card_last():
    fmt = PromptFormat.named("compact")
    observations = _kuhn_observations()
    prompts = {key: fmt.prompt(obs) for key, obs in observations.items()}
    assert prompts["0"] == ">J" and prompts["1p"] == "check>Q" and prompts["1pb"] == "check,bet>Q"
    assert prompts["0b"] == "bet>J"
    assert fmt.answers(observations["1pb"]) == ["fold", "call"]
    # every one of Kuhn poker's 12 information states gets its own prompt
    table = policy_table(RandomAgent(view="text"), "kuhn_poker")
    states = {}
    game = make_game("kuhn_poker")
    for history in ([a, b] for a in range(3) for b in range(3) if a != b):
        for moves in ([], [0], [1], [0, 1]):
            state = game.new_initial_state(explicit_chance=True)
            for a in history + moves:
                state.apply_action(a)
            obs = agent_observation(state, state.current_player, "text")
            states[obs["info_state"]] = fmt.prompt(obs)
    assert set(states) == set(table) and len(set(states.values())) == 12
    # TicTacToe: the board from the mover's side
    ttt = make_game("tictactoe").new_initial_state()
    for cell in (4, 0):
        ttt.apply_action(cell)
    obs = agent_observation(ttt, 0, "text")
    assert fmt.prompt(obs) == "o...x....>" and fmt.answers(obs)[:2] == ["1", "2"]
    # a three-hand match shows the earlier hands first
    kuhn3 = make_game("kuhn_poker", rounds=3).new_initial_state(0)
    kuhn3.apply_action(1)
    kuhn3.apply_action(0)  # hand 1: player 0 bets, player 1 folds
    obs = agent_observation(kuhn3, kuhn3.current_player, "text")
    text = fmt.prompt(obs)
    assert "|" in text and text.endswith(">" + "JQK"[kuhn3.cards[kuhn3.current_player]])


def test_template_formats_answer_in_a_box():
    direct = PromptFormat.named("direct")
    obs = _kuhn_observations()["1pb"]
    assert direct.prompt(obs).endswith("\\boxed{") and direct.answers(obs) == ["fold}", "call}"]
    assert direct.to_env("call}") == "\\boxed{call}"
    spiral = PromptFormat.named("spiral")
    assert spiral.answers(obs) == [" \\boxed{fold}", " \\boxed{call}"]
    with pytest.raises(ValueError, match="unknown prompt format"):
        PromptFormat.named("chatml")


def test_the_policy_agent_is_scored_exactly_and_plays_matches(policy):
    agent = PolicyAgent(policy, "compact", seed=0)
    table = policy_table(agent, "kuhn_poker")
    obs = _kuhn_observations()["1pb"]
    logp = policy.score(["check,bet>Q"], [["fold", "call"]], eos=True)[0].double()
    p = (logp - torch.logsumexp(logp, 0)).exp()
    assert table["1pb"][0] == pytest.approx(float(p[0])) and table["1pb"][1] == pytest.approx(float(p[1]))
    assert 0.0 < agent.legal_mass(obs) < 1.0
    assert exploitability(agent, "kuhn_poker") == pytest.approx(exploitability(table, "kuhn_poker"))
    result = play("kuhn_poker", [agent, KuhnNashAgent()], n_games=6, seed=0, swap_seats=True)
    assert result.n_games == 6  # whatever it answered, every game was played to an end


def test_play_batch_records_trained_turns_and_forfeits_invalid_answers(policy):
    fmt = PromptFormat.named("compact")
    game = make_game("kuhn_poker")
    jobs = []
    for k in range(40):
        seats = (
            (PolicySeat(), AgentSeat(RandomAgent(), "random")) if k % 2 == 0 else (PolicySeat(), PolicySeat())
        )
        jobs.append(Job("kuhn", TextEnv(game), k, seats, (k, k + 1)))
    trajs, stats = play_batch(jobs, {"live": policy}, fmt, rng=np.random.default_rng(0), max_new_tokens=6)
    assert len(trajs) == 40 and stats.replies["live"] == sum(len(t.turns) for t in trajs)
    invalid_games = 0
    for k, traj in enumerate(trajs):
        assert traj.seats == (("live", "random") if k % 2 == 0 else ("live", "live"))
        players = {t.player for t in traj.turns}
        if k % 2 == 0:
            assert players <= {0}  # only the trained seat's turns are samples
        if traj.forfeit is not None:
            invalid_games += 1
            offender = traj.forfeit
            assert traj.turns[-1].invalid and traj.turns[-1].player == offender
            assert traj.returns[offender] == -1.5 and traj.returns[1 - offender] == 0.5
            assert traj.game_returns[offender] == -2.0  # the env's forfeit: the game's minimum
        else:
            assert list(traj.returns) == list(traj.game_returns)
            assert not any(t.invalid for t in traj.turns)
    # an untrained 110k-parameter model writes many invalid answers; some games must show it
    assert invalid_games > 0
    assert stats.invalid["live"] == sum(t.invalid for traj in trajs for t in traj.turns)


class _FakeCompletion:
    def __init__(self, ids, reason):
        self.token_ids, self.finish_reason = ids, reason


class _FakeLLM:
    reply: tuple[int, ...] = ()
    eos = 1

    def __init__(self, **options):
        self.options = options
        self.calls = []
        self.loaded = None
        engine = types.SimpleNamespace()
        model = types.SimpleNamespace(load_weights=self._load)
        engine.model_executor = types.SimpleNamespace(
            driver_worker=types.SimpleNamespace(model_runner=types.SimpleNamespace(model=model))
        )
        self.llm_engine = engine

    def _load(self, weights):
        self.loaded = list(weights)

    def generate(self, prompts, params, lora_request=None, use_tqdm=True):
        self.calls.append((prompts, params, lora_request))
        out = []
        for i, _ in enumerate(prompts):
            ids = list(self.reply) if i % 2 == 0 else [*self.reply, self.eos]  # with and without the eos
            out.append(types.SimpleNamespace(outputs=[_FakeCompletion(ids, "stop" if i < 2 else "length")]))
        return out


def _fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = _FakeLLM
    module.SamplingParams = lambda **kw: kw
    lora = types.ModuleType("vllm.lora")
    request = types.ModuleType("vllm.lora.request")
    request.LoRARequest = lambda name, number, path: (name, number, path)
    lora.request = request
    module.lora = lora
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.lora", lora)
    monkeypatch.setitem(sys.modules, "vllm.lora.request", request)


def test_vllm_backend_without_vllm_says_how_to_get_it(tiny, monkeypatch):
    from redqueen.trainers.llm_selfplay.vllm_backend import VLLMGenerator

    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm fails as on a machine without it
    with pytest.raises(PolicyError, match=r"pip install 'redqueen\[vllm\]'"):
        VLLMGenerator(tiny)


def test_vllm_backend_sends_token_ids_and_follows_the_weights(tiny, tmp_path, monkeypatch):
    pytest.importorskip("peft")
    from redqueen.trainers.llm_selfplay.vllm_backend import VLLMGenerator

    _fake_vllm(monkeypatch)
    full = Policy.load(tiny)
    bet = full.encode_answer("bet", eos=False)
    _FakeLLM.reply = bet
    gen = VLLMGenerator(tiny, sync_dir=tmp_path, gpu_memory_utilization=0.3)
    assert gen.llm.options["gpu_memory_utilization"] == 0.3 and "enable_lora" not in gen.llm.options
    full.generator = gen
    replies = full.generate([">K", "check>Q", "bet>J"], max_new_tokens=4, temperature=1.0, seed=7)
    prompts, params, request = gen.llm.calls[-1]
    assert prompts[0] == {"prompt_token_ids": list(full.encode(">K"))}
    assert [p["seed"] for p in params] == [7, 8, 9] and params[0]["stop_token_ids"] == [full.eos_id]
    assert request is None
    assert [r.text for r in replies] == ["bet", "bet", "bet"]
    assert replies[0].token_ids == (*bet, full.eos_id) and replies[0].finished  # the stop token added back
    assert replies[1].token_ids == (*bet, full.eos_id)
    assert not replies[2].finished and replies[2].token_ids == bet
    gen.sync(full)
    assert len(gen.llm.loaded) == len(full.model.state_dict())
    adapted = Policy.load(tiny, lora={"r": 2})
    lora_gen = VLLMGenerator(tiny, lora=True, max_lora_rank=2, sync_dir=tmp_path)
    assert lora_gen.llm.options["enable_lora"] is True
    adapted.generator = lora_gen
    lora_gen.sync(adapted)
    lora_gen.sync(adapted)
    adapted.generate([">K"], max_new_tokens=2, temperature=1.0, seed=0)
    name, number, _ = lora_gen.llm.calls[-1][2]
    assert (name, number) == ("policy-v2", 2) and (tmp_path / "v2" / "adapter_config.json").exists()
    with pytest.raises(PolicyError, match="LoRA adapter"):
        lora_gen.sync(full)
