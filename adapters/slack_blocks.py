"""Core Replies -> Slack Block Kit messages, within Slack's limits, notifying nobody.

Every text of a reply and of a paper goes into `plain_text` objects (header, TL;DR,
intro, facts, button labels), which Slack never parses for mentions, links or
formatting, and is escaped besides (`&`, `<`, `>` -> entities, which Slack decodes
for display): a title containing `<!channel>`, `<@U123>` or `<https://evil|click>`
reaches Slack as `&lt;!channel&gt;` and shows literally. The one mrkdwn text is the
message's `text` fallback (notifications, screen readers); there the formatting
characters `* _ ~` and the backtick are also wrapped in word joiners (U+2060), so
`*bold*` stays literal, and a bare `@channel`/`@here`/`@everyone` is broken likewise.
The only other mrkdwn is a link to the channel a reply speaks of (`Reply.about`), made
of a channel id that matched `[CGD][A-Z0-9]+` and nothing else.

Limits (counted in UTF-16 code units, which is never less than Python's `len`):
50 blocks per message, 150 characters per header, 3,000 per section, 2,000 per
context element and 10 elements per context, 75 per button label, 2,000 per button
value, 3,000 per button URL. A card is 4 blocks (header, TL;DR, facts, buttons), so
ten cards and an intro fit one message; dividers are added when there is room. What
does not fit goes into further messages (the adapter threads them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.messages import Card, Reply

MAX_BLOCKS = 50
HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_MAX = 2000
CONTEXT_ELEMENTS = 10
BUTTON_MAX = 75
VALUE_MAX = 2000
URL_MAX = 3000
FALLBACK_MAX = 3000
TEXT_ONLY_MAX = 12000
ACTION_PREFIX = "paperbot_"
UNTITLED = "Untitled paper"

Block = dict[str, Any]

WORD_JOINER = "\u2060"
_FORMATTING = re.compile(r"([*_~`])")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters (&, <, >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def size(text: str) -> int:
    """Length as Slack may count it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _neutral_char(ch: str) -> str:
    return WORD_JOINER + ch + WORD_JOINER if ch in "*_~`" else escape(ch)


def _cut(text: str, limit: int, piece: Callable[[str], str]) -> str:
    pieces: list[str] = []
    used = 0
    for ch in text:
        out = piece(ch)
        used += size(out)
        if used > limit - 1:
            break
        pieces.append(out)
    return "".join(pieces).rstrip() + "…"


def fit(text: str, limit: int) -> str:
    """`text` escaped, within `limit` (cut with an ellipsis, never inside an entity)."""
    escaped = escape(text)
    return escaped if size(escaped) <= limit else _cut(text, limit, escape)


def neutral(text: str, limit: int) -> str:
    """`text` for a mrkdwn field: escaped, formatting and @channel words neutralised."""
    text = _BROADCAST.sub(lambda m: "@" + WORD_JOINER + m.group(1), text)
    whole = _FORMATTING.sub(WORD_JOINER + r"\1" + WORD_JOINER, escape(text))
    return whole if size(whole) <= limit else _cut(text, limit, _neutral_char)


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object (Slack parses neither mentions nor formatting in it)."""
    return {"type": "plain_text", "text": fit(text, limit), "emoji": False}


def _is_link(url: str | None) -> bool:
    if not url or size(url) > URL_MAX or any(ch.isspace() or ch in '<>"' for ch in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _button(label: str, action: str, *, value: str | None = None, url: str | None = None) -> Block:
    button: Block = {"type": "button", "text": plain(label, BUTTON_MAX), "action_id": action}
    if value is not None:
        button["value"] = value
    if url is not None:
        button["url"] = url
    return button


def _facts(card: Card) -> list[str]:
    facts = [card.authors, card.date or "", ", ".join(card.categories)]
    if card.upvotes is not None:
        facts.append(f"▲ {card.upvotes}")
    if card.matched:
        why = "matched: " + ", ".join(card.matched)
        if card.subscription_ids:
            why += " (" + ", ".join(card.subscription_ids) + ")"
        facts.append(why)
    return [f for f in facts if f.strip()][:CONTEXT_ELEMENTS]


def card_blocks(card: Card) -> list[Block]:
    """One card: header (title), TL;DR, facts, buttons (links, 👍, 👎, Similar, Follow)."""
    title = " ".join(card.title.split()) or UNTITLED
    blocks: list[Block] = [{"type": "header", "text": plain(title, HEADER_MAX)}]
    if card.tldr.strip():
        blocks.append({"type": "section", "text": plain(card.tldr, SECTION_MAX)})
    facts = _facts(card)
    if facts:
        blocks.append({"type": "context", "elements": [plain(f, CONTEXT_MAX) for f in facts]})
    buttons: list[Block] = []
    links = [
        ("arXiv" if "arxiv.org" in card.url else "Paper", "paperbot_link_paper", card.url),
        ("Hugging Face", "paperbot_link_hf", card.hf_url),
        ("GitHub", "paperbot_link_github", card.github),
    ]
    for label, action, url in links:
        if url is not None and _is_link(url):
            buttons.append(_button(label, action, url=url))
    paper = card.paper_id
    if paper.strip() and size(paper) <= VALUE_MAX and not any(c.isspace() for c in paper):
        buttons += [
            _button("👍", "paperbot_feedback_up", value=paper),
            _button("👎", "paperbot_feedback_down", value=paper),
            _button("Similar", "paperbot_similar", value=paper),
            _button("Follow authors", "paperbot_follow_authors", value=paper),
        ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


@dataclass(frozen=True)
class Message:
    """One Slack message of a reply: its blocks, its `text` fallback, a text-only twin.

    `text_only` is the whole message as neutralised mrkdwn (links clickable), posted
    instead should Slack refuse the blocks.
    """

    blocks: list[Block]
    text: str
    text_only: str


@dataclass(frozen=True)
class _Unit:
    """Blocks kept together in one message, with their share of the texts."""

    blocks: list[Block]
    summary: str | None  # raw text for the notification fallback
    lines: list[str]  # the text-only rendering, already neutralised


def _intro(reply: Reply) -> list[_Unit]:
    """The reply's text and lines as plain sections of at most SECTION_MAX each."""
    paragraphs = []
    if reply.text.strip():
        paragraphs.append(("⚠️ " if reply.is_error else "") + reply.text)
    paragraphs += ["• " + line for line in reply.lines]
    chunks: list[list[str]] = []
    used = 0
    for paragraph in paragraphs:
        length = size(fit(paragraph, SECTION_MAX))
        if chunks and used + 1 + length <= SECTION_MAX:
            chunks[-1].append(paragraph)
            used += 1 + length
        else:
            chunks.append([paragraph])
            used = length
    return [
        _Unit(
            blocks=[{"type": "section", "text": _plain_joined(chunk)}],
            summary=reply.text if i == 0 and reply.text.strip() else None,
            lines=[neutral(p, SECTION_MAX) for p in chunk],
        )
        for i, chunk in enumerate(chunks)
    ]


def _about(reply: Reply) -> list[_Unit]:
    """A link to the channel the reply speaks of (Slack shows its name): the one mrkdwn
    block, made of a channel id alone, so nothing of paper or user text gets in."""
    about = reply.about
    if about is None or about.platform != "slack" or not _CHANNEL_ID.fullmatch(about.channel):
        return []
    element = {"type": "mrkdwn", "text": f"Channel: <#{about.channel}>"}
    return [
        _Unit([{"type": "context", "elements": [element]}], None, [f"Channel: <#{about.channel}>"])
    ]


def _plain_joined(paragraphs: list[str]) -> dict[str, Any]:
    text = "\n".join(fit(p, SECTION_MAX) for p in paragraphs)
    return {"type": "plain_text", "text": text, "emoji": False}


def _card_unit(card: Card) -> _Unit:
    title = card.title if card.title.strip() else UNTITLED
    lines = [neutral(f"• {title} — {card.authors}", HEADER_MAX * 2)]
    if _is_link(card.url):
        lines.append("  " + escape(card.url))
    return _Unit(card_blocks(card), title, lines)


def _message(units: list[_Unit]) -> Message:
    blocks = [b for u in units for b in u.blocks]
    if len(blocks) + len(units) - 1 <= MAX_BLOCKS:  # room for dividers between units
        divider: list[Block] = [{"type": "divider"}]
        blocks = [b for i, u in enumerate(units) for b in (divider * bool(i) + u.blocks)]
    summaries = [u.summary.strip() for u in units if u.summary and u.summary.strip()]
    kept: list[str] = []
    used = 0
    for line in (line for u in units for line in u.lines):
        used += size(line) + 1
        if used > TEXT_ONLY_MAX:
            break
        kept.append(line)
    return Message(
        blocks=blocks,
        text=neutral(" — ".join(summaries) or "paperbot", FALLBACK_MAX),
        text_only="\n".join(kept) if "".join(kept).strip() else "paperbot",
    )


def render(reply: Reply) -> list[Message]:
    """The message(s) of a reply: the intro, the cards, the footer, 50 blocks at most each.

    Cards are never split; a reply of up to ten cards is one message.
    """
    units = _intro(reply) + _about(reply) + [_card_unit(card) for card in reply.cards]
    if reply.footer and reply.footer.strip():
        footer = {"type": "context", "elements": [plain(reply.footer, CONTEXT_MAX)]}
        units.append(_Unit([footer], None, [neutral(reply.footer, CONTEXT_MAX)]))
    if not units:
        empty = {"type": "section", "text": plain("(nothing to show)", SECTION_MAX)}
        units.append(_Unit([empty], None, []))
    messages: list[list[_Unit]] = [[]]
    count = 0
    for unit in units:
        if count and count + len(unit.blocks) > MAX_BLOCKS:
            messages.append([])
            count = 0
        messages[-1].append(unit)
        count += len(unit.blocks)
    return [_message(m) for m in messages]
