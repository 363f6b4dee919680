"""Settings: defaults < config file < environment < command-line flags.

The file is TOML in the platform config dir. It is created only when something is saved
(the app's "paste a key" panel, for instance), always with mode 0600 because it may hold the
API key; a file that others can read earns a warning. Problems in the file are reported as
one line naming the file, the key and what is wrong, never as a traceback.

Saving edits the user's file in place (tomlkit): comments, order and spacing survive. The
new text is read back and checked before it replaces the old file; a value that would not
read back as written is refused with a message and the file is left as it was.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit
from typing import TYPE_CHECKING, Any, Mapping

from tui.core import logs
from tui.core.hosts import request_secrets
from tui.core.keymap_config import KeymapEntry, flatten_keymap, keymap_entries
from tui.core.models import ParamValue, Strategy
from tui.core.params import (
    ParamError,
    check_extra_params,
    check_max_tokens,
    check_temperature,
    check_top_p,
)
from tui.core.paths import config_file_path
from tui.core.pricing import Price, PriceError, parse_prices
from tui.core.windows import parse_window_size

if TYPE_CHECKING:  # tomlkit is imported when a save needs it: every command reads the config
    import tomlkit

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_THEME = "textual-dark"


class ConfigError(Exception):
    """A bad config file or value; str(e) is the one line to show."""


@dataclass
class Settings:
    model: str = DEFAULT_MODEL
    # Where model came from: "default", "config", "env" or "flag". A model given with
    # --model is this session's choice: the chat the app opens on uses it too.
    model_source: str = "default"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    # Where api_key came from ("flag", "env", "config") — decides whether it may be sent to a
    # non-OpenAI host (a key that came with the base URL belongs to that host).
    api_key_source: str | None = None
    base_url_source: str | None = None
    theme: str = DEFAULT_THEME
    strategy: Strategy = Strategy.SUMMARIZE
    # Per-model context window overrides, tokens.
    context_windows: dict[str, int] = field(default_factory=dict)
    # Model used to write summaries (None: the conversation's own model).
    summary_model: str | None = None
    # Ask the model for a short title after the first reply.
    auto_title: bool = False
    # Folder the app's export key writes Markdown files to.
    export_dir: str = "."
    # Send the API key to whatever base URL is configured, not only to api.openai.com.
    send_key_to_any_host: bool = False
    request_timeout: float = 60.0
    # The [keymap] table: binding id -> keys, in file order (the UI checks and applies it).
    keymap: list[KeymapEntry] = field(default_factory=list)
    # Defaults for new chats (each chat keeps its own copy; see tui.core.params).
    system_prompt: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    json_output: bool = False
    extra_params: dict[str, ParamValue] = field(default_factory=dict)
    # A window for every new chat, over [context_windows] and what servers say (rarely
    # wanted: it is the chat setting's default).
    context_window: int | None = None
    # [prices]: dollars per million tokens per model or server (tui.core.pricing).
    prices: dict[str, Price] = field(default_factory=dict)
    config_path: Path = field(default_factory=config_file_path)
    warnings: list[str] = field(default_factory=list)

    @property
    def model_from_flag(self) -> bool:
        return self.model_source == "flag"

    @property
    def key_allowed_for_host(self) -> bool:
        """True when the key may go to base_url even if it is not OpenAI's."""
        if self.send_key_to_any_host:
            return True
        # A key given next to a base URL (same env, same file, same command line) is for it.
        return self.api_key_source is not None and self.api_key_source == self.base_url_source


# Keys a user may put in the file, with their types. Anything else is an error, so a typo
# ("modle = ...") is caught instead of silently ignored.
_FILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "base_url": str,
    "api_key": str,
    "theme": str,
    "strategy": str,
    "context_windows": dict,
    "summary_model": str,
    "auto_title": bool,
    "export_dir": str,
    "send_key_to_any_host": bool,
    "request_timeout": (int, float),
    "keymap": dict,
    "system_prompt": str,
    "temperature": (int, float),
    "top_p": (int, float),
    "max_tokens": int,
    "json_output": bool,
    "extra_params": dict,
    "context_window": (int, str),
    "prices": dict,
}


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", bool: "true or false", dict: "a table",
             int: "a whole number", float: "a number"}
    if isinstance(kind, tuple):  # (int, float) and (int, str) take any number
        return "a number"
    return names[kind]


def permission_warning(path: Path) -> str | None:
    """A warning when the config file can be read by other users."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
                f"it may hold your API key: run chmod 600 {path}")
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse and validate the file; {} when it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return validate_config(data, path)


def validate_config(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Check the parsed file's keys, types and values; the values as Settings takes them."""
    for key, value in data.items():
        kind = _FILE_KEYS.get(key)
        if kind is None:
            known = ", ".join(sorted(_FILE_KEYS))
            raise ConfigError(f"{path}: unknown key '{key}' (known keys: {known})")
        if isinstance(value, bool) and kind is not bool:
            raise ConfigError(f"{path}: '{key}' must be {_type_name(kind)}, not {value!r}")
        if not isinstance(value, kind):
            raise ConfigError(
                f"{path}: '{key}' must be {_type_name(kind)}, not {type(value).__name__} "
                f"{value!r}")
    if "strategy" in data:
        data["strategy"] = _parse_strategy(data["strategy"], f"{path}: 'strategy'")
    if "context_windows" in data:
        windows = {}
        for model, size in data["context_windows"].items():
            parsed = parse_window_size(size) if isinstance(size, (int, str)) else None
            if parsed is None:
                raise ConfigError(
                    f"{path}: 'context_windows.{model}' must be a positive number of tokens "
                    f"(8192, or as people say it: \"8k\", \"128k\"), not {size!r}")
            windows[str(model)] = parsed
        data["context_windows"] = windows
    if "keymap" in data:
        try:
            data["keymap"] = flatten_keymap(data["keymap"], str(path))
        except ValueError as error:
            raise ConfigError(str(error)) from None
    if "request_timeout" in data and data["request_timeout"] <= 0:
        raise ConfigError(f"{path}: 'request_timeout' must be positive")
    checks = {"temperature": check_temperature, "top_p": check_top_p,
              "max_tokens": check_max_tokens, "extra_params": check_extra_params}
    for key, check in checks.items():
        if key in data:
            try:
                data[key] = check(data[key])
            except ParamError as error:
                raise ConfigError(f"{path}: '{key}': {error}") from None
    if "context_window" in data:
        size = parse_window_size(data["context_window"])
        if size is None:
            raise ConfigError(f"{path}: 'context_window' must be a positive number of tokens "
                              f"(8192, or \"8k\"), not {data['context_window']!r}")
        data["context_window"] = size
    if "prices" in data:
        try:
            data["prices"] = parse_prices(data["prices"], "prices")
        except PriceError as error:
            raise ConfigError(f"{path}: {error}") from None
    return data


def _parse_strategy(value: str, where: str) -> Strategy:
    try:
        return Strategy(value)
    except ValueError:
        choices = ", ".join(s.value for s in Strategy)
        raise ConfigError(f"{where} must be one of {choices}, not {value!r}") from None


def load_settings(*, flags: Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  path: Path | None = None) -> Settings:
    """Build the effective settings. Raises ConfigError with a one-line message."""
    env = os.environ if env is None else env
    path = path or config_file_path()
    settings = Settings(config_path=path)
    file_values = read_config_file(path)
    if file_values:
        warning = permission_warning(path)
        if warning:
            settings.warnings.append(warning)
    for key, value in file_values.items():
        if key == "keymap":
            value = keymap_entries(value, path)
        setattr(settings, key, value)
    if "api_key" in file_values:
        settings.api_key_source = "config"
    if "base_url" in file_values:
        settings.base_url_source = "config"
    if "model" in file_values:
        settings.model_source = "config"

    if env.get("OPENAI_API_KEY"):
        settings.api_key, settings.api_key_source = env["OPENAI_API_KEY"], "env"
    if env.get("OPENAI_BASE_URL"):
        settings.base_url, settings.base_url_source = env["OPENAI_BASE_URL"], "env"
    if env.get("GPT_TUI_MODEL"):
        settings.model, settings.model_source = env["GPT_TUI_MODEL"], "env"

    for key, value in (flags or {}).items():
        if value is None:
            continue
        if key == "strategy":
            value = _parse_strategy(value, "--strategy")
        if key not in {f.name for f in fields(Settings)}:
            raise ConfigError(f"unknown setting {key!r}")
        setattr(settings, key, value)
        if key == "api_key":
            settings.api_key_source = "flag"
        if key == "base_url":
            settings.base_url_source = "flag"
        if key == "model":
            settings.model_source = "flag"
    protect_secrets(settings)
    check_endpoint(settings)
    return settings


def check_endpoint(settings: Settings) -> None:
    """A model named by nothing but spaces, or a base URL that cannot be connected to (a port
    out of range), stops here with its source named, not at the first request."""
    if settings.model is not None and not settings.model.strip():
        raise ConfigError(f"the model name is empty ({settings.model_source or 'config'})")
    if settings.base_url:
        try:
            urlsplit(settings.base_url).port  # noqa: B018 (it checks the port's range)
        except ValueError as error:  # the URL itself is not repeated: it may hold a key
            raise ConfigError(f"the base URL ({settings.base_url_source or 'config'}) is not "
                              f"valid: {error}") from None


def protect_secrets(settings: Settings) -> None:
    """Tell the log filter what requests carry (the key, the base URL's credentials, their
    Basic form), the same secrets the client hides in errors, so none is written."""
    logs.protect(*request_secrets(settings.base_url, settings.api_key))


def _plain(value: Any) -> Any:
    """What a setting is written as: enums as their text, tables as plain tables."""
    if isinstance(value, Strategy):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _read_document(path: Path) -> tomlkit.TOMLDocument:
    """The file as an editable document (comments and order kept); empty when missing."""
    import tomlkit

    read_config_file(path)  # a broken file is reported, never overwritten
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return tomlkit.document()
    except (OSError, tomlkit.exceptions.TOMLKitError) as error:
        raise ConfigError(f"{path}: cannot edit the config file: {error}") from None


def _set(document: tomlkit.TOMLDocument, key: str, value: Any) -> None:
    """Set (None: remove) one key, editing an existing table in place."""
    if value is None:
        document.pop(key, None)
    elif isinstance(value, dict) and isinstance(document.get(key), dict):
        table = document[key]  # edit the user's table in place: its comments stay
        for name in [name for name in table if name not in value]:
            del table[name]
        for name, item in value.items():
            table[name] = item
    else:
        document[key] = value


def save_settings(updates: Mapping[str, Any], path: Path | None = None) -> Path:
    """Merge ``updates`` into the config file (None removes a key), creating it (mode 0600)
    if needed. The user's comments, order and spacing are kept.

    The new text is checked before it replaces the file: it must read back with each updated
    key equal to what was given, else ConfigError and the file is unchanged. It is written to
    a 0600 temporary file and renamed over the old one, so the key is never readable by
    others, even for a moment, and a crash never leaves half a file.
    """
    import tomlkit.exceptions

    path = path or config_file_path()
    document = _read_document(path)
    wanted: dict[str, Any] = {}
    for key, value in updates.items():
        if key not in _FILE_KEYS:
            raise ConfigError(f"unknown setting {key!r}")
        wanted[key] = None if value is None else _plain(value)
        try:
            _set(document, key, wanted[key])
        except (TypeError, ValueError, tomlkit.exceptions.TOMLKitError) as error:
            raise ConfigError(f"cannot save {key!r}: {value!r} cannot be written as TOML "
                              f"({error})") from None
    text = _checked_text(path, document, wanted)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _checked_text(path: Path, document: tomlkit.TOMLDocument, wanted: Mapping[str, Any]) -> str:
    """The document's text, once it is known to read back as intended (else ConfigError)."""
    import tomlkit

    try:
        text = tomlkit.dumps(document)
        text.encode("utf-8")
        raw = tomllib.loads(text)
    except (UnicodeEncodeError, tomllib.TOMLDecodeError, TypeError, ValueError) as error:
        raise ConfigError(f"{path}: not saved: the new settings cannot be written safely "
                          f"({error}); the file is unchanged") from None
    for key, value in wanted.items():
        if raw.get(key) != value:
            raise ConfigError(f"{path}: not saved: {key!r} would not read back as "
                              f"{value!r}; the file is unchanged")
    try:  # the full validation (types, ranges) of what would be on disk
        validate_config(raw, path)
    except ConfigError as error:
        raise ConfigError(f"not saved, the file is unchanged: {error}") from None
    return text


def save_default_model(settings: Settings, model: str) -> Path:
    """Make ``model`` the default for new chats, now and in later sessions (config file).

    It also replaces a --model given for this session: the user's latest choice wins.
    Raises ConfigError / OSError when the file cannot be written.
    """
    if not model.strip():
        raise ConfigError("the model name is empty")
    path = save_settings({"model": model}, settings.config_path)
    settings.model, settings.model_source = model, "config"
    return path
