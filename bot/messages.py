"""Platform-neutral messages: what adapters hand the core, and what the core answers.

`Command` comes in (`/papers ...` typed somewhere by someone), `Reply` goes out;
`Card` is one paper as every adapter renders it. Adapters turn these into Block Kit,
embeds or terminal text, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.models import Destination, Tenant, user_destination


@dataclass(frozen=True, slots=True)
class Actor:
    """The person who typed a command. `is_admin` is decided by the adapter."""

    user: str
    is_admin: bool = True
    name: str | None = None
    timezone: str | None = None  # the person's own IANA zone, when the platform says


@dataclass(frozen=True, slots=True)
class Command:
    """`/papers <text>` typed by `actor` in `destination` (a channel or a DM)."""

    text: str
    destination: Destination
    actor: Actor

    @property
    def tenant(self) -> Tenant:
        """The workspace the command was typed in; it scopes everything it touches."""
        return self.destination.tenant

    @property
    def actor_destination(self) -> Destination:
        """The actor's direct-message destination (where their follows are posted)."""
        d = self.destination
        return user_destination(d.platform, d.workspace, self.actor.user)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a posted message landed (platform message id, e.g. Slack's ts)."""

    destination: Destination
    message_id: str


@dataclass(frozen=True, slots=True)
class Card:
    """One paper, ready to render: every text is plain (adapters escape it)."""

    paper_id: str
    title: str
    url: str
    authors: str = ""
    date: str | None = None
    categories: tuple[str, ...] = ()
    upvotes: int | None = None
    hf_url: str | None = None
    github: str | None = None
    tldr: str = ""
    matched: tuple[str, ...] = ()
    subscription_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer or a post. `ephemeral` answers are shown only to the actor.

    `cards` beyond what one platform message holds are the adapter's to split
    (threads, extra messages); `footer` is a closing line such as "+3 more — ...";
    `about` a channel the reply speaks of, which adapters show as a link to it.
    """

    text: str
    cards: tuple[Card, ...] = ()
    ephemeral: bool = True
    is_error: bool = False
    footer: str | None = None
    lines: tuple[str, ...] = field(default=())
    about: Destination | None = None  # a channel the reply speaks of, shown as a link to it


def plural(count: int, noun: str) -> str:
    """`1 paper`, `3 papers`, `2 new papers` (for nouns whose plural adds an s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def error(text: str) -> Reply:
    """A reply that tells the actor what went wrong."""
    return Reply(text=text, is_error=True)
