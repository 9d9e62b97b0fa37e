"""Replies -> Block Kit: valid per slack_sdk's models, within limits, pinging nobody."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_helpers import card, check_blocks, no_pings

from adapters.slack_blocks import (
    WORD_JOINER,
    Message,
    card_blocks,
    fit,
    neutral,
    render,
    size,
)
from bot.messages import Card, Reply
from bot.models import Destination

PIECES = [
    *"ab *_~`<>&|@!#:\n",
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<#C1|general>",
    "<https://evil|click>",
    "@channel",
    ":rocket:",
    "&amp;",
    "é",
    "😀",
    "👩‍🔬",
    "\u202e",
]
NASTY = st.lists(st.sampled_from(PIECES), max_size=400).map("".join)
URLS = st.sampled_from(
    [
        "https://arxiv.org/abs/2411.00001",
        "javascript:alert(1)",
        "https://evil/<!channel>",
        "",
        "https://x.org/" + "a" * 4000,
    ]
)


def headers(messages: list[Message]) -> list[str]:
    return [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "header"]


@settings(max_examples=80)
@given(
    title=NASTY,
    tldr=NASTY,
    authors=st.lists(NASTY, max_size=500),
    url=URLS,
    cards=st.integers(0, 25),
    lines=st.lists(NASTY, max_size=30),
)
def test_any_reply_renders_within_limits_and_pings_nobody(
    title: str, tldr: str, authors: list[str], url: str, cards: int, lines: list[str]
) -> None:
    nasty = Card(
        paper_id="arxiv:2411.00001",
        title=title,
        url=url,
        authors=", ".join(authors),
        tldr=tldr,
        categories=(title,),
        matched=(title, tldr),
        subscription_ids=("s1",),
        github=url,
    )
    reply = Reply(text=title, cards=(nasty,) * cards, lines=tuple(lines), footer=title)
    messages = render(reply)
    for message in messages:
        check_blocks(message.blocks)
        no_pings(message)
        assert message.text.strip() and size(message.text) <= 3000
        assert message.text_only.strip() and size(message.text_only) <= 12000
    assert len(headers(messages)) == cards  # every card once, none lost to a split


def test_ten_cards_and_an_intro_fit_one_message() -> None:
    reply = Reply(
        text="10 new papers for s1",
        cards=tuple(card(f"Paper {i}", tldr="t" * 3000, authors="A, B") for i in range(10)),
        footer="+3 more in the thread",
    )
    [message] = render(reply)
    check_blocks(message.blocks)
    assert headers([message]) == [f"Paper {i}" for i in range(10)]
    assert message.blocks[-1]["elements"][0]["text"] == "+3 more in the thread"


def test_many_cards_split_into_messages_in_order() -> None:
    reply = Reply(text="50 results", cards=tuple(card(f"P{i}") for i in range(50)))
    messages = render(reply)
    assert len(messages) > 1
    for message in messages:
        check_blocks(message.blocks)
    assert headers(messages) == [f"P{i}" for i in range(50)]
    assert messages[0].blocks[0]["text"]["text"] == "50 results"
    assert messages[0].text.startswith("50 results — P0 — P1")
    assert messages[1].text.startswith(headers(messages[1:])[0])


def test_card_has_links_facts_and_the_four_buttons() -> None:
    blocks = card_blocks(
        card(
            "Diffusion policies",
            authors="Ada Lovelace, Alan Turing",
            date="2024-11-02",
            categories=("cs.LG", "cs.RO"),
            upvotes=42,
            hf_url="https://huggingface.co/papers/2411.00001",
            github="https://github.com/x/y",
            tldr="We do things.",
            matched=("diffusion",),
            subscription_ids=("s1",),
        )
    )
    check_blocks(blocks)
    assert [b["type"] for b in blocks] == ["header", "section", "context", "actions"]
    facts = [e["text"] for e in blocks[2]["elements"]]
    assert facts == [
        "Ada Lovelace, Alan Turing",
        "2024-11-02",
        "cs.LG, cs.RO",
        "▲ 42",
        "matched: diffusion (s1)",
    ]
    buttons = {b["action_id"]: b for b in blocks[3]["elements"]}
    assert buttons["paperbot_link_paper"]["url"] == "https://arxiv.org/abs/2411.00001"
    assert buttons["paperbot_link_paper"]["text"]["text"] == "arXiv"
    assert buttons["paperbot_link_hf"]["url"].startswith("https://huggingface.co/")
    assert buttons["paperbot_link_github"]["url"] == "https://github.com/x/y"
    for action in ("feedback_up", "feedback_down", "similar", "follow_authors"):
        assert buttons[f"paperbot_{action}"]["value"] == "arxiv:2411.00001"


def test_unsafe_urls_get_no_link_button() -> None:
    for url in ("javascript:alert(1)", "https://evil/<!channel>", "ftp://x", "https://"):
        blocks = card_blocks(Card(paper_id="arxiv:1", title="t", url=url, github=url))
        actions = next(b for b in blocks if b["type"] == "actions")["elements"]
        assert all("url" not in b for b in actions), url


def test_paper_text_is_escaped_not_dropped() -> None:
    [message] = render(Reply(text="", cards=(card("A <!channel> & <@U1> *bold* paper"),)))
    assert message.blocks[0]["text"] == {
        "type": "plain_text",
        "text": "A &lt;!channel&gt; &amp; &lt;@U1&gt; *bold* paper",
        "emoji": False,
    }


def test_cutting_never_splits_an_entity_and_counts_utf16() -> None:
    assert fit("<" * 200, 150) == "&lt;" * 37 + "…"
    assert size(fit("😀" * 200, 150)) <= 150
    assert fit("short & sweet", 150) == "short &amp; sweet"


def test_fallback_text_neutralises_formatting_and_broadcasts() -> None:
    [message] = render(Reply(text="*New* _papers_ for @channel <!here>", cards=(card("`x`"),)))
    text = message.text
    assert "&lt;!here&gt;" in text and "@channel" not in text
    assert f"{WORD_JOINER}*{WORD_JOINER}New{WORD_JOINER}*{WORD_JOINER}" in text
    assert text.replace(WORD_JOINER, "") == "*New* _papers_ for @channel &lt;!here&gt; — `x`"
    assert size(neutral("*" * 5000, 3000)) <= 3000


def test_long_intro_is_split_into_sections() -> None:
    lines = tuple(f"`s{i}` " + "word " * 50 for i in range(100))
    messages = render(Reply(text="Subscriptions of this channel:", lines=lines))
    for message in messages:
        check_blocks(message.blocks)
    shown = "\n".join(
        b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"
    )
    assert all(f"• `s{i}` " in shown for i in range(100))


def test_errors_get_a_warning_sign_and_empty_replies_still_render() -> None:
    [message] = render(Reply(text="bad query", is_error=True))
    assert message.blocks[0]["text"]["text"] == "⚠️ bad query"
    [message] = render(Reply(text=""))
    check_blocks(message.blocks)
    assert message.text == "paperbot"


@pytest.mark.parametrize(
    ("about", "shown"),
    [
        ("slack:T1:C0123ABC", "Channel: <#C0123ABC>"),
        ("slack:T1:C1>|<!channel", None),  # never an id: no mrkdwn at all
        ("discord:1:22", None),  # another platform's channel
        (None, None),
    ],
)
def test_a_reply_about_a_channel_links_to_it(about: str | None, shown: str | None) -> None:
    where = Destination(*about.split(":", 2)) if about else None  # unchecked, on purpose
    [message] = render(Reply(text="I paused it: <!channel>", about=where))
    check_blocks(message.blocks)
    mrkdwn = [e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"]]
    assert mrkdwn == ([shown] if shown else [])
