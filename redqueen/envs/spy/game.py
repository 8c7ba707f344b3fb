"""Who-Is-the-Spy as a redqueen game: Vision-Zero's game for pictures, and the classic word game.

``players`` players (default 4): the spy's seat is drawn by the seed; the civilians get payload A and
the spy payload B (a word, or a picture: see :mod:`redqueen.envs.spy.payloads`). With
``spy_knows_role=True`` (Vision-Zero) every player is told its role; with False (classic Undercover)
nobody is, and every player votes.

**Clue stage**: ``rounds`` rounds (default 2); in each, every player in turn (seats in order, or with
``order="seeded"`` an order drawn per round) gives one public clue. A clue is one sentence about the
player's own payload; in the word game it must not contain the player's secret word. A text clue
that breaks a rule is an invalid answer (:class:`~redqueen.IllegalAction` with the reason), which the
text env and the match runner handle with their invalid-answer policy. The discrete view's clues are
the payload's attribute vocabulary (actions ``0 .. V-1``: the features of the word list, or the
facts of the procedural scenes), so RL agents can play; a text clue that says exactly a vocabulary
sentence ("It grows on trees.") is that attribute.

**Decision stage**: every civilian votes a player (action ``V + j``) or "n/a" (``V + N``), privately
and at once (``current_player == SIMULTANEOUS``; ``simultaneous_vote=False`` asks the voters one
after another instead, none seeing another's vote: the AEC form PettingZoo uses for simultaneous
moves). The spy does not vote (unless nobody knows their role). The spy is *caught* when it gets
more votes than every other player.

**Returns** (both parts are kept, so a trainer can use either stage, as Iterative-SPO does):

* :meth:`SpyState.clue_returns`, zero-sum: with ``v`` the votes each player received and ``v_c`` the
  civilians' mean, the spy gets ``-beta (v_s - v_c)`` and civilian ``j`` gets
  ``(beta / n_c)(v_s - v_c) - lam (v_j - v_c)`` (``beta = lam = 0.1``);
* :meth:`SpyState.decision_returns`: each civilian vote scores +1 (the spy), -0.5 ("n/a") or -1
  (anyone else); the spy's is 0;
* :meth:`SpyState.outcome_returns`: +1 for the winning side, -1 for the losing side.

``returns()`` gives ``reward="both"`` (clue + decision, default), ``"clue"``, ``"decision"`` or
``"outcome"``.

**Variants**: ``variant="vision_zero"`` (default) plays one decision stage; ``variant="elimination"``
is classic Undercover: after each set of clue rounds the most-voted player (a unique maximum) is
out; the civilians win when the spy is out, the spy wins when only two players are left or after
``max_cycles`` cycles. ``blank_spy=True`` is Vision-Zero v2's variant: the spy's picture is blank.

**Views**: the text view (role, own word or picture, every clue so far, the clue or vote prompt with
``\\boxed{}``; a picture goes into the text as a Markdown ``data:`` URI image, which the LLM agents send
to an OpenAI-compatible server as an image part; ``image_text="describe"`` writes a procedural scene
out in words instead, ``"none"`` leaves it out), :meth:`SpyState.observation_image` (the player's
picture, uint8), and the tensor view (float32, see :class:`Layout`; with ``image_observation=True``
a dict of that vector and the picture).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import gymnasium
import numpy as np

from redqueen.envs.spy.payloads import Deal, ImagePairs, WordPairs, secret_word_pattern
from redqueen.envs.spy.scenes import SceneGenerator
from redqueen.game import (
    SIMULTANEOUS,
    TERMINAL,
    Game,
    IllegalAction,
    State,
    check_player,
    extract_answer,
    make_rng,
    normalize_move,
)

__all__ = ["NA", "Layout", "SpyState", "WhoIsTheSpy"]

NA = "n/a"
VARIANTS = ("vision_zero", "elimination")
REWARDS = ("both", "clue", "decision", "outcome")
ORDERS = ("fixed", "seeded")
IMAGE_TEXT = ("uri", "describe", "none")
MAX_CLUE_CHARS = 300
MAX_REPLY_CHARS = 20_000
CLUE_MOVE = "[one sentence about your {what}]"
_NA_WORDS = frozenset({"n/a", "na", "n.a", "n. a", "none", "nobody", "no one", "abstain", "pass", "[n/a]"})
_VOTE = re.compile(r"^(?:player|p|seat)?\s*#?\s*(-?\d+)$")
_VOTE_IN_TEXT = re.compile(r"\bplayer\s*#?\s*(-?\d+)\b")
_SENTENCE_BREAK = re.compile(r"[.!?]+[\"')\]]*\s+(?=[\"'(]?[A-Z0-9])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_IMAGE_URI_SIZE_HINT = 2**22


class Layout:
    """Where each part of the tensor view lies (float32 vector, all values in [0, 1]).

    ``seat`` one-hot (N); ``role``: known civilian, known spy, not told (3); ``phase``: clue, vote,
    over (3); ``round``: one-hot clue round of the current cycle (R); ``cycle``: cycles played /
    ``max_cycles`` (1); ``alive`` (N); ``own``: attributes of the observer's payload (V); ``said``: for
    every player, the attributes it said in the current cycle (N x V); ``slots``: for every (round,
    player) of the current cycle, [spoke, a free-text clue, the clue is true of the observer's payload]
    (R x N x 3); ``tally``: share of the last decision stage's votes each player received (N; shown
    once that stage is over).
    """

    seat: slice
    role: slice
    phase: slice
    round: slice
    cycle: slice
    alive: slice
    own: slice
    said: slice
    slots: slice
    tally: slice

    def __init__(self, players: int, rounds: int, vocabulary: int):
        self.players, self.rounds, self.vocabulary = players, rounds, vocabulary
        n, r, v = players, rounds, vocabulary
        sizes = [
            ("seat", n), ("role", 3), ("phase", 3), ("round", r), ("cycle", 1), ("alive", n),
            ("own", v), ("said", n * v), ("slots", r * n * 3), ("tally", n),
        ]  # fmt: skip
        start = 0
        for name, size in sizes:
            setattr(self, name, slice(start, start + size))
            start += size
        self.size: int = start
        """Length of the vector."""

    def __repr__(self) -> str:
        n, r, v = self.players, self.rounds, self.vocabulary
        return f"Layout(players={n}, rounds={r}, vocabulary={v}, size={self.size})"


def _one_sentence(text: str) -> int:
    """How many sentences ``text`` has (a break is . ! or ? followed by a capital or a digit)."""
    return len(_SENTENCE_BREAK.split(text.strip()))


class SpyState(State):
    """One game of Who-Is-the-Spy (see the module docstring)."""

    def __init__(self, game: WhoIsTheSpy, rng: np.random.Generator):
        self.game = game
        n = game.num_players
        self.spy = int(rng.integers(n))
        """The spy's seat."""
        deal = game.source.draw(rng)
        self.deal: Deal = deal.blanked() if game.blank_spy else deal
        """This game's payloads (:class:`~redqueen.envs.spy.payloads.Deal`)."""
        cycles, rounds = game.max_cycles, game.rounds
        if game.order == "seeded":
            self._orders = [
                [[int(p) for p in rng.permutation(n)] for _ in range(rounds)] for _ in range(cycles)
            ]
        else:
            self._orders = [[list(range(n)) for _ in range(rounds)] for _ in range(cycles)]
        self.alive = [True] * n
        self.cycle = 0
        self.round = 0
        self._turn = 0  # place in this round's order of the next speaker
        self.phase = "clue"
        self.clues: list[dict[str, Any]] = []
        """Every clue: ``cycle``, ``round``, ``player``, ``action``, ``text``, ``attribute`` (or None)."""
        self.votes: list[dict[int, int | None]] = []
        """One dict per decision stage: voter -> voted seat (None = "n/a")."""
        self.eliminated: list[int] = []
        self.winner: str | None = None
        """``"civilians"`` or ``"spy"`` once the game is over (None after a forfeit)."""
        self._pending: dict[int, int | None] = {}  # votes cast so far (simultaneous_vote=False)
        self._free: dict[int, tuple[int, str]] = {}  # free-text clue id -> (player, text)
        self._next_free = game.num_distinct_actions
        self._clue = np.zeros(n, dtype=np.float64)
        self._decision = np.zeros(n, dtype=np.float64)
        self._forced: np.ndarray | None = None
        self._speaker = -1
        self._advance_speaker()

    # ---- roles and payloads ----------------------------------------------------------------------
    def is_spy(self, player: int) -> bool:
        return player == self.spy

    def role(self, player: int) -> str:
        return "spy" if player == self.spy else "civilian"

    def roles(self) -> list[str]:
        return [self.role(p) for p in range(self.game.num_players)]

    def attributes(self, player: int) -> frozenset[int]:
        """Vocabulary ids true of ``player``'s payload."""
        return self.deal.attributes(player == self.spy)

    def word(self, player: int) -> str:
        return self.deal.word(player == self.spy)

    def observation_image(self, player: int) -> np.ndarray:
        """``player``'s picture as a read-only (H, W, 3) uint8 array (image games only)."""
        player = check_player(self.game, player)
        if self.deal.kind != "images":
            raise ValueError("a word game has no pictures; make the game with payload='scenes' or 'images'")
        return self.deal.image(player == self.spy)

    # ---- rules -----------------------------------------------------------------------------------
    def _advance_speaker(self) -> None:
        """Point at the next live speaker of the clue stage, or open the decision stage."""
        game = self.game
        while self.round < game.rounds:
            order = self._orders[self.cycle][self.round]
            while self._turn < len(order):
                p = order[self._turn]
                if self.alive[p]:
                    self._speaker = p
                    return
                self._turn += 1
            self.round += 1
            self._turn = 0
        self._speaker = -1
        self.phase = "vote"
        self._pending = {}

    def voters(self) -> list[int]:
        """Who votes in the decision stage now: the live civilians (every live player when nobody
        knows their role)."""
        return [
            p
            for p in range(self.game.num_players)
            if self.alive[p] and (p != self.spy or not self.game.spy_knows_role)
        ]

    @property
    def current_player(self) -> int:
        if self.phase == "over":
            return TERMINAL
        if self.phase == "clue":
            return self._speaker
        if self.game.simultaneous_vote:
            return SIMULTANEOUS
        return next(p for p in self.voters() if p not in self._pending)

    def _to_vote(self, player: int) -> bool:
        if self.phase != "vote" or player not in self.voters():
            return False
        if self.game.simultaneous_vote:
            return True
        return self.current_player == player

    def _vote_actions(self, player: int) -> list[int]:
        v, n = self.game.vocabulary_size, self.game.num_players
        return [v + j for j in range(n) if j != player and self.alive[j]] + [v + n]

    def legal_actions(self, player: int | None = None) -> list[int]:
        if self.phase == "over":
            return []
        if player is None:
            if self.current_player == SIMULTANEOUS:
                raise ValueError("a simultaneous vote: name the player whose legal actions you want")
            player = self.current_player
        player = check_player(self.game, player)
        if self.phase == "clue":
            return list(self.game.clue_actions(self, player)) if player == self._speaker else []
        return self._vote_actions(player) if self._to_vote(player) else []

    def action_mask(self, player: int) -> np.ndarray:
        player = check_player(self.game, player)
        if self.phase == "clue" and player == self._speaker:
            return self.game.clue_mask(self, player).copy()
        mask = np.zeros(self.game.num_distinct_actions, dtype=np.int8)
        if self.phase == "vote" and self._to_vote(player):
            mask[self._vote_actions(player)] = 1
        return mask

    def _clue_reason(self, player: int, action: int) -> str | None:
        """Why ``action`` is not a clue ``player`` may give now (None: it may)."""
        game = self.game
        if 0 <= action < game.vocabulary_size:
            if game.clue_mask(self, player)[action]:
                return None
            return f"the clue {game.source.clue_text(action)!r} contains your secret word."
        owner = self._free.get(action)
        if owner is not None:
            if owner[0] != player:
                return f"clue {action} was written by player {owner[0]}, not by you."
            return None
        if game.vocabulary_size <= action < game.num_distinct_actions:
            return "it is the clue stage: give a clue, not a vote."
        return f"action {action} is no clue of this game."

    def apply_action(self, action: int) -> None:
        game = self.game
        if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer):
            raise IllegalAction(f"an action is an integer index, not {type(action).__name__} {action!r:.60}.")
        action = int(action)
        if self.phase == "over":
            raise IllegalAction("the game is over; no move can be played.")
        if self.phase == "vote":
            if game.simultaneous_vote:
                raise IllegalAction("the vote is simultaneous: play it with apply_actions({player: vote}).")
            voter = self.current_player
            self._pending[voter] = self._check_vote(voter, action)
            if len(self._pending) == len(self.voters()):
                self._resolve(self._pending)
            return
        player = self._speaker
        reason = self._clue_reason(player, action)
        if reason is not None:
            raise IllegalAction(reason, legal_moves=self.legal_actions_text(player))
        if action < game.vocabulary_size:
            text, attribute = game.source.clue_text(action), action
        else:
            text, attribute = self._free[action][1], None
        self.clues.append(
            {
                "cycle": self.cycle,
                "round": self.round,
                "player": player,
                "action": action,
                "text": text,
                "attribute": attribute,
            }
        )
        self._turn += 1
        self._advance_speaker()

    def _check_vote(self, player: int, action: Any) -> int | None:
        """The seat (None = "n/a") a vote action stands for; IllegalAction if it is not legal."""
        if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer):
            raise IllegalAction(f"a vote is an integer action, not {type(action).__name__} {action!r:.60}.")
        action = int(action)
        v, n = self.game.vocabulary_size, self.game.num_players
        if not self._to_vote(player):
            raise IllegalAction(f"player {player} does not vote now.")
        if action == v + n:
            return None
        if not v <= action < v + n:
            raise IllegalAction(
                f"action {action} is not a vote (votes are {v}..{v + n}: a player or n/a).",
                legal_moves=self.legal_actions_text(player),
            )
        return self._check_target(player, action - v)

    def _check_target(self, player: int, target: int) -> int:
        n = self.game.num_players
        legal = self.legal_actions_text(player)
        if not 0 <= target < n:
            raise IllegalAction(
                f"there is no player {target}: the players are 0 to {n - 1}.", legal_moves=legal
            )
        if target == player:
            raise IllegalAction("you cannot vote for yourself.", legal_moves=legal)
        if not self.alive[target]:
            raise IllegalAction(f"player {target} is out of the game.", legal_moves=legal)
        return target

    def apply_actions(self, actions: Mapping[int, int]) -> None:
        if self.phase != "vote":
            raise IllegalAction("only the vote is simultaneous; clues are given with apply_action(action).")
        if not self.game.simultaneous_vote:
            raise IllegalAction(
                "this game asks the voters one by one (simultaneous_vote=False): use apply_action."
            )
        voters = self.voters()
        given = {check_player(self.game, p) for p in actions}
        missing, extra = sorted(set(voters) - given), sorted(given - set(voters))
        if missing or extra:
            raise IllegalAction(
                f"every voter votes at once: the voters are {voters}; missing {missing}, not voting {extra}."
            )
        votes = {int(p): self._check_vote(int(p), a) for p, a in actions.items()}
        self._resolve(votes)

    def _resolve(self, votes: Mapping[int, int | None]) -> None:
        """Score a decision stage, then end the game or start the next cycle."""
        game = self.game
        n = game.num_players
        votes = {p: votes[p] for p in sorted(votes)}
        self.votes.append(votes)
        self._pending = {}
        received = np.zeros(n, dtype=np.float64)
        for target in votes.values():
            if target is not None:
                received[target] += 1
        # clue stage returns: zero-sum between the spy and the live civilians
        civilians = [p for p in range(n) if self.alive[p] and p != self.spy]
        mean_c = float(received[civilians].mean()) if civilians else 0.0
        gap = received[self.spy] - mean_c
        self._clue[self.spy] += -game.beta * gap
        for j in civilians:
            self._clue[j] += game.beta / len(civilians) * gap - game.lam * (received[j] - mean_c)
        # decision returns: the civilians' votes are judged
        for voter, target in votes.items():
            if voter == self.spy:
                continue
            self._decision[voter] += 1.0 if target == self.spy else (-0.5 if target is None else -1.0)
        top = received.max()
        leaders = np.flatnonzero(received == top)
        out = int(leaders[0]) if top > 0 and len(leaders) == 1 else None
        if game.variant == "vision_zero":
            self._finish("civilians" if out == self.spy else "spy")
            return
        if out is not None:
            self.alive[out] = False
            self.eliminated.append(out)
            if out == self.spy:
                self._finish("civilians")
                return
        self.cycle += 1
        if sum(self.alive) <= 2 or self.cycle >= game.max_cycles:
            self._finish("spy")
            return
        self.phase = "clue"
        self.round = 0
        self._turn = 0
        self._advance_speaker()

    def _finish(self, winner: str) -> None:
        self.winner = winner
        self.phase = "over"
        self._speaker = -1

    @property
    def caught(self) -> bool | None:
        """Whether the civilians won (the spy was caught / voted out); None before the end or after a
        forfeit."""
        return None if self.winner is None else self.winner == "civilians"

    def is_terminal(self) -> bool:
        return self.phase == "over"

    def clue_returns(self) -> np.ndarray:
        """The clue stage's zero-sum returns so far (see the module docstring)."""
        return self._clue.copy()

    def decision_returns(self) -> np.ndarray:
        """The decision stage's returns so far: +1 / -0.5 / -1 per civilian vote, 0 for the spy."""
        return self._decision.copy()

    def outcome_returns(self) -> np.ndarray:
        """+1 for each player of the winning side and -1 for the others (zeros before the end)."""
        out = np.zeros(self.game.num_players, dtype=np.float64)
        if self.winner is not None:
            civ = 1.0 if self.winner == "civilians" else -1.0
            out[:] = civ
            out[self.spy] = -civ
        return out

    def returns(self) -> np.ndarray:
        if self._forced is not None:
            return self._forced.copy()
        reward = self.game.reward
        if reward == "clue":
            return self.clue_returns()
        if reward == "decision":
            return self.decision_returns()
        if reward == "outcome":
            return self.outcome_returns()
        return self._clue + self._decision

    def _set_forfeit(self, returns: np.ndarray) -> None:
        self._forced = np.asarray(returns, dtype=np.float64)
        self.phase = "over"
        self._speaker = -1
        self._pending = {}

    def clone(self) -> SpyState:
        twin = SpyState.__new__(SpyState)
        twin.__dict__.update(self.__dict__)
        twin.alive = list(self.alive)
        twin.clues = [dict(c) for c in self.clues]
        twin.votes = [dict(v) for v in self.votes]
        twin.eliminated = list(self.eliminated)
        twin._pending = dict(self._pending)
        twin._free = dict(self._free)
        twin._clue = self._clue.copy()
        twin._decision = self._decision.copy()
        twin._forced = None if self._forced is None else self._forced.copy()
        return twin

    def history(self) -> list[int]:
        out = [c["action"] for c in self.clues]
        v, n = self.game.vocabulary_size, self.game.num_players
        for stage in self.votes:
            out += [v + n if t is None else v + t for t in stage.values()]
        return out

    # ---- tensor view -----------------------------------------------------------------------------
    def observation_tensor(self, player: int) -> Any:
        player = check_player(self.game, player)
        features = self._features(player)
        if not self.game.image_observation:
            return features
        return {"features": features, "image": self.game.tensor_image(self.observation_image(player))}

    def _features(self, player: int) -> np.ndarray:
        game, lay = self.game, self.game.layout
        n, v = game.num_players, game.vocabulary_size
        x = np.zeros(lay.size, dtype=np.float32)
        x[lay.seat.start + player] = 1.0
        if game.spy_knows_role:
            x[lay.role.start + (1 if player == self.spy else 0)] = 1.0
        else:
            x[lay.role.start + 2] = 1.0
        x[lay.phase.start + ("clue", "vote", "over").index(self.phase)] = 1.0
        if self.phase == "clue":
            x[lay.round.start + self.round] = 1.0
        x[lay.cycle.start] = self.cycle / game.max_cycles
        x[lay.alive] = self.alive
        own = self.attributes(player)
        if own:
            x[lay.own.start + np.fromiter(own, dtype=np.int64)] = 1.0
        said, slots = lay.said.start, lay.slots.start
        for clue in self.clues:
            if clue["cycle"] != self.cycle:
                continue
            p, r, a = clue["player"], clue["round"], clue["attribute"]
            slot = slots + (r * n + p) * 3
            x[slot] = 1.0
            if a is None:
                x[slot + 1] = 1.0
            else:
                x[said + p * v + a] = 1.0
                x[slot + 2] = float(a in own)
        if self.votes and (self.phase == "over" or game.variant == "elimination"):
            last = self.votes[-1]
            for target in last.values():
                if target is not None:
                    x[lay.tally.start + target] += 1.0 / max(len(last), 1)
        return x

    # ---- text view -------------------------------------------------------------------------------
    def action_to_text(self, player: int, action: int) -> str:
        game = self.game
        v, n = game.vocabulary_size, game.num_players
        if 0 <= action < v:
            return game.source.clue_text(action)
        if v <= action < v + n:
            return str(action - v)
        if action == v + n:
            return NA
        if action in self._free:
            return self._free[action][1]
        raise IllegalAction(f"action {action} is no move of this game.")

    def legal_actions_text(self, player: int | None = None) -> list[str]:
        if self.phase == "over":
            return []
        if player is None:
            if self.current_player == SIMULTANEOUS:
                raise ValueError("a simultaneous vote: name the player whose legal moves you want")
            player = self.current_player
        if self.phase == "clue":
            if player != self._speaker:
                return []
            return [CLUE_MOVE.format(what="word" if self.deal.kind == "words" else "picture")]
        return [f"[{self.action_to_text(player, a)}]" for a in self.legal_actions(player)]

    def parse_action(self, player: int, text: str) -> int:
        """A clue or a vote from a free-form reply.

        Clue stage: the clue is the reply's final answer (the last ``\\boxed{}`` or ``[...]``, else the
        whole reply): one sentence of at most ``MAX_CLUE_CHARS`` characters, without the player's
        secret word (word games). A clue that says a vocabulary sentence is that attribute's action;
        any other is kept under a new action id. Decision stage: a player number (``2``,
        ``player 2``) or ``n/a``.
        """
        player = check_player(self.game, player)
        if self.phase == "over":
            raise IllegalAction("the game is over; no move can be played.", answer=text)
        if not isinstance(text, str):
            raise IllegalAction(f"expected a text answer, got {type(text).__name__} {text!r:.80}.")
        if len(text) > MAX_REPLY_CHARS:
            raise IllegalAction(
                f"the reply has {len(text)} characters; at most {MAX_REPLY_CHARS} are read.",
                answer=text[:200],
            )
        if self.phase == "clue":
            if player != self._speaker:
                raise IllegalAction(f"player {player} is not to give a clue now.", answer=text)
            return self._parse_clue(player, text)
        if not self._to_vote(player):
            raise IllegalAction(f"player {player} does not vote now.", answer=text)
        return self._parse_vote(player, text)

    def _parse_clue(self, player: int, text: str) -> int:
        game = self.game
        legal = self.legal_actions_text(player)
        clue = " ".join(_CONTROL.sub(" ", extract_answer(text)).split())
        if not clue:
            raise IllegalAction("the clue is empty.", legal_moves=legal, answer=text)
        if len(clue) > MAX_CLUE_CHARS:
            raise IllegalAction(
                f"the clue has {len(clue)} characters; a clue is one sentence of at most {MAX_CLUE_CHARS}.",
                legal_moves=legal,
                answer=text,
            )
        sentences = _one_sentence(clue)
        if sentences > 1:
            raise IllegalAction(
                f"a clue is one sentence, and this one has {sentences}: {clue[:80]!r}.",
                legal_moves=legal,
                answer=text,
            )
        if self.deal.kind == "words" and game.word_pattern(self.word(player)).search(clue):
            raise IllegalAction(
                f"the clue {clue[:80]!r} contains your secret word {self.word(player)!r}; describe it "
                "without saying it.",
                legal_moves=legal,
                answer=text,
            )
        attribute = game.clue_index(clue)
        if attribute is not None and game.clue_mask(self, player)[attribute]:
            return attribute
        action = self._next_free
        self._next_free += 1
        self._free[action] = (player, clue)
        return action

    def _parse_vote(self, player: int, text: str) -> int:
        v, n = self.game.vocabulary_size, self.game.num_players
        legal = self.legal_actions_text(player)
        answer = normalize_move(extract_answer(text)).strip("[]() ")
        if answer in _NA_WORDS:
            return v + n
        match = _VOTE.match(answer)
        if match is None and len(answer.split()) <= 8:
            found = set(_VOTE_IN_TEXT.findall(answer))
            if len(found) == 1:
                match = _VOTE.match(found.pop())
        if match is None:
            shown = answer if len(answer) <= 60 else answer[:57] + "..."
            raise IllegalAction(
                f"the vote names no player: {shown!r} (vote a player number or n/a).",
                legal_moves=legal,
                answer=text,
            )
        try:
            return v + self._check_target(player, int(match.group(1)))
        except IllegalAction as err:
            raise IllegalAction(err.reason, legal_moves=legal, answer=text) from None

    def _payload_text(self, player: int) -> str:
        game, deal = self.game, self.deal
        spy = player == self.spy
        if deal.kind == "words":
            return f"Your secret word: {self.word(player)}"
        if game.image_text == "uri":
            return f"Your picture: ![your picture]({deal.data_uri(spy)})"
        if game.image_text == "describe":
            return "Your picture shows:\n" + deal.description(spy)
        return "(Your picture is shown to you separately.)"

    def _clue_lines(self, player: int) -> list[str]:
        lines = []
        for cycle in range(self.cycle + 1):
            mine = [c for c in self.clues if c["cycle"] == cycle]
            if not mine:
                continue
            for r in range(self.game.rounds):
                said = [c for c in mine if c["round"] == r]
                if said:
                    head = (
                        f"Cycle {cycle + 1}, round {r + 1}"
                        if self.game.variant == "elimination"
                        else f"Round {r + 1}"
                    )
                    parts = "; ".join(
                        f'Player {c["player"]}{" (you)" if c["player"] == player else ""}: "{c["text"]}"'
                        for c in said
                    )
                    lines.append(f"{head}: {parts}")
            if cycle < len(self.votes) and self.game.variant == "elimination":
                gone = self._eliminated_in(cycle)
                who = "the spy" if gone == self.spy else "a civilian"
                lines.append(
                    f"Vote {cycle + 1}: player {gone} was voted out ({who})."
                    if gone is not None
                    else f"Vote {cycle + 1}: nobody had the most votes alone, so nobody was voted out."
                )
        return lines

    def _eliminated_in(self, cycle: int) -> int | None:
        """The player voted out by decision stage ``cycle`` (None if nobody was)."""
        received = np.zeros(self.game.num_players)
        for t in self.votes[cycle].values():
            if t is not None:
                received[t] += 1
        leaders = np.flatnonzero(received == received.max())
        return int(leaders[0]) if received.max() > 0 and len(leaders) == 1 else None

    def observation_text(self, player: int) -> str:
        player = check_player(self.game, player)
        game = self.game
        lines = [f"You are Player {player} of {game.num_players} in Who Is the Spy?", game.rules_text]
        if game.spy_knows_role:
            if player == self.spy:
                lines.append(f"Your role: the spy. {self.deal.spy_hint} Blend in: do not give yourself away.")
            else:
                thing = "word" if self.deal.kind == "words" else "picture"
                lines.append(f"Your role: civilian. Find the spy, without giving your {thing} away to it.")
        else:
            lines.append("You are not told whether you are a civilian or the spy.")
        lines.append(self._payload_text(player))
        alive = [p for p in range(game.num_players) if self.alive[p]]
        if len(alive) < game.num_players:
            lines.append(f"Players still in the game: {', '.join(map(str, alive))}.")
        clue_lines = self._clue_lines(player)
        lines.append("Clues so far:" if clue_lines else "No clues have been given yet.")
        lines += [f"  {line}" for line in clue_lines]
        if self.phase == "over":
            lines.append(self._result_text(player))
        elif self.phase == "clue":
            if player == self._speaker:
                what = "word" if self.deal.kind == "words" else "picture"
                rule = " without saying the word" if self.deal.kind == "words" else ""
                advice = (
                    "Say something true of your picture that fits what the others said."
                    if player == self.spy and game.spy_knows_role
                    else "Give a specific detail that was not said before."
                )
                lines.append(
                    f"Round {self.round + 1} of {game.rounds}: your turn. Give one clue: one sentence about "
                    f"your {what}{rule}. {advice} Put your clue within \\boxed{{}}, e.g. "
                    f"\\boxed{{{game.example_clue}}}"
                )
            else:
                lines.append(f"Waiting for Player {self._speaker} to give a clue.")
        elif self._to_vote(player):
            targets = ", ".join(str(a - game.vocabulary_size) for a in self._vote_actions(player)[:-1])
            lines.append(
                "Decision: vote in secret for the player you think is the spy: a player number "
                f"({targets}) or n/a if you cannot tell. Put your vote within \\boxed{{}}, e.g. "
                f"\\boxed{{{targets.split(', ')[0]}}} or \\boxed{{n/a}}."
            )
        else:
            lines.append("The civilians are voting; you do not vote.")
        return "\n".join(lines)

    def _result_text(self, player: int) -> str:
        game = self.game
        if self.winner is None:
            return f"The game is over (a forfeit). Your return: {self.returns()[player]:+.3f}."
        what = (
            f"the spy's word was {self.deal.word(True)!r} and the civilians' {self.deal.word(False)!r}"
            if self.deal.kind == "words"
            else "its picture differed from the civilians'"
        )
        result = "The spy was caught." if self.winner == "civilians" else "The spy got away."
        tallies = []
        if self.votes:
            received = np.zeros(game.num_players, dtype=int)
            for t in self.votes[-1].values():
                if t is not None:
                    received[t] += 1
            tallies.append(
                "Votes received in the last vote: "
                + ", ".join(f"player {p}: {int(c)}" for p, c in enumerate(received))
                + "."
            )
        return " ".join(
            [
                f"The game is over. The spy was Player {self.spy} ({what}). {result}",
                *tallies,
                f"Your return: {self.returns()[player]:+.3f} (clue stage {self._clue[player]:+.3f}, "
                f"votes {self._decision[player]:+.3f}).",
            ]
        )

    def render(self) -> str:
        deal = self.deal
        if deal.kind == "words":
            payload = f"civilians {deal.word(False)!r}, spy {deal.word(True)!r}"
        else:
            payload = f"pictures {deal.record.get('source')}" + (
                " (blank spy)" if self.game.blank_spy else ""
            )
        clues = "; ".join(f"{c['player']}: {c['text']}" for c in self.clues) or "none"
        status = "over: " + (self.winner or "forfeit") if self.phase == "over" else f"{self.phase} stage"
        return (
            f"Who Is the Spy, spy = player {self.spy}, {payload}; clues: {clues}; votes: {self.votes}; "
            f"{status}"
        )

    def __repr__(self) -> str:
        return f"<SpyState {self.render()}>"


def _check_int(value: Any, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_choice(value: Any, what: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


class WhoIsTheSpy(Game):
    """Who-Is-the-Spy (see the module docstring).

    Args:
        players: players in a game (>= 3): one spy, the others civilians.
        payload: ``"words"`` (default), ``"scenes"`` (procedural CLEVR-like pictures), ``"images"``
            (picture pairs from a folder), or a payload source object (a
            :class:`~redqueen.envs.spy.payloads.WordPairs`, ``SceneGenerator`` or ``ImagePairs``).
        source: for ``"words"``, a word-pair file (default: the built-in list); for ``"images"``,
            a folder in Vision-Zero's layout or a (civilians' folder, spy's folder) pair.
        rounds: clue rounds before each vote.
        order: ``"fixed"`` (seats in order) or ``"seeded"`` (an order drawn per round).
        spy_knows_role: tell every player its role (Vision-Zero) or nobody (classic Undercover).
        variant: ``"vision_zero"`` (one vote) or ``"elimination"`` (vote out, repeat).
        max_cycles: elimination only: the spy wins after this many cycles (default ``players``).
        beta, lam: the clue-stage reward's coefficients.
        reward: what ``returns()`` gives: ``"both"``, ``"clue"``, ``"decision"`` or ``"outcome"``.
        changes, objects, image_size: the procedural scenes' settings (``payload="scenes"``).
        blank_spy: the spy's picture is blank (Vision-Zero v2; image payloads).
        image_text: how the text view shows a picture: ``"uri"`` (a Markdown data-URI image),
            ``"describe"`` (a procedural scene in words) or ``"none"``.
        image_observation: the tensor view is ``{"features": vector, "image": uint8 picture}``
            (pictures resized to ``image_size`` squares).
        simultaneous_vote: False asks the voters one at a time (votes stay hidden): the AEC form.
    """

    id: ClassVar[str] = "whoisthespy"
    name: ClassVar[str] = "Who Is the Spy"
    action_kind = "text"
    zero_sum = False
    has_information_states = False
    observation_dtype = np.float32

    def __init__(
        self,
        players: int = 4,
        payload: str | Any = "words",
        source: str | Path | Sequence[str | Path] | None = None,
        rounds: int = 2,
        order: str = "fixed",
        spy_knows_role: bool = True,
        variant: str = "vision_zero",
        max_cycles: int | None = None,
        beta: float = 0.1,
        lam: float = 0.1,
        reward: str = "both",
        changes: int = 2,
        objects: int | Sequence[int] = (4, 6),
        image_size: int = 256,
        blank_spy: bool = False,
        image_text: str = "uri",
        image_observation: bool = False,
        simultaneous_vote: bool = True,
    ):
        self.num_players = _check_int(players, "players", 3)
        self.rounds = _check_int(rounds, "rounds", 1)
        self.order = _check_choice(order, "order", ORDERS)
        self.variant = _check_choice(variant, "variant", VARIANTS)
        self.reward = _check_choice(reward, "reward", REWARDS)
        self.image_text = _check_choice(image_text, "image_text", IMAGE_TEXT)
        self.spy_knows_role = bool(spy_knows_role)
        self.simultaneous_vote = bool(simultaneous_vote)
        self.blank_spy = bool(blank_spy)
        self.image_observation = bool(image_observation)
        if max_cycles is None:
            max_cycles = self.num_players
        self.max_cycles = 1 if self.variant == "vision_zero" else _check_int(max_cycles, "max_cycles", 1)
        for what, value in (("beta", beta), ("lam", lam)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not np.isfinite(value)
                or value < 0
            ):
                raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
        self.beta, self.lam = float(beta), float(lam)
        self.image_size = _check_int(image_size, "image_size", 32)
        self.source = self._make_source(payload, source, changes, objects)
        self.kind: str = self.source.kind
        if self.blank_spy and self.kind != "images":
            raise ValueError(
                "blank_spy=True is a variant of the picture games: use payload='scenes' or 'images'"
            )
        if self.image_text == "describe" and not isinstance(self.source, SceneGenerator):
            raise ValueError(
                "image_text='describe' writes procedural scenes out in words: use payload='scenes'"
            )
        if self.image_observation and self.kind != "images":
            raise ValueError("image_observation=True needs a picture game: payload='scenes' or 'images'")
        self.vocabulary: tuple[str, ...] = tuple(self.source.vocabulary)
        self.vocabulary_size = len(self.vocabulary)
        self.num_distinct_actions = self.vocabulary_size + self.num_players + 1
        self.layout = Layout(self.num_players, self.rounds, self.vocabulary_size)
        self.max_game_length = self.max_cycles * (self.rounds + 1) * self.num_players
        bound = (self.beta + self.lam) * (self.num_players - 1)
        stages = self.max_cycles
        spans = {
            "both": stages * (bound + 1),
            "clue": stages * bound,
            "decision": float(stages),
            "outcome": 1.0,
        }
        self.min_return, self.max_return = -spans[self.reward], spans[self.reward]
        self._clue_index = {self._clue_key(self.source.clue_text(i)): i for i in range(self.vocabulary_size)}
        self._all_clues = tuple(range(self.vocabulary_size))
        self._clue_cache: dict[str, tuple[tuple[int, ...], np.ndarray]] = {}
        self._blob: str | None = None
        self._starts = np.zeros(0, dtype=np.int64)
        self._all_mask: np.ndarray | None = None
        self._patterns: dict[str, re.Pattern[str]] = {}
        self.example_clue = (
            "It is often eaten at breakfast."
            if self.kind == "words"
            else "There is a large red circle in the top left."
        )
        self.rules_text = self._rules()
        super().__init__(
            players=self.num_players, payload=payload if isinstance(payload, str) else repr(self.source),
            source=None if source is None else str(source), rounds=self.rounds, order=self.order,
            spy_knows_role=self.spy_knows_role, variant=self.variant, max_cycles=self.max_cycles,
            beta=self.beta, lam=self.lam, reward=self.reward, changes=changes, objects=objects,
            image_size=self.image_size, blank_spy=self.blank_spy, image_text=self.image_text,
            image_observation=self.image_observation, simultaneous_vote=self.simultaneous_vote,
        )  # fmt: skip

    def _make_source(self, payload: Any, source: Any, changes: int, objects: Any) -> Any:
        if not isinstance(payload, str):
            if not all(hasattr(payload, a) for a in ("kind", "vocabulary", "draw", "clue_text")):
                raise TypeError(
                    f"payload must be 'words', 'scenes', 'images' or a payload source (WordPairs, "
                    f"SceneGenerator, ImagePairs), got {type(payload).__name__}"
                )
            if source is not None:
                raise ValueError(
                    "source is read only with payload='words' or 'images', not with a source object"
                )
            return payload
        if payload == "words":
            return WordPairs.builtin() if source is None else WordPairs.load(source)
        if payload == "scenes":
            if source is not None:
                raise ValueError("payload='scenes' generates its pictures; it takes no source")
            return SceneGenerator(image_size=self.image_size, objects=objects, changes=changes)
        if payload == "images":
            if source is None:
                raise ValueError(
                    "payload='images' needs source=: a folder of <name>_original/<name>_modified pictures, "
                    "or a (civilians' folder, spy's folder) pair"
                )
            if isinstance(source, str | Path):
                return ImagePairs.from_folder(source)
            folders = list(source)
            if len(folders) != 2:
                raise ValueError(
                    f"source for two folders is a (civilians' folder, spy's folder) pair, got {source!r}"
                )
            return ImagePairs.from_folders(folders[0], folders[1])
        raise ValueError(f"payload must be 'words', 'scenes', 'images' or a payload source, got {payload!r}")

    def _rules(self) -> str:
        nc = self.num_players - 1
        thing = "secret word" if self.kind == "words" else "picture"
        rule = " that does not contain the word" if self.kind == "words" else ""
        voters = "every civilian votes" if self.spy_knows_role else "every player votes"
        parts = [
            f"Rules: {nc} players are civilians and share the same {thing}; one player, the spy, has "
            f"a different but similar one. In each of {self.rounds} clue round(s) every player in turn "
            f"gives one public clue: one sentence about their own {thing}{rule}."
        ]
        if self.variant == "vision_zero":
            parts.append(
                f"Then {voters} in secret for the player they think is the spy, or n/a. The spy is caught "
                "if it gets more votes than anyone else. A civilian's vote scores +1 if right, -0.5 for n/a "
                "and -1 if wrong."
            )
        else:
            parts.append(
                f"Then {voters} in secret, and the player with the most votes (alone) is out. The "
                "civilians win when the spy is out; the spy wins if it is still in when only two players "
                f"are left or after {self.max_cycles} votes."
            )
        return " ".join(parts)

    # ---- clues -----------------------------------------------------------------------------------
    @staticmethod
    def _clue_key(text: str) -> str:
        return normalize_move(text).rstrip(".!").strip()

    def clue_index(self, text: str) -> int | None:
        """The vocabulary attribute whose clue sentence ``text`` is (case and final stop ignored)."""
        return self._clue_index.get(self._clue_key(text))

    def word_pattern(self, word: str) -> re.Pattern[str]:
        pattern = self._patterns.get(word)
        if pattern is None:
            pattern = self._patterns[word] = secret_word_pattern(word)
        return pattern

    def clue_actions(self, state: SpyState, player: int) -> tuple[int, ...]:
        """The vocabulary clues ``player`` may give: all of them, less those that contain its word."""
        if state.deal.kind != "words":
            return self._all_clues
        return self._word_clues(state.word(player))[0]

    def clue_mask(self, state: SpyState, player: int) -> np.ndarray:
        """:meth:`clue_actions` as an int8 mask over every action (a read-only array)."""
        if state.deal.kind != "words":
            if self._all_mask is None:
                mask = np.zeros(self.num_distinct_actions, dtype=np.int8)
                mask[: self.vocabulary_size] = 1
                mask.flags.writeable = False
                self._all_mask = mask
            return self._all_mask
        return self._word_clues(state.word(player))[1]

    def _word_clues(self, word: str) -> tuple[tuple[int, ...], np.ndarray]:
        found = self._clue_cache.get(word)
        if found is None:
            if self._blob is None:  # every clue sentence on a line of its own: one search per word
                texts = [self.source.clue_text(i) for i in self._all_clues]
                self._blob = "\n".join(texts)
                self._starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
            banned = {
                int(np.searchsorted(self._starts, m.start(), side="right") - 1)
                for m in self.word_pattern(word).finditer(self._blob)
            }
            legal = tuple(i for i in self._all_clues if i not in banned)
            mask = np.zeros(self.num_distinct_actions, dtype=np.int8)
            mask[list(legal)] = 1
            mask.flags.writeable = False
            found = self._clue_cache[word] = (legal, mask)
        return found

    # ---- spaces ----------------------------------------------------------------------------------
    def observation_shape(self, player: int) -> tuple[int, ...]:
        return (self.layout.size,)

    def observation_space(self, player: int) -> Any:
        """The tensor view's space (the same object on every call): a Box, or with
        ``image_observation=True`` a Dict of the feature Box and the picture Box."""
        space = self._obs_spaces.get(player)
        if space is None:
            features = gymnasium.spaces.Box(0.0, 1.0, (self.layout.size,), np.float32)
            if self.image_observation:
                image = gymnasium.spaces.Box(0, 255, (self.image_size, self.image_size, 3), np.uint8)
                space = gymnasium.spaces.Dict({"features": features, "image": image})
            else:
                space = features
            self._obs_spaces[player] = space
        return space

    def tensor_image(self, image: np.ndarray) -> np.ndarray:
        """A picture as the tensor view shows it: resized to an ``image_size`` square if needed."""
        size = self.image_size
        if image.shape[:2] == (size, size):
            return np.array(image, dtype=np.uint8)
        from PIL import Image

        return np.asarray(
            Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8
        )

    def new_initial_state(
        self, seed: int | np.random.Generator | None = None, *, explicit_chance: bool = False
    ) -> SpyState:
        if explicit_chance:
            raise ValueError(
                "Who Is the Spy draws the spy and the payloads at the start; it has no explicit chance nodes"
            )
        return SpyState(self, make_rng(seed))

    def text_space_length(self) -> int:
        """A text-space length that holds every prompt of this game (pictures as data URIs are long)."""
        return _IMAGE_URI_SIZE_HINT if self.kind == "images" and self.image_text == "uri" else 65536
