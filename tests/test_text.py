"""The analyzer: normalization, hyphens, sentence ends, plural folding, LaTeX, fields."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models import Paper
from bot.text import (
    VALUE_GAP,
    Token,
    analyze,
    exact_value,
    fold_plural,
    normalize,
    paper_fields,
    reduce_latex,
    term_positions,
    words,
)

# --------------------------------------------------------------------------- plurals

PLURALS = [
    ("models", "model"),
    ("policies", "policy"),
    ("classes", "class"),
    ("approaches", "approach"),
    ("transformers", "transformer"),
    ("strategies", "strategy"),
    ("boxes", "box"),
    ("meshes", "mesh"),
    ("losses", "loss"),
    ("processes", "process"),
    ("llms", "llm"),
    ("gpus", "gpu"),
    ("metrics", "metric"),
    ("topics", "topic"),
    ("caches", "cache"),
    ("biases", "bias"),
    ("analyses", "analysis"),
    ("hypotheses", "hypothesis"),
    ("indices", "index"),
    ("matrices", "matrix"),
    ("corpora", "corpus"),
    ("criteria", "criterion"),
    ("movies", "movie"),
    ("cases", "case"),
    ("responses", "response"),
    ("ties", "tie"),
]

#: Words that must stay as they are (and so never merge with a shorter word).
UNCHANGED = [
    "generalization",
    "general",
    "bias",
    "analysis",
    "corpus",
    "gas",
    "class",
    "lens",
    "series",
    "species",
    "news",
    "status",
    "basis",
    "robotics",
    "semantics",
    "dynamics",
    "physics",
    "statistics",
    "mathematics",
    "genomics",
    "1990s",
    "its",
    "has",
]


@pytest.mark.parametrize(("plural", "singular"), PLURALS)
def test_plural_folds_to_singular(plural: str, singular: str) -> None:
    assert fold_plural(plural) == singular
    assert fold_plural(singular) == singular
    assert words(plural.capitalize()) == words(singular) == [singular]


@pytest.mark.parametrize("word", UNCHANGED)
def test_no_false_merges(word: str) -> None:
    assert fold_plural(word) == word


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("generalization", "general"),
        ("generalizations", "general"),
        ("semantics", "semantic"),
        ("robotics", "robotic"),
        ("news", "new"),
        ("analysis", "analysi"),
        ("corpus", "corpu"),
    ],
)
def test_different_words_stay_apart(a: str, b: str) -> None:
    assert words(a) != words(b)


@given(st.text(alphabet="abcehiorsuxy", min_size=1, max_size=12))
def test_plural_folding_is_idempotent(word: str) -> None:
    assert fold_plural(fold_plural(word)) == fold_plural(word)


# --------------------------------------------------------------------------- normalization


def test_case_accents_and_nfkc() -> None:
    assert words("Résumé NAÏVE Ørsted Straße ﬁne ｆｕｌｌｗｉｄｔｈ") == [
        "resume",
        "naive",
        "orsted",
        "strasse",
        "fine",
        "fullwidth",
    ]
    assert normalize("ÉCOLE") == "ecole"


def test_greek_letters_are_spelled_out() -> None:
    assert words("α-divergence") == words("alpha-divergence") == ["alpha", "divergence"]
    assert words("$\\alpha$-divergence") == ["alpha", "divergence"]


def test_latex_is_reduced_to_words() -> None:
    assert words(r"\textbf{Deep} $\mathcal{O}(n)$ \emph{nets} with $\alpha$") == [
        "deep",
        "o",
        "n",
        "net",
        "with",
        "alpha",
    ]
    assert words(r"Schr\"odinger \'{e}t\'e") == ["schrodinger", "ete"]
    assert reduce_latex("{GPT}-4") == "GPT-4"


def test_exact_values() -> None:
    assert exact_value(" cs.LG ") == "cs.lg"


# --------------------------------------------------------------------------- tokens


def test_hyphenated_word_gives_parts_and_joined_form() -> None:
    assert analyze("In-context learning") == [
        Token("in", 0),
        Token("incontext", 0, 2),
        Token("context", 1),
        Token("learning", 2),
    ]
    assert [t.term for t in analyze("state-of-the-art models")] == [
        "state",
        "stateoftheart",
        "of",
        "the",
        "art",
        "model",
    ]
    assert words("large-language-models") == ["large", "language", "model"]
    assert "largelanguagemodel" in {t.term for t in analyze("large-language-models")}


def test_apostrophes_vanish_inside_words() -> None:
    assert words("the model's output, Finn’s") == ["the", "model", "output", "finn"]


def test_sentence_end_takes_a_position() -> None:
    tokens = analyze("Robots learn. Policies adapt! Why? Because; yes")
    assert [(t.term, t.position) for t in tokens] == [
        ("robot", 0),
        ("learn", 1),
        ("policy", 3),
        ("adapt", 4),
        ("why", 6),
        ("because", 8),
        ("yes", 10),
    ]


def test_inner_dots_are_not_sentence_ends() -> None:
    assert [(t.term, t.position) for t in analyze("GPT-3.5 on cs.LG")] == [
        ("gpt", 0),
        ("gpt3", 0),
        ("3", 1),
        ("5", 2),
        ("on", 3),
        ("cs", 4),
        ("lg", 5),
    ]


def test_start_offsets_positions() -> None:
    assert analyze("a b", start=10) == [Token("a", 10), Token("b", 11)]


def test_paper_fields() -> None:
    paper = Paper(
        id="arxiv:1",
        title="Diffusion Policies",
        abstract="We study robots.",
        authors=("Chelsea Finn", "Sergey Levine"),
        categories=("cs.LG", "cs.RO"),
        sources=("arxiv",),
    )
    fields = paper_fields(paper)
    assert fields["title"] == [Token("diffusion", 0), Token("policy", 1)]
    assert [t.term for t in fields["abstract"]] == ["we", "study", "robot"]
    assert fields["author"] == [
        Token("chelsea", 0),
        Token("finn", 1),
        Token("sergey", 1 + VALUE_GAP),
        Token("levine", 2 + VALUE_GAP),
    ]
    assert fields["cat"] == [Token("cs.lg", 0), Token("cs.ro", VALUE_GAP)]
    assert fields["source"] == [Token("arxiv", 0)]


# --------------------------------------------------------------------------- properties

TEXT = st.lists(
    st.sampled_from(
        [*list("abcdeisy xyz-'.;!?,$\\{}_/"), "models", "é", "ß", "α", "’", "‐", "Ω", "ﬁ", "＄"]
    ),
    max_size=40,
).map("".join)


@given(TEXT)
def test_term_positions_agree_with_analyze(text: str) -> None:
    expected: dict[str, list[int]] = {}
    for token in analyze(text):
        expected.setdefault(token.term, []).append(token.position)
    got: dict[str, list[int]] = {}
    term_positions(text, got)
    assert got == {t: sorted(ps) for t, ps in expected.items()}


@given(TEXT)
def test_analyzing_terms_again_changes_nothing(text: str) -> None:
    for token in analyze(text):
        assert words(token.term) == [token.term]


@given(TEXT)
def test_positions_are_ordered_and_terms_nonempty(text: str) -> None:
    tokens = analyze(text)
    assert [t.position for t in tokens] == sorted(t.position for t in tokens)
    assert all(t.term and t.term.isalnum() for t in tokens)


def spec_tokens(text: str) -> list[Token]:
    """The tokenizer as specified, written plainly: one regex over the whole text."""
    import re

    text = normalize(reduce_latex(text)).translate(dict.fromkeys(map(ord, "${}'")))
    tokens: list[Token] = []
    pos = 0
    for item in re.findall(r"[^\W_]+(?:-[^\W_]+)*|[.!?;](?![^\W_])", text):
        if item in ".!?;":
            pos += 1
            continue
        parts = item.split("-")
        tokens.append(Token(fold_plural(parts[0]), pos))
        if len(parts) > 1:
            tokens.append(Token(fold_plural("".join(parts)), pos, len(parts)))
        tokens.extend(Token(fold_plural(p), pos + i) for i, p in enumerate(parts[1:], 1))
        pos += len(parts)
    return tokens


@given(TEXT)
def test_fast_paths_agree_with_the_spec(text: str) -> None:
    assert analyze(text) == spec_tokens(text)


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=60))
def test_ascii_fast_path_agrees_with_the_spec(text: str) -> None:
    assert analyze(text) == spec_tokens(text)
