"""Optional LLM TL;DRs: cached, budgeted, and extractive whenever anything goes wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from bot.config import LLMSettings
from bot.models import Paper
from bot.store import Store
from bot.summarize_llm import Summarizer

PAPER = Paper(
    id="arxiv:2411.00001",
    title="MixStyle",
    abstract="Domain shift is hard. We propose MixStyle, which mixes feature statistics.",
)
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def summarizer(
    store: Store, handler: object, **kw: object
) -> tuple[Summarizer, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)  # type: ignore[operator, no-any-return]

    settings = LLMSettings(
        enabled=True,
        base_url="http://llm.test/v1",
        model="tiny",
        api_key="sk-test",
        **kw,  # type: ignore[arg-type]
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return Summarizer(settings, store, client, clock=lambda: NOW), seen


def completion(text: str) -> httpx.Response:
    return httpx.Response(
        200, json={"choices": [{"message": {"role": "assistant", "content": text}}]}
    )


async def test_llm_summary_is_cached(store: Store) -> None:
    s, seen = summarizer(store, lambda r: completion("  MixStyle mixes\nstyles to generalize. "))
    assert await s.tldr(PAPER) == "MixStyle mixes styles to generalize."
    assert await s.tldr(PAPER) == "MixStyle mixes styles to generalize."
    assert len(seen) == 1
    body = json.loads(seen[0].content)
    assert seen[0].url == "http://llm.test/v1/chat/completions"
    assert seen[0].headers["Authorization"] == "Bearer sk-test" and body["model"] == "tiny"
    await s.aclose()


async def test_errors_fall_back_to_extractive(store: Store) -> None:
    for handler in (
        lambda r: httpx.Response(500),
        lambda r: httpx.Response(200, content=b"not json"),
        lambda r: httpx.Response(200, json={"choices": []}),
        lambda r: (_ for _ in ()).throw(httpx.ConnectTimeout("slow", request=r)),
    ):
        s, _ = summarizer(store, handler)
        assert (await s.tldr(PAPER)).startswith("We propose MixStyle")
        await s.aclose()


async def test_budget_caps_requests_per_day(store: Store) -> None:
    s, seen = summarizer(store, lambda r: completion("x"), daily_budget=2)
    for n in range(4):
        await s.tldr(Paper(id=f"arxiv:2411.0000{n}", title="t", abstract="We propose y."))
    assert len(seen) == 2
    await s.aclose()


async def test_hf_summary_and_disabled_need_no_request(store: Store) -> None:
    s, seen = summarizer(store, lambda r: completion("x"))
    hf = Paper(id="arxiv:1", title="t", abstract="a.", ai_summary="From Hugging Face.")
    assert await s.tldr(hf) == "From Hugging Face."
    s.settings = LLMSettings(enabled=False)
    assert (await s.tldr(PAPER)).startswith("We propose")
    assert seen == []
    await s.aclose()
