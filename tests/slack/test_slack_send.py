"""send(): chat.postMessage with Block Kit against the fake Slack; errors -> core errors."""

from __future__ import annotations

import pytest
from aiohttp import web
from fake_slack import FakeSlack, always, error_body, ratelimited, raw
from hypothesis import given, settings
from hypothesis import strategies as st
from loopback import serve
from slack_helpers import card, check_blocks, make_adapter, no_pings

from adapters.base import DeliveryError, PermanentDeliveryError, RateLimited
from adapters.slack_errors import BOT_REFUSED
from bot.messages import MessageRef, Reply
from bot.models import Destination

C1 = Destination.parse("slack:T1:C1")
NASTY_TITLES = [
    "<!channel> Diffusion",
    "<!here|here> and <!everyone>",
    "<@U123> please look",
    "<#C1|general> <https://evil.example|click me>",
    "*bold* _italic_ ~strike~ `code` ```block```",
    "&lt;!channel&gt; already escaped",
    "> quoted\n>>> all quoted",
    "x" * 5000,
    "😀" * 200,
]


def headers_of(post_data: dict[str, object]) -> list[str]:
    blocks = post_data["blocks"]
    assert isinstance(blocks, list)
    return [b["text"]["text"] for b in blocks if b["type"] == "header"]


async def test_send_posts_valid_blocks_without_unfurls(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack)
    reply = Reply(text="2 new papers for s1", cards=(card("One"), card("Two")), ephemeral=False)
    ref = await slack.send(C1, reply)
    [post] = fake_slack.of("chat.postMessage")
    assert post.data["channel"] == "C1"
    assert post.data["unfurl_links"] is False and post.data["unfurl_media"] is False
    assert "thread_ts" not in post.data
    assert post.data["text"] == "2 new papers for s1 — One — Two"
    assert post.data["_authorization"] == "Bearer xoxb-test"
    check_blocks(post.data["blocks"])
    assert headers_of(post.data) == ["One", "Two"]
    assert ref == MessageRef(C1, "1700000000.000001")


async def test_thread_posts_carry_thread_ts(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack)
    parent = await slack.send(C1, Reply(text="7 new papers for s1", cards=(card("One"),)))
    ref = await slack.send(C1, Reply(text="", cards=(card("Two"),)), thread=parent)
    second = fake_slack.of("chat.postMessage")[1]
    assert second.data["thread_ts"] == parent.message_id
    assert ref.message_id != parent.message_id  # the reply's own ts


async def test_what_exceeds_one_message_goes_into_its_thread(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack)
    cards = tuple(card(f"P{i}", paper_id=f"arxiv:2411.{i:05d}") for i in range(30))
    ref = await slack.send(C1, Reply(text="30 results", cards=cards))
    posts = fake_slack.of("chat.postMessage")
    assert len(posts) > 1
    assert "thread_ts" not in posts[0].data
    assert all(p.data["thread_ts"] == ref.message_id for p in posts[1:])
    for post in posts:
        check_blocks(post.data["blocks"])
    assert [h for p in posts for h in headers_of(p.data)] == [f"P{i}" for i in range(30)]


@pytest.mark.parametrize("title", NASTY_TITLES)
async def test_nasty_papers_notify_and_format_nobody(fake_slack: FakeSlack, title: str) -> None:
    slack = make_adapter(fake_slack)
    nasty = card(title, authors=title, tldr=title, matched=(title,), categories=(title,))
    await slack.send(C1, Reply(text=title, cards=(nasty,) * 3, lines=(title,), footer=title))
    [post] = fake_slack.of("chat.postMessage")
    check_blocks(post.data["blocks"])
    no_pings(post.data)
    for needle in ("*bold*", "_italic_", "~strike~", "`code`"):
        assert needle not in post.data["text"]  # the mrkdwn fallback is neutralised
    assert all(0 < len(h) <= 150 for h in headers_of(post.data))


async def test_follows_are_posted_by_dm(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack)
    user = Destination.parse("slack:T1:@U7")
    ref = await slack.send(user, Reply(text="hi", cards=(card(),)))
    await slack.send(user, Reply(text="again"), thread=ref)
    assert [c.data["users"] for c in fake_slack.of("conversations.open")] == ["U7"]
    posts = fake_slack.of("chat.postMessage")
    assert [c.data["channel"] for c in posts] == ["DU7", "DU7"]
    assert ref.destination == user and posts[1].data["thread_ts"] == ref.message_id


async def test_another_workspace_is_never_posted_to(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack)
    for destination in ("slack:T2:C1", "slack:T2:@U1"):
        with pytest.raises(PermanentDeliveryError, match="belongs to workspace T1, not T2"):
            await slack.send(Destination.parse(destination), Reply(text="x"))
    assert fake_slack.of("chat.postMessage") == [] and fake_slack.of("conversations.open") == []
    assert len(fake_slack.of("auth.test")) == 1  # asked once


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (200, "channel_not_found", PermanentDeliveryError),
        (200, "not_in_channel", PermanentDeliveryError),
        (200, "is_archived", PermanentDeliveryError),
        (200, "restricted_action", PermanentDeliveryError),
        # the bot itself refused: no channel is paused, posts wait
        (200, "account_inactive", DeliveryError),
        (200, "invalid_auth", DeliveryError),
        (200, "token_revoked", DeliveryError),
        (200, "missing_scope", DeliveryError),
        (200, "ekm_access_denied", DeliveryError),
        (429, "ratelimited", RateLimited),
        (200, "ratelimited", RateLimited),
        (500, "internal_error", DeliveryError),
        (503, "service_unavailable", DeliveryError),
        (200, "fatal_error", DeliveryError),
        (200, "some_new_error", DeliveryError),
    ],
)
async def test_errors_map_to_delivery_errors(
    fake_slack: FakeSlack, status: int, error: str, kind: type[Exception]
) -> None:
    fake_slack.failures["chat.postMessage"] = always(status, error)
    with pytest.raises(kind) as info:
        await make_adapter(fake_slack).send(C1, Reply(text="x"))
    assert type(info.value) is kind
    assert error in str(info.value)
    if isinstance(info.value, PermanentDeliveryError):
        assert info.value.reason.startswith("Slack: ") and len(info.value.reason) > 30
    if error in BOT_REFUSED:
        assert str(info.value).endswith(f"({error}); posts wait until it is fixed")


async def test_missing_scope_names_the_scope(fake_slack: FakeSlack) -> None:
    fake_slack.failures["chat.postMessage"] = always(200, "missing_scope", needed="chat:write")
    with pytest.raises(DeliveryError, match=r"chat:write.*reinstall"):
        await make_adapter(fake_slack).send(C1, Reply(text="x"))


@pytest.mark.parametrize(
    "script",
    [
        raw(502, "<html>Bad Gateway</html>", "text/html"),
        raw(503, "upstream connect error", "text/plain"),
        raw(200, "{not json", "application/json"),
    ],
    ids=["html-502", "text-503", "broken-json"],
)
async def test_odd_answers_are_passing_errors(fake_slack: FakeSlack, script: object) -> None:
    fake_slack.failures["chat.postMessage"] = script  # type: ignore[assignment]
    with pytest.raises(DeliveryError) as info:
        await make_adapter(fake_slack).send(C1, Reply(text="x"))
    assert type(info.value) is DeliveryError


async def test_an_unreachable_slack_is_a_passing_error(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack, api_url="http://127.0.0.1:9/api/")  # discard port
    with pytest.raises(DeliveryError) as info:
        await slack.send(C1, Reply(text="x"))
    assert type(info.value) is DeliveryError


async def test_dm_errors_map_too(fake_slack: FakeSlack) -> None:
    fake_slack.failures["conversations.open"] = always(200, "user_not_found")
    with pytest.raises(PermanentDeliveryError, match="user_not_found"):
        await make_adapter(fake_slack).send(Destination.parse("slack:T1:@U9"), Reply(text="x"))
    assert fake_slack.of("chat.postMessage") == []


async def test_429_carries_retry_after_and_is_not_retried_inside(fake_slack: FakeSlack) -> None:
    fake_slack.failures["chat.postMessage"] = ratelimited(every=1, retry_after=17)
    with pytest.raises(RateLimited) as info:
        await make_adapter(fake_slack).send(C1, Reply(text="x"))
    assert info.value.retry_after == 17
    assert len(fake_slack.of("chat.postMessage")) == 1  # the outbox decides when to retry


async def test_429_without_retry_after_waits_a_default(fake_slack: FakeSlack) -> None:
    fake_slack.failures["chat.postMessage"] = lambda n: error_body(429, "ratelimited")
    with pytest.raises(RateLimited) as info:
        await make_adapter(fake_slack).send(C1, Reply(text="x"))
    assert info.value.retry_after == 30


async def test_refused_blocks_fall_back_to_text(fake_slack: FakeSlack) -> None:
    def refuse_blocks(n: int) -> web.Response | None:
        posted = fake_slack.of("chat.postMessage")[-1].data
        return error_body(200, "invalid_blocks") if posted.get("blocks") else None

    fake_slack.failures["chat.postMessage"] = refuse_blocks
    slack = make_adapter(fake_slack)
    reply = Reply(text="2 new papers", cards=(card("*One* <!here>"), card("Two")))
    ref = await slack.send(C1, reply)
    _, fallback = fake_slack.of("chat.postMessage")
    assert "blocks" not in fallback.data
    assert "https://arxiv.org/abs/2411.00001" in fallback.data["text"]
    assert "Two" in fallback.data["text"] and "&lt;!here&gt;" in fallback.data["text"]
    no_pings(fallback.data)
    assert ref.message_id == "1700000000.000001"


async def test_a_refused_later_part_falls_back_alone(fake_slack: FakeSlack) -> None:
    fake_slack.failures["chat.postMessage"] = lambda n: (
        error_body(200, "invalid_blocks") if n == 2 else None
    )
    cards = tuple(card(f"P{i}") for i in range(30))
    ref = await make_adapter(fake_slack).send(C1, Reply(text="30", cards=cards))
    posts = fake_slack.of("chat.postMessage")
    assert len(posts) == 3  # part 1, part 2 refused, part 2 as text; nothing twice
    assert "blocks" not in posts[2].data and posts[2].data["thread_ts"] == ref.message_id
    in_blocks = headers_of(posts[0].data)
    lines = posts[2].data["text"].split("\n")
    in_text = [line.split(" — ")[0] for line in lines if line.startswith("•")]
    assert in_blocks + in_text == [f"P{i}" if i < len(in_blocks) else f"• P{i}" for i in range(30)]


PIECES = [*"a *_~`<>&|@!\n", "<!channel>", "<!here>", "<@U1>", "@everyone", "é", "😀"]
NASTY = st.lists(st.sampled_from(PIECES), max_size=300).map("".join)


@settings(max_examples=30)
@given(
    title=NASTY,
    tldr=NASTY,
    authors=st.lists(NASTY, max_size=500),
    cards=st.integers(1, 14),
)
async def test_any_paper_posts_within_limits_and_pings_nobody(
    title: str, tldr: str, authors: list[str], cards: int
) -> None:
    fake = FakeSlack()
    async with serve(fake.app()) as url:
        fake.url = url
        slack = make_adapter(fake)
        nasty = card(title, authors=", ".join(authors), tldr=tldr, matched=(title,))
        await slack.send(C1, Reply(text=title, cards=(nasty,) * cards, footer=title))
    posts = fake.of("chat.postMessage")
    assert posts
    for post in posts:
        check_blocks(post.data["blocks"])
        no_pings({k: v for k, v in post.data.items() if k != "_authorization"})
        assert post.data["text"].strip() and len(post.data["text"]) <= 3000
    assert sum(len(headers_of(p.data)) for p in posts) == cards
