"""The percolator: an index of subscriptions; `match(paper)` -> the subscriptions it matches.

Design (Lucene Monitor / SIFT key method; planning in bot/matcher_anchors.py):
- Subscriptions with the same canonical query share one entry.
- Stage one finds the true atoms of a paper: its term keys, plus the phrases,
  `abstract:` terms and prefixes whose anchors it holds, each verified once
  against the paper's terms and positions.
- Stage two finds the queries registered under a conjunction of true atoms
  (dict-key intersections, done in C), verifies them with their compiled predicate
  unless the conjunction proves the match, and explains each match.

Every subscription is indexed, paused or not: whether a match is delivered is the
router's and delivery's business (`Router` skips paused subscriptions), so pausing
and resuming need no index update. `add` raises QueryError for a bad query;
`from_store` logs such stored subscriptions and lists them in `invalid`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.matcher_anchors import Planner, TermStats, atom_key, doc_keys, doc_prefixes
from bot.models import Hit, Paper, Subscription
from bot.query import Leaf, Query, QueryError, Term, parse
from bot.query_eval import Doc, compile_query, explainer, leaf_predicate
from bot.store import Store

log = logging.getLogger(__name__)

__all__ = ["SubscriptionIndex", "TermStats"]

AtomId = str | int  # a plain term's key, or the number of a verified atom


@dataclass(slots=True, eq=False)
class _Atom:
    """A leaf verified in stage one, shared by every query that uses it."""

    id: int
    leaf: Leaf
    predicate: Callable[[Doc], bool] | None  # None: finding the anchor proves it
    slot: tuple[str, ...]  # where it is registered: ("k", k1[, k2]) or ("p", tag, stem)
    refs: int = 0


@dataclass(slots=True, eq=False)
class _Entry:
    """One distinct query and the subscriptions that share it."""

    qid: int
    query: Query
    predicate: Callable[[Doc], bool] | None  # None: a true conjunction proves a match
    explain: Callable[[Doc], tuple[str, ...]] | tuple[str, ...]  # a tuple: always these
    conjunctions: tuple[tuple[AtomId, ...], ...]
    subs: tuple[str, ...] = ()


class SubscriptionIndex:
    """Subscriptions indexed for matching new papers; add and remove at any time."""

    def __init__(self, stats: TermStats | None = None) -> None:
        """An empty index; `stats` (document frequencies) pick rare anchors."""
        self._planner = Planner(stats)
        self._entries: dict[str, _Entry] = {}  # canonical query -> entry
        self._by_qid: dict[int, _Entry] = {}
        self._sub_query: dict[str, str] = {}  # subscription id -> canonical query
        self._atoms: dict[Leaf, _Atom] = {}
        self._atom_by_id: dict[int, _Atom] = {}
        # Small lists rather than sets and dicts: most hold one item, and memory counts.
        self._by_key: dict[str, list[_Atom]] = {}  # stage one: anchored on one key
        self._by_pair: dict[str, dict[str, list[_Atom]]] = {}  # ... or on two keys
        self._by_prefix: dict[tuple[str, int], dict[str, list[_Atom]]] = {}
        self._one: dict[AtomId, list[int]] = {}  # stage two: queries under one atom
        self._two: dict[AtomId, dict[AtomId, list[int]]] = {}  # ... or under two
        self._always: set[int] = set()
        self._next_id = 0
        self.invalid: dict[str, QueryError] = {}

    @classmethod
    async def from_store(cls, store: Store, stats_sample: int = 2000) -> SubscriptionIndex:
        """An index of every stored subscription (paused ones too).

        Term statistics come from up to `stats_sample` of the latest stored papers.
        Subscriptions whose query does not parse are logged and kept in `invalid`.
        """
        count = await store.count_papers()
        sample = await store.papers_after(max(0, count - stats_sample), stats_sample)
        index = cls(TermStats.from_papers(sample))
        async for sub in store.iter_subscriptions():
            try:
                index.add(sub)
            except QueryError as exc:
                log.warning("subscription %s has an invalid query %r: %s", sub.id, sub.query, exc)
                index.invalid[sub.id] = exc
        return index

    def __len__(self) -> int:
        """How many subscriptions are indexed."""
        return len(self._sub_query)

    def __contains__(self, sub_id: object) -> bool:
        """Is the subscription `sub_id` indexed?"""
        return sub_id in self._sub_query

    @property
    def query_count(self) -> int:
        """How many distinct queries are indexed."""
        return len(self._entries)

    @property
    def always_count(self) -> int:
        """How many distinct queries have no anchor and are checked on every paper."""
        return len(self._always)

    def anchors(self, sub_id: str) -> list[tuple[Leaf, ...]]:
        """The conjunctions of atoms (leaves) a subscription is registered under;
        [] means it is checked on every paper."""
        entry = self._entries[self._sub_query[sub_id]]
        by_id = self._atom_by_id
        return [
            tuple(by_id[a].leaf if isinstance(a, int) else _plain(a) for a in c)
            for c in entry.conjunctions
        ]

    def add(self, sub: Subscription) -> None:
        """Index `sub` (replacing an earlier version of it); raises QueryError on a bad query."""
        self.add_query(sub.id, sub.query)

    def add_query(self, sub_id: str, text: str) -> None:
        """Index the query `text` under the id `sub_id`; raises QueryError if it is malformed."""
        query = parse(text)
        canonical = str(query)
        if self._sub_query.get(sub_id) == canonical:
            return
        self.remove(sub_id)
        entry = self._entries.get(canonical)
        if entry is None:
            entry = self._entries[canonical] = self._new_entry(query)
        entry.subs = (*entry.subs, sub_id)
        self._sub_query[sub_id] = canonical
        self.invalid.pop(sub_id, None)

    def remove(self, sub_id: str) -> bool:
        """Forget a subscription; True if it was indexed."""
        canonical = self._sub_query.pop(sub_id, None)
        self.invalid.pop(sub_id, None)
        if canonical is None:
            return False
        entry = self._entries[canonical]
        entry.subs = tuple(s for s in entry.subs if s != sub_id)
        if not entry.subs:
            del self._entries[canonical]
            self._drop_entry(entry)
        return True

    # -- registration --------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _new_entry(self, query: Query) -> _Entry:
        plan = self._planner.plan(query)
        conjunctions = tuple(
            tuple(self._atom_id(leaf) for leaf in c) for c in (plan.conjunctions if plan else ())
        )
        predicate = None if plan is not None and plan.exact else compile_query(query)
        entry = _Entry(self._new_id(), query, predicate, explainer(query), conjunctions)
        self._by_qid[entry.qid] = entry
        if not conjunctions:
            self._always.add(entry.qid)
        for c in conjunctions:
            if len(c) == 1:
                self._one.setdefault(c[0], []).append(entry.qid)
            else:
                self._two.setdefault(c[0], {}).setdefault(c[1], []).append(entry.qid)
        return entry

    def _atom_id(self, leaf: Leaf) -> AtomId:
        anchor = self._planner.anchor(leaf)
        if anchor is None:
            assert isinstance(leaf, Term)
            return atom_key(leaf.field, leaf.term)
        atom = self._atoms.get(leaf)
        if atom is None:
            predicate = leaf_predicate(leaf) if anchor.verify else None
            if anchor.keys:
                atom = _Atom(self._new_id(), leaf, predicate, ("k", *anchor.keys))
                if len(anchor.keys) == 1:
                    self._by_key.setdefault(anchor.keys[0], []).append(atom)
                else:
                    first, second = anchor.keys
                    self._by_pair.setdefault(first, {}).setdefault(second, []).append(atom)
            else:
                atom = _Atom(
                    self._new_id(), leaf, predicate, ("p", anchor.prefix_tag, anchor.prefix)
                )
                slot = (anchor.prefix_tag, len(anchor.prefix))
                self._by_prefix.setdefault(slot, {}).setdefault(anchor.prefix, []).append(atom)
            self._atoms[leaf] = atom
            self._atom_by_id[atom.id] = atom
        atom.refs += 1
        return atom.id

    def _drop_entry(self, entry: _Entry) -> None:
        del self._by_qid[entry.qid]
        self._always.discard(entry.qid)
        for c in entry.conjunctions:
            if len(c) == 1:
                _discard(self._one, c[0], entry.qid)
            else:
                _discard(self._two[c[0]], c[1], entry.qid)
                if not self._two[c[0]]:
                    del self._two[c[0]]
        for atom_id in {a for c in entry.conjunctions for a in c if isinstance(a, int)}:
            atom = self._atom_by_id[atom_id]
            atom.refs -= sum(a == atom_id for c in entry.conjunctions for a in c)
            if atom.refs <= 0:
                self._drop_atom(atom)

    def _drop_atom(self, atom: _Atom) -> None:
        del self._atoms[atom.leaf]
        del self._atom_by_id[atom.id]
        kind, *where = atom.slot
        if kind == "k" and len(where) == 1:
            _discard(self._by_key, where[0], atom)
        elif kind == "k":
            _discard(self._by_pair[where[0]], where[1], atom)
            if not self._by_pair[where[0]]:
                del self._by_pair[where[0]]
        else:
            slot = (where[0], len(where[1]))
            _discard(self._by_prefix[slot], where[1], atom)
            if not self._by_prefix[slot]:
                del self._by_prefix[slot]

    # -- matching ------------------------------------------------------------------

    def true_atoms(self, doc: Doc) -> set[AtomId]:
        """Stage one: every atom true in `doc` that some query is registered under."""
        keys = doc_keys(doc)
        verified: list[int] = []
        by_key, by_pair = self._by_key, self._by_pair
        for key in by_key.keys() & keys:
            verified += [a.id for a in by_key[key] if a.predicate is None or a.predicate(doc)]
        for key in by_pair.keys() & keys:
            inner = by_pair[key]  # small: scanned (inline, no calls: this is the hot loop)
            for second in inner if len(inner) <= 4 else inner.keys() & keys:
                if second in keys:
                    verified += [
                        a.id for a in inner[second] if a.predicate is None or a.predicate(doc)
                    ]
        for (tag, length), by_stem in self._by_prefix.items():
            for stem in by_stem.keys() & doc_prefixes(doc, tag, length):
                verified += [a.id for a in by_stem[stem] if a.predicate is None or a.predicate(doc)]
        truth: set[AtomId] = set(keys)
        truth.update(verified)
        return truth

    def candidates(self, doc: Doc) -> set[int]:
        """Ids of the queries that may match `doc` (every match is among them)."""
        truth = self.true_atoms(doc)
        found = set(self._always)
        one, two = self._one, self._two
        for atom in one.keys() & truth:
            found.update(one[atom])
        for atom in two.keys() & truth:
            pairs = two[atom]
            for second in pairs if len(pairs) <= 4 else pairs.keys() & truth:
                if second in truth:
                    found.update(pairs[second])
        return found

    def match_doc(self, doc: Doc) -> list[Hit]:
        """The hits of an analyzed paper, in the order the queries were first indexed."""
        hits: list[Hit] = []
        append = hits.append
        by_qid = self._by_qid
        paper_id = doc.paper_id
        for qid in sorted(self.candidates(doc)):
            entry = by_qid[qid]
            predicate = entry.predicate
            if predicate is not None and not predicate(doc):
                continue
            terms = entry.explain
            if terms.__class__ is not tuple:
                terms = terms(doc)  # type: ignore[operator]
            for sub_id in entry.subs:
                append(Hit(sub_id, paper_id, terms))
        return hits

    def match(self, paper: Paper) -> list[Hit]:
        """Every indexed subscription that matches `paper`, with the terms that matched."""
        return self.match_doc(Doc(paper))


def _plain(key: str) -> Term:
    field, _, term = key.rpartition(":")
    return Term(term, field or None)


def _discard(index: dict[Any, list[Any]], key: Any, item: object) -> None:
    items = index.get(key)
    if items is not None and item in items:
        items.remove(item)
        if not items:
            del index[key]
