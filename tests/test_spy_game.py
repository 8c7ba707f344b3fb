"""Who-Is-the-Spy's rules engine: roles, clue turns, the simultaneous vote, both parts of the returns,
the elimination variant, invalid clues and votes, and determinism by seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redqueen.envs.spy.game import NA, SpyState, WhoIsTheSpy
from redqueen.envs.text import TextEnv
from redqueen.game import SIMULTANEOUS, TERMINAL, IllegalAction

WORDS = WhoIsTheSpy()
SCENES = WhoIsTheSpy(payload="scenes", image_size=64)


def vote(game: WhoIsTheSpy, target: int | None) -> int:
    """The action of a vote for ``target`` (None = n/a)."""
    return game.vocabulary_size + (game.num_players if target is None else target)


def give_clues(state: SpyState, rng: np.random.Generator) -> None:
    while state.phase == "clue":
        state.apply_action(int(rng.choice(state.legal_actions())))


def play_random(state: SpyState, rng: np.random.Generator, na_share: float = 0.2) -> None:
    """Random clues and random votes (some n/a) to the end."""
    while not state.is_terminal():
        give_clues(state, rng)
        if state.is_terminal():
            return
        votes = {}
        for p in state.voters():
            legal = state.legal_actions(p)
            votes[p] = legal[-1] if rng.random() < na_share else int(rng.choice(legal[:-1]))
        if state.current_player == SIMULTANEOUS:
            state.apply_actions(votes)
        else:
            for p in state.voters():
                state.apply_action(votes[p])


def test_roles_payloads_and_the_spy_drawn_by_the_seed():
    spies = set()
    for seed in range(40):
        state = WORDS.new_initial_state(seed)
        spies.add(state.spy)
        civ, spy = state.deal.words
        assert civ != spy
        for p in range(4):
            text = state.observation_text(p)
            mine = spy if p == state.spy else civ
            assert f"Your secret word: {mine}\n" in text
            assert ("Your role: the spy." in text) == (p == state.spy)
            # the tensor view holds the player's own payload's attributes and its role
            x = state.observation_tensor(p)
            lay = WORDS.layout
            assert set(np.flatnonzero(x[lay.own])) == set(state.attributes(p))
            assert x[lay.role][1] == (p == state.spy) and x[lay.role][0] == (p != state.spy)
    assert spies == {0, 1, 2, 3}


def test_classic_undercover_tells_nobody_and_everyone_votes():
    game = WhoIsTheSpy(spy_knows_role=False)
    state = game.new_initial_state(3)
    for p in range(4):
        assert "You are not told whether you are a civilian or the spy." in state.observation_text(p)
        assert state.observation_tensor(p)[game.layout.role].tolist() == [0, 0, 1]
    give_clues(state, np.random.default_rng(0))
    assert state.voters() == [0, 1, 2, 3]
    known = WORDS.new_initial_state(3)
    give_clues(known, np.random.default_rng(0))
    assert known.spy not in known.voters() and len(known.voters()) == 3
    assert known.legal_actions(known.spy) == [] and "you do not vote" in known.observation_text(known.spy)


def test_clue_rounds_in_fixed_and_seeded_order_then_a_simultaneous_vote():
    state = WhoIsTheSpy(rounds=3).new_initial_state(0)
    speakers = []
    while state.phase == "clue":
        speakers.append(state.current_player)
        state.apply_action(state.legal_actions()[0])
    assert speakers == [0, 1, 2, 3] * 3
    assert state.current_player == SIMULTANEOUS
    with pytest.raises(IllegalAction, match="simultaneous"):
        state.apply_action(vote(WORDS, 0))

    def order(seed: int) -> list[int]:
        s = WhoIsTheSpy(order="seeded").new_initial_state(seed)
        out = []
        while s.phase == "clue":
            out.append(s.current_player)
            s.apply_action(s.legal_actions()[0])
        return out

    orders = [order(seed) for seed in range(6)]
    for o in orders:
        assert sorted(o[:4]) == sorted(o[4:]) == [0, 1, 2, 3]
    assert order(4) == orders[4]
    assert len({tuple(o) for o in orders}) > 1


def test_clue_returns_follow_the_formula_and_decisions_the_table():
    state = WORDS.new_initial_state(11)
    give_clues(state, np.random.default_rng(1))
    s = state.spy
    civ = [p for p in range(4) if p != s]
    # two civilians vote for the spy, the third for a civilian (the first one), who also gets no other
    votes = {civ[0]: vote(WORDS, s), civ[1]: vote(WORDS, s), civ[2]: vote(WORDS, civ[0])}
    state.apply_actions(votes)
    v = np.zeros(4)
    v[s], v[civ[0]] = 2, 1
    mean_c = v[civ].mean()
    expected = np.zeros(4)
    expected[s] = -0.1 * (v[s] - mean_c)
    for j in civ:
        expected[j] = 0.1 / 3 * (v[s] - mean_c) - 0.1 * (v[j] - mean_c)
    np.testing.assert_allclose(state.clue_returns(), expected)
    assert abs(state.clue_returns().sum()) < 1e-12
    decision = np.zeros(4)
    decision[civ] = [1.0, 1.0, -1.0]
    np.testing.assert_array_equal(state.decision_returns(), decision)
    np.testing.assert_allclose(state.returns(), expected + decision)
    assert state.winner == "civilians" and state.caught
    np.testing.assert_array_equal(state.outcome_returns()[civ], 1.0)
    assert state.outcome_returns()[s] == -1.0


def test_n_a_votes_and_ties_let_the_spy_go():
    state = WORDS.new_initial_state(5)
    give_clues(state, np.random.default_rng(2))
    s = state.spy
    civ = [p for p in range(4) if p != s]
    state.apply_actions({civ[0]: vote(WORDS, s), civ[1]: vote(WORDS, civ[0]), civ[2]: vote(WORDS, None)})
    assert state.votes == [{civ[0]: s, civ[1]: civ[0], civ[2]: None}]
    assert state.winner == "spy" and state.caught is False  # a tie of one vote each
    assert state.decision_returns()[civ].tolist() == [1.0, -1.0, -0.5]


@pytest.mark.parametrize("reward", ["clue", "decision", "outcome"])
def test_the_reward_option_picks_the_part(reward):
    game = WhoIsTheSpy(reward=reward)
    state = game.new_initial_state(2)
    play_random(state, np.random.default_rng(3))
    part = {"clue": state.clue_returns, "decision": state.decision_returns, "outcome": state.outcome_returns}
    np.testing.assert_array_equal(state.returns(), part[reward]())
    assert game.min_return <= state.returns().min() and state.returns().max() <= game.max_return


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    players=st.integers(3, 7),
    rounds=st.integers(1, 3),
    variant=st.sampled_from(["vision_zero", "elimination"]),
    knows=st.booleans(),
    simultaneous=st.booleans(),
    payload=st.sampled_from(["words", "scenes"]),
)
def test_random_games_keep_the_invariants(seed, players, rounds, variant, knows, simultaneous, payload):
    game = WhoIsTheSpy(
        players=players, rounds=rounds, variant=variant, spy_knows_role=knows,
        simultaneous_vote=simultaneous, payload=payload, image_size=64, order="seeded",
    )  # fmt: skip
    state = game.new_initial_state(seed)
    rng = np.random.default_rng(seed)
    decisions = 0
    while not state.is_terminal():
        for p in range(players):  # every view stays inside its space, and the mask is the legal moves
            assert game.observation_space(p).contains(state.observation_tensor(p))
            assert np.flatnonzero(state.action_mask(p)).tolist() == state.legal_actions(p)
        if state.current_player == SIMULTANEOUS:
            state.apply_actions({p: int(rng.choice(state.legal_actions(p))) for p in state.voters()})
            decisions += len(state.votes[-1])
        else:
            state.apply_action(int(rng.choice(state.legal_actions())))
            decisions += 1
    assert decisions <= game.max_game_length and state.current_player == TERMINAL
    assert abs(state.clue_returns().sum()) < 1e-9  # every stage's clue returns are zero-sum
    expected = np.zeros(players)
    for stage in state.votes:
        assert set(stage) <= set(range(players))
        for voter, target in stage.items():
            assert target != voter
            if voter != state.spy:
                expected[voter] += 1.0 if target == state.spy else (-0.5 if target is None else -1.0)
            else:
                assert not knows  # a spy that knows its role never votes
    np.testing.assert_array_equal(state.decision_returns(), expected)
    np.testing.assert_allclose(state.returns(), state.clue_returns() + expected)
    assert game.min_return <= state.returns().min() and state.returns().max() <= game.max_return
    # the winner follows from the last vote: the spy caught (or voted out) by a unique maximum
    last = np.bincount([t for t in state.votes[-1].values() if t is not None], minlength=players)
    unique_top = last.max() > 0 and (last == last.max()).sum() == 1
    caught = bool(unique_top and last[state.spy] == last.max())
    assert state.caught == caught
    if variant == "elimination" and not caught:
        assert sum(state.alive) <= 2 or len(state.votes) == game.max_cycles
        assert state.alive[state.spy]


def test_elimination_votes_players_out_until_the_spy_is_out():
    game = WhoIsTheSpy(variant="elimination", players=5, rounds=1)
    state = game.new_initial_state(8)
    rng = np.random.default_rng(0)
    s = state.spy
    civ = [p for p in range(5) if p != s]
    give_clues(state, rng)
    victim = civ[0]
    state.apply_actions({p: vote(game, victim if p != victim else civ[1]) for p in civ})
    assert state.eliminated == [victim] and not state.alive[victim] and not state.is_terminal()
    assert "was voted out (a civilian)" in state.observation_text(civ[1])
    speakers = []
    while state.phase == "clue":
        speakers.append(state.current_player)
        state.apply_action(state.legal_actions()[0])
    assert victim not in speakers and len(speakers) == 4
    assert victim not in state.voters() and vote(game, victim) not in state.legal_actions(civ[1])
    with pytest.raises(IllegalAction, match="out of the game"):
        state.parse_action(civ[1], f"\\boxed{{{victim}}}")
    state.apply_actions({p: vote(game, s) for p in civ[1:]})
    assert state.winner == "civilians" and state.eliminated == [victim, s]


def test_elimination_spy_wins_when_two_are_left():
    game = WhoIsTheSpy(variant="elimination", players=3, rounds=1)
    state = game.new_initial_state(4)
    s = state.spy
    a, b = (p for p in range(3) if p != s)
    give_clues(state, np.random.default_rng(0))
    state.apply_actions({a: vote(game, b), b: vote(game, s)})  # a tie: nobody out
    assert not state.is_terminal() and state.eliminated == []
    give_clues(state, np.random.default_rng(1))
    state.apply_actions({a: vote(game, b), b: vote(game, a)})
    assert not state.is_terminal()
    give_clues(state, np.random.default_rng(2))
    state.apply_actions({a: vote(game, b), b: vote(game, None)})
    assert state.eliminated == [b] and state.winner == "spy"


def test_clue_rules_secret_word_sentences_and_vocabulary():
    state = WORDS.new_initial_state(0)
    p = state.current_player
    word = state.word(p)
    with pytest.raises(IllegalAction, match=f"contains your secret word '{word}'"):
        state.parse_action(p, f"Hmm. \\boxed{{It is a kind of {word.upper()}.}}")
    with pytest.raises(IllegalAction, match="secret word"):
        state.parse_action(p, f"\\boxed{{I like {word}s}}")
    with pytest.raises(IllegalAction, match="one sentence, and this one has 2"):
        state.parse_action(p, "\\boxed{It is big. It is old.}")
    with pytest.raises(IllegalAction, match="the clue is empty"):
        state.parse_action(p, "\\boxed{ }")
    with pytest.raises(IllegalAction, match="not to give a clue"):
        state.parse_action((p + 1) % 4, "\\boxed{It is nice.}")
    # a vocabulary sentence is that attribute; anything else is a free-text clue under a new id
    attribute = sorted(state.attributes(p))[0]
    sentence = WORDS.source.clue_text(attribute)
    assert state.parse_action(p, f"My clue: \\boxed{{{sentence.lower()}}}") == attribute
    free = state.parse_action(p, "\\boxed{You might find it in a shop, e.g. a big one.}")
    assert free >= WORDS.num_distinct_actions
    state.apply_action(free)
    assert 'Player 0 (you): "You might find it in a shop, e.g. a big one"' in state.observation_text(0)
    assert 'Player 0: "You might find it in a shop, e.g. a big one"' in state.observation_text(1)
    x = state.observation_tensor(1)
    assert x[WORDS.layout.slots][:3].tolist() == [1.0, 1.0, 0.0]  # spoke, free text
    # a discrete clue naming a player's own word is not legal for it (and says why)
    game = WhoIsTheSpy()
    for seed in range(200):
        s = game.new_initial_state(seed)
        banned = [a for a in range(game.vocabulary_size) if a not in game.clue_actions(s, s.current_player)]
        if banned:
            with pytest.raises(IllegalAction, match="contains your secret word"):
                s.apply_action(banned[0])
            break
    else:
        pytest.fail("no word of the list is named by any feature")


def test_votes_out_of_range_self_and_garbage_are_illegal_with_a_reason():
    state = WORDS.new_initial_state(1)
    give_clues(state, np.random.default_rng(0))
    voter = state.voters()[0]
    other = next(p for p in range(4) if p != voter)
    with pytest.raises(IllegalAction, match="there is no player 7: the players are 0 to 3"):
        state.parse_action(voter, "I am sure: \\boxed{7}")
    with pytest.raises(IllegalAction, match="cannot vote for yourself"):
        state.parse_action(voter, f"\\boxed{{player {voter}}}")
    with pytest.raises(IllegalAction, match="names no player"):
        state.parse_action(voter, "\\boxed{the quiet one}")
    assert state.parse_action(voter, f"\\boxed{{Player {other}}}") == vote(WORDS, other)
    assert state.parse_action(voter, "\\boxed{N/A}") == vote(WORDS, None)
    assert state.parse_action(voter, f"I vote for player {other}.") == vote(WORDS, other)
    assert state.action_to_text(voter, vote(WORDS, None)) == NA
    if state.spy != voter:
        with pytest.raises(IllegalAction, match="does not vote"):
            state.parse_action(state.spy, "\\boxed{0}")
    with pytest.raises(IllegalAction, match="every voter votes at once"):
        state.apply_actions({voter: vote(WORDS, other)})
    with pytest.raises(IllegalAction, match="not a vote"):
        state.apply_actions({p: 0 for p in state.voters()})


def test_the_text_env_applies_the_invalid_answer_policy_to_bad_clues_and_votes():
    env = TextEnv("whoisthespy", invalid="retry")
    text, info = env.reset(seed=0)
    word = env.state.word(info["player"])
    text, _, _, _, info = env.step(f"\\boxed{{It sounds like {word}.}}")
    assert info["invalid"] and "contains your secret word" in info["reason"]
    assert "Your previous answer was invalid" in text and "secret word" in text
    while env.state.phase == "clue":
        _, _, _, _, info = env.step("\\boxed{It is something you can see.}")
        assert not info["invalid"]
    _, _, _, _, info = env.step("\\boxed{9}")
    assert info["invalid"] and "there is no player 9" in info["reason"]
    forfeit = TextEnv("whoisthespy", invalid="forfeit")
    _, info = forfeit.reset(seed=0)
    player = info["player"]
    _, rewards, done, _, info = forfeit.step("\\boxed{It is big. It is old.}")
    assert done and info["forfeit"] == player and rewards[player] == forfeit.game.min_return
    assert forfeit.state.winner is None and "forfeit" in forfeit.state.observation_text(player)


@pytest.mark.parametrize(
    "params",
    [{}, {"payload": "scenes", "image_size": 64}, {"payload": "scenes", "image_size": 64, "blank_spy": True}],
)
def test_the_same_seed_gives_the_same_game(params):
    game = WhoIsTheSpy(order="seeded", **params)
    a, b, c = game.new_initial_state(21), game.new_initial_state(21), game.new_initial_state(22)
    assert (a.spy, a.deal.record, a._orders) == (b.spy, b.deal.record, b._orders)
    assert (a.spy, a.deal.record, a._orders) != (c.spy, c.deal.record, c._orders)
    if a.deal.kind == "images":
        for p in range(4):
            np.testing.assert_array_equal(a.observation_image(p), b.observation_image(p))
    rng_a, rng_b = np.random.default_rng(0), np.random.default_rng(0)
    play_random(a, rng_a)
    play_random(b, rng_b)
    np.testing.assert_array_equal(a.returns(), b.returns())
    assert a.observation_text(0) == b.observation_text(0)


def test_clones_are_independent():
    state = WORDS.new_initial_state(3)
    state.apply_action(state.legal_actions()[0])
    twin = state.clone()
    give_clues(twin, np.random.default_rng(0))
    assert len(state.clues) == 1 and state.phase == "clue" and twin.phase == "vote"
    twin.apply_actions({p: vote(WORDS, None) for p in twin.voters()})
    assert not state.is_terminal() and twin.is_terminal() and state.votes == []


def test_pictures_in_the_text_view_and_the_tensor_view():
    state = SCENES.new_initial_state(0)
    text = state.observation_text(0)
    assert "Your picture: ![your picture](data:image/png;base64," in text
    described = WhoIsTheSpy(payload="scenes", image_size=64, image_text="describe").new_initial_state(0)
    shown = described.observation_text(described.spy)
    assert "data:image" not in shown and described.deal.description(True) in shown
    with_images = WhoIsTheSpy(payload="scenes", image_size=64, image_observation=True)
    s = with_images.new_initial_state(0)
    obs = s.observation_tensor(s.spy)
    assert with_images.observation_space(0).contains(obs)
    np.testing.assert_array_equal(obs["image"], s.observation_image(s.spy))
    with pytest.raises(ValueError, match="a word game has no pictures"):
        WORDS.new_initial_state(0).observation_image(0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"players": 2}, "players must be an integer >= 3"),
        ({"rounds": 0}, "rounds must be an integer >= 1"),
        ({"order": "random"}, "order must be one of"),
        ({"variant": "werewolf"}, "variant must be one of"),
        ({"reward": "win"}, "reward must be one of"),
        ({"beta": -1}, "beta must be a finite number >= 0"),
        ({"blank_spy": True}, "blank_spy=True is a variant of the picture games"),
        ({"payload": "images"}, "payload='images' needs source="),
        ({"payload": "video"}, "payload must be 'words', 'scenes', 'images'"),
        ({"payload": "scenes", "changes": 5, "objects": (4, 6)}, "cannot be changed in a scene of 4"),
        ({"image_text": "describe"}, "image_text='describe' writes procedural scenes"),
        ({"payload": "words", "source": "/nonexistent/pairs.txt"}, "cannot read the word-pair file"),
    ],
)
def test_bad_parameters_say_what_is_wrong(params, message):
    with pytest.raises(ValueError, match=message):
        WhoIsTheSpy(**params)


def test_user_payloads_are_deterministic_by_seed_too(tmp_path):
    from PIL import Image

    words = tmp_path / "pairs.txt"
    words.write_text("cat | dog\nsun | moon\ntea | coffee\nrain | snow\n")
    folder, civ, spy = tmp_path / "vz", tmp_path / "civ", tmp_path / "spy"
    for d in (folder, civ, spy):
        d.mkdir()
    for i in range(5):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(folder / f"p{i}_original.png")
        Image.new("RGB", (8, 8), (0, i * 40, 0)).save(folder / f"p{i}_modified.png")
        Image.new("RGB", (8, 8), (0, 0, i * 40)).save(civ / f"q{i}.png")
        Image.new("RGB", (8, 8), (i * 40, i * 40, 0)).save(spy / f"q{i}.png")
    for params in (
        {"source": words},
        {"payload": "images", "source": folder},
        {"payload": "images", "source": (civ, spy), "blank_spy": True},
    ):
        game = WhoIsTheSpy(**params)
        deals = [(s.spy, s.deal.record) for s in (game.new_initial_state(seed) for seed in range(12))]
        again = [(s.spy, s.deal.record) for s in (game.new_initial_state(seed) for seed in range(12))]
        assert deals == again and len({str(d) for d in deals}) > 3
        if game.kind == "images":
            a, b = game.new_initial_state(7), WhoIsTheSpy(**params).new_initial_state(7)
            for p in range(4):
                np.testing.assert_array_equal(a.observation_image(p), b.observation_image(p))
