"""Optional LLM TL;DRs through any OpenAI-compatible endpoint (`summaries.llm.*`).

Off by default. When on, a paper without Hugging Face's ai_summary gets a one-sentence
summary from `POST {base_url}/chat/completions`, cached per paper in the store and
capped at `daily_budget` requests a day (UTC); any error, timeout or an exhausted
budget falls back to the extractive TL;DR. Nothing is downloaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

import httpx

from bot.config import LLMSettings
from bot.models import Paper, utcnow
from bot.store import Store
from bot.summarize import extractive_tldr, shorten

log = logging.getLogger(__name__)

PROMPT = (
    "Summarize the research paper below in one plain sentence of at most 40 words, "
    "saying what it contributes. No preamble, no markdown."
)


class Summarizer:
    """TL;DRs for posted cards: HF's, else the LLM's (when enabled), else extractive."""

    def __init__(
        self,
        settings: LLMSettings,
        store: Store,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client = client or httpx.AsyncClient(timeout=20)
        self.clock = clock

    async def tldr(self, paper: Paper, matched: Iterable[str] = ()) -> str:
        """The card's TL;DR (at most 300 characters)."""
        if paper.ai_summary and paper.ai_summary.strip():
            return shorten(paper.ai_summary)
        if not self.settings.enabled or not paper.abstract.strip():
            return extractive_tldr(paper, matched)
        key = f"llm:tldr:{paper.id}"
        cached = await self.store.get_value(key)
        if cached:
            return cached
        day = self.clock().date().isoformat()
        if await self.store.incr(f"llm:budget:{day}") > self.settings.daily_budget:
            log.info("LLM summary budget of %d for %s is used up", self.settings.daily_budget, day)
            return extractive_tldr(paper, matched)
        try:
            summary = shorten(await self._ask(paper))
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("LLM summary of %s failed (%s); using the extractive one", paper.id, exc)
            return extractive_tldr(paper, matched)
        if not summary:
            return extractive_tldr(paper, matched)
        await self.store.set_value(key, summary)
        return summary

    async def _ask(self, paper: Paper) -> str:
        headers = {}
        if self.settings.api_key is not None:
            headers["Authorization"] = f"Bearer {self.settings.api_key.get_secret_value()}"
        response = await self.client.post(
            self.settings.base_url.rstrip("/") + "/chat/completions",
            headers=headers,
            json={
                "model": self.settings.model,
                "messages": [
                    {"role": "system", "content": PROMPT},
                    {
                        "role": "user",
                        "content": f"Title: {paper.title}\n\nAbstract: {paper.abstract}",
                    },
                ],
                "max_tokens": 120,
                "temperature": 0.2,
            },
        )
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        if not isinstance(content, str):
            raise TypeError("the completion is not text")
        return " ".join(content.split())

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
