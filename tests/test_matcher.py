"""The percolator: anchors, add/remove, hits with terms, and agreement with the spec.

Every behaviour is checked on both matchers: the native kernel (bot/_percolate.c)
and the pure-Python one it falls back to.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_eval import reference_match, reference_terms

from bot.matcher import SubscriptionIndex, TermStats
from bot.matcher_native import AVAILABLE
from bot.models import SOURCES, Destination, Hit, Paper, Subscription
from bot.query import Phrase, Prefix, QueryError, Term, parse
from bot.query_eval import Doc, evaluate, matched_terms
from bot.store import Store

LAB = Destination("console", "default", "lab")

PAPER = Paper(
    id="arxiv:2401.00001",
    title="In-Context Learning for Diffusion Policies",
    abstract="We train robots with transformers. Domain generalization; a survey follows.",
    authors=("Chelsea Finn", "Sergey Levine"),
    categories=("cs.LG", "cs.RO"),
    sources=("arxiv",),
)


#: The matchers every test runs on: `native` is the C kernel (skipped where it could not
#: be built, but never in CI: see test_native_kernel_is_built_in_ci).
NOT_BUILT = pytest.mark.skipif(not AVAILABLE, reason="bot._percolate not built")
ENGINES = [pytest.param(False, id="python"), pytest.param(True, id="native", marks=NOT_BUILT)]
engines = pytest.mark.parametrize("native", ENGINES)


def test_native_kernel_is_built_in_ci() -> None:
    if not AVAILABLE and os.environ.get("CI"):
        pytest.fail("the native percolator kernel (bot._percolate) was not built")
    assert SubscriptionIndex().engine == ("native" if AVAILABLE else "python")
    assert SubscriptionIndex(native=False).engine == "python"


def sub(sub_id: str, query: str, paused: bool = False) -> Subscription:
    return Subscription(id=sub_id, destination=LAB, query=query, paused=paused)


def ids(hits: list[Hit]) -> list[str]:
    return [h.subscription_id for h in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("diffusion", True),
        ("Diffusion Policy", True),
        ('"diffusion policy"', True),
        ('"policy diffusion"', False),
        ("incontext", True),
        ('"in context learning"', True),
        ("in-context", True),
        ("title:transformer", False),
        ("abstract:transformers", True),
        ('"generalization a"', False),
        ('author:"chelsea finn"', True),
        ('author:"finn sergey"', False),
        ("au:levine cat:cs.RO source:arxiv", True),
        ("source:huggingface", False),
        ("cat:cs.*", True),
        ("diffus*", True),
        ("title:robo*", False),
        ("robo* -survey", False),
        ("-survey", False),
        ("-tabular", True),
        ("tabular OR robot", True),
        ("(tabular OR robot) -(survey cat:cs.CV)", True),
    ],
)
@engines
def test_golden_matches(query: str, expected: bool, native: bool) -> None:
    index = SubscriptionIndex(native=native)
    index.add(sub("s1", query))
    assert (ids(index.match(PAPER)) == ["s1"]) is expected
    assert reference_match(parse(query), PAPER) is expected


TRICKY = Paper(
    id="arxiv:2401.00002",
    title="GPT-3.5 Agents' \\textbf{Robot}.Policy -- $\\alpha$-Divergence?!Done",
    abstract=(
        "Self-supervised, model-based RL...x--y z- -w. Transformers' attention; "
        "v2.0 beats 3.5x baselines!Next line ends here? Résumé of naïve Bayes, "
        "Q-learning's off-policy fix."
    ),
    authors=("Anna Lee-Smith", "José Núñez"),
    categories=("cs.LG",),
    sources=("file",),
)
TRICKY_QUERIES = [
    '"robot policy"',
    '"gpt 3 5"',
    "gpt35",
    '"3 5"',
    "alpha",
    '"alpha divergence"',
    "alphadivergence",
    '"divergence done"',
    "selfsupervised",
    '"self supervised model"',
    '"supervised model based"',
    '"rl x"',
    '"x y"',
    '"y z"',
    '"z w"',
    '"transformer attention"',
    '"v2 0"',
    '"3 5x"',
    '"baseline next"',
    '"here resume"',
    '"naive baye"',
    "naive bayes",
    "qlearning",
    '"q learning off"',
    '"learning offpolicy"',
    "offpolic*",
    "off-policy",
    'author:"lee smith"',
    "author:leesmith",
    'author:"smith jose"',
    'author:"jose nunez"',
    "au:nun*",
    "agent",
    '"agents robot"',
    "title:agent* -abstract:agent*",
]


@engines
def test_tokenizer_edge_cases(native: bool) -> None:
    """Dots between letters, runs of hyphens, apostrophes, LaTeX, accents and sentence
    ends: the kernel's ASCII tokenizer must read text exactly as bot/text.py does."""
    index = SubscriptionIndex(native=native)
    for i, text in enumerate(TRICKY_QUERIES):
        index.add(sub(f"t{i}", text))
    got = {h.subscription_id: h.terms for h in index.match(TRICKY)}
    expected = {f"t{i}" for i, q in enumerate(TRICKY_QUERIES) if reference_match(parse(q), TRICKY)}
    assert set(got) == expected
    python = SubscriptionIndex(native=False)
    for i, text in enumerate(TRICKY_QUERIES):
        python.add(sub(f"t{i}", text))
    assert index.match(TRICKY) == python.match(TRICKY)


@engines
def test_hits_carry_matched_terms(native: bool) -> None:
    index = SubscriptionIndex(native=native)
    index.add(sub("s1", '"diffusion policies" OR tabular -cat:cs.CV'))
    index.add(sub("s2", "transformers robo*"))
    index.add(sub("s3", "Learning"))
    assert all(type(hit) is Hit for hit in index.match(PAPER))
    assert index.match(PAPER) == [
        Hit("s1", PAPER.id, ("diffusion policy",)),
        Hit("s2", PAPER.id, ("transformer", "robot")),
        Hit("s3", PAPER.id, ("learning",)),
    ]


@engines
def test_add_remove_replace_and_shared_queries(native: bool) -> None:
    index = SubscriptionIndex(native=native)
    index.add(sub("a", "diffusion policy"))
    index.add(sub("b", "Diffusion  Policies"))  # same canonical query: one entry
    assert len(index) == 2 and index.query_count == 1
    assert ids(index.match(PAPER)) == ["a", "b"]
    index.add(sub("a", "tabular"))  # a changed its query
    assert ids(index.match(PAPER)) == ["b"] and index.query_count == 2
    assert index.remove("b") and not index.remove("b")
    assert index.match(PAPER) == [] and index.query_count == 1
    assert "a" in index and "b" not in index
    index.remove("a")
    assert index.query_count == 0 and index.always_count == 0


@engines
def test_removing_a_query_keeps_the_others_on_its_anchors(native: bool) -> None:
    index = SubscriptionIndex(native=native)
    index.add(sub("a", "diffusion"))
    index.add(sub("b", "diffusion -tabular"))  # a NOT never anchors: both on "diffusion"
    index.add(sub("c", "-tabular"))  # nothing to anchor on: checked on every paper
    index.add(sub("d", "-survey"))
    assert index.anchors("a") == index.anchors("b") == [(Term("diffusion"),)]
    assert ids(index.match(PAPER)) == ["a", "b", "c"]
    index.remove("a")
    index.remove("d")
    assert ids(index.match(PAPER)) == ["b", "c"]
    index.remove("b")
    assert ids(index.match(PAPER)) == ["c"]
    index.add(sub("a", "diffusion"))
    assert ids(index.match(PAPER)) == ["c", "a"]


@engines
def test_paused_subscriptions_stay_indexed(native: bool) -> None:
    index = SubscriptionIndex(native=native)
    index.add(sub("p", "diffusion", paused=True))
    assert ids(index.match(PAPER)) == ["p"]


@engines
def test_bad_query_is_rejected(native: bool) -> None:
    index = SubscriptionIndex(native=native)
    with pytest.raises(QueryError, match="unbalanced quote"):
        index.add(sub("x", '"open'))
    assert len(index) == 0


def test_anchor_choice() -> None:
    stats = TermStats.from_papers(
        [
            Paper(id=f"p{i}", title="learning model", abstract="robot" if i % 2 else "")
            for i in range(10)
        ]
    )
    index = SubscriptionIndex(stats)
    index.add(sub("and", "learning robot tabular"))  # the two rarest children of an AND
    index.add(sub("or", "tabular OR (learning robot)"))  # every OR branch
    index.add(sub("not", "learning -tabular"))  # a NOT never anchors
    index.add(sub("neg", "-survey"))  # nothing to anchor on: always checked
    index.add(sub("pre", "diffus* OR author:fin*"))
    index.add(sub("phrase", '"learning robot" cat:cs.LG'))
    tabular, robot, learning = Term("tabular"), Term("robot"), Term("learning")
    assert index.anchors("and") == [(tabular, robot)]
    assert index.anchors("or") == [(tabular,), (robot, learning)]
    assert index.anchors("not") == [(learning,)]
    assert index.anchors("neg") == []
    assert index.anchors("pre") == [(Prefix("diffus"),), (Prefix("fin", "author"),)]
    assert index.anchors("phrase") == [(Phrase(("learning", "robot")), Term("cs.lg", "cat"))]
    assert index.always_count == 1


def test_anchor_heuristic_without_statistics_prefers_long_uncommon_words() -> None:
    index = SubscriptionIndex()
    index.add(sub("a", "the learning diffusion policy"))
    index.add(sub("b", "cat:cs.LG author:finn"))
    assert index.anchors("a") == [(Term("diffusion"), Term("policy"))]
    assert index.anchors("b") == [(Term("finn", "author"), Term("cs.lg", "cat"))]


async def test_from_store_indexes_every_subscription(store: Store) -> None:
    await store.put_papers([PAPER])
    one = await store.add_subscription(LAB, "diffusion policy")
    two = await store.add_subscription(LAB, "robots -survey")
    bad = await store.add_subscription(LAB, '"never closed')
    await store.set_paused(LAB.tenant, two.id, True, "by request")
    index = await SubscriptionIndex.from_store(store)
    assert len(index) == 2 and one.id in index and two.id in index
    assert set(index.invalid) == {bad.id}
    assert ids(index.match(PAPER)) == [one.id]


# --------------------------------------------------------------------------- properties

VOCAB = [
    "robot",
    "Robots",
    "policy",
    "policies",
    "diffusion",
    "in",
    "context",
    "incontext",
    "learning",
    "model",
    "classes",
    "bias",
    "gas",
    "α",
    "alpha",
    "Résumé",
    "resume",
    "ROBOTS",
    "Model's",
    "\\textbf{Policies}",
    "$\\alpha$",
]
SEPARATORS = [" ", " ", " ", "-", ". ", "; ", ", ", "/", "... ", "?! ", ".", "--"]
NAMES = ["Chelsea Finn", "Sergey Levine", "Finn Chelsea", "Anna Lee-Smith"]
CATS = ["cs.LG", "cs.RO", "stat.ML"]


@st.composite
def texts(draw: st.DrawFn, max_words: int = 12) -> str:
    words = draw(st.lists(st.sampled_from(VOCAB), max_size=max_words))
    out = ""
    for word in words:
        out += word + draw(st.sampled_from(SEPARATORS))
    return out


@st.composite
def papers(draw: st.DrawFn) -> Paper:
    return Paper(
        id=f"arxiv:{draw(st.integers(1, 10**6))}",
        title=draw(texts(max_words=6)),
        abstract=draw(texts()),
        authors=tuple(draw(st.lists(st.sampled_from(NAMES), max_size=3))),
        categories=tuple(draw(st.lists(st.sampled_from(CATS), max_size=2, unique=True))),
        sources=tuple(draw(st.lists(st.sampled_from(SOURCES), max_size=2, unique=True))),
    )


WORD = st.sampled_from([*VOCAB, "in-context", "robot-policy", "Policies"])
PREFIX = st.sampled_from(["rob*", "pol*", "polic*", "diff*", "incon*", "alp*", "cla*", "res*"])
PHRASE = st.lists(WORD, min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"')
LEAF = st.one_of(
    WORD,
    PREFIX,
    PHRASE,
    st.builds("{}:{}".format, st.sampled_from(["title", "abstract", "ti"]), WORD),
    st.builds("title:{}".format, PREFIX),
    st.sampled_from(['author:"Chelsea Finn"', "au:finn", "author:lee-smith", "author:fin*"]),
    st.sampled_from(["cat:cs.LG", "cat:stat.*", "source:arxiv", "source:file"]),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(" ".join),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: "(" + " OR ".join(cs) + ")"),
        children.map(lambda c: f"-({c})"),
        children.map(lambda c: f"title:({c})" if ":" not in c else c),
    )


QUERIES = st.recursive(LEAF, _combine, max_leaves=6)


@engines
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(QUERIES, min_size=1, max_size=8),
    st.lists(papers(), min_size=1, max_size=3),
    st.booleans(),
)
def test_index_agrees_with_reference(
    native: bool, queries: list[str], docs: list[Paper], stats: bool
) -> None:
    index = SubscriptionIndex(TermStats.from_papers(docs) if stats else None, native=native)
    python = SubscriptionIndex(native=False)  # the fallback: the very same hits
    parsed = {}
    for i, text in enumerate(queries):
        index.add(sub(f"s{i}", text))
        python.add(sub(f"s{i}", text))
        parsed[f"s{i}"] = parse(text)
    for paper in docs:
        found = index.match(paper)
        assert found == python.match(paper)
        hits = {h.subscription_id: h for h in found}
        expected = {s for s, q in parsed.items() if reference_match(q, paper)}
        assert set(hits) == expected
        for sub_id, hit in hits.items():
            assert reference_terms(parsed[sub_id], paper) <= set(hit.terms)
        doc = Doc(paper)
        for q in parsed.values():
            assert evaluate(q, doc) == reference_match(q, paper)


@engines
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5), QUERIES), max_size=20), papers())
def test_add_and_remove_in_any_order(
    native: bool, steps: list[tuple[bool, int, str]], paper: Paper
) -> None:
    index = SubscriptionIndex(native=native)
    live: dict[str, str] = {}
    for adding, n, text in steps:
        if adding:
            index.add(sub(f"s{n}", text))
            live[f"s{n}"] = text
        else:
            assert index.remove(f"s{n}") == (live.pop(f"s{n}", None) is not None)
        # matching between changes: what a paper taught the index must not go stale
        expected = sorted(s for s, q in live.items() if reference_match(parse(q), paper))
        assert sorted(ids(index.match(paper))) == expected
    assert len(index) == len(live)
    for sub_id in live:
        index.remove(sub_id)
    # nothing is left behind: a long-running bot adds and removes for months
    assert (index._slots, index._by_prefix, index._atoms, index._entries) == ({}, {}, {}, {})


def test_matched_terms_name_prefix_matches() -> None:
    doc = Doc(PAPER)
    assert matched_terms(parse("robo* OR tabular"), doc) == ("robot",)
