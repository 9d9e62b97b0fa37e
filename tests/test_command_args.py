"""Splitting `/papers` text: options out, the query kept as typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.commands.args import ArgError, parse_args, parse_when

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_query_keeps_quotes_and_minus() -> None:
    args = parse_args('subscribe "domain generalization" -survey --digest daily@09:00 --tz UTC')
    assert args.name == "subscribe"
    assert args.rest == '"domain generalization" -survey'
    assert args.options == {"digest": "daily@09:00", "tz": "UTC"}


def test_field_phrases_stay_one_token() -> None:
    args = parse_args('follow author:"Chelsea Finn" --instant')
    assert args.rest == 'author:"Chelsea Finn"'
    assert args.flags == {"instant"}


def test_equals_form_and_flags() -> None:
    args = parse_args("search title:(robot OR robotic) --since=7d --limit 3 --share")
    assert args.rest == "title:(robot OR robotic)"
    assert args.options == {"since": "7d", "limit": "3"}
    assert "share" in args.flags


def test_empty_is_help() -> None:
    assert parse_args("   ").name == "help"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("search x --bogus", "unknown option --bogus"),
        ("search x --since", "--since needs a value"),
        ("search x --share=yes", "unknown option --share"),
    ],
)
def test_bad_options(text: str, message: str) -> None:
    with pytest.raises(ArgError, match=message):
        parse_args(text)


def test_int_option_bounds() -> None:
    assert parse_args("search x --limit 50").int_option("limit", 5, 1, 50) == 50
    with pytest.raises(ArgError, match="from 1 to 50"):
        parse_args("search x --limit 51").int_option("limit", 5, 1, 50)
    with pytest.raises(ArgError, match="whole number"):
        parse_args("search x --limit ten").int_option("limit", 5, 1, 50)


def test_when() -> None:
    assert parse_when("7d", NOW) == NOW - timedelta(days=7)
    assert parse_when("12h", NOW) == NOW - timedelta(hours=12)
    assert parse_when("2w", NOW) == NOW - timedelta(weeks=2)
    assert parse_when("2026-01-01", NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ArgError, match="7d, 12h"):
        parse_when("yesterday", NOW)
