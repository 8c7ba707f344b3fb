"""Who-Is-the-Spy's payloads: the built-in word list, user word files, the procedural scenes (exactly m
objects changed, by record and by pixels), picture folders and the blank-spy variant."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from redqueen.envs.spy.game import WhoIsTheSpy
from redqueen.envs.spy.payloads import BLANK_VALUE, ImagePairs, WordPairs, secret_word_pattern
from redqueen.envs.spy.scenes import BACKGROUND, FACTS, Scene, SceneGenerator


def test_the_builtin_list_has_many_pairs_in_several_categories_with_features():
    pairs = WordPairs.builtin()
    assert len(pairs) >= 100 and len(pairs.categories) >= 8
    assert pairs.has_features and len(pairs.vocabulary) == len(set(pairs.vocabulary))
    for p in pairs.pairs:
        assert p.a_only and p.b_only and len(p.shared) >= 2, p  # they share something and differ
        for feature in p.a_features + p.b_features:
            assert feature.isascii() and feature == feature.strip()
            for word in (p.a, p.b):
                assert not secret_word_pattern(word).search(f"It {feature}."), (word, feature)
    words = [w for p in pairs.pairs for w in (p.a, p.b)]
    assert all(w.isascii() for w in words)
    # a deal gives each side its own word's features
    deal = pairs.draw(np.random.default_rng(0))
    pair = pairs.pairs[deal.record["index"]]
    civ = {pairs.vocabulary[i] for i in deal.civilian_attributes}
    spy = {pairs.vocabulary[i] for i in deal.spy_attributes}
    if deal.words[0] == pair.a:
        assert civ == set(pair.a_features) and spy == set(pair.b_features)
    else:
        assert civ == set(pair.b_features) and spy == set(pair.a_features)


def test_both_words_of_a_pair_go_to_the_civilians_over_seeds():
    game = WhoIsTheSpy()
    sides = {game.new_initial_state(seed).deal.words for seed in range(3000)}
    flipped = {(b, a) for a, b in sides}
    assert sides & flipped  # some pair was dealt both ways round


def test_secret_word_pattern():
    pattern = secret_word_pattern("ice cream")
    assert (
        pattern.search("I love ICE-CREAM!")
        and pattern.search("two icecreams")
        and pattern.search("ice creams")
    )
    assert not pattern.search("a nice creamy soup")
    assert not secret_word_pattern("melon").search("It is a watermelon.")


def test_user_word_files_in_every_format(tmp_path):
    bare = tmp_path / "pairs.txt"
    bare.write_text("# my pairs\ncat, dog\n\nsun\tmoon\nfruit | apple | pear\n")
    pairs = WordPairs.load(bare)
    assert [(p.a, p.b, p.category) for p in pairs.pairs] == [
        ("cat", "dog", ""),
        ("sun", "moon", ""),
        ("apple", "pear", "fruit"),
    ]
    assert not pairs.has_features and pairs.vocabulary == ()
    featured = tmp_path / "featured.txt"
    featured.write_text("pets | cat | dog | is a pet; has fur | meows | barks\n")
    one = WordPairs.load(featured)
    assert one.has_features and one.vocabulary == ("barks", "has fur", "is a pet", "meows")
    data = [["tea", "coffee"], {"a": "rain", "b": "snow", "category": "weather", "shared": ["is cold"],
                                 "a_features": ["is wet"], "b_features": ["is white"]}]  # fmt: skip
    (tmp_path / "p.json").write_text(json.dumps(data[1:]))
    assert WordPairs.load(tmp_path / "p.json").pairs[0].b_features == ("is cold", "is white")
    (tmp_path / "mixed.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="some pairs have features and some do not"):
        WordPairs.load(tmp_path / "mixed.json")
    # a file of bare pairs plays in the text view; its discrete view is refused with a reason
    game = WhoIsTheSpy(source=bare)
    state = game.new_initial_state(0)
    assert game.vocabulary_size == 0 and state.legal_actions() == []
    state.apply_action(state.parse_action(state.current_player, "\\boxed{It is an animal.}"))
    from redqueen.envs import whoisthespy_v0

    with pytest.raises(ValueError, match="no attribute vocabulary"):
        whoisthespy_v0.env(source=bare)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cat | cat\n", "both words are 'cat'"),
        ("cat | dog\ndog | cat\n", "already on line 1"),
        ("a | b | c | d\n", "got 4 field"),
        ("pets | cat | dog | is a cat lover | meows | barks\n", "names the word 'cat'"),
        ("cat | d{o}g\n", "is not a plain word"),
        ("# nothing\n\n", "no word pairs found"),
    ],
)
def test_bad_word_files_are_rejected_with_the_line(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        WordPairs.load(path)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    low=st.integers(2, 8),
    extra=st.integers(0, 4),
    changes=st.integers(1, 2),
    size=st.sampled_from([64, 80, 100]),
)
def test_scene_pairs_differ_in_exactly_m_objects_by_record_and_by_pixels(seed, low, extra, changes, size):
    generator = SceneGenerator(image_size=size, objects=(low, low + extra), changes=changes)
    deal = generator.draw(np.random.default_rng(seed))
    civ = Scene.from_dict(deal.record["civilian_scene"])
    spy = Scene.from_dict(deal.record["spy_scene"])
    assert low <= len(civ.objects) <= low + extra and len(civ.objects) == len(spy.objects)
    changed = [i for i, (a, b) in enumerate(zip(civ.objects, spy.objects, strict=True)) if a != b]
    assert len(changed) == changes == len(deal.record["changes"])
    assert [c["object"] for c in deal.record["changes"]] == changed
    for i in changed:
        a, b = civ.objects[i], spy.objects[i]
        assert a.shape != b.shape and a.colour != b.colour and (a.size, a.x, a.y) == (b.size, b.x, b.y)
    # the pixels differ inside every changed object's box (its old or new shape) and nowhere else
    civ_image, spy_image = deal.images()
    np.testing.assert_array_equal(civ_image, civ.render())
    np.testing.assert_array_equal(spy_image, spy.render())
    differs = (civ_image != spy_image).any(axis=2)
    inside = np.zeros_like(differs)
    cover = np.zeros(differs.shape, dtype=int)  # how many objects' boxes cover each pixel
    for i in range(len(civ.objects)):
        box = np.zeros_like(differs)
        for scene in (civ, spy):
            left, top, right, bottom = scene.bounding_box(i)
            box[top:bottom, left:right] = True
        cover += box
        if i in changed:
            assert differs[box].any()
            inside |= box
    assert not differs[~inside].any()
    assert cover.max() == 1  # objects never overlap
    assert deal.civilian_attributes == civ.facts() and deal.spy_attributes == spy.facts()
    assert all(FACTS[f].startswith("a ") for f in civ.facts())


def test_scene_pictures_show_their_objects_in_their_colours():
    scene = SceneGenerator(image_size=128).generate(np.random.default_rng(3))
    image = scene.render()
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8
    from redqueen.envs.spy.scenes import COLOURS

    for obj in scene.objects:
        assert tuple(image[obj.y, obj.x]) == COLOURS[obj.colour]  # the centre has the object's colour
    assert tuple(image[0, 0]) == BACKGROUND or any(o.x < 20 and o.y < 20 for o in scene.objects)


def _save(path, colour):
    Image.new("RGB", (20, 10), colour).save(path)


def test_picture_folders_in_vision_zeros_layout_and_as_two_folders(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    _save(folder / "kitchen_original.png", (10, 20, 30))
    _save(folder / "kitchen_modified.png", (40, 50, 60))
    _save(folder / "park_original.jpg", (200, 0, 0))
    _save(folder / "park_modified.png", (0, 200, 0))
    (folder / "notes.txt").write_text("not a picture")
    pairs = ImagePairs.from_folder(folder)
    assert [name for name, _, _ in pairs.pairs] == ["kitchen", "park"]
    game = WhoIsTheSpy(payload="images", source=folder)
    state = game.new_initial_state(0)
    civ, spy = state.deal.images()
    name = state.deal.record["name"]
    expected = {"kitchen": ((10, 20, 30), (40, 50, 60)), "park": ((200, 0, 0), (0, 200, 0))}[name]
    assert tuple(civ[0, 0]) == expected[0] and tuple(spy[0, 0]) == expected[1]
    np.testing.assert_array_equal(state.observation_image(state.spy), spy)
    again = WhoIsTheSpy(payload="images", source=folder).new_initial_state(0)
    assert again.deal.record == state.deal.record and again.spy == state.spy
    # two folders, paired by file name
    a, b = tmp_path / "civ", tmp_path / "spy"
    a.mkdir(), b.mkdir()
    _save(a / "x.png", (1, 1, 1))
    _save(b / "x.png", (2, 2, 2))
    two = WhoIsTheSpy(payload="images", source=(a, b)).new_initial_state(5)
    assert tuple(two.deal.image(True)[0, 0]) == (2, 2, 2)
    # the blank-spy variant: the spy's picture is blank, the civilians' unchanged
    blank = WhoIsTheSpy(payload="images", source=(a, b), blank_spy=True).new_initial_state(5)
    assert (blank.deal.image(True) == BLANK_VALUE).all() and tuple(blank.deal.image(False)[0, 0]) == (1, 1, 1)
    assert "Your picture is blank" in blank.observation_text(blank.spy)


def test_unmatched_pictures_are_rejected_naming_them(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    _save(folder / "a_original.png", (0, 0, 0))
    _save(folder / "a_modified.png", (0, 0, 0))
    _save(folder / "b_original.png", (0, 0, 0))
    _save(folder / "c_modified.png", (0, 0, 0))
    _save(folder / "d.png", (0, 0, 0))
    with pytest.raises(ValueError) as err:
        ImagePairs.from_folder(folder)
    message = str(err.value)
    assert "3 picture(s) without a partner" in message
    assert "b_original.png has no b_modified picture" in message
    assert "c_modified.png has no c_original picture" in message
    assert "d.png is named neither" in message
    a, b = tmp_path / "civ", tmp_path / "spy"
    a.mkdir(), b.mkdir()
    _save(a / "x.png", (0, 0, 0))
    _save(a / "y.png", (0, 0, 0))
    _save(b / "x.png", (0, 0, 0))
    with pytest.raises(ValueError, match=r"y.png is in .*civ but not in .*spy"):
        ImagePairs.from_folders(a, b)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no <name>_original"):
        ImagePairs.from_folder(empty)
    with pytest.raises(ValueError, match="is not a folder"):
        ImagePairs.from_folder(tmp_path / "missing")
    (folder / "a_original.png").write_text("broken")
    for p in ["b_original.png", "c_modified.png", "d.png"]:
        (folder / p).unlink()
    state = WhoIsTheSpy(payload="images", source=folder).new_initial_state(0)
    with pytest.raises(ValueError, match="cannot read the picture"):
        state.observation_image(0)


def test_blank_spy_scenes():
    game = WhoIsTheSpy(payload="scenes", image_size=64, blank_spy=True)
    state = game.new_initial_state(2)
    assert (state.observation_image(state.spy) == BLANK_VALUE).all()
    civilian = next(p for p in range(4) if p != state.spy)
    assert state.observation_image(civilian).std() > 0
    assert state.attributes(state.spy) == frozenset() and state.attributes(civilian)
    assert state.deal.record["blank_spy"] and state.deal.record["changes"]
