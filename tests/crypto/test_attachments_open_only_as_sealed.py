"""Attachments (crypto/SPEC.md, "Attachments"): a file comes back byte for byte whole or fed
in any pieces, and any change to its stream is refused without the file counting as opened."""

from __future__ import annotations

import random
import uuid

import pytest

import crypto
from crypto import (
    ATTACHMENT_CHUNK,
    AttachmentOpener,
    AttachmentSealer,
    MessageContent,
    attachment_ciphertext_size,
    decode_content,
    encode_content,
    open_attachment,
    seal_attachment,
)
from crypto.errors import BindingError, CryptoError, DecryptionError, FormatError

SIZES = (1, 2, ATTACHMENT_CHUNK - 1, ATTACHMENT_CHUNK, ATTACHMENT_CHUNK + 1, 200_000)


@pytest.mark.parametrize("size", SIZES)
def test_a_file_opens_whole_and_in_random_pieces(size: int) -> None:
    data = random.randbytes(size)
    sealed = seal_attachment(data, "page 1.jpg", "image/jpeg")
    reference = sealed.reference(uuid.uuid4())
    assert len(sealed.stream) == attachment_ciphertext_size(size)
    assert open_attachment(sealed.stream, reference) == data

    opener = AttachmentOpener(reference)
    out, offset, rng = bytearray(), 0, random.Random(size)
    while offset < len(sealed.stream):
        length = rng.choice((1, 7, 17, 529, 4096, ATTACHMENT_CHUNK + 17, 100_000))
        piece = opener.feed(sealed.stream[offset : offset + length])
        offset += length
        out.extend(piece)
        # Never more than the chunks wholly received: the metadata and data chunks so far.
        assert len(out) <= max(0, min(offset, len(sealed.stream)) - 554)
    opener.finish()
    assert bytes(out) == data


def test_a_sealer_takes_the_file_a_chunk_at_a_time_and_names_its_stream() -> None:
    data = random.randbytes(3 * ATTACHMENT_CHUNK + 5)
    sealer = AttachmentSealer(len(data), "form.pdf", "application/pdf")
    with pytest.raises(FormatError):
        sealer.push(data[:ATTACHMENT_CHUNK])  # before start
    stream = sealer.start()
    with pytest.raises(FormatError):
        sealer.reference(uuid.uuid4())  # not all pushed
    with pytest.raises(FormatError):
        sealer.push(data[:10])  # a short piece before the last
    for offset in range(0, len(data), ATTACHMENT_CHUNK):
        stream += sealer.push(data[offset : offset + ATTACHMENT_CHUNK])
    with pytest.raises(FormatError):
        sealer.push(b"x")  # past the end
    assert sealer.digest == crypto.attachment_digest(stream)
    assert open_attachment(stream, sealer.reference(uuid.uuid4())) == data


def test_every_one_byte_change_truncation_and_extension_is_refused() -> None:
    data = random.randbytes(ATTACHMENT_CHUNK + 300)
    sealed = seal_attachment(data, "a.bin", "application/octet-stream")
    reference = sealed.reference(uuid.uuid4())
    stream = sealed.stream
    for offset in range(0, len(stream), 97):
        changed = bytearray(stream)
        changed[offset] ^= 0x80
        with pytest.raises(CryptoError):
            open_attachment(bytes(changed), reference)
    for cut in (1, 17, 300 + 17, len(stream) - 1):
        with pytest.raises(FormatError):
            open_attachment(stream[:-cut], reference)
        opener = AttachmentOpener(reference)
        opener.feed(stream[:-cut])
        with pytest.raises(FormatError):
            opener.finish()
    with pytest.raises(FormatError):
        AttachmentOpener(reference).feed(stream + b"\0")


def test_a_stream_the_server_swapped_for_another_of_the_same_file_is_refused() -> None:
    data = b"the same bytes"
    first = seal_attachment(data, "a.txt", "text/plain")
    second = seal_attachment(data, "a.txt", "text/plain")
    with pytest.raises(DecryptionError):
        open_attachment(second.stream, first.reference(uuid.uuid4()))
    # Under the right key but a digest the message does not name: another upload.
    reference = first.reference(uuid.uuid4())
    forged = crypto.AttachmentReference(
        reference.attachment_id,
        reference.key,
        crypto.attachment_digest(second.stream),
        reference.size,
        reference.name,
        reference.type,
    )
    with pytest.raises(BindingError):
        open_attachment(first.stream, forged)


def test_content_round_trips_and_plain_text_is_unchanged() -> None:
    assert encode_content(MessageContent("héllo")) == "héllo".encode()
    sealed = seal_attachment(b"\x89PNG", "photo.png", "image/png")
    reference = sealed.reference(uuid.uuid4())
    content = MessageContent("Here it is", (reference,))
    encoded = encode_content(content)
    assert encoded[0] == 0xFF
    assert decode_content(encoded) == content
    assert decode_content("héllo".encode()) == MessageContent("héllo")


def test_the_file_key_is_in_no_repr() -> None:
    sealed = seal_attachment(b"secret file", "a.txt", "text/plain")
    reference = sealed.reference(uuid.uuid4())
    for shown in (repr(reference), repr(sealed), repr(sealed.sealer), str(reference)):
        assert reference.key.hex() not in shown
        assert repr(reference.key) not in shown
    assert "secret file" not in repr(sealed)


def test_an_opener_that_failed_refuses_to_go_on() -> None:
    sealed = seal_attachment(random.randbytes(1000), "a.bin", "application/octet-stream")
    reference = sealed.reference(uuid.uuid4())
    changed = bytearray(sealed.stream)
    changed[100] ^= 1  # in the metadata chunk, which 700 bytes complete
    opener = AttachmentOpener(reference)
    with pytest.raises(DecryptionError):
        opener.feed(bytes(changed[:700]))
    with pytest.raises(FormatError, match="already failed"):
        opener.feed(bytes(changed[700:]))
    with pytest.raises(FormatError):
        encode_content(MessageContent("x" * (crypto.MAX_PLAINTEXT + 1)))
