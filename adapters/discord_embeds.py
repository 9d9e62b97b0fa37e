"""Core Replies -> Discord messages of embeds, within every Discord limit.

Limits: title 256, description 4,096, field name 256 and value 1,024, footer 2,048,
author 256, at most 10 embeds and 6,000 embed characters per message, content 2,000.
Paper text is markdown-escaped; mentions are neutralised by escaping and, on every
message, by `AllowedMentions.none()` (so `@everyone` in a title pings nobody).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.messages import Card, Reply

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
FIELD_NAME_MAX = 256
FOOTER_MAX = 2048
AUTHOR_MAX = 256
CONTENT_MAX = 2000
EMBEDS_PER_MESSAGE = 5  # one row of buttons per card, at most 5 rows
CHARS_PER_MESSAGE = 6000
COLOUR = 0x1D3557


def safe(text: str) -> str:
    """Paper text with markdown and mentions neutralised."""
    return escape_mentions(escape_markdown(text))


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def embed_size(embed: discord.Embed) -> int:
    """Characters Discord counts toward the 6,000 per message."""
    return len(embed)


def card_embed(card: Card) -> discord.Embed:
    """One paper as an embed: linked title, TL;DR, facts, why it matched."""
    embed = discord.Embed(
        title=cut(safe(card.title), TITLE_MAX),
        url=card.url or None,
        description=cut(safe(card.tldr), DESCRIPTION_MAX) if card.tldr else None,
        colour=COLOUR,
    )
    if card.authors:
        embed.set_author(name=cut(card.authors, AUTHOR_MAX))
    facts = [card.date or "", ", ".join(card.categories)]
    if card.upvotes is not None:
        facts.append(f"▲ {card.upvotes}")
    links = [
        f"[Hugging Face]({card.hf_url})" if card.hf_url else "",
        f"[GitHub]({card.github})" if card.github else "",
    ]
    details = " · ".join(f for f in [*(safe(x) for x in facts), *links] if f)
    if details:
        embed.add_field(name="Details", value=cut(details, FIELD_VALUE_MAX), inline=False)
    if card.matched:
        why = ", ".join(card.matched)
        embed.add_field(name="Matched", value=cut(safe(why), FIELD_VALUE_MAX), inline=True)
    if card.subscription_ids:
        embed.set_footer(text=cut("for " + ", ".join(card.subscription_ids), FOOTER_MAX))
    return embed


@dataclass
class Message:
    """One Discord message: content, embeds, and the cards behind the embeds."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)


def render(reply: Reply) -> list[Message]:
    """The messages of a reply: the text first, then cards packed within the limits."""
    lines = [reply.text] if reply.text else []
    lines += [f"• {line}" for line in reply.lines]
    if reply.footer:
        lines.append(reply.footer)
    text = "\n".join(lines)
    if reply.is_error and text:
        text = "⚠️ " + text
    messages = [Message(content=cut(escape_mentions(text), CONTENT_MAX) if text else None)]
    size = 0
    for card in reply.cards:
        embed = card_embed(card)
        current = messages[-1]
        if (
            len(current.embeds) >= EMBEDS_PER_MESSAGE
            or size + embed_size(embed) > CHARS_PER_MESSAGE
        ):
            messages.append(Message())
            size = 0
            current = messages[-1]
        current.embeds.append(embed)
        current.cards.append(card)
        size += embed_size(embed)
    return messages
