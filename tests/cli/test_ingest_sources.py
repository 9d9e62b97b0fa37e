"""`paperbot ingest --source ...` over real HTTP: loopback servers configured through env."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web
from loopback import cli_runner, serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HF = json.loads((FIXTURES / "hf_daily_papers.json").read_text())
ATOM = (FIXTURES / "arxiv_api.xml").read_bytes()


async def test_hf_backfill_day_by_day_oldest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days: list[str] = []

    async def daily(request: web.Request) -> web.Response:
        days.append(request.query["date"])
        items = HF if request.query["date"] == "2024-11-20" else []
        return web.json_response(items)

    app = web.Application()
    app.router.add_get("/api/daily_papers", daily)
    async with serve(app) as url:
        monkeypatch.setenv("PAPERBOT_SOURCES__HUGGINGFACE__BASE_URL", url)
        run = cli_runner(tmp_path)
        code, out, err = await run(
            "ingest", "--source", "huggingface", "--since", "2024-11-19", "--until", "2024-11-21"
        )
        assert code == 0, err
        assert days == ["2024-11-19", "2024-11-20", "2024-11-21"]
        assert out.strip().splitlines()[-1] == "fetched=6 new=2 updated=0 skipped=4"
        code, out, _ = await run("ingest", "--source", "huggingface", "--date", "2024-11-20")
        assert out.strip().splitlines()[-1] == "fetched=6 new=0 updated=0 skipped=4"
        code, out, _ = await run("search", "dexterous", "--json")
        assert json.loads(out.splitlines()[0])["id"] == "arxiv:2411.01234"


async def test_arxiv_backfill_through_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries: list[dict[str, str]] = []

    async def api(request: web.Request) -> web.Response:
        queries.append(dict(request.query))
        return web.Response(body=ATOM, content_type="application/atom+xml")

    app = web.Application()
    app.router.add_get("/api/query", api)
    async with serve(app) as url:
        monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__API_URL", url)
        monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__CATEGORIES", '["cs.LG", "stat.ML"]')
        code, out, err = await cli_runner(tmp_path)(
            "ingest", "--source", "arxiv", "--since", "2023-01-01"
        )
    assert code == 0, err
    assert queries[0]["search_query"] == "cat:cs.LG OR cat:stat.ML"
    assert queries[0]["sortBy"] == "submittedDate"
    assert out.strip().splitlines()[-1] == "fetched=1 new=1 updated=0 skipped=0"


async def test_unreachable_source_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/api/daily_papers", broken)
    async with serve(app) as url:
        monkeypatch.setenv("PAPERBOT_SOURCES__HUGGINGFACE__BASE_URL", url)
        code, _, err = await cli_runner(tmp_path)("ingest", "--source", "huggingface")
    assert code == 1 and "huggingface" in err and "HTTP 404" in err
