"""Settings: TOML + env, unknown keys and bad values rejected with the key named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import ConfigError, Settings, load_settings, safe_url

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "paperbot.toml"
    path.write_text(text)
    return path


def test_example_config_is_valid() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.delivery.max_per_post == 5
    assert settings.store_url.startswith("sqlite:///")


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys |= _keys(ann, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def test_example_config_documents_every_setting() -> None:
    text = EXAMPLE.read_text()
    # A commented key counts as documented: "# url = ..." or "url = ...".
    missing = [key for key in _keys(Settings) if f"{key.rsplit('.', 1)[-1]} =" not in text]
    assert missing == []
    # ...and every section of the settings has a table in the file.
    tables = {line.strip("[] \n") for line in text.splitlines() if line.startswith("[")}
    sections = {key.rsplit(".", 1)[0] for key in _keys(Settings) if "." in key}
    assert sections <= tables


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, '[delivery]\nmax_per_post = 3\n[sources.arxiv]\ncategories=["cs.LG"]\n')
    monkeypatch.setenv("PAPERBOT_DELIVERY__MAX_PER_POST", "7")
    monkeypatch.setenv("PAPERBOT_SOURCES__HUGGINGFACE__BASE_URL", "http://127.0.0.1:9")
    settings = load_settings(path)
    assert settings.delivery.max_per_post == 7
    assert settings.sources.huggingface.base_url == "http://127.0.0.1:9"
    assert settings.sources.arxiv.categories == ["cs.LG"]


def test_derived_paths_follow_data_dir(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    assert settings.store_url == f"sqlite:///{tmp_path / 'paperbot.db'}"
    assert settings.index_dir == tmp_path / "index"


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOT_SLACK__BOT_TOKEN", "xoxb-very-secret")
    settings = load_settings(None)
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-very-secret"
    assert "xoxb-very-secret" not in repr(settings)
    assert "xoxb-very-secret" not in str(settings.masked())


def test_blank_env_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # .env.example, copied to .env with only the Discord token filled in
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            monkeypatch.setenv(line.split("=", 1)[0], "")
    monkeypatch.setenv("PAPERBOT_DISCORD__TOKEN", "discord-token")
    monkeypatch.setenv("PAPERBOT_STORE__URL", "")
    settings = load_settings(None)
    assert settings.slack.bot_token is None and settings.slack.app_token is None
    assert settings.slack.signing_secret is None
    assert settings.discord.token is not None
    assert settings.store_url.startswith("sqlite:///")


def test_settings_are_frozen() -> None:
    settings = load_settings(None)
    with pytest.raises(Exception, match="frozen"):
        settings.log_level = "DEBUG"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[store]\nurl = 'mysql://x'\n", "store.url", "sqlite:///"),
        ("[delivery]\ntimezone = 'Mars/Olympus'\n", "delivery.timezone", "unknown time zone"),
        ("[sources.huggingface]\nbase_ur = 'x'\n", "sources.huggingface.base_ur", "unknown key"),
        ("colour = 'blue'\n", "colour", "unknown key"),
        ("[delivery]\ndigest_time = '25:00'\n", "delivery.digest_time", "HH:MM"),
        ("[slack]\nmode = 'carrier-pigeon'\n", "slack.mode", "socket"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text))
    assert key in str(info.value)
    assert words in str(info.value)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[store\nurl=1"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_example_is_plain_toml() -> None:
    with EXAMPLE.open("rb") as fh:
        assert "delivery" in tomllib.load(fh)


def test_store_urls_in_messages_hide_the_password() -> None:
    assert safe_url("redis://:s3cret@redis.lab:6379/0") == "redis://***@redis.lab:6379/0"
    assert safe_url("rediss://bot:s3cret@r:6380/1") == "rediss://***@r:6380/1"
    assert safe_url("sqlite:////data/paperbot.db") == "sqlite:////data/paperbot.db"
