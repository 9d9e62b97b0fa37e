"""The percolator: an index of subscriptions; `match(paper)` -> the subscriptions it matches.

Two matchers share the planning (bot/matcher_anchors.py) and give the same hits: the
native kernel (bot/_percolate.c, fed by bot/matcher_native.py), used when it was
built, and the Python matcher below, used otherwise.

The Python matcher (Lucene Monitor / SIFT key method):
- Subscriptions with the same canonical query share one entry.
- One dict maps each term key (`diffusion`, `title:robot`, `author:finn`) to its
  slot: the queries registered under that key alone or with a second key, and the
  phrase and `abstract:` atoms anchored on it. One intersection with the paper's
  keys (done in C) finds every slot a paper touches; its atoms are verified once
  against the paper's terms and positions. Prefix atoms are found by their stems.
- Queries registered under a verified atom (alone, or with a key or another atom)
  are found next; every candidate is verified with its compiled predicate unless
  its conjunction proves the match, and each match is explained.

Every subscription is indexed, paused or not: whether a match is delivered is the
router's and delivery's business (`Router` skips paused subscriptions), so pausing
and resuming need no index update. `add` raises QueryError for a bad query;
`from_store` logs such stored subscriptions and lists them in `invalid`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, cast

from bot.matcher_anchors import Plan, Planner, TermStats, atom_key, doc_prefixes
from bot.matcher_native import AVAILABLE, NativeMatcher
from bot.models import Hit, Paper, Subscription
from bot.query import Leaf, Query, QueryError, Term, parse
from bot.query_eval import Doc, explainer, leaf_predicate, split_keys
from bot.store import Store

log = logging.getLogger(__name__)

__all__ = ["SubscriptionIndex", "TermStats"]

AtomId = str | int  # a plain term's key, or the number of a verified atom


@dataclass(slots=True, eq=False)
class _Atom:
    """A leaf verified once per paper, shared by every query that uses it."""

    id: int
    leaf: Leaf
    predicate: Callable[[Doc], bool] | None  # None: finding the anchor proves it
    slot: tuple[str, ...]  # where it is registered: ("k", k1[, k2]) or ("p", tag, stem)
    refs: int = 0
    one: list[_Entry] = field(default_factory=list)  # queries registered under it alone
    two: dict[AtomId, list[_Entry]] = field(default_factory=dict)  # ... with a second atom


#: A term key's slot: [queries under the key alone, {second key: queries under both},
#: atoms anchored on the key alone, {second key: atoms anchored on both}]; None: none.
_Slot = list[Any]
ONE, TWO, ATOMS, PAIRS = range(4)


@dataclass(slots=True, eq=False)
class _Entry:
    """One distinct query and the subscriptions that share it."""

    qid: int
    checked: bool  # False: a true conjunction proves a match
    required: tuple[str, ...]  # keys a paper must have ...
    forbidden: tuple[str, ...]  # ... keys it must not have ...
    predicate: Callable[[Doc], bool] | None  # ... and the rest of the query, if any
    explain: Callable[[Doc], tuple[str, ...]] | tuple[str, ...]  # a tuple: always these
    #: atoms (Python matcher) or the planner's leaves (native kernel)
    conjunctions: tuple[tuple[AtomId | Leaf, ...], ...]
    subs: tuple[str, ...] = ()


class SubscriptionIndex:
    """Subscriptions indexed for matching new papers; add and remove at any time."""

    def __init__(self, stats: TermStats | None = None, native: bool | None = None) -> None:
        """An empty index; `stats` (document frequencies) pick rare anchors.

        `native`: match in the native kernel (bot/_percolate.c); None means when it
        was built. The Python matcher gives the same hits, slower.
        """
        self._planner = Planner(stats)
        use_native = AVAILABLE if native is None else native
        self._native = NativeMatcher(self._planner.key_cost) if use_native else None
        self._entries: dict[str, _Entry] = {}  # canonical query -> entry
        self._sub_query: dict[str, str] = {}  # subscription id -> canonical query
        self._atoms: dict[Leaf, _Atom] = {}
        self._atom_by_id: dict[int, _Atom] = {}
        # Small lists rather than sets and dicts: most hold one item, and memory counts.
        self._slots: dict[str, _Slot] = {}
        self._by_prefix: dict[tuple[str, int], dict[str, list[_Atom]]] = {}
        self._always: set[_Entry] = set()
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
    def engine(self) -> str:
        """Which matcher runs: "native" (bot/_percolate.c) or "python"."""
        return "python" if self._native is None else "native"

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
            tuple(
                by_id[a].leaf if isinstance(a, int) else _plain(a) if isinstance(a, str) else a
                for a in c
            )
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
        if self._native is not None:
            self._native.set_subs(entry.qid, entry.subs)
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
        elif self._native is not None:
            self._native.set_subs(entry.qid, entry.subs)
        return True

    # -- registration --------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _new_entry(self, query: Query) -> _Entry:
        plan = self._planner.plan(query)
        if self._native is not None:
            return self._new_native_entry(query, plan)
        conjunctions = tuple(
            tuple(self._atom_id(leaf) for leaf in c) for c in (plan.conjunctions if plan else ())
        )
        exact = plan is not None and plan.exact
        required, forbidden, predicate = ((), (), None) if exact else split_keys(query)
        entry = _Entry(
            self._new_id(),
            not exact,
            required,
            forbidden,
            predicate,
            explainer(query),
            conjunctions,
        )
        if not conjunctions:
            self._always.add(entry)
        for c in conjunctions:
            self._register(c).append(entry)
        return entry

    def _new_native_entry(self, query: Query, plan: Plan | None) -> _Entry:
        """An entry matched by the native kernel: nothing registered in Python, and
        its conjunctions kept as the planner's leaves (for `anchors`)."""
        conjunctions = plan.conjunctions if plan else ()
        explain = explainer(query)
        static = explain if isinstance(explain, tuple) else None
        entry = _Entry(self._new_id(), True, (), (), None, static or (), conjunctions)
        if not conjunctions:
            self._always.add(entry)
        assert self._native is not None
        self._native.add(entry.qid, entry.subs, query, conjunctions, static)
        return entry

    def _register(self, conjunction: tuple[AtomId, ...]) -> list[_Entry]:
        """The list of queries registered under a conjunction of one or two atoms.

        Two keys go to the first key's slot; a verified atom holds the conjunctions
        it is part of (with the other atom, key or verified, as the second).
        """
        first, second = _holder(conjunction)
        if isinstance(first, int):
            atom = self._atom_by_id[first]
            return atom.one if second is None else atom.two.setdefault(second, [])
        slot = self._slot(first)
        if second is None:
            if slot[ONE] is None:
                slot[ONE] = []
            found: list[_Entry] = slot[ONE]
            return found
        if slot[TWO] is None:
            slot[TWO] = {}
        return slot[TWO].setdefault(second, [])  # type: ignore[no-any-return]

    def _slot(self, key: str) -> _Slot:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = [None, None, None, None]
        return slot

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
                slot = self._slot(anchor.keys[0])
                if len(anchor.keys) == 1:
                    if slot[ATOMS] is None:
                        slot[ATOMS] = []
                    slot[ATOMS].append(atom)
                else:
                    if slot[PAIRS] is None:
                        slot[PAIRS] = {}
                    slot[PAIRS].setdefault(anchor.keys[1], []).append(atom)
            else:
                atom = _Atom(
                    self._new_id(), leaf, predicate, ("p", anchor.prefix_tag, anchor.prefix)
                )
                where = (anchor.prefix_tag, len(anchor.prefix))
                self._by_prefix.setdefault(where, {}).setdefault(anchor.prefix, []).append(atom)
            self._atoms[leaf] = atom
            self._atom_by_id[atom.id] = atom
        atom.refs += 1
        return atom.id

    def _drop_entry(self, entry: _Entry) -> None:
        self._always.discard(entry)
        if self._native is not None:
            self._native.remove(entry.qid)
            return
        atoms = cast(tuple[tuple[AtomId, ...], ...], entry.conjunctions)
        for c in atoms:
            entries = self._register(c)
            entries.remove(entry)
            if not entries:
                self._unregister(c)
        for atom_id in {a for c in atoms for a in c if isinstance(a, int)}:
            atom = self._atom_by_id[atom_id]
            atom.refs -= sum(a == atom_id for c in atoms for a in c)
            if atom.refs <= 0:
                self._drop_atom(atom)

    def _unregister(self, conjunction: tuple[AtomId, ...]) -> None:
        """Forget the (now empty) list of queries under a conjunction."""
        first, second = _holder(conjunction)
        if isinstance(first, int):
            if second is not None:
                del self._atom_by_id[first].two[second]
            return  # an atom's own list lives as long as the atom
        slot = self._slots[first]
        if second is None:
            slot[ONE] = None
        else:
            del slot[TWO][second]
            if not slot[TWO]:
                slot[TWO] = None
        self._drop_slot_if_empty(first, slot)

    def _drop_slot_if_empty(self, key: str, slot: _Slot) -> None:
        if slot == [None, None, None, None]:
            del self._slots[key]

    def _drop_atom(self, atom: _Atom) -> None:
        del self._atoms[atom.leaf]
        del self._atom_by_id[atom.id]
        kind, *where = atom.slot
        if kind == "k":
            slot = self._slots[where[0]]
            if len(where) == 1:
                slot[ATOMS].remove(atom)
                if not slot[ATOMS]:
                    slot[ATOMS] = None
            else:
                pairs = slot[PAIRS]
                _discard(pairs, where[1], atom)
                if not pairs:
                    slot[PAIRS] = None
            self._drop_slot_if_empty(where[0], slot)
        else:
            stems = self._by_prefix[(where[0], len(where[1]))]
            _discard(stems, where[1], atom)
            if not stems:
                del self._by_prefix[(where[0], len(where[1]))]

    # -- matching ------------------------------------------------------------------

    def _candidates(self, doc: Doc) -> set[_Entry]:
        """The queries that may match `doc` (every match is among them).

        The hot loop of the percolator: written inline, without helper calls.
        """
        keys = doc.all_keys
        found = set(self._always)
        update = found.update
        verified: list[_Atom] = []
        atoms: Any
        slots = self._slots
        for key in slots.keys() & keys:
            one, two, atoms, pairs = slots[key]
            if one is not None:
                update(one)
            if two is not None:
                if len(two) <= 4:
                    for second, queries in two.items():
                        if second in keys:
                            update(queries)
                else:
                    for second in two.keys() & keys:
                        update(two[second])
            if atoms is not None:
                for atom in atoms:
                    if atom.predicate is None or atom.predicate(doc):
                        verified.append(atom)
            if pairs is not None:
                for second, atoms in pairs.items():
                    if second in keys:
                        for atom in atoms:
                            if atom.predicate is None or atom.predicate(doc):
                                verified.append(atom)
        for (tag, length), by_stem in self._by_prefix.items():
            for stem in by_stem.keys() & doc_prefixes(doc, tag, length):
                for atom in by_stem[stem]:
                    if atom.predicate is None or atom.predicate(doc):
                        verified.append(atom)
        if verified:
            true_ids = {atom.id for atom in verified}
            for atom in verified:
                update(atom.one)
                two = atom.two
                if len(two) <= 4:
                    for other, queries in two.items():
                        if other in true_ids or other in keys:
                            update(queries)
                else:  # a common atom: many queries pair it with another
                    for other in two.keys() & keys:
                        update(two[other])
                    for other in two.keys() & true_ids:
                        update(two[other])
        return found

    def _match_python(self, doc: Doc) -> list[Hit]:
        """The hits of an analyzed paper, in the order the queries were first indexed."""
        hits: list[Hit] = []
        append = hits.append
        paper_id = doc.paper_id
        keys = doc.all_keys
        for entry in sorted(self._candidates(doc), key=_QID):
            if entry.checked:  # inline key checks: most queries need no call
                if not keys.issuperset(entry.required) or not keys.isdisjoint(entry.forbidden):
                    continue
                predicate = entry.predicate
                if predicate is not None and not predicate(doc):
                    continue
            terms = entry.explain
            if terms.__class__ is not tuple:
                terms = terms(doc)  # type: ignore[operator]
            for sub_id in entry.subs:
                append(_new_tuple(Hit, (sub_id, paper_id, terms)))  # Hit(...) minus a frame
        return hits

    def match(self, paper: Paper) -> list[Hit]:
        """Every indexed subscription that matches `paper`, with the terms that matched."""
        if self._native is None:
            return self._match_python(Doc(paper))
        return self._native.match(paper)


_QID = attrgetter("qid")
_new_tuple = tuple.__new__


def _holder(conjunction: tuple[AtomId, ...]) -> tuple[AtomId, AtomId | None]:
    """(where a conjunction is registered, the other atom or None): a verified atom
    holds its conjunctions; two keys go to the first key's slot."""
    first = conjunction[0]
    second = conjunction[1] if len(conjunction) > 1 else None
    if not isinstance(first, int) and isinstance(second, int):
        return second, first
    return first, second


def _plain(key: str) -> Term:
    field, _, term = key.rpartition(":")
    return Term(term, field or None)


def _discard(index: dict[Any, list[Any]], key: Any, item: object) -> None:
    items = index.get(key)
    if items is not None and item in items:
        items.remove(item)
        if not items:
            del index[key]
