"""Rules engines: property tests (hypothesis) and conformance with OpenSpiel's games."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redqueen import IllegalAction, make_game
from redqueen.envs.kuhn_poker import KuhnPoker
from redqueen.envs.tictactoe import TicTacToe
from redqueen.game import CHANCE, TERMINAL, extract_answer, state_from_history

GAMES = {
    "kuhn_poker": lambda: KuhnPoker(),
    "kuhn_poker_5": lambda: KuhnPoker(rounds=5),
    "tictactoe": lambda: TicTacToe(),
}


def random_playout(game, seed: int, choices: st.DataObject | None = None):
    """Play uniformly random legal moves; returns (state, actions played by players)."""
    rng = np.random.default_rng(seed + 1)
    state = game.new_initial_state(seed)
    moves = []
    for _ in range(game.max_game_length + 1):
        if state.is_terminal():
            break
        legal = state.legal_actions()
        assert legal, "a live state must have legal actions"
        assert state.legal_actions() == sorted(set(legal))
        a = int(rng.choice(legal))
        moves.append(a)
        state.apply_action(a)
    return state, moves


@pytest.mark.parametrize("name", list(GAMES))
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_play_ends_zero_sum_and_reproducible(name, seed):
    game = GAMES[name]()
    state, moves = random_playout(game, seed)
    assert state.is_terminal(), "random legal play must end within max_game_length"
    assert state.current_player == TERMINAL
    assert len(moves) <= game.max_game_length
    returns = state.returns()
    assert returns.shape == (game.num_players,)
    assert abs(returns.sum()) < 1e-12
    assert game.min_return <= returns.min() and returns.max() <= game.max_return
    # same seed -> same game (chance and all)
    again, moves2 = random_playout(game, seed)
    assert moves2 == moves and again.history() == state.history()
    np.testing.assert_array_equal(again.returns(), returns)
    # terminal states accept no move and say so
    with pytest.raises(IllegalAction, match="over"):
        state.apply_action(0)
    assert state.legal_actions() == []
    assert not state.action_mask(0).any() and not state.action_mask(1).any()


@pytest.mark.parametrize("name", list(GAMES))
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), bad=st.one_of(st.integers(-1000, 1000), st.just(2**70)))
def test_illegal_actions_raise_naming_legal_moves(name, seed, bad):
    game = GAMES[name]()
    state = game.new_initial_state(seed)
    legal = state.legal_actions()
    if bad in legal:
        return
    before = state.history()
    with pytest.raises(IllegalAction) as err:
        state.apply_action(bad)
    for move in state.legal_actions_text():
        assert move in str(err.value)
    assert state.history() == before, "an illegal action must not change the state"


@pytest.mark.parametrize("name", list(GAMES))
@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**16), text=st.text(max_size=200), steps=st.integers(0, 4))
def test_garbage_text_is_illegal_or_a_legal_move(name, seed, text, steps):
    game = GAMES[name]()
    state = game.new_initial_state(seed)
    for _ in range(steps):
        if state.is_terminal():
            return
        state.apply_action(state.legal_actions()[0])
    if state.is_terminal():
        return
    p = state.current_player
    try:
        action = state.parse_action(p, text)
    except IllegalAction as err:
        assert "Legal moves:" in str(err) or "no move" in str(err)
        for move in state.legal_actions_text(p):
            assert move in str(err)
    else:
        assert action in state.legal_actions(p)


@pytest.mark.parametrize("name", list(GAMES))
def test_every_legal_move_text_parses_back(name):
    game = GAMES[name]()
    for seed in range(30):
        state = game.new_initial_state(seed)
        while not state.is_terminal():
            p = state.current_player
            for a, text in zip(state.legal_actions(p), state.legal_actions_text(p), strict=True):
                assert state.parse_action(p, text) == a
                assert state.parse_action(p, f"I will play \\boxed{{{text[1:-1].upper()}}}.") == a
                assert state.parse_action(p, f"[0] is bad; so {text}") == a
            state.apply_action(state.legal_actions()[seed % len(state.legal_actions())])


def test_short_replies_name_one_move_and_negations_name_none():
    kuhn = KuhnPoker().new_initial_state(0)
    assert kuhn.parse_action(0, "I bet.") == 1
    assert kuhn.parse_action(0, "I bet 1 chip") == 1  # "1" is an alias, not a second move named
    assert kuhn.parse_action(0, "check please") == 0
    for reply in ("I won't bet.", "I will not check", "Never check", "No bet", "check or bet?", "don't bet"):
        with pytest.raises(IllegalAction):
            kuhn.parse_action(0, reply)
    ttt = TicTacToe().new_initial_state()
    assert ttt.parse_action(0, "I choose 4") == 4
    with pytest.raises(IllegalAction):
        ttt.parse_action(0, "not 4")
    # a long reply must mark its answer
    with pytest.raises(IllegalAction):
        kuhn.parse_action(0, "Holding the jack here I think the best thing to do is to bet")


def test_extract_answer():
    assert extract_answer("so \\boxed{bet} then \\boxed{\\text{call}}") == "call"
    assert extract_answer("Thinking [check] ... final: [bet].") == "bet"
    assert extract_answer("\\boxed{[4]}") == "4"
    assert extract_answer("  fold. ") == "fold"
    assert extract_answer("\\boxed{a{b}c}") == "abc"
    with pytest.raises(IllegalAction):
        extract_answer(None)  # type: ignore[arg-type]


def test_clone_is_independent():
    for game in (KuhnPoker(rounds=2), TicTacToe()):
        state = game.new_initial_state(7)
        state.apply_action(state.legal_actions()[0])
        copy = state.clone()
        while not copy.is_terminal():
            copy.apply_action(copy.legal_actions()[-1])
        assert not state.is_terminal()
        assert len(state.history()) < len(copy.history())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), moves=st.lists(st.integers(0, 1), min_size=6, max_size=6))
def test_kuhn_clone_has_the_same_future_and_does_not_change_the_original(seed, moves):
    """A clone deals the cards the original would deal, and playing it on never touches the original."""
    game = KuhnPoker(rounds=3)
    reference = game.new_initial_state(seed)
    state = game.new_initial_state(seed)
    state.apply_action(moves[0])
    reference.apply_action(moves[0])
    clone = state.clone()
    for m in moves[1:]:
        for s in (clone, reference):
            if not s.is_terminal():
                s.apply_action(m)
    for m in moves[1:]:  # now the original, after the clone has drawn its cards
        if not state.is_terminal():
            state.apply_action(m)
    assert clone.history() == reference.history() == state.history()


@pytest.mark.parametrize("name", list(GAMES))
def test_bad_players_and_action_types_get_clear_errors(name):
    game = GAMES[name]()
    state = game.new_initial_state(0)
    for player in (-1, 2, 1.0, "0", None, True):
        for method in (state.observation_tensor, state.observation_text, state.action_mask, state.forfeit):
            with pytest.raises(ValueError, match="player must be a seat number"):
                method(player)
    for action in (True, 1.0, "1", None, np.array([1])):
        with pytest.raises(IllegalAction, match="integer index"):
            state.apply_action(action)
    state.apply_action(np.int64(state.legal_actions()[0]))  # numpy integers are fine
    assert len(state.history()) >= 1


# ---- Kuhn poker against OpenSpiel ---------------------------------------------------------------------


def _walk(os_state):
    yield os_state
    if os_state.is_terminal():
        return
    for a in os_state.legal_actions():
        yield from _walk(os_state.child(a))


def test_kuhn_matches_openspiel_everywhere():
    """Every history of OpenSpiel's kuhn_poker: same player, legal moves, info states, tensors, returns."""
    game = KuhnPoker()
    os_game = pyspiel.load_game("kuhn_poker")
    seen = 0
    keys: dict[str, str] = {}
    for os_state in _walk(os_game.new_initial_state()):
        state = state_from_history(game, os_state.history())
        seen += 1
        assert state.current_player == os_state.current_player()
        if os_state.is_terminal():
            np.testing.assert_allclose(state.returns(), os_state.returns())
            continue
        assert state.legal_actions() == os_state.legal_actions()
        if os_state.is_chance_node():
            assert state.current_player == CHANCE
            ours, theirs = state.chance_outcomes(), os_state.chance_outcomes()
            assert [a for a, _ in ours] == [a for a, _ in theirs]
            np.testing.assert_allclose([p for _, p in ours], [p for _, p in theirs])
            continue
        for p in range(2):
            key = state.information_state_key(p)
            os_key = os_state.information_state_string(p)
            assert key == os_key
            # one-to-one: the same redqueen key never stands for two OpenSpiel strings
            assert keys.setdefault(key, os_key) == os_key
            np.testing.assert_array_equal(
                state.observation_tensor(p), np.asarray(os_state.information_state_tensor(p), np.float32)
            )
    assert seen == 58  # root + 3 + 6 deals + 6 x 8 betting nodes


def test_kuhn_pot_is_paid():
    game = KuhnPoker()
    # K (player 0) vs J: bet, call -> +2 for player 0; check, bet, fold -> player 0 loses the ante only
    s = state_from_history(game, [2, 0, 1, 1])
    np.testing.assert_array_equal(s.returns(), [2.0, -2.0])
    s = state_from_history(game, [2, 0, 0, 1, 0])
    np.testing.assert_array_equal(s.returns(), [-1.0, 1.0])
    s = state_from_history(game, [0, 2, 0, 1, 1])
    np.testing.assert_array_equal(s.returns(), [-2.0, 2.0])
    assert "Pot: 3 chips" in state_from_history(game, [0, 2, 1]).observation_text(1)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(2, 7))
def test_kuhn_match_alternates_and_sums_hands(seed, rounds):
    game = KuhnPoker(rounds=rounds)
    state = game.new_initial_state(seed)
    rng = np.random.default_rng(seed)
    single = KuhnPoker()
    total = np.zeros(2)
    for hand in range(rounds):
        assert state.hand == hand
        first = hand % 2
        assert state.current_player == first, "the first player alternates, player 0 opens hand 1"
        cards = list(state.cards)
        hand_moves = []
        while state.hand == hand and not state.is_terminal():
            a = int(rng.integers(2))
            hand_moves.append(a)
            state.apply_action(a)
        # the same hand replayed as a one-hand game from the opener's seat
        opener_cards = [cards[first], cards[1 - first]]
        one = state_from_history(single, opener_cards + hand_moves)
        r = one.returns()
        total += r if first == 0 else r[::-1]
    assert state.is_terminal()
    np.testing.assert_allclose(state.returns(), total)
    assert state.observation_tensor(0).shape == game.observation_space(0).shape


def test_kuhn_rejects_bad_params():
    with pytest.raises(ValueError, match="rounds"):
        KuhnPoker(rounds=0)
    with pytest.raises(ValueError, match="unknown game"):
        make_game("kuhn")


def test_kuhn_text_view_says_what_a_player_knows():
    s = state_from_history(KuhnPoker(), [2, 0])
    text = s.observation_text(0)
    assert "Your card: K" in text and "[check], [bet]" in text
    assert "J" not in text.split("Rules:")[1].split("\n", 1)[1], "the opponent's card must stay hidden"
    s.apply_action(1)
    assert s.legal_actions_text(1) == ["[fold]", "[call]"]
    assert s.parse_action(1, "I fold.") == 0
    assert s.parse_action(1, "[Fold]") == 0
    with pytest.raises(IllegalAction, match=r"\[fold\], \[call\]"):
        s.parse_action(1, "\\boxed{check}")


# ---- TicTacToe against OpenSpiel ----------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_tictactoe_matches_openspiel(seed):
    game = TicTacToe()
    os_state = pyspiel.load_game("tic_tac_toe").new_initial_state()
    state = game.new_initial_state()
    rng = np.random.default_rng(seed)
    while not os_state.is_terminal():
        assert state.current_player == os_state.current_player()
        assert state.legal_actions() == os_state.legal_actions()
        a = int(rng.choice(os_state.legal_actions()))
        os_state.apply_action(a)
        state.apply_action(a)
    assert state.is_terminal()
    np.testing.assert_array_equal(state.returns(), os_state.returns())


def test_tictactoe_planes_are_from_the_observer():
    s = TicTacToe().new_initial_state()
    s.apply_action(4)  # X centre
    s.apply_action(0)  # O corner
    x, o = s.observation_tensor(0), s.observation_tensor(1)
    assert x.dtype == np.int8 and x.shape == (3, 3, 2)
    assert x[1, 1, 0] == 1 and x[0, 0, 1] == 1
    assert o[1, 1, 1] == 1 and o[0, 0, 0] == 1
    np.testing.assert_array_equal(x[..., ::-1], o)
    assert " X " in s.observation_text(0) and "[8]" in s.observation_text(0)
    assert s.parse_action(0, "cell 8") == 8
    with pytest.raises(IllegalAction, match="already taken"):
        s.parse_action(0, "[4]")


def _reference_last_boxed(text: str) -> str | None:
    """The obvious (quadratic) definition: try each \\boxed{ from the last one backwards."""
    import re

    for m in reversed(list(re.finditer(r"\\boxed\s*\{", text))):
        depth = 1
        for i in range(m.end(), len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[m.end() : i]
    return None


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(["\\boxed{", "\\boxed {", "{", "}", "a", "b ", "[x]"]), max_size=30))
def test_last_boxed_matches_the_reference(parts):
    from redqueen.game import _last_boxed

    text = "".join(parts)
    assert _last_boxed(text) == _reference_last_boxed(text)


def test_hostile_replies_are_rejected_quickly():
    import signal

    state = TicTacToe().new_initial_state()

    def too_slow(*_):
        raise TimeoutError("parsing a hostile reply took more than 20 s")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)
    try:
        for reply in ("\\boxed{" * 200_000, "[" * 1_000_000, "{" * 500_000 + "}" * 10, "x" * 2_000_000):
            with pytest.raises(IllegalAction):
                state.parse_action(0, reply)
        assert state.parse_action(0, "\\boxed{" * 100_000 + "\\boxed{4}") == 4
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _reference_extract(text: str) -> tuple[str, bool]:
    """extract_answer by its definition, without the fast paths of redqueen.game._extract."""
    import re

    answer = _reference_last_boxed(text)
    marked = answer is not None
    if answer is None:
        found = re.findall(r"\[([^\[\]]*)\]", text)
        marked = bool(found)
        answer = found[-1] if found else text
    inner = re.findall(r"\[([^\[\]]*)\]", answer)
    if inner:
        answer = inner[-1]
    answer = re.sub(r"\\(?:text|textbf|mathrm|mathbf)\s*", "", answer).replace("{", "").replace("}", "")
    return answer.strip().strip("'\"`*").strip().rstrip(".!").strip(), marked


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(["[", "]", "\\boxed{", "{", "}", "\\text{", "bet", " ", "'", ".", "4", "*"]),
        max_size=14,
    )
)
def test_extract_matches_its_definition(parts):
    from redqueen.game import _extract

    text = "".join(parts)
    assert _extract(text) == _reference_extract(text)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(2, 3))
def test_kuhn_match_text_summarises_hands_truthfully(seed, rounds):
    """In a match of <= 3 hands every finished hand is summarised; the chips stated add up."""
    import re

    state = KuhnPoker(rounds=rounds).new_initial_state(seed)
    rng = np.random.default_rng(seed)
    while not state.is_terminal():
        state.apply_action(int(rng.integers(2)))
        if state.is_terminal():
            break
        p = state.current_player
        text = state.observation_text(p)
        per_hand = [float(x) for x in re.findall(r"^  Hand \d+: .*; you ([+-]\d+)\.$", text, re.M)]
        assert len(per_hand) == state.hand
        net = float(re.search(r"Your net chips so far: ([+-]?\d+)\.", text).group(1))
        assert sum(per_hand) == net == state.returns()[p]


@pytest.mark.parametrize("name", list(GAMES))
def test_move_table_shortcut_agrees_with_the_general_parser(name):
    """A reply that is exactly a move-table key skips the extraction; the boxed path must agree."""
    game = GAMES[name]()
    for seed in range(20):
        state = game.new_initial_state(seed)
        while not state.is_terminal():
            p = state.current_player
            table = state.move_table(p)
            assert set(table.values()) == set(state.legal_actions(p))
            for key, action in table.items():
                assert state.parse_action(p, key) == action
                assert state.parse_action(p, f"so \\boxed{{{key}}}") == action
            for move in state.legal_actions_text(p):
                assert move in table
            state.apply_action(state.legal_actions()[seed % len(state.legal_actions())])


def test_a_box_inside_brackets_is_the_answer():
    from redqueen.game import _extract

    # found by the property test above: the "[...]" fast path once skipped the box inside
    assert _extract("[\\boxed{}]") == ("", True)
    assert _extract("[\\boxed{bet}]") == ("bet", True)
