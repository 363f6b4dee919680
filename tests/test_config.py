"""Config precedence, file permissions and bad values."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tui.core.config import ConfigError, load_settings, read_config_file, save_settings
from tui.core.models import Strategy
from tui.core.paths import config_file_path


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_defaults_without_file_or_env():
    settings = load_settings(env={})
    assert settings.model == "gpt-4o-mini"
    assert settings.base_url is None and settings.api_key is None
    assert settings.strategy is Strategy.SUMMARIZE
    assert not config_file_path().exists(), "loading must never create the file"


def test_precedence_flags_over_env_over_file(tmp_path: Path):
    path = write(tmp_path / "c.toml", 'model = "from-file"\nbase_url = "http://file/v1"\n'
                 'api_key = "sk-file"\ntheme = "nord"\n')
    only_file = load_settings(env={}, path=path)
    assert (only_file.model, only_file.base_url, only_file.api_key, only_file.theme) == (
        "from-file", "http://file/v1", "sk-file", "nord")
    env = {"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": "http://env/v1"}
    with_env = load_settings(env=env, path=path)
    assert (with_env.base_url, with_env.api_key, with_env.model) == (
        "http://env/v1", "sk-env", "from-file")
    with_flags = load_settings(env=env, path=path,
                               flags={"model": "flag-model", "base_url": "http://flag/v1",
                                      "api_key": None})
    assert (with_flags.model, with_flags.base_url, with_flags.api_key) == (
        "flag-model", "http://flag/v1", "sk-env")


def test_key_goes_to_other_hosts_only_with_its_own_base_url(tmp_path: Path):
    path = write(tmp_path / "c.toml", 'base_url = "http://file/v1"\n')
    env_key_file_url = load_settings(env={"OPENAI_API_KEY": "sk-x"}, path=path)
    assert not env_key_file_url.key_allowed_for_host
    both_env = load_settings(env={"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://h/v1"},
                             path=path)
    assert both_env.key_allowed_for_host


def test_save_creates_file_with_mode_0600_and_round_trips(tmp_path: Path):
    path = tmp_path / "sub" / "config.toml"
    save_settings({"api_key": 'sk-"quoted"\\', "context_windows": {"llama3.1:8b": 8192},
                   "strategy": Strategy.TRUNCATE}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = load_settings(env={}, path=path)
    assert settings.api_key == 'sk-"quoted"\\'
    assert settings.context_windows == {"llama3.1:8b": 8192}
    assert settings.strategy is Strategy.TRUNCATE
    assert settings.warnings == []
    save_settings({"model": "m2"}, path)
    assert read_config_file(path)["api_key"] == 'sk-"quoted"\\', "saving merges, not replaces"


def test_world_readable_file_gets_a_warning(tmp_path: Path):
    path = write(tmp_path / "c.toml", 'model = "m"\n', mode=0o644)
    settings = load_settings(env={}, path=path)
    assert len(settings.warnings) == 1
    assert str(path) in settings.warnings[0] and "chmod 600" in settings.warnings[0]


@pytest.mark.parametrize("text, fragment", [
    ("model = \n", "invalid TOML"),
    ("model = 3\n", "'model' must be a string"),
    ("auto_title = \"yes\"\n", "'auto_title' must be true or false"),
    ("modle = \"x\"\n", "unknown key 'modle'"),
    ("strategy = \"shrink\"\n", "'strategy' must be one of summarize, truncate, off"),
    ("[context_windows]\n\"gpt-4o\" = -5\n", "'context_windows.gpt-4o' must be a positive"),
    ("request_timeout = true\n", "'request_timeout' must be a number"),
])
def test_bad_values_name_file_key_and_problem(tmp_path: Path, text: str, fragment: str):
    path = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, path=path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert fragment in message, message
    assert "\n" not in message


def test_env_model_override(tmp_path: Path):
    assert load_settings(env={"GPT_TUI_MODEL": "qwen2.5"}, path=tmp_path / "none").model == "qwen2.5"
