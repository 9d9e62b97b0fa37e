"""Buttons under every card: 👍, 👎, Similar, Follow authors.

Their custom ids carry the action and the paper (`paperbot:up:arxiv:2401.12345`), and
one `DynamicItem` class registered with the client answers them, so they keep working
after a restart and on messages posted by `paperbot run --once`. A click becomes the
core command `feedback PAPER up|down`, `similar PAPER` or `follow-authors PAPER`,
answered privately.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.messages import Card

Run = Callable[[discord.Interaction, str, bool | None], Awaitable[None]]

# action -> (label, emoji, command text)
ACTIONS: dict[str, tuple[str, str | None, str]] = {
    "up": ("", "👍", "feedback {} up"),
    "down": ("", "👎", "feedback {} down"),
    "similar": ("Similar", None, "similar {}"),
    "follow_authors": ("Follow authors", None, "follow-authors {}"),
}
CUSTOM_ID = re.compile(r"paperbot:(?P<action>up|down|similar|follow_authors):(?P<paper>\S+)")
CUSTOM_ID_MAX = 100
ROWS_MAX = 5


def custom_id(action: str, paper_id: str) -> str:
    """The custom id of one button."""
    return f"paperbot:{action}:{paper_id}"


def command_text(action: str, paper_id: str) -> str:
    """The core command a click on `action` stands for."""
    return ACTIONS[action][2].format(paper_id)


class PaperButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID.pattern):
    """One button of one card; `paper_button_class` binds it to an adapter."""

    run: Run

    def __init__(self, action: str, paper: str, row: int | None = None) -> None:
        label, emoji, _ = ACTIONS[action]
        super().__init__(
            discord.ui.Button(
                label=label or None,
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id(action, paper),
                row=row,
            )
        )
        self.action, self.paper = action, paper

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PaperButton:
        """Rebuild the button of a click from its custom id."""
        return cls(match["action"], match["paper"], item.row)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Ask the core and answer privately."""
        await type(self).run(interaction, command_text(self.action, self.paper), True)


def paper_button_class(run: Run) -> type[PaperButton]:
    """The persistent button class of one adapter: clicks go to `run`."""

    class BoundPaperButton(PaperButton, template=CUSTOM_ID.pattern):
        """The buttons of one adapter."""

    BoundPaperButton.run = staticmethod(run)
    return BoundPaperButton


def buttons_view(button: type[PaperButton], cards: list[Card]) -> discord.ui.View | None:
    """One row of buttons per card (at most 5); None when no card can have buttons.

    A paper id too long for a custom id (100 characters) gets no buttons.
    """
    view = discord.ui.View(timeout=None)
    row = 0
    for card in cards:
        longest = custom_id("follow_authors", card.paper_id)
        if row >= ROWS_MAX or len(longest) > CUSTOM_ID_MAX or not CUSTOM_ID.fullmatch(longest):
            continue
        for action in ACTIONS:
            view.add_item(button(action, card.paper_id, row))
        row += 1
    return view if view.children else None
