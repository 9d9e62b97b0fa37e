"""Core Replies -> Discord messages of embeds, within every Discord limit.

Limits (counted in UTF-16 units, which is never less than Discord's count): title 256,
description 4,096, field name 256 and value 1,024, at most 25 fields, footer 2,048,
author 256, at most 10 embeds and 6,000 embed characters per message, content 2,000.
We put at most 5 cards in one message, because each card gets one row of buttons and
a message holds 5 rows. Text beyond 2,000 characters and cards beyond 5 become more
messages. Paper text is markdown-escaped and mentions are neutralised by escaping and,
on every message, by `AllowedMentions.none()` (so `@everyone` in a title pings nobody).
Links are only ever http(s) URLs; anything else is left out rather than rejected by
Discord (which would refuse the whole message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.messages import Card, Reply

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
FIELD_NAME_MAX = 256
FIELDS_MAX = 25
FOOTER_MAX = 2048
AUTHOR_MAX = 256
CONTENT_MAX = 2000
EMBEDS_MAX = 10
URL_MAX = 2048
EMBEDS_PER_MESSAGE = 5  # one row of buttons per card, and a message holds 5 rows
CHARS_PER_MESSAGE = 6000
COLOUR = 0x1D3557
_URL = re.compile(r"https?://[^\s<>\"'`|]+", re.IGNORECASE)


def units(text: str) -> int:
    """Length in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def head(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` UTF-16 units."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return text[:i]
    return text


def cut(text: str, limit: int) -> str:
    """`text` within `limit` UTF-16 units, with an ellipsis when cut."""
    if units(text) <= limit:
        return text
    return head(text, limit - 1).rstrip() + "…"


def safe(text: str) -> str:
    """Paper text with markdown and mentions neutralised, whitespace folded."""
    return escape_mentions(escape_markdown(" ".join(text.split())))


def web_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL Discord accepts, else None."""
    if not url:
        return None
    url = url.strip()
    return url if len(url) <= URL_MAX and _URL.fullmatch(url) else None


def link(label: str, url: str | None) -> str:
    """A markdown link, or "" for a URL that is not a web URL."""
    url = web_url(url)
    if url is None:
        return ""
    return f"[{label}]({url.replace('(', '%28').replace(')', '%29')})"


def embed_size(embed: discord.Embed) -> int:
    """Characters Discord counts toward the 6,000 per message (UTF-16 units)."""
    texts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    texts.append(embed.author.name or "")
    texts += [f"{f.name or ''}{f.value or ''}" for f in embed.fields]
    return sum(units(t) for t in texts)


def card_embed(card: Card) -> discord.Embed:
    """One paper as an embed: linked title, authors, TL;DR, facts, why it matched."""
    title = safe(card.title) or safe(card.paper_id) or "Untitled"
    embed = discord.Embed(title=cut(title, TITLE_MAX), url=web_url(card.url), colour=COLOUR)
    authors = " ".join(card.authors.split())
    if authors:
        embed.set_author(name=cut(authors, AUTHOR_MAX))
    facts = [card.date or "", ", ".join(card.categories)]
    if card.upvotes is not None:
        facts.append(f"▲ {card.upvotes}")
    links = [link("Hugging Face", card.hf_url), link("GitHub", card.github)]
    details = " · ".join(x for x in [*(safe(f) for f in facts), *links] if x)
    if details:
        embed.add_field(name="Details", value=cut(details, FIELD_VALUE_MAX), inline=False)
    why = safe(", ".join(m for m in card.matched if m.strip()))
    if why:
        embed.add_field(name="Matched", value=cut(why, FIELD_VALUE_MAX), inline=True)
    footer = " ".join(card.paper_id.split())
    if card.subscription_ids:
        footer += " · for " + ", ".join(card.subscription_ids)
    if footer.strip():
        embed.set_footer(text=cut(footer, FOOTER_MAX))
    tldr = safe(card.tldr)
    room = min(DESCRIPTION_MAX, CHARS_PER_MESSAGE - embed_size(embed))
    if tldr and room > 1:
        embed.description = cut(tldr, room)
    return embed


@dataclass
class Message:
    """One Discord message: content, embeds, and the cards behind the embeds."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)


def split_text(text: str, limit: int = CONTENT_MAX) -> list[str]:
    """`text` in pieces of at most `limit` units, split at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while units(line) > limit:  # a single line too long for one message
            if current:
                pieces.append(current)
                current = ""
            first = head(line, limit)
            pieces.append(first)
            line = line[len(first) :]
        joined = f"{current}\n{line}" if current else line
        if units(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = line
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()]


def reply_text(reply: Reply) -> str:
    """The text part of a reply: its text, its lines as bullets, its footer."""
    lines = [reply.text] if reply.text else []
    lines += [f"• {line}" for line in reply.lines]
    if reply.footer:
        lines.append(reply.footer)
    text = "\n".join(lines)
    if reply.is_error and text:
        text = "⚠️ " + text
    text = escape_mentions(text)
    about = reply.about
    if about is not None and about.platform == "discord" and about.channel.isdigit():
        text += f"\nChannel: <#{about.channel}>"  # a channel link (it notifies nobody)
    return text


def render(reply: Reply) -> list[Message]:
    """The messages of a reply, never empty ones: the text, then cards packed in."""
    messages = [Message(content=piece) for piece in split_text(reply_text(reply))]
    size = 0
    for card in reply.cards:
        embed = card_embed(card)
        if (
            not messages
            or len(messages[-1].embeds) >= EMBEDS_PER_MESSAGE
            or size + embed_size(embed) > CHARS_PER_MESSAGE
        ):
            messages.append(Message())
            size = 0
        messages[-1].embeds.append(embed)
        messages[-1].cards.append(card)
        size += embed_size(embed)
    return messages
