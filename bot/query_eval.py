"""Evaluate a query AST against one analyzed paper (matcher verification, `paperbot match`).

Semantics (the contract the matcher, the search index and tests/reference_eval.py share):
- a Term with no field matches a term of the title or of the abstract; `title:`,
  `abstract:`, `author:` look in that field only; `cat:`/`source:` compare values;
- a Phrase needs its terms at consecutive positions of one field value (the title,
  the abstract, or one author's name); sentence ends take up a position;
- a Prefix matches any term of the field (joined hyphen forms included) or, for
  `cat:`, any category value starting with it;
- And, Or and Not are the usual boolean operators.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial

from bot.models import Paper
from bot.query import And, Leaf, Not, Or, Phrase, Prefix, Query, Term
from bot.query_doc import Doc, phrase_needle

Predicate = Callable[[Doc], bool]

__all__ = [
    "Doc",
    "Predicate",
    "compile_query",
    "evaluate",
    "explainer",
    "matched_terms",
    "matches",
    "split_keys",
]


@lru_cache(maxsize=1 << 18)
def leaf_predicate(leaf: Leaf) -> Predicate:
    """A function telling whether one leaf matches a Doc (cached per leaf)."""
    return _leaf(leaf)


def _leaf(leaf: Leaf) -> Predicate:
    field = leaf.field
    if isinstance(leaf, Term):
        t = leaf.term
        if field is None:
            return lambda d: t in d.keys
        if field == "title":
            return lambda d: t in d.title_keys
        if field == "abstract":
            return lambda d: t in d.abstract_keys
        if field == "author":
            return lambda d: t in d.author_keys
        if field == "cat":
            return lambda d: t in d.cat
        return lambda d: t in d.source
    if isinstance(leaf, Phrase):
        # partial(), not a lambda: no Python frame of ours per check
        return partial(
            Doc.has_phrase, field=field, terms=leaf.terms, needle=phrase_needle(leaf.terms)
        )
    p = leaf.prefix
    if field is None:
        return partial(Doc.has_prefix, prefix=p)

    def field_prefix(d: Doc) -> bool:
        for term in d.field_terms(field):
            if term.startswith(p):
                return True
        return False

    return field_prefix


def term_key(node: Query) -> str | None:
    """The `Doc.all_keys` key that decides a Term leaf, or None (abstract: or not a Term)."""
    if not isinstance(node, Term) or node.field == "abstract":
        return None
    return node.term if node.field is None else f"{node.field}:{node.term}"


def _key_group(node: Query) -> tuple[str, ...] | None:
    """Keys of which any one decides `node`: a Term, or an OR of such Terms."""
    key = term_key(node)
    if key is not None:
        return (key,)
    if isinstance(node, Or):
        keys = [term_key(c) for c in node.children]
        if all(k is not None for k in keys):
            return tuple(dict.fromkeys(k for k in keys if k is not None))
    return None


def compile_query(node: Query) -> Predicate:
    """A fast function telling whether `node` matches a Doc.

    Terms, ORs of terms and their negations inside an AND become set operations on
    `Doc.all_keys` (done in C, against small tuples of keys: a tuple takes a
    fraction of a frozenset's memory, and an index holds millions); phrases,
    prefixes and nested groups become closures.
    """
    if isinstance(node, Term | Phrase | Prefix):
        return leaf_predicate(node)
    if isinstance(node, Not):
        group = _key_group(node.child)
        if group is not None:
            absent = group
            return lambda d: d.all_keys.isdisjoint(absent)
        inner = compile_query(node.child)
        return lambda d: not inner(d)
    if isinstance(node, Or):
        group = _key_group(node)
        if group is not None:
            anyof = group
            return lambda d: not d.all_keys.isdisjoint(anyof)
        parts = tuple(compile_query(c) for c in node.children)

        def any_part(d: Doc) -> bool:
            for part in parts:  # a loop, not any(generator): no frame per call
                if part(d):
                    return True
            return False

        return any_part
    required, forbidden, rest = split_keys(node)

    def conjunction(d: Doc) -> bool:
        keys = d.all_keys
        return (
            keys.issuperset(required) and keys.isdisjoint(forbidden) and (rest is None or rest(d))
        )

    return conjunction


def split_keys(node: Query) -> tuple[tuple[str, ...], tuple[str, ...], Predicate | None]:
    """`node` as (keys it requires, keys it forbids, a predicate for the rest or None).

    Only an AND has required or forbidden keys (its Term children and NOTs of Terms
    or of ORs of Terms); the percolator checks those itself, with no call.
    """
    if not isinstance(node, And):
        return (), (), compile_query(node)
    required: list[str] = []
    forbidden: list[str] = []
    groups: list[tuple[str, ...]] = []
    others: list[Predicate] = []
    for child in node.children:
        group = _key_group(child.child if isinstance(child, Not) else child)
        if group is None:
            others.append(compile_query(child))
        elif isinstance(child, Not):
            forbidden.extend(group)
        elif len(group) == 1:
            required.extend(group)
        else:
            groups.append(group)
    rest = _rest(tuple(groups), tuple(others))
    return tuple(dict.fromkeys(required)), tuple(dict.fromkeys(forbidden)), rest


def _rest(groups: tuple[tuple[str, ...], ...], others: tuple[Predicate, ...]) -> Predicate | None:
    """All of `groups` (one key of each) and `others`, or None when there are none."""
    if not groups:
        if not others:
            return None
        if len(others) == 1:
            return others[0]

    def conjunction(d: Doc) -> bool:
        keys = d.all_keys
        for group in groups:  # loops, not all(generator): no frame per call
            if keys.isdisjoint(group):
                return False
        for other in others:
            if not other(d):
                return False
        return True

    return conjunction


def evaluate(node: Query, doc: Doc) -> bool:
    """Does the query match the analyzed paper?"""
    return compile_query(node)(doc)


def matches(node: Query, paper: Paper) -> bool:
    """Does the query match the paper? (Analyzes the paper; use Doc for many queries.)"""
    return compile_query(node)(Doc(paper))


def matched_terms(node: Query, doc: Doc) -> tuple[str, ...]:
    """Why a paper matched: terms and phrases of positive leaves found in it.

    A prefix contributes the paper's terms that start with it (at most 3).
    """
    explain = explainer(node)
    return explain if isinstance(explain, tuple) else explain(doc)


def explainer(node: Query) -> Callable[[Doc], tuple[str, ...]] | tuple[str, ...]:
    """`matched_terms` for one query, compiled; a tuple when it cannot vary.

    A leaf, or an AND of leaves and NOTs, matches only when all its positive leaves
    do, so its matched terms are the same for every matching paper (prefixes aside).
    """
    positive = list(dict.fromkeys(node.positive_leaves()))
    conjunctive = isinstance(node, Term | Phrase) or (
        isinstance(node, And)
        and all(isinstance(c, Term | Phrase | Prefix | Not) for c in node.children)
    )
    if conjunctive and not any(isinstance(leaf, Prefix) for leaf in positive):
        return tuple(dict.fromkeys(leaf.display for leaf in positive))
    # (key, None, display) for terms; (None, predicate, display) for phrases and
    # abstract: terms; (None, None, the Prefix) for prefixes (their terms are found)
    checks: list[tuple[str | None, Predicate | None, str | Prefix]] = []
    for leaf in positive:
        key = term_key(leaf)
        if key is not None:
            checks.append((key, None, leaf.display))
        elif isinstance(leaf, Prefix):
            checks.append((None, None, leaf))
        else:
            checks.append((None, leaf_predicate(leaf), leaf.display))

    def explain(d: Doc) -> tuple[str, ...]:
        keys = d.all_keys
        out: list[str] = []
        for key, predicate, what in checks:
            if key is not None:
                if key in keys:
                    out.append(what)  # type: ignore[arg-type]
            elif predicate is None:
                out += _prefix_terms(what, d)  # type: ignore[arg-type]
            elif predicate(d):
                out.append(what)  # type: ignore[arg-type]
        return tuple(dict.fromkeys(out))

    return explain


def _prefix_terms(leaf: Prefix, doc: Doc) -> list[str]:
    if leaf.field is None:
        return doc.prefixed(leaf.prefix)[:3]  # already sorted
    return sorted(t for t in doc.field_terms(leaf.field) if t.startswith(leaf.prefix))[:3]
