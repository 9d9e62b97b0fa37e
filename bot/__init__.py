"""paperbot: a self-hosted Slack and Discord bot that recommends research papers."""

__version__ = "0.1.0"
