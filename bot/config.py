"""Settings: one frozen object built at start-up from a TOML file and PAPERBOT_* env.

Precedence, highest first: explicit overrides (CLI flags), environment variables
(`PAPERBOT_STORE__URL`, `__` between levels), the TOML file, defaults. Unknown keys
in the file are an error. `load_settings` turns every problem into a `ConfigError`
whose message names the offending key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.models import ScheduleError, check_timezone


class ConfigError(Exception):
    """A configuration problem, with a message that names the key."""


class Section(BaseModel):
    """Base of every settings section: frozen, unknown keys forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class StoreSettings(Section):
    url: str | None = Field(
        default=None,
        description="sqlite:///PATH (default: <data_dir>/paperbot.db) or redis://HOST:PORT/DB",
    )

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(
            ("sqlite:///", "redis://", "rediss://", "unix://")
        ):
            raise ValueError("must start with sqlite:/// or redis:// (or rediss://, unix://)")
        return value


class SearchSettings(Section):
    index_dir: Path | None = Field(default=None, description="default: <data_dir>/index")


class HuggingFaceSettings(Section):
    enabled: bool = True
    base_url: str = "https://huggingface.co"
    poll_interval: float = Field(default=900, gt=0, description="seconds between polls")


class ArxivSettings(Section):
    enabled: bool = True
    categories: list[str] = ["cs.LG", "cs.CL", "cs.CV", "cs.AI"]
    rss_url: str = "https://rss.arxiv.org"
    api_url: str = "https://export.arxiv.org"
    poll_interval: float = Field(default=3600, gt=0, description="seconds between polls")


class SourcesSettings(Section):
    timeout: float = Field(default=30, gt=0, description="seconds per HTTP request")
    max_retries: int = Field(default=4, ge=0)
    huggingface: HuggingFaceSettings = HuggingFaceSettings()
    arxiv: ArxivSettings = ArxivSettings()


class SlackSettings(Section):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    mode: Literal["socket", "http"] | None = Field(
        default=None, description="default: socket when app_token is set, else http"
    )
    port: int = Field(default=3000, ge=1, le=65535)
    api_url: str = "https://slack.com/api/"
    admins_only: bool = False


class DiscordSettings(Section):
    token: SecretStr | None = None
    api_url: str = "https://discord.com/api/v10"
    guild_ids: list[int] = []
    shards: int | None = Field(default=None, ge=1)


class DeliverySettings(Section):
    digest_time: str = "09:00"
    timezone: str = "UTC"
    max_per_post: int = Field(default=5, ge=1, le=10)
    interval: float = Field(default=60, gt=0, description="seconds between delivery cycles")
    lease_seconds: float = Field(default=300, gt=0)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            return check_timezone(value)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("digest_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        hh, sep, mm = value.partition(":")
        if not (sep and hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ValueError("must be HH:MM, e.g. 09:00")
        return value


class LLMSettings(Section):
    enabled: bool = False
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = ""
    api_key: SecretStr | None = None
    daily_budget: int = Field(default=200, ge=0, description="LLM summaries per day")


class SummariesSettings(Section):
    llm: LLMSettings = LLMSettings()


def default_data_dir() -> Path:
    """The platform's user data directory for paperbot (e.g. ~/.local/share/paperbot)."""
    return Path(platformdirs.user_data_dir("paperbot", appauthor=False))


class Settings(BaseSettings):
    """Every setting of paperbot. Build it with `load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERBOT_",
        env_nested_delimiter="__",
        env_ignore_empty=True,  # `KEY=` in an .env file means unset, not ""
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    store: StoreSettings = StoreSettings()
    search: SearchSettings = SearchSettings()
    sources: SourcesSettings = SourcesSettings()
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    delivery: DeliverySettings = DeliverySettings()
    summaries: SummariesSettings = SummariesSettings()

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.store.url is None:
            store = StoreSettings(url=f"sqlite:///{self.data_dir / 'paperbot.db'}")
            object.__setattr__(self, "store", store)
        if self.search.index_dir is None:
            object.__setattr__(self, "search", SearchSettings(index_dir=self.data_dir / "index"))
        return self

    @property
    def store_url(self) -> str:
        """The effective store URL (never None after validation)."""
        assert self.store.url is not None
        return self.store.url

    @property
    def index_dir(self) -> Path:
        """The effective search index directory."""
        assert self.search.index_dir is not None
        return self.search.index_dir

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def masked(self) -> dict[str, Any]:
        """The effective settings as a JSON-ready dict, secrets shown as '**********'."""
        return self.model_dump(mode="json")


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Build Settings from an optional TOML file, the environment and `overrides`.

    Raises ConfigError naming the bad key for an unreadable file, invalid TOML,
    unknown keys or invalid values.
    """
    toml_file: Path | None = None
    if path is not None:
        toml_file = Path(path)
        try:
            with toml_file.open("rb") as fh:
                tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config file {toml_file} does not exist") from None
        except OSError as exc:
            raise ConfigError(f"cannot read config file {toml_file}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_file} is not valid TOML: {exc}") from None

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=toml_file)

    try:
        return _FileSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, toml_file)) from None


def _describe(exc: ValidationError, toml_file: Path | None) -> str:
    where = f" in {toml_file}" if toml_file else ""
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(root)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not a paperbot setting; see config.example.toml)"
        env = "PAPERBOT_" + "__".join(str(p).upper() for p in err["loc"])
        lines.append(f"{key}: {msg} (set{where} or by env {env})")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def safe_url(url: str) -> str:
    """A store URL without its password (for messages and logs)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
