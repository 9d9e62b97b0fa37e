"""Help texts of `/papers`: one overview and one entry per subcommand."""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "search": "search QUERY [--since 7d|2026-01-01] [--until DATE] "
    "[--sort relevance|date|upvotes] [--limit N] [--share] — search the bot's paper index",
    "paper": "paper ID_OR_URL — one paper by arXiv id, arxiv.org or huggingface.co/papers URL",
    "trending": "trending [--days 1] [--limit N] — the most upvoted recent papers",
    "preview": "preview QUERY [--days 7] — what a subscription to QUERY would have posted: "
    "count, papers per day and the top 5",
    "subscribe": "subscribe QUERY [--instant | --digest daily@HH:MM | --digest weekly@mon@HH:MM] "
    "[--tz Area/City] — post papers matching QUERY to this channel; subscribing to the "
    "same QUERY again with --instant, --digest or --tz changes how it posts",
    "unsubscribe": "unsubscribe ID — stop a subscription of this channel",
    "subscriptions": "subscriptions (or list) — this channel's subscriptions, with mode and state",
    "pause": "pause ID|all [--for 2w|--for 2026-12-24] — stop posting a subscription (or "
    "all of this channel's) until resumed, or for a while: the pause ends by itself",
    "resume": "resume ID|all — restart a paused subscription (or all of this channel's)",
    "follow": "follow QUERY [--instant | --digest ...] [--tz Area/City] — get papers "
    "matching QUERY by direct message (daily digest by default, in your time zone when "
    'Slack tells it), e.g. author:"Chelsea Finn"; following it again with --instant, '
    "--digest or --tz changes how it posts",
    "unfollow": "unfollow ID — stop one of your follows",
    "following": "following — your follows",
    "digest": "digest — send this channel's pending digest now",
    "feedback": "feedback PAPER_ID up|down|clear — rate a paper (the 👍 / 👎 buttons)",
    "similar": "similar PAPER_ID — papers sharing its key terms (the Similar button)",
    "follow-authors": "follow-authors PAPER_ID — follow a paper's first authors by DM",
    "status": "status — is the bot working: each source's last poll, papers stored, "
    "this workspace's subscriptions and this channel's waiting posts",
    "query": "Queries: words match in title or abstract, plural- and case-insensitively. "
    'Space (or AND) is AND; OR or | is OR; -word or NOT word excludes; ( ) groups; "a phrase"; '
    "diffus* is a prefix (3+ letters); fields title: (ti:) abstract: (abs:) author: (au:) "
    "cat: source:, "
    'e.g. title:(robot OR robotic) cat:cs.LG -survey author:"Chelsea Finn"',
}

OVERVIEW = (
    "paperbot recommends research papers. Commands:\n"
    + "\n".join(
        f"• /papers {text.split(' — ')[0]}" for key, text in TOPICS.items() if key != "query"
    )
    + "\n/papers help TOPIC explains one (also: /papers help query)."
)


def help_text(topic: str) -> str | None:
    """The help of one topic, the overview for an empty topic, None if unknown."""
    topic = topic.strip().lower().lstrip("/")
    if not topic:
        return OVERVIEW
    text = TOPICS.get(topic)
    return f"/papers {text}" if text and topic != "query" else text
