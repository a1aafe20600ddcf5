"""Typed settings: ``PURPLECROSS_*`` environment variables, then a TOML file, then defaults.

Secrets (SMTP and Redis passwords, the job signing key) are never read from or
written to the TOML file; they come from :mod:`purplecross_desktop.secrets`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import tomllib
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import platformdirs

APP_NAME = "purplecross"
ENV_PREFIX = "PURPLECROSS_"
#: Longest retention a setting may ask for (100 years: "keep it").
MAX_RETENTION_DAYS = 36500

SmtpTls = Literal["none", "starttls", "ssl"]
Theme = Literal["system", "light", "dark"]
SmsGatewayKind = Literal["log", "http"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting has a value that breaks its rule; the message names the setting."""

    def __init__(self, name: str, rule: str, source: str) -> None:
        super().__init__(f"{name}: {rule} (from {source})")
        self.name = name
        self.rule = rule
        self.source = source


def default_config_file(env: Mapping[str, str] | None = None) -> Path:
    """The TOML file read after the environment.

    ``PURPLECROSS_CONFIG_FILE`` when set, else ``<user config dir>/settings.toml``.
    """
    env = os.environ if env is None else env
    explicit = env.get(f"{ENV_PREFIX}CONFIG_FILE")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.toml"


def default_data_dir() -> Path:
    """Where the embedded database, queue, cache, outbox and reports live by default."""
    return Path(platformdirs.user_data_dir(APP_NAME))


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective configuration of one process.

    Paths left unset derive from ``data_dir``; use the ``*_path`` properties, not the
    raw fields, to read them.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    cache_dir: Path | None = None
    queue_path: Path | None = None
    outbox_dir: Path | None = None
    reports_dir: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_tls: SmtpTls = "starttls"
    smtp_sender: str = "Purple Cross <clinic@localhost>"
    smtp_timeout: float = 30.0
    smtp_ca_file: Path | None = None
    sms_gateway: SmsGatewayKind = "log"
    sms_gateway_url: str | None = None
    sms_sender: str = "PurpleCross"
    sms_timeout: float = 10.0
    clinic_name: str = "Purple Cross Veterinary Clinic"
    clinic_address: str = ""
    clinic_timezone: str = "UTC"
    clinic_phone: str = ""
    clinic_currency: str = "£"
    wait_alert_minutes: int = 15
    embedded_worker: bool = True
    event_retention_days: int = 90
    report_retention_days: int = 30
    # Webhooks (docs/webhooks.md): a CA bundle for a clinic's own certificates, the retry
    # schedule's scale (tests shrink it), in-flight requests per endpoint, the failure
    # window before an endpoint is disabled and the grace of a rotated-out secret.
    webhook_ca_file: Path | None = None
    webhook_retry_scale: float = 1.0
    webhook_endpoint_concurrency: int = 2
    webhook_disable_after_hours: int = 120
    webhook_rotation_grace_hours: int = 24
    email_log_retention_days: int = 365
    reminder_lead_hours: int = 24
    reminder_time: str = ""
    theme: Theme = "system"
    cache_debug: bool = False
    idle_lock_minutes: int = 10
    job_alerts: bool = True
    job_alert_failures: int = 20
    job_alert_quiet_minutes: int = 5

    # Derived paths ---------------------------------------------------------------
    @property
    def effective_database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.data_dir / 'clinic.db'}"

    @property
    def is_embedded_database(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def cache_path(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def queue_file(self) -> Path:
        return self.queue_path or self.data_dir / "queue.db"

    @property
    def email_outbox_path(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def reports_path(self) -> Path:
        return self.reports_dir or self.data_dir / "reports"

    def as_public_dict(self) -> dict[str, str]:
        """Every setting as text, with secrets in URLs masked; for `config show` and logs."""
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = "" if value is None else str(value)
        out["database_url"] = mask_url(self.effective_database_url)
        out["redis_url"] = mask_url(self.redis_url) if self.redis_url else ""
        return out


_SECRET_QUERY = re.compile(r"([?&](?:password|passwd|pass|pwd|secret|token)=)[^&#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with its secrets as ``***``: the password of ``scheme://user:password@host``
    and query parameters such as ``?password=`` (redis-py and libpq read both)."""
    url = _SECRET_QUERY.sub(r"\1***", url)
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("?", 1)[0]:
        return url
    location, query_sep, query = rest.partition("?")
    creds, _, host = location.rpartition("@")
    if ":" in creds:
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}{query_sep}{query}"
    return url


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _coerce(name: str, raw: Any, source: str) -> Any:
    """Turn a raw env/TOML value into the field's type, or raise SettingsError."""
    f = _FIELDS[name]
    kind = f.type if isinstance(f.type, str) else str(f.type)
    if raw is None or (isinstance(raw, str) and raw.strip() == "" and "None" in kind):
        return None
    if "Path" in kind:
        return Path(str(raw)).expanduser()
    if kind == "int":
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise SettingsError(name, "must be a whole number", source) from None
        if name == "smtp_port" and not 0 < value < 65536:
            raise SettingsError(name, "must be a port between 1 and 65535", source)
        if name == "idle_lock_minutes" and not 0 <= value <= 480:
            raise SettingsError(name, "must be between 0 (never) and 480 minutes", source)
        retention = {"event_retention_days", "report_retention_days", "email_log_retention_days"}
        if name in retention and value < 1:
            raise SettingsError(name, "must be at least 1 (days)", source)
        if name in retention and value > MAX_RETENTION_DAYS:
            # A "keep forever" number overflowed the purges' date arithmetic every hour.
            raise SettingsError(name, f"must be at most {MAX_RETENTION_DAYS} (days)", source)
        if name == "webhook_endpoint_concurrency" and not 1 <= value <= 16:
            raise SettingsError(name, "must be between 1 and 16", source)
        if name in ("webhook_disable_after_hours", "webhook_rotation_grace_hours") and value < 1:
            raise SettingsError(name, "must be at least 1 (hours)", source)
        if name == "job_alert_failures" and value < 0:
            raise SettingsError(name, "must be 0 (no alert) or more failures", source)
        if name == "job_alert_quiet_minutes" and not 1 <= value <= 24 * 60:
            raise SettingsError(name, "must be between 1 and 1440 (minutes)", source)
        if name == "reminder_lead_hours" and not 1 <= value <= 24 * 14:
            raise SettingsError(name, "must be between 1 and 336 (hours)", source)
        return value
    if kind == "float":
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise SettingsError(name, "must be a number", source) from None
        if number <= 0:
            raise SettingsError(name, "must be greater than 0", source)
        return number
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise SettingsError(name, "must be true or false", source)
    if kind == "SmtpTls":
        return _choice(name, raw, get_args(SmtpTls), source)
    if kind == "SmsGatewayKind":
        return _choice(name, raw, get_args(SmsGatewayKind), source)
    if kind == "Theme":
        return _choice(name, raw, get_args(Theme), source)
    if not isinstance(raw, str):
        raise SettingsError(name, "must be text", source)
    if name == "clinic_timezone":
        try:
            zoneinfo.ZoneInfo(raw)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise SettingsError(name, f"unknown time zone {raw!r}", source) from None
    if name == "reminder_time" and raw.strip():
        try:
            dt.time.fromisoformat(raw.strip())
        except ValueError:
            raise SettingsError(
                name, "must be a time of day as HH:MM, e.g. 09:00", source
            ) from None
        return raw.strip()
    if name == "sms_gateway_url" and raw and not raw.startswith(("http://", "https://")):
        raise SettingsError(name, "must start with http:// or https://", source)
    if name == "redis_url" and raw and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(name, "must start with redis://, rediss:// or unix://", source)
    return raw


def _choice(name: str, raw: Any, choices: tuple[str, ...], source: str) -> str:
    text = str(raw).strip().lower()
    if text not in choices:
        raise SettingsError(name, f"must be one of {', '.join(choices)}", source)
    return text


def read_toml(path: Path) -> dict[str, Any]:
    """The settings table of a TOML file: top-level keys, or a ``[purplecross]`` table."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(str(path), f"is not valid TOML: {exc}", str(path)) from None
    table = data.get("purplecross", data)
    return dict(table) if isinstance(table, dict) else {}


def load_settings(
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build the effective settings: environment first, then the TOML file, then defaults.

    Args:
        env: the environment to read (``os.environ`` by default).
        config_file: the TOML file (``PURPLECROSS_CONFIG_FILE`` or the user config dir).

    Raises:
        SettingsError: a value breaks its rule; the message names the setting and source.
    """
    env = os.environ if env is None else env
    if config_file is None:
        config_file = (
            Path(env[f"{ENV_PREFIX}CONFIG_FILE"])
            if (f"{ENV_PREFIX}CONFIG_FILE" in env)
            else default_config_file()
        )
    values: dict[str, Any] = {}
    for key, raw in read_toml(config_file).items():
        name = key.lower()
        if name not in _FIELDS:
            if "password" in name or "secret" in name:
                raise SettingsError(
                    name, "secrets belong in the OS keyring, not in the file", str(config_file)
                )
            continue
        values[name] = _coerce(name, raw, str(config_file))
    for name in _FIELDS:
        env_name = f"{ENV_PREFIX}{name.upper()}"
        if env_name in env:
            values[name] = _coerce(name, env[env_name], env_name)
    return Settings(**values)


def save_settings(
    settings: Settings, names: Iterable[str], config_file: Path | None = None
) -> Path:
    """Write the settings ``names`` of ``settings`` into the TOML file, keeping its other keys.

    Only the named settings are written, so values that came from the environment are not
    copied into the file by accident. Secrets are never settings and never written.
    """
    import tomli_w

    path = config_file or default_config_file()
    data = read_toml(path)
    defaults = Settings()
    for name in names:
        if name not in _FIELDS:
            raise SettingsError(name, "is not a setting", str(path))
        value = getattr(settings, name)
        if value is None or value == getattr(defaults, name):
            data.pop(name, None)
        else:
            data[name] = str(value) if isinstance(value, Path) else value
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a sibling file and rename it over the old one: a crash mid-write must not
    # leave a half-written file that stops the app from starting.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(tomli_w.dumps(data), encoding="utf-8")
    partial.replace(path)
    return path


def updated_settings(base: Settings, values: Mapping[str, Any], source: str) -> Settings:
    """``base`` with ``values`` applied, each checked by the same rules as the environment.

    Raises:
        SettingsError: the first value that breaks its rule, naming the setting.
    """
    changes: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in _FIELDS:
            raise SettingsError(name, "is not a setting", source)
        changes[name] = _coerce(name, raw, source)
    return dataclasses.replace(base, **changes)
