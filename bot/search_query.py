"""Query AST -> tantivy query, node by node (no string query parsing through tantivy).

A leaf without a field searches title (boosted) or abstract; a phrase needs its
terms at consecutive positions of one field; a prefix is a regex over the term
dictionary; NOT is "everything except" so it also works alone or under OR.
"""

from __future__ import annotations

import re

import tantivy

from bot.query import And, Not, Or, Phrase, Prefix, Query, Term

FIELDS_TEXT = ("title", "abstract", "author")
TITLE_BOOST = 2.0


def _fields(field: str | None) -> tuple[str, ...]:
    return ("title", "abstract") if field is None else (field,)


def _leaf(node: Term | Phrase | Prefix, field: str, schema: tantivy.Schema) -> tantivy.Query:
    if isinstance(node, Term):
        return tantivy.Query.term_query(schema, field, node.term)
    if isinstance(node, Phrase):
        return tantivy.Query.phrase_query(schema, field, list(enumerate(node.terms)))
    return tantivy.Query.regex_query(schema, field, re.escape(node.prefix) + ".*")


def _should(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def to_tantivy(node: Query, schema: tantivy.Schema) -> tantivy.Query:
    """The tantivy query equivalent to `node` over the paperbot index schema."""
    if isinstance(node, And):
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, to_tantivy(c, schema)) for c in node.children]
        )
    if isinstance(node, Or):
        return _should([to_tantivy(c, schema) for c in node.children])
    if isinstance(node, Not):
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.all_query()),
                (tantivy.Occur.MustNot, to_tantivy(node.child, schema)),
            ]
        )
    assert isinstance(node, Term | Phrase | Prefix)
    parts = []
    for field in _fields(node.field):
        query = _leaf(node, field, schema)
        if field == "title" and node.field is None:
            query = tantivy.Query.boost_query(query, TITLE_BOOST)
        parts.append(query)
    return _should(parts)
