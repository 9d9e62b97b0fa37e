"""Slack Web API failures -> the core's delivery errors.

- HTTP 429 or `ratelimited` -> `RateLimited(Retry-After)`: the outbox waits that long.
- A gone or archived channel, a bot removed from it, a user gone ->
  `PermanentDeliveryError(reason)`: that destination's subscriptions are paused and
  the reason is shown in `/papers subscriptions`.
- The bot itself refused (revoked or invalid token, app uninstalled, a scope missing)
  -> `DeliveryError` with the reason: nothing is paused (every channel would be, and
  each would need resuming by hand); posts wait in the outbox, retried with backoff,
  until an operator fixes the token and restarts paperbot.
- Anything else (5xx, timeouts, connection errors, unknown codes) -> `DeliveryError`:
  retried later with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.base import DeliveryError, PermanentDeliveryError, RateLimited

DEFAULT_RETRY_AFTER = 30.0
MIN_RETRY_AFTER = 1.0

# Errors of the network or the client library (SlackApiError is handled first).
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    SlackClientError,
    ClientError,
    TimeoutError,
    OSError,
)
# Everything a Web API call may raise that is not a bug.
CALL_ERRORS: tuple[type[BaseException], ...] = (SlackApiError, *TRANSPORT_ERRORS)

PERMANENT: dict[str, str] = {
    "channel_not_found": "the channel no longer exists, or the bot cannot see it",
    "not_in_channel": "the bot is not a member of the channel (invite it: /invite @paperbot)",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "no_permission": "the bot has no permission to post there",
    "restricted_action": "the workspace does not let the bot post in this channel",
    "restricted_action_read_only_channel": "the channel is read-only",
    "restricted_action_thread_only_channel": "the channel only takes replies in threads",
    "restricted_action_non_threadable_channel": "the channel does not take thread replies",
    "user_not_found": "the user no longer exists",
    "user_not_visible": "the bot cannot see the user",
    "user_disabled": "the user's account is deactivated",
    "cannot_dm_bot": "the user is a bot, which takes no direct messages",
}

# The bot itself is refused: no channel is to blame, so none is paused.
BOT_REFUSED: dict[str, str] = {
    "account_inactive": "the bot's account is deactivated (was the app removed?)",
    "invalid_auth": "the bot token is invalid (check slack.bot_token)",
    "not_authed": "no bot token was sent (set slack.bot_token)",
    "token_revoked": "the bot token was revoked (the app was uninstalled; reinstall it)",
    "token_expired": "the bot token expired (reinstall the app, or turn off token rotation)",
    "not_allowed_token_type": "slack.bot_token is not a bot token (xoxb-...)",
    "missing_scope": "the app lacks a permission ({needed}); reinstall it from the manifest",
    "access_denied": "Slack denied the bot access",
    "team_access_not_granted": "the bot token has no access to this workspace",
    "ekm_access_denied": "the workspace's administrators suspended access (EKM)",
}

# The message itself was refused (not the channel): worth one text-only attempt.
REFUSED_MESSAGE = frozenset({"invalid_blocks", "invalid_blocks_format", "invalid_attachments"})


def error_code(exc: SlackApiError) -> str:
    """Slack's `error` code of a failed call ("" when the body had none)."""
    data = getattr(exc.response, "data", None)
    return str(data.get("error") or "") if isinstance(data, Mapping) else ""


def _status(exc: SlackApiError) -> int:
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", 0)
    return int(status or 0)


def retry_after(exc: SlackApiError) -> float:
    """Seconds from the Retry-After header (a default when missing or unreadable)."""
    headers: Any = getattr(exc.response, "headers", None) or {}
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER
    except (TypeError, ValueError):
        seconds = DEFAULT_RETRY_AFTER
    return max(seconds, MIN_RETRY_AFTER)


def delivery_error(exc: BaseException) -> DeliveryError:
    """The core's exception for a failed Web API call (or a transport failure)."""
    if not isinstance(exc, SlackApiError):
        return DeliveryError(f"Slack: {type(exc).__name__}: {exc}")
    code = error_code(exc)
    status = _status(exc)
    if status == 429 or code == "ratelimited":
        return RateLimited(retry_after(exc), f"Slack: {code or 'HTTP 429'}")
    if code in PERMANENT:
        return PermanentDeliveryError(f"Slack: {PERMANENT[code]} ({code})")
    if code in BOT_REFUSED:
        data = getattr(exc.response, "data", None)
        needed = data.get("needed") if isinstance(data, Mapping) else None
        reason = BOT_REFUSED[code].format(needed=needed or "a scope")
        return DeliveryError(f"Slack: {reason} ({code}); posts wait until it is fixed")
    return DeliveryError(f"Slack: {code or 'error'} (HTTP {status})")
