"""Rendering: any paper, any reply, within every Discord limit; paper text inert."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord_embeds import (
    AUTHOR_MAX,
    CHARS_PER_MESSAGE,
    CONTENT_MAX,
    DESCRIPTION_MAX,
    EMBEDS_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    FOOTER_MAX,
    TITLE_MAX,
    card_embed,
    cut,
    embed_size,
    render,
    split_text,
    units,
    web_url,
)
from bot.messages import Card, Reply

MARKUP = ["@everyone", "@here", "<@123456789012345678>", "<@&123456789012345678>", "**", "_",
          "`", "~~", "||", "> ", "# ", "[x](https://evil.example)", "\\", "\n", "  ", "😀",
          "\u200b", "é", "a", "word "]  # fmt: skip
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(MARKUP), max_size=3000).map("".join),
    st.text(max_size=10).map(lambda t: t * 1000),
)
urls = st.one_of(
    st.none(),
    st.just("https://github.com/a/b_(c)"),
    st.just("javascript:alert(1)"),
    st.text(max_size=50),
    st.just("https://x.org/" + "a" * 3000),
)
cards = st.builds(
    Card,
    paper_id=st.one_of(st.just("arxiv:2411.00001"), st.text(min_size=1, max_size=300)),
    title=texts,
    url=st.one_of(st.just("https://arxiv.org/abs/2411.00001"), st.text(max_size=40)),
    authors=st.lists(st.text(max_size=40), max_size=500).map(", ".join),
    date=st.one_of(st.none(), st.text(max_size=20)),
    categories=st.lists(st.text(max_size=20), max_size=50).map(tuple),
    upvotes=st.one_of(st.none(), st.integers(-(10**12), 10**12)),
    hf_url=urls,
    github=urls,
    tldr=texts,
    matched=st.lists(texts, max_size=30).map(tuple),
    subscription_ids=st.lists(st.text(max_size=30), max_size=300).map(tuple),
)


def check_embed(data: dict[str, object]) -> None:
    """Every per-embed limit, on the JSON discord.py sends."""
    title = str(data.get("title", ""))
    assert 0 < units(title) <= TITLE_MAX
    assert units(str(data.get("description", ""))) <= DESCRIPTION_MAX
    author = data.get("author") or {}
    footer = data.get("footer") or {}
    assert isinstance(author, dict) and isinstance(footer, dict)
    assert (
        units(author.get("name", "")) <= AUTHOR_MAX and units(footer.get("text", "")) <= FOOTER_MAX
    )
    fields = data.get("fields") or []
    assert isinstance(fields, list) and len(fields) <= FIELDS_MAX
    for f in fields:
        assert 0 < units(f["name"].strip()) and units(f["name"]) <= FIELD_NAME_MAX
        assert 0 < units(f["value"].strip()) and units(f["value"]) <= FIELD_VALUE_MAX
    for key in ("url",):
        if key in data:
            assert web_url(str(data[key])) == data[key]
    assert "@everyone" not in title and "@here" not in title


@settings(max_examples=150, deadline=None)
@given(card=cards)
def test_any_card_renders_within_every_limit(card: Card) -> None:
    embed = card_embed(card)
    check_embed(embed.to_dict())  # type: ignore[arg-type]
    assert embed_size(embed) <= CHARS_PER_MESSAGE


@settings(max_examples=100, deadline=None)
@given(
    text=texts,
    lines=st.lists(texts, max_size=40).map(tuple),
    footer=st.one_of(st.none(), texts),
    many=st.lists(cards, max_size=24).map(tuple),
    is_error=st.booleans(),
)
def test_any_reply_renders_within_every_limit(
    text: str, lines: tuple[str, ...], footer: str | None, many: tuple[Card, ...], is_error: bool
) -> None:
    reply = Reply(text=text, cards=many, lines=lines, footer=footer, is_error=is_error)
    messages = render(reply)
    assert [c for m in messages for c in m.cards] == list(many)  # every card, in order
    for message in messages:
        assert message.content is None or 0 < units(message.content) <= CONTENT_MAX
        assert message.content or message.embeds  # Discord refuses empty messages
        assert len(message.embeds) <= EMBEDS_MAX
        assert sum(embed_size(e) for e in message.embeds) <= CHARS_PER_MESSAGE
        assert "@everyone" not in (message.content or "")
        for embed in message.embeds:
            check_embed(embed.to_dict())  # type: ignore[arg-type]


@given(text=texts, limit=st.integers(2, 3000))
def test_split_text_keeps_everything_within_the_limit(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(0 < units(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())  # nothing lost


def test_cut_counts_utf16_units_and_marks_the_cut() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("abcdef", 4) == "abc…"
    assert cut("😀😀😀", 4) == "😀…" and units(cut("😀😀😀", 4)) <= 4


def test_only_web_urls_become_links() -> None:
    embed = card_embed(
        Card(
            paper_id="doi:10.1/x",
            title="T",
            url="javascript:alert(1)",
            github="https://github.com/a/b_(c)",
            hf_url="ftp://x",
        )
    )
    assert embed.url is None
    [details] = embed.fields
    assert details.value == "[GitHub](https://github.com/a/b_%28c%29)"
