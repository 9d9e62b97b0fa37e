"""The ChatAdapter protocol: how the core posts to a platform, and how posting fails."""

from __future__ import annotations

from typing import Protocol

from bot.messages import MessageRef, Reply
from bot.models import Destination

__all__ = [
    "ChatAdapter",
    "DeliveryError",
    "MessageRef",
    "PermanentDeliveryError",
    "RateLimited",
]


class DeliveryError(Exception):
    """Posting failed for a passing reason (5xx, timeout): try again later."""


class RateLimited(DeliveryError):
    """The platform asked us to wait `retry_after` seconds (HTTP 429)."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(f"{message}; retry after {retry_after:g}s")
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Posting can never work as things are (channel gone, bot removed, no permission).

    `reason` is shown to people in `/papers subscriptions` next to the paused entry.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatAdapter(Protocol):
    """One chat platform: receives commands while started, and posts replies."""

    platform: str

    async def start(self) -> None:
        """Connect and begin turning platform events into core commands."""

    async def stop(self) -> None:
        """Disconnect; `send` may no longer be called."""

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post `reply` to a channel or a user's DMs (`destination.is_user`).

        With `thread`, post it as a follow-up of that earlier message (a thread
        reply where the platform has threads, else a plain message after it).

        Raises RateLimited, PermanentDeliveryError or DeliveryError; returns only
        once the platform has confirmed the post.
        """
