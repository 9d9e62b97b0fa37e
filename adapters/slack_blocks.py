"""Core Replies -> Slack Block Kit messages, within Slack's limits, notifying nobody.

Paper text goes into `plain_text` objects (header, TL;DR, facts), which Slack never
parses for mentions or formatting; the few mrkdwn texts (the reply's own text and
lines, the fallback `text`) are escaped (`&`, `<`, `>`), so `<!channel>`, `<@U123>`
or `<https://evil|click>` in a title stays literal. Limits: 50 blocks per message,
150 characters per header, 3,000 per section, 75 per button label, 10 elements per
context block, 2,000 characters per context element.
"""

from __future__ import annotations

from typing import Any

from bot.messages import Card, Reply

MAX_BLOCKS = 50
HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_MAX = 2000
BUTTON_MAX = 75
FALLBACK_MAX = 3000
BLOCKS_PER_CARD = 5
ACTION_PREFIX = "paperbot_"

Block = dict[str, Any]


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn gives meaning to (&, <, >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object (never parsed for mentions or formatting)."""
    return {"type": "plain_text", "text": cut(text or " ", limit), "emoji": False}


def mrkdwn(text: str, limit: int = SECTION_MAX) -> dict[str, Any]:
    """A mrkdwn object of already-escaped text."""
    return {"type": "mrkdwn", "text": cut(text or " ", limit), "verbatim": True}


def _button(label: str, action: str, value: str | None = None, url: str | None = None) -> Block:
    button: Block = {"type": "button", "text": plain(label, BUTTON_MAX), "action_id": action}
    if value is not None:
        button["value"] = value[:2000]
    if url is not None:
        button["url"] = url[:3000]
    return button


def card_blocks(card: Card) -> list[Block]:
    """One card: header, TL;DR, facts, why it matched, buttons."""
    blocks: list[Block] = [{"type": "header", "text": plain(card.title, HEADER_MAX)}]
    if card.tldr:
        blocks.append({"type": "section", "text": plain(card.tldr, SECTION_MAX)})
    facts = [card.authors, card.date or "", ", ".join(card.categories)]
    if card.upvotes is not None:
        facts.append(f"▲ {card.upvotes}")
    context = [plain(f, CONTEXT_MAX) for f in facts if f]
    if card.matched:
        why = "matched: " + ", ".join(card.matched)
        if card.subscription_ids:
            why += " (" + ", ".join(card.subscription_ids) + ")"
        context.append(plain(why, CONTEXT_MAX))
    if context:
        blocks.append({"type": "context", "elements": context[:10]})
    buttons = (
        [
            _button(
                "arXiv" if "arxiv.org" in card.url else "Paper", "paperbot_link_paper", url=card.url
            )
        ]
        if card.url
        else []
    )
    if card.hf_url:
        buttons.append(_button("Hugging Face", "paperbot_link_hf", url=card.hf_url))
    if card.github:
        buttons.append(_button("GitHub", "paperbot_link_github", url=card.github))
    buttons += [
        _button("👍", "paperbot_feedback_up", card.paper_id),
        _button("👎", "paperbot_feedback_down", card.paper_id),
        _button("Similar", "paperbot_similar", card.paper_id),
        _button("Follow authors", "paperbot_follow_authors", card.paper_id),
    ]
    blocks.append(
        {"type": "actions", "block_id": f"paper:{card.paper_id}"[:255], "elements": buttons}
    )
    blocks.append({"type": "divider"})
    return blocks


def _intro(reply: Reply) -> list[Block]:
    blocks: list[Block] = []
    if reply.text:
        prefix = ":warning: " if reply.is_error else ""
        blocks.append({"type": "section", "text": mrkdwn(prefix + escape(reply.text))})
    if reply.lines:
        text = "\n".join("• " + escape(line) for line in reply.lines)
        blocks.append({"type": "section", "text": mrkdwn(text)})
    return blocks


def fallback_text(reply: Reply) -> str:
    """The plain `text` of a message (notifications, screen readers), escaped."""
    parts = [reply.text] if reply.text else []
    parts += [c.title for c in reply.cards]
    return cut(escape(" — ".join(parts) or "paperbot"), FALLBACK_MAX)


def render(reply: Reply) -> list[list[Block]]:
    """The blocks of one or more messages (the first holds the intro) for a reply."""
    messages: list[list[Block]] = []
    current = _intro(reply)
    for card in reply.cards:
        blocks = card_blocks(card)
        if len(current) + len(blocks) > MAX_BLOCKS - 1:
            messages.append(current)
            current = []
        current.extend(blocks)
    if reply.footer:
        current.append({"type": "context", "elements": [plain(reply.footer, CONTEXT_MAX)]})
    if current or not messages:
        messages.append(current or [{"type": "section", "text": mrkdwn(" ")}])
    return messages
