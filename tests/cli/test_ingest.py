"""`paperbot ingest` through click's CliRunner, on the default SQLite store in tmp_path.

HTTP goes through httpx.MockTransport: the command's Sources are built with it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner

import bot.cli.ingest as ingest_module
from bot.cli import main
from bot.pipeline import Sources

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HF: list[dict[str, Any]] = json.loads((FIXTURES / "hf_daily_papers.json").read_text())
RSS = (FIXTURES / "arxiv_rss.xml").read_bytes()
ATOM = (FIXTURES / "arxiv_api.xml").read_bytes()

Run = Callable[..., tuple[int, str, str]]


async def _no_sleep(seconds: float) -> None:
    """Retry waits pass at once."""


@pytest.fixture
def requests() -> list[httpx.Request]:
    """Every request the command made."""
    return []


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request]
) -> Callable[..., Run]:
    """`run(handler)("ingest", ...)`: the CLI with its HTTP served by `handler`."""
    monkeypatch.delenv("PAPERBOT_STORE__URL", raising=False)
    monkeypatch.delenv("PAPERBOT_CONFIG", raising=False)
    monkeypatch.setenv("PAPERBOT_SOURCES__HUGGINGFACE__BASE_URL", "http://hf.test")
    monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__RSS_URL", "http://rss.test")
    monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__API_URL", "http://api.test")
    monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__CATEGORIES", '["cs.LG", "cs.CL"]')
    monkeypatch.setenv("PAPERBOT_SOURCES__MAX_RETRIES", "1")

    def with_handler(handler: Callable[[httpx.Request], httpx.Response] | None = None) -> Run:
        def record(request: httpx.Request) -> httpx.Response:
            requests.append(request)
            assert handler is not None, "this command should not fetch anything"
            return handler(request)

        transport = httpx.MockTransport(record)
        monkeypatch.setattr(
            ingest_module,
            "Sources",
            partial(Sources, transport=transport, sleep=_no_sleep, arxiv_interval=0),
        )

        def invoke(*args: str) -> tuple[int, str, str]:
            result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), *args])
            return result.exit_code, result.stdout, result.stderr

        return invoke

    return with_handler


def _hf(by_day: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "hf.test" and request.url.path == "/api/daily_papers"
        return httpx.Response(200, json=by_day.get(request.url.params["date"], []))

    return handler


def test_file_ingest_then_reingest(
    run: Callable[..., Run], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "papers.jsonl"
    path.write_text(
        '{"id": "2411.00001v2", "title": "Diffusion policies"}\n'
        "not json\n"
        '{"id": "arxiv:2411.00002", "title": "Mixtures of experts"}\n'
    )
    invoke = run()
    code, out, err = invoke("ingest", "--file", str(path))
    assert code == 0, err
    assert out.splitlines()[-1] == "fetched=3 new=2 updated=0 skipped=1"
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"skipped {path}:2: Expecting value: line 1 column 1 (char 0)"
    ]
    code, out, _ = invoke("ingest", "--file", str(path))
    assert out.splitlines()[-1] == "fetched=3 new=0 updated=0 skipped=1"
    code, out, _ = invoke("search", "diffusion", "--json")
    assert code == 0 and json.loads(out.splitlines()[0])["id"] == "arxiv:2411.00001"


def test_hf_one_date(run: Callable[..., Run], requests: list[httpx.Request]) -> None:
    invoke = run(_hf({"2024-11-20": HF}))
    code, out, err = invoke("ingest", "--source", "huggingface", "--date", "2024-11-20")
    assert code == 0, err
    assert out.strip() == "fetched=6 new=2 updated=0 skipped=4"
    assert [r.url.params["date"] for r in requests] == ["2024-11-20"]
    assert requests[0].url.params["p"] == "0" and requests[0].url.params["limit"] == "50"


def test_hf_backfill_oldest_first_and_upvotes_update(
    run: Callable[..., Run], requests: list[httpx.Request]
) -> None:
    later = [{**HF[0], "paper": {**HF[0]["paper"], "upvotes": 99}}]
    invoke = run(_hf({"2024-11-18": HF[:2], "2024-11-20": later}))
    code, out, err = invoke(
        "ingest", "--source", "huggingface", "--since", "2024-11-18", "--until", "2024-11-20"
    )
    assert code == 0, err
    assert [r.url.params["date"] for r in requests] == ["2024-11-18", "2024-11-19", "2024-11-20"]
    assert out.strip() == "fetched=3 new=2 updated=1 skipped=0"
    assert "\x1b[" not in out and "━" not in out  # no progress bar on stdout


def test_hf_default_is_today(run: Callable[..., Run], requests: list[httpx.Request]) -> None:
    code, out, _ = run(_hf({}))("ingest", "--source", "huggingface")
    assert code == 0 and out.strip() == "fetched=0 new=0 updated=0 skipped=0"
    assert [r.url.params["date"] for r in requests] == [datetime.now(UTC).date().isoformat()]


def test_arxiv_today_and_replacements(
    run: Callable[..., Run], requests: list[httpx.Request]
) -> None:
    code, out, err = run(lambda r: httpx.Response(200, content=RSS))("ingest", "--source", "arxiv")
    assert code == 0, err
    assert [str(r.url) for r in requests] == ["http://rss.test/rss/cs.LG+cs.CL"]
    # two papers; two replacements of papers this store does not have; three bad items
    assert out.strip() == "fetched=7 new=2 updated=0 skipped=3"


def test_saved_arxiv_feeds_as_files(run: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "query.xml").write_bytes(ATOM)
    (tmp_path / "cs.LG.rss").write_bytes(RSS)
    (tmp_path / "page.html").write_text("<html><body>Too many requests</body></html>")
    invoke = run()  # nothing is fetched
    code, out, err = invoke("ingest", "--file", str(tmp_path / "query.xml"))
    assert code == 0, err
    assert out.strip() == "fetched=1 new=1 updated=0 skipped=0"
    # the replacement of the stored paper updates it; the other one is not stored
    code, out, err = invoke("ingest", "--file", str(tmp_path / "cs.LG.rss"))
    assert code == 0, err
    assert out.strip() == "fetched=7 new=2 updated=1 skipped=3"
    code, out, err = invoke("ingest", "--file", str(tmp_path / "page.html"))
    assert code == 2 and "page.html: not an RSS or Atom feed" in err


def test_arxiv_since_uses_the_export_api(
    run: Callable[..., Run], requests: list[httpx.Request]
) -> None:
    code, out, err = run(lambda r: httpx.Response(200, content=ATOM))(
        "ingest", "--source", "arxiv", "--since", "2023-01-01"
    )
    assert code == 0, err
    assert requests[0].url.path == "/api/query"
    assert requests[0].url.params["search_query"] == "cat:cs.LG OR cat:cs.CL"
    assert out.strip() == "fetched=1 new=1 updated=0 skipped=0"


def test_unreachable_source_is_a_clear_error(run: Callable[..., Run]) -> None:
    code, out, err = run(lambda r: httpx.Response(503))("ingest", "--source", "huggingface")
    assert code == 1 and out == ""
    assert "huggingface" in err and "gave up after 2 tries" in err


def test_html_error_page_is_skipped_not_a_crash(
    run: Callable[..., Run], caplog: pytest.LogCaptureFixture
) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    code, out, err = run(html)("ingest", "--source", "huggingface", "--date", "2024-11-20")
    assert code == 0 and out.strip() == "fetched=1 new=0 updated=0 skipped=1"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "not JSON" in warnings[0], err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --source or --file"),
        (["--source", "huggingface", "--file", "x.jsonl"], "exactly one of"),
        (["--source", "huggingface", "--date", "2024-13-01"], "--date takes a date"),
        (["--source", "huggingface", "--date", "2024-11-20", "--since", "2024-11-01"], "excludes"),
        (["--source", "huggingface", "--until", "2024-11-20"], "--until needs --since"),
        (["--source", "huggingface", "--since", "2024-11-20", "--until", "2024-11-01"], "after"),
        (["--source", "huggingface", "--since", "2020-01-01", "--until", "2024-01-01"], "at most"),
        (["--source", "arxiv", "--date", "2024-11-20"], "arxiv takes --since only"),
        (["--file", "x.jsonl", "--since", "2024-11-20"], "--file takes no"),
        (["--file", "missing.jsonl"], "cannot read"),
        (["--source", "nowhere"], "Invalid value"),
    ],
)
def test_usage_errors_exit_2_without_fetching(
    run: Callable[..., Run], requests: list[httpx.Request], args: list[str], message: str
) -> None:
    code, out, err = run()("ingest", *args)
    assert code == 2 and message in err and out == ""
    assert requests == []


def test_backfill_spanning_days_reports_every_day(
    run: Callable[..., Run], requests: list[httpx.Request]
) -> None:
    today = datetime.now(UTC).date()
    since = (today - timedelta(days=2)).isoformat()
    code, out, _ = run(_hf({since: HF}))("ingest", "--source", "huggingface", "--since", since)
    assert code == 0 and out.strip() == "fetched=6 new=2 updated=0 skipped=4"
    assert len(requests) == 3 and requests[-1].url.params["date"] == today.isoformat()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "shown"), [(_Terminal(), True), (io.StringIO(), False)])
def test_progress_bar_only_on_a_terminal_stderr(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, shown: bool
) -> None:
    asked: list[str] = []

    def text_stream(name: str) -> io.StringIO:
        asked.append(name)
        return stream

    monkeypatch.setattr(click, "get_text_stream", text_stream)
    with ingest_module._progress() as bar:
        bar.advance(bar.add_task("Hugging Face days", total=2))
    assert asked == ["stderr"]
    assert ("Hugging Face days" in stream.getvalue()) is shown
