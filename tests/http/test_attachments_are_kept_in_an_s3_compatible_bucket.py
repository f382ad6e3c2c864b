"""The production option for attachments: an S3-compatible bucket through django-storages
(CONFIDE_ATTACHMENT_STORAGE=s3), here moto's S3 server of the test's own on 127.0.0.1. An
upload's parts become objects of the bucket holding exactly the stream sent and nothing of
the file; a part sent again replaces itself; the other member downloads the stream whole
and from a byte; deleting the attachment leaves no object behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from crypto.attachment import open_attachment
from harness.private_services import PrivateS3
from messaging.models import Attachment
from messaging.services.attachments import delete_attachments
from tests.http.attachments import (
    THREE_PARTS,
    begun,
    complete,
    content,
    sealed_file,
    send_part,
)
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

BUCKET = "confide-attachments"
PREFIX = "practice-a"


@pytest.fixture
def bucket(tmp_path: Path, settings: Any) -> Iterator[Any]:
    """A private S3 server with an empty bucket, and the attachments' storage pointed at it
    with the options portal/settings.py gives for CONFIDE_ATTACHMENT_STORAGE=s3."""
    server = PrivateS3(tmp_path / "s3")
    server.start()
    try:
        client = boto3.client(
            "s3",
            endpoint_url=server.url,
            region_name=server.REGION,
            aws_access_key_id=server.ACCESS_KEY,
            aws_secret_access_key=server.SECRET_KEY,
        )
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "attachments": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "endpoint_url": server.url,
                    "region_name": server.REGION,
                    "access_key": server.ACCESS_KEY,
                    "secret_key": server.SECRET_KEY,
                    "location": PREFIX,
                    "file_overwrite": True,
                    "default_acl": None,
                },
            },
        }
        yield client
    finally:
        server.stop()


def objects(client: Any) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in listed
    }


def test_an_attachment_lives_in_the_bucket_and_goes_with_its_deletion(
    world: Practice5, browser_for: BrowserFor, bucket: Any
) -> None:
    clara, theo = browser_for(world.client), browser_for(world.therapist)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    parts = file.parts()
    for number, data in enumerate(parts):
        assert send_part(clara, attachment["id"], number, data).status == 200
    # A part sent again (its answer lost) replaces exactly itself.
    assert send_part(clara, attachment["id"], 1, parts[1]).status == 200
    done = complete(clara, attachment["id"], file.digest)
    assert done.status == 200, done.content

    stored = objects(bucket)
    keys = [f"{PREFIX}/{attachment['id']}/{n}" for n in range(3)]
    assert sorted(stored) == keys
    assert b"".join(stored[key] for key in keys) == file.stream
    assert all(file.plaintext[i : i + 64] not in file.stream for i in range(0, 4096, 64))

    whole = content(theo, attachment["id"])
    assert whole.status == 200
    assert whole.content == file.stream
    reference = file.sealed.reference(Attachment.objects.get().pk)
    assert open_attachment(whole.content, reference) == file.plaintext
    tail = content(theo, attachment["id"], {"Range": f"bytes={len(parts[0]) - 5}-"})
    assert tail.status == 206
    assert tail.content == file.stream[len(parts[0]) - 5 :]

    assert delete_attachments([Attachment.objects.get().pk]) == 1
    assert objects(bucket) == {}
    assert not Attachment.objects.exists()
