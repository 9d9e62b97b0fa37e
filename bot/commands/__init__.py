"""`/papers ...` -> Command -> Reply: the platform-neutral command layer."""

from __future__ import annotations

from bot.commands.core import Core, PaperSearch, RateLimit

__all__ = ["Core", "PaperSearch", "RateLimit"]
