"""Where attachments are stored is the environment's choice: a private folder of the data
directory by default, an S3-compatible bucket through django-storages when asked (refused
at start-up, naming what is missing, when django-storages is not installed or the bucket
not named). Request bodies stop at one part's size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICES = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}


def settings_of(env: dict[str, str], expression: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in SERVICES and not k.startswith(("CONFIDE_S3_", "CONFIDE_ATTACHMENT_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="portal.settings")
    return subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print({expression})"],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_by_default_a_private_folder_of_the_data_directory(tmp_path: Path) -> None:
    result = settings_of(
        {"CONFIDE_DATA_DIR": str(tmp_path)},
        "settings.STORAGES['attachments'], settings.DATA_UPLOAD_MAX_MEMORY_SIZE,"
        " settings.CONFIDE_ATTACHMENT_MAX_BYTES, settings.CONFIDE_ATTACHMENT_QUOTA_BYTES,"
        " settings.CONFIDE_ATTACHMENT_ABANDON_HOURS",
    )

    assert result.returncode == 0, result.stderr
    expected = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(tmp_path / "attachments"),
            "allow_overwrite": True,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
    assert result.stdout.strip() == f"{expected} 1048576 26214400 10737418240 24"


def test_the_limits_are_read_from_the_environment(tmp_path: Path) -> None:
    result = settings_of(
        {
            "CONFIDE_DATA_DIR": str(tmp_path),
            "CONFIDE_ATTACHMENT_MAX_BYTES": "1000",
            "CONFIDE_ATTACHMENT_QUOTA_BYTES": "0",
            "CONFIDE_ATTACHMENT_ABANDON_HOURS": "2",
        },
        "settings.CONFIDE_ATTACHMENT_MAX_BYTES, settings.CONFIDE_ATTACHMENT_QUOTA_BYTES,"
        " settings.CONFIDE_ATTACHMENT_ABANDON_HOURS",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1000", "0", "2"]


def test_an_abandon_time_under_an_hour_is_refused(tmp_path: Path) -> None:
    result = settings_of(
        {"CONFIDE_DATA_DIR": str(tmp_path), "CONFIDE_ATTACHMENT_ABANDON_HOURS": "0"},
        "settings.CONFIDE_ATTACHMENT_ABANDON_HOURS",
    )

    assert result.returncode != 0
    assert "CONFIDE_ATTACHMENT_ABANDON_HOURS must be at least 1" in result.stderr


def test_an_s3_bucket_through_django_storages(tmp_path: Path) -> None:
    # A stand-in for the installed package: the settings look only for its presence.
    (tmp_path / "storages").mkdir()
    (tmp_path / "storages" / "__init__.py").write_text("")
    secret = tmp_path / "s3_secret"
    secret.write_text("from-a-file\n")
    result = settings_of(
        {
            "CONFIDE_DATA_DIR": str(tmp_path),
            "PYTHONPATH": str(tmp_path),
            "CONFIDE_ATTACHMENT_STORAGE": "s3",
            "CONFIDE_S3_BUCKET": "practice-attachments",
            "CONFIDE_S3_ENDPOINT_URL": "https://s3.example.org",
            "CONFIDE_S3_REGION": "eu-central-1",
            "CONFIDE_S3_ACCESS_KEY_ID": "confide",
            "CONFIDE_S3_SECRET_ACCESS_KEY_FILE": str(secret),
        },
        "settings.STORAGES['attachments']",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "practice-attachments",
                "endpoint_url": "https://s3.example.org",
                "region_name": "eu-central-1",
                "access_key": "confide",
                "secret_key": "from-a-file",
                "location": "attachments",
                "file_overwrite": True,
                "default_acl": None,
            },
        }
    )


def test_s3_without_django_storages_is_refused(tmp_path: Path) -> None:
    # The test environment has django-storages (for the bucket test): hide it from this one.
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'storages':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
    )
    result = settings_of(
        {
            "PYTHONPATH": str(hide),
            "CONFIDE_DATA_DIR": str(tmp_path),
            "CONFIDE_ATTACHMENT_STORAGE": "s3",
            "CONFIDE_S3_BUCKET": "practice-attachments",
        },
        "settings.STORAGES",
    )

    assert result.returncode != 0
    assert "needs django-storages" in result.stderr


def test_s3_without_a_bucket_is_refused(tmp_path: Path) -> None:
    result = settings_of(
        {
            "CONFIDE_DATA_DIR": str(tmp_path),
            "CONFIDE_ATTACHMENT_STORAGE": "s3",
        },
        "settings.STORAGES",
    )

    assert result.returncode != 0
    assert "needs CONFIDE_S3_BUCKET" in result.stderr


def test_another_kind_of_storage_is_refused(tmp_path: Path) -> None:
    result = settings_of(
        {"CONFIDE_DATA_DIR": str(tmp_path), "CONFIDE_ATTACHMENT_STORAGE": "ftp"},
        "settings.STORAGES",
    )

    assert result.returncode != 0
    assert "must be 'filesystem' or 's3', not 'ftp'" in result.stderr
