"""TL;DRs: ai_summary first, else the sentence that states the contribution."""

from __future__ import annotations

from bot.cards import author_line, card_for
from bot.models import Paper
from bot.summarize import MAX_TLDR, extractive_tldr, sentences, shorten, tldr

ABSTRACT = (
    "Domain shift is a central problem in machine learning. Many methods have been "
    "studied over the years. We propose MixStyle, a simple plug-in module that mixes "
    "feature statistics across domains. Experiments on five benchmarks confirm it. "
    "Code is available."
)


def test_sentences_split_on_sentence_ends() -> None:
    assert len(sentences(ABSTRACT)) == 5
    assert sentences("One e.g. two. Three") == ["One e.g. two.", "Three"]


def test_contribution_sentence_wins() -> None:
    paper = Paper(id="arxiv:1", title="MixStyle", abstract=ABSTRACT)
    assert extractive_tldr(paper).startswith("We propose MixStyle")


def test_matched_terms_pull_their_sentence() -> None:
    abstract = (
        "We propose a new optimizer for transformers. "
        "The method also improves domain generalization on PACS and OfficeHome benchmarks."
    )
    paper = Paper(id="arxiv:1", title="t", abstract=abstract)
    assert "domain generalization" in extractive_tldr(
        paper, ["domain", "generalization", "pacs", "officehome"]
    )


def test_ai_summary_is_preferred_and_capped() -> None:
    paper = Paper(id="arxiv:1", title="t", abstract=ABSTRACT, ai_summary="x " * 400)
    text = tldr(paper)
    assert text.startswith("x x") and len(text) <= MAX_TLDR and text.endswith("…")


def test_shorten_cuts_at_a_word() -> None:
    text = shorten("word " * 100, 30)
    assert len(text) <= 30 and text.endswith("word…")
    assert shorten("short") == "short"


def test_no_abstract_no_tldr() -> None:
    assert tldr(Paper(id="arxiv:1", title="  A   Title ")) == ""


def test_card_facts() -> None:
    paper = Paper(
        id="arxiv:2401.12345",
        title="A  paper",
        abstract=ABSTRACT,
        authors=("A", "B", "C", "D"),
        sources=("huggingface", "arxiv"),
        upvotes=0,
        github_repo="https://github.com/x/y",
    )
    card = card_for(paper, ["mixstyle", "mixstyle"], ["s1"])
    assert card.url == "https://arxiv.org/abs/2401.12345"
    assert card.hf_url == "https://huggingface.co/papers/2401.12345"
    assert card.authors == "A, B, C et al."
    assert card.upvotes == 0
    assert card.matched == ("mixstyle",)
    assert card.title == "A paper"
    assert author_line(("A", "B")) == "A, B"
