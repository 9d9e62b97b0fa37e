"""The query language: AST, canonical printing, friendly errors, limits, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.query import (
    MAX_LENGTH,
    And,
    Not,
    Or,
    Phrase,
    Prefix,
    Query,
    QueryError,
    Term,
    parse,
    validate_query,
)

INCONTEXT = Or((Phrase(("in", "context")), Term("incontext")))


@pytest.mark.parametrize(
    ("text", "ast"),
    [
        ("Transformers", Term("transformer")),
        ("a b", And((Term("a"), Term("b")))),
        ("a AND b", And((Term("a"), Term("b")))),
        ("a OR b | c", Or((Term("a"), Term("b"), Term("c")))),
        ("a b OR c", Or((And((Term("a"), Term("b"))), Term("c")))),
        ("a (b OR c)", And((Term("a"), Or((Term("b"), Term("c")))))),
        ("-survey", Not(Term("survey"))),
        ("NOT survey", Not(Term("survey"))),
        ("a -(-b)", And((Term("a"), Term("b")))),
        ("--a", Term("a")),
        ("and or not", And((Term("and"), Term("or"), Term("not")))),
        ('"Domain Generalization"', Phrase(("domain", "generalization"))),
        ('"single"', Term("single")),
        ("diffus*", Prefix("diffus")),
        ("Diffus*", Prefix("diffus")),
        ("in-context", INCONTEXT),
        ('"in-context"', INCONTEXT),
        ("3.5", Phrase(("3", "5"))),
        ("title:Robots", Term("robot", "title")),
        ("ti:robot abs:robot", And((Term("robot", "title"), Term("robot", "abstract")))),
        ('au:"Chelsea Finn"', Phrase(("chelsea", "finn"), "author")),
        ('author:"Chelsea Finn"', Phrase(("chelsea", "finn"), "author")),
        (
            "title:(robot OR robotic)",
            Or((Term("robot", "title"), Term("robotic", "title"))),
        ),
        ("title:(a -b)", And((Term("a", "title"), Not(Term("b", "title"))))),
        ("cat:cs.LG", Term("cs.lg", "cat")),
        ("cat:cs.*", Prefix("cs.", "cat")),
        ("source:HuggingFace", Term("huggingface", "source")),
        ("title:OR", Term("or", "title")),
        ("1:2", Phrase(("1", "2"))),
        ("a OR in-context", Or((Term("a"), *INCONTEXT.children))),
    ],
)
def test_parse(text: str, ast: Query) -> None:
    assert parse(text) == ast
    assert parse(str(ast)) == ast


def test_canonical_printing() -> None:
    query = parse('title:(robot OR robotic) cat:cs.LG -survey author:"Chelsea Finn"')
    assert str(query) == ('(title:robot OR title:robotic) cat:cs.lg -survey author:"chelsea finn"')
    assert str(parse("in-context Learning")) == '("in context" OR incontext) learning'
    assert str(parse("-(a b) -(c OR d)")) == "-(a b) -(c OR d)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('domain gen "robust', "unbalanced quote at column 12"),
        ("di*", "prefix 'di*' needs at least 3 letters at column 1"),
        ("titel:robot", "unknown field 'titel:' (did you mean title:?) at column 1"),
        ("", "the query is empty at column 1"),
        ("   ", "the query is empty at column 1"),
        ("(a b", "unbalanced parenthesis: '(' never closed at column 1"),
        ("a b)", "unbalanced parenthesis: ')' without '(' at column 4"),
        ("()", "empty parentheses at column 1"),
        ("OR a", "OR needs a term on both sides at column 1"),
        ("a OR", "OR needs a term on both sides at column 3"),
        ("a AND OR b", "AND needs a term on both sides at column 3"),
        ("a -", "'-' must be followed directly by the term to exclude at column 3"),
        ("a - b", "'-' must be followed directly by the term to exclude at column 3"),
        ("NOT", "NOT must be followed by a term at column 1"),
        ("title: robot", "field 'title:' needs a term right after it at column 1"),
        ("title:-robot", "put '-' before the field: -title:robot at column 7"),
        ("title:(author:x)", "field 'author:' inside another field at column 8"),
        ("fo*o", "'*' can only end a word (a prefix such as diffus*) at column 3"),
        ("in-cont*", "prefix 'in-cont*' must be a single word of letters or digits at column 1"),
        ("source:hf", "unknown source 'hf' (use huggingface, arxiv, file) at column 8"),
        ("source:arx*", "source: takes huggingface, arxiv or file, not a prefix at column 8"),
        ("cat:42", "'42' is not an arXiv category like cs.LG at column 5"),
        ('a ""', "empty phrase at column 3"),
        ("$$", "'$$' has no letters or digits to search for at column 1"),
        (
            "xyzzy:a",
            "unknown field 'xyzzy:' (fields are title:, abstract:, author:, cat:, "
            "source:) at column 1",
        ),
    ],
)
def test_errors_people_understand(text: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    assert str(info.value) == message
    assert info.value.message in message
    assert info.value.column >= 1


def test_limits() -> None:
    with pytest.raises(QueryError, match="too long") as info:
        parse("a" * (MAX_LENGTH + 1))
    assert info.value.column == MAX_LENGTH + 1
    assert parse("a" * MAX_LENGTH) == Term("a" * MAX_LENGTH)
    sixty_four = " ".join(f"w{i}" for i in range(64))
    assert isinstance(parse(sixty_four), And)
    with pytest.raises(QueryError, match="too many terms") as info:
        parse(sixty_four + " w64")
    assert info.value.column == len(sixty_four) + 2
    nested = "a"
    for i in range(8):
        nested = f"(x{i} {nested})" if i % 2 else f"(x{i} OR {nested})"
    assert parse(nested).depth() == 8
    with pytest.raises(QueryError, match="too deeply nested"):
        parse(f"-{nested}")
    with pytest.raises(QueryError, match="too deeply nested"):
        parse("(" * 9 + "a" + ")" * 9)


def test_highlight_terms_leave_out_negated_words() -> None:
    query = parse('"diffusion policy" OR diffus* -survey title:Robots')
    assert query.highlight_terms() == ("diffusion policy", "diffus", "robot")


def test_validate_query() -> None:
    assert validate_query('  "domain generalization" -survey ') == (
        '"domain generalization" -survey'
    )
    with pytest.raises(QueryError):
        validate_query('"open')


@pytest.mark.parametrize("text", ["-survey", "NOT (survey OR review)", "robot OR -survey"])
def test_validate_query_refuses_queries_that_need_no_term(text: str) -> None:
    with pytest.raises(QueryError, match="would post nearly every new paper") as caught:
        validate_query(text)
    assert caught.value.column == 1


@pytest.mark.parametrize(
    "text", ["robot -survey", "cat:cs.LG", "(robot OR -survey) grasping", "-survey title:robot"]
)
def test_validate_query_accepts_queries_with_a_term(text: str) -> None:
    assert validate_query(text) == text


# --------------------------------------------------------------------------- properties

SYNTAX = st.sampled_from(
    [*list(' ()"|-*:'), "OR", "AND", "NOT", " OR ", "title:", "au:", "cat:", "source:"]
)
WORDS = st.sampled_from(
    ["robot", "Models", "in-context", "3.5", "cs.LG", "arxiv", "diffus", "é", "$", "x", "ab"]
)
PIECES = st.lists(st.one_of(SYNTAX, WORDS, WORDS, st.text(max_size=3)), max_size=25)
QUERY_TEXT = st.one_of(PIECES.map("".join), PIECES.map(" ".join))


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), QUERY_TEXT))
def test_parser_raises_only_query_error(text: str) -> None:
    try:
        parse(text)
    except QueryError as exc:
        assert 1 <= exc.column <= len(text) + 1
        assert exc.message


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(QUERY_TEXT)
def test_printing_round_trips(text: str) -> None:
    try:
        query = parse(text)
    except QueryError:
        return
    printed = str(query)
    assert parse(printed) == query
    assert str(parse(printed)) == printed
