"""Settings precedence (env > TOML > defaults), validation and secret masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from purplecross_desktop.settings import (
    Settings,
    SettingsError,
    load_settings,
    mask_url,
    save_settings,
    updated_settings,
)


def test_defaults_are_the_embedded_workstation(tmp_path: Path) -> None:
    s = load_settings(env={}, config_file=tmp_path / "none.toml")
    assert s.redis_url is None
    assert s.is_embedded_database
    assert s.effective_database_url.endswith("clinic.db")
    assert s.cache_path == s.data_dir / "cache"
    assert s.embedded_worker is True


def test_environment_beats_file_beats_default(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text('clinic_name = "From File"\nsmtp_port = 2525\nsmtp_tls = "ssl"\n')
    s = load_settings(env={"PURPLECROSS_SMTP_PORT": "465"}, config_file=cfg)
    assert s.clinic_name == "From File"
    assert s.smtp_port == 465
    assert s.smtp_tls == "ssl"


def test_data_dir_moves_every_derived_path(tmp_path: Path) -> None:
    s = load_settings(env={"PURPLECROSS_DATA_DIR": str(tmp_path)}, config_file=tmp_path / "x.toml")
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'clinic.db'}"
    assert s.queue_file == tmp_path / "queue.db"
    assert s.email_outbox_path == tmp_path / "outbox"
    assert s.reports_path == tmp_path / "reports"


@pytest.mark.parametrize(
    ("env", "name", "rule"),
    [
        ({"PURPLECROSS_SMTP_PORT": "abc"}, "smtp_port", "whole number"),
        ({"PURPLECROSS_SMTP_PORT": "70000"}, "smtp_port", "between 1 and 65535"),
        ({"PURPLECROSS_SMTP_TLS": "maybe"}, "smtp_tls", "none, starttls, ssl"),
        ({"PURPLECROSS_EMBEDDED_WORKER": "perhaps"}, "embedded_worker", "true or false"),
        ({"PURPLECROSS_CLINIC_TIMEZONE": "Mars/Olympus"}, "clinic_timezone", "unknown time zone"),
        ({"PURPLECROSS_REDIS_URL": "http://x"}, "redis_url", "redis://"),
        ({"PURPLECROSS_JOB_ALERTS": "loud"}, "job_alerts", "true or false"),
        ({"PURPLECROSS_JOB_ALERT_FAILURES": "-1"}, "job_alert_failures", "0 (no alert) or more"),
        ({"PURPLECROSS_JOB_ALERT_QUIET_MINUTES": "0"}, "job_alert_quiet_minutes", "1 and 1440"),
        # "Keep forever" as a huge number: the hourly purge's date arithmetic overflowed
        # (OverflowError logged every hour) instead of the setting being refused.
        (
            {"PURPLECROSS_EMAIL_LOG_RETENTION_DAYS": "3000000"},
            "email_log_retention_days",
            "at most 36500",
        ),
        ({"PURPLECROSS_EVENT_RETENTION_DAYS": "3000000"}, "event_retention_days", "at most"),
        ({"PURPLECROSS_REPORT_RETENTION_DAYS": "3000000"}, "report_retention_days", "at most"),
    ],
)
def test_bad_values_name_the_setting_and_rule(
    tmp_path: Path, env: dict[str, str], name: str, rule: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env=env, config_file=tmp_path / "x.toml")
    assert info.value.name == name
    assert rule in str(info.value)
    assert f"PURPLECROSS_{name.upper()}" in str(info.value)


def test_secrets_are_refused_in_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text('smtp_password = "hunter2"\n')
    with pytest.raises(SettingsError, match="keyring"):
        load_settings(env={}, config_file=cfg)


def test_urls_are_masked() -> None:
    assert mask_url("redis://:pw@host:6379/0") == "redis://:***@host:6379/0"
    assert mask_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"
    assert mask_url("sqlite:///x.db") == "sqlite:///x.db"
    s = Settings(redis_url="redis://:pw@h:1/0")
    assert "pw" not in s.as_public_dict()["redis_url"]


def test_save_round_trips_without_secrets(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text('clinic_phone = "555"\n')
    chosen = Settings(clinic_name="Vet Co", smtp_port=2525, data_dir=tmp_path)
    save_settings(chosen, ["clinic_name", "smtp_port"], cfg)
    again = load_settings(env={}, config_file=cfg)
    assert again.clinic_name == "Vet Co"
    assert again.smtp_port == 2525
    assert again.clinic_phone == "555", "keys not named are kept"
    assert "data_dir" not in cfg.read_text(), "only the named settings are written"
    assert "password" not in cfg.read_text()


def test_updated_settings_checks_each_value() -> None:
    base = Settings()
    assert updated_settings(base, {"smtp_port": "25"}, "page").smtp_port == 25
    with pytest.raises(SettingsError, match="smtp_port: must be a whole number"):
        updated_settings(base, {"smtp_port": "x"}, "page")


def test_smtp_ca_file_reaches_the_mailer(tmp_path: Path) -> None:
    from jobs.email import SmtpConfig

    ca = tmp_path / "clinic-ca.pem"
    s = load_settings(env={"PURPLECROSS_SMTP_CA_FILE": str(ca)}, config_file=tmp_path / "x.toml")
    assert s.smtp_ca_file == ca
    assert SmtpConfig.from_settings(s, None).ca_file == ca
