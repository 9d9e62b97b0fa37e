"""`paperbot match QUERY --file PAPERS [--json]`: ids of matching papers, exit 2 on bad queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.match import match

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

PAPERS = [
    {
        "id": "arxiv:2411.00001",
        "title": "In-Context Learning for Diffusion Policies",
        "abstract": "We train robots. A survey follows.",
        "authors": ["Chelsea Finn"],
        "categories": ["cs.RO"],
    },
    {
        "id": "arxiv:2411.00002",
        "title": "A Survey of Diffusion Models",
        "abstract": "Transformers everywhere.",
        "categories": ["cs.LG"],
    },
    {"id": "arxiv:2411.00003", "title": "Tabular Data", "abstract": "Gradient boosting."},
]

HF_ITEMS = [
    {
        "paper": {
            "id": "2411.00004",
            "title": "Diffusion Policy Transformers",
            "summary": "Policies for robots.",
            "authors": [{"name": "Sergey Levine"}],
            "publishedAt": "2026-11-01T00:00:00.000Z",
            "upvotes": 12,
        },
        "title": "Diffusion Policy Transformers",
        "publishedAt": "2026-11-01T00:00:00.000Z",
    }
]


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "papers.jsonl"
    lines = [json.dumps(p) for p in PAPERS] + ["{not json"]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(match, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_prints_matching_ids(jsonl: Path, caplog: pytest.LogCaptureFixture) -> None:
    code, out, err = run("diffusion", "--file", str(jsonl))
    assert code == 0, err
    assert out.splitlines() == ["arxiv:2411.00001", "arxiv:2411.00002"]
    assert "2 of 3 papers match" in err
    # the bad line is reported (logged, so once), not fatal
    assert ["papers.jsonl:4" in r.getMessage() for r in caplog.records] == [True]


def test_query_language_applies(jsonl: Path) -> None:
    code, out, _ = run('in-context "diffusion policy" -title:survey', "--file", str(jsonl))
    assert code == 0
    assert out.splitlines() == ["arxiv:2411.00001"]
    _, out, _ = run('author:"chelsea finn" OR cat:cs.LG', "--file", str(jsonl))
    assert out.splitlines() == ["arxiv:2411.00001", "arxiv:2411.00002"]


def test_json_output_has_id_title_and_terms(jsonl: Path) -> None:
    code, out, _ = run("diffus* transformers", "--file", str(jsonl), "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows == [
        {
            "id": "arxiv:2411.00002",
            "title": "A Survey of Diffusion Models",
            "terms": ["diffusion", "transformer"],
        }
    ]


def test_hugging_face_daily_papers_array(tmp_path: Path) -> None:
    path = tmp_path / "daily.json"
    path.write_text(json.dumps(HF_ITEMS))
    code, out, err = run('"diffusion policy" robots', "--file", str(path))
    assert code == 0, err
    assert out.splitlines() == ["arxiv:2411.00004"]


def test_saved_arxiv_feed_replacements_included(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cs.LG.rss"
    path.write_bytes((FIXTURES / "arxiv_rss.xml").read_bytes())
    code, out, err = run("revised", "--file", str(path))
    assert code == 0, err
    assert out.split() == ["arxiv:2310.00001", "arxiv:2409.11111"]
    assert err.strip() == "2 of 4 papers match"
    # each bad item is said once (logged), not logged and echoed again
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped")]
    assert len(skipped) == 3 and "skipped" not in err


def test_bad_query_exits_2_with_message_and_column(jsonl: Path) -> None:
    code, out, err = run('domain gen "robust', "--file", str(jsonl))
    assert code == 2
    assert out == ""
    assert "unbalanced quote at column 12" in err
    assert 'domain gen "robust\n' in err and "\n             ^" in err


def test_prefix_and_field_errors(jsonl: Path) -> None:
    code, _, err = run("di*", "--file", str(jsonl))
    assert code == 2 and "prefix 'di*' needs at least 3 letters" in err
    code, _, err = run("titel:robot", "--file", str(jsonl))
    assert code == 2 and "unknown field 'titel:' (did you mean title:?)" in err


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("robot", "--file", str(tmp_path / "nope.jsonl"))
    assert code == 2
    assert "does not exist" in err
