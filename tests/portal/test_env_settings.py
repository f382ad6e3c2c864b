"""Settings refuse bad values and keep safe defaults."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list, env_str, persistent_secret_key

REPO = Path(__file__).resolve().parents[2]


def test_env_bool_accepts_only_true_or_false(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "TRUE")
    assert env_bool("X_FLAG", default=False) is True
    monkeypatch.setenv("X_FLAG", "false")
    assert env_bool("X_FLAG", default=True) is False
    monkeypatch.setenv("X_FLAG", "yes")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG must be 'true' or 'false'"):
        env_bool("X_FLAG", default=False)


def test_env_int_refuses_values_out_of_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NUM", "3")
    with pytest.raises(ImproperlyConfigured, match="X_NUM must be at least 10"):
        env_int("X_NUM", 20, minimum=10)
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("X_NUM", 20)


def test_env_list_drops_empty_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_LIST", "a.example, ,b.example,")
    assert env_list("X_LIST", []) == ["a.example", "b.example"]


def test_env_str_reads_a_file_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret_file))
    assert env_str("X_SECRET") == "from-a-file"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="X_SECRET_FILE"):
        env_str("X_SECRET")


def test_the_embedded_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret_key"
    first = persistent_secret_key(path)
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert persistent_secret_key(path) == first


def _settings_in_subprocess(
    env: dict[str, str], expression: str
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    code = f"from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_embedded_default_is_sqlite_a_process_local_layer_and_debug_off(
    tmp_path: Path,
) -> None:
    result = _settings_in_subprocess(
        {"CONFIDE_DATA_DIR": str(tmp_path)},
        "settings.DEBUG, settings.DATABASES['default']['ENGINE'],"
        " settings.CHANNEL_LAYERS['default']['BACKEND'],"
        " repr(settings.CHANNEL_LAYERS['default']['CONFIG']['url']), settings.ALLOWED_HOSTS",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "False django.db.backends.sqlite3 messaging.layer.FanoutChannelLayer ''"
        " ['127.0.0.1', 'localhost']"
    )
    assert (tmp_path / "secret_key").exists()


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = _settings_in_subprocess(
        {"CONFIDE_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@127.0.0.1/db"},
        "settings.SECRET_KEY",
    )
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_database_url_and_redis_url_switch_to_postgresql_and_redis(tmp_path: Path) -> None:
    result = _settings_in_subprocess(
        {
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "SECRET_KEY": "k0-abcdef" * 8,
            "CONFIDE_DATA_DIR": str(tmp_path),
        },
        "settings.DATABASES['default']['ENGINE'], settings.CHANNEL_LAYERS['default']['BACKEND'],"
        " settings.CHANNEL_LAYERS['default']['CONFIG']['url'], settings.SESSION_COOKIE_SECURE",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "portal.postgresql",
        "messaging.layer.FanoutChannelLayer",
        "redis://127.0.0.1:6379/0",
        "True",
    ]


def test_a_wildcard_allowed_host_is_refused(tmp_path: Path) -> None:
    result = _settings_in_subprocess(
        {"CONFIDE_DATA_DIR": str(tmp_path), "ALLOWED_HOSTS": "*"}, "settings.ALLOWED_HOSTS"
    )
    assert result.returncode != 0
    assert "'*' is refused" in result.stderr


def test_a_secret_key_of_too_few_different_characters_is_refused(tmp_path: Path) -> None:
    result = _settings_in_subprocess(
        {
            "CONFIDE_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u@127.0.0.1/db",
            "SECRET_KEY": "k" * 64,
        },
        "settings.SECRET_KEY",
    )
    assert result.returncode != 0
    assert "at least 5 different" in result.stderr


def test_a_security_contact_that_is_not_a_mailto_or_https_uri_is_refused(tmp_path: Path) -> None:
    result = _settings_in_subprocess(
        {"CONFIDE_DATA_DIR": str(tmp_path), "CONFIDE_SECURITY_CONTACT": "security@practice"},
        "settings.CONFIDE_SECURITY_CONTACT",
    )
    assert result.returncode != 0
    assert "mailto: or https://" in result.stderr


@pytest.mark.parametrize(
    ("proxies", "said"),
    [
        ("*", "is not one"),
        ("proxy.internal", "is not one"),
        ("0.0.0.0/0", "most of the internet"),
        ("::/0", "most of the internet"),
    ],
)
def test_a_proxy_allow_list_that_trusts_everyone_is_refused(
    tmp_path: Path, proxies: str, said: str
) -> None:
    result = _settings_in_subprocess(
        {"CONFIDE_DATA_DIR": str(tmp_path), "CONFIDE_FORWARDED_ALLOW_IPS": proxies},
        "settings.CONFIDE_FORWARDED_ALLOW_IPS",
    )
    assert result.returncode != 0
    assert said in result.stderr


def test_a_proxy_network_of_the_site_is_taken(tmp_path: Path) -> None:
    result = _settings_in_subprocess(
        {"CONFIDE_DATA_DIR": str(tmp_path), "CONFIDE_FORWARDED_ALLOW_IPS": "10.0.0.0/8,::1"},
        "settings.CONFIDE_FORWARDED_ALLOW_IPS",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['10.0.0.0/8', '::1']"


def test_a_data_directory_others_may_write_in_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    result = _settings_in_subprocess({"CONFIDE_DATA_DIR": str(shared)}, "settings.SECRET_KEY")
    assert result.returncode != 0
    assert "is not this user's alone" in result.stderr
    assert not (shared / "secret_key").exists()


def test_a_server_process_makes_full_garbage_collections_seldom(tmp_path: Path) -> None:
    """The ASGI application sets it as it loads, in every server process (uvicorn's and
    Daphne's each import it): Python's own made a reconnect storm spend two fifths of the
    CPU in full collections. The young generations keep Python's thresholds."""
    loaded = "__import__('portal.asgi') and __import__('gc').get_threshold()"
    default = _settings_in_subprocess({"CONFIDE_DATA_DIR": str(tmp_path)}, loaded)
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "(700, 10, 100)"
    chosen = _settings_in_subprocess(
        {"CONFIDE_DATA_DIR": str(tmp_path), "CONFIDE_GC_FULL_EVERY": "10"}, loaded
    )
    assert chosen.stdout.strip() == "(700, 10, 10)", chosen.stderr
    refused = _settings_in_subprocess(
        {"CONFIDE_DATA_DIR": str(tmp_path), "CONFIDE_GC_FULL_EVERY": "0"}, loaded
    )
    assert refused.returncode != 0
    assert "CONFIDE_GC_FULL_EVERY must be at least 1" in refused.stderr
