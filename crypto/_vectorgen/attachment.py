"""Vectors for attachments (the stream and its reference) and for message content."""

from __future__ import annotations

import uuid

import nacl.bindings as sodium

from .. import _labels, _random
from ..attachment import (
    ATTACHMENT_CHUNK,
    MAX_ATTACHMENTS,
    MAX_FILE_SIZE,
    AttachmentReference,
    MessageContent,
    attachment_ciphertext_size,
    attachment_digest,
    encode_content,
    seal_attachment,
)
from ..errors import BindingError, CryptoError, DecryptionError, FormatError
from ..errors import UnsupportedVersionError as Unsupported
from .common import NO_DRAW, JsonObject, document, fails, flip, ok, replace
from .rng import deterministic_random

ATTACHMENT_ID = bytes.fromhex("3c9a1e5b7d2f40c68e1a2b3c4d5e6f70")
OTHER_ATTACHMENT_ID = bytes.fromhex("8b7a695847362514a3b2c1d0e0f1a2b3")

# Where the parts of a stream begin: the version, the secretstream header, the metadata
# chunk (512 bytes and its 17), then the file's chunks.
HEADER_AT = 1
META_AT = 1 + 24
DATA_AT = META_AT + 512 + 17


def _pattern(length: int, seed: int) -> bytes:
    """A file of ``length`` bytes that is not all one value (so a moved chunk shows)."""
    return bytes((seed + 31 * i + (i >> 8)) & 0xFF for i in range(length))


# name, comment, file, file name, media type
SAMPLES: tuple[tuple[str, str, bytes, str, str], ...] = (
    (
        "one-byte",
        "The smallest file: one byte, one data chunk, marked final.",
        b"\x2a",
        "a.txt",
        "text/plain",
    ),
    (
        "worksheet",
        "A short PDF-like file with a name beyond ASCII.",
        b"%PDF-1.7\n" + _pattern(300, 5),
        "Thought record – week 3 (Zoë).pdf",
        "application/pdf",
    ),
    (
        "two-chunks",
        "One byte more than a chunk: a full data chunk and a final one of one byte.",
        _pattern(ATTACHMENT_CHUNK + 1, 9),
        "journal page.jpg",
        "image/jpeg",
    ),
)


def _reference_fields(reference: AttachmentReference) -> JsonObject:
    return {
        "attachment_id": reference.attachment_id.bytes.hex(),
        "key": reference.key.hex(),
        "digest": reference.digest.hex(),
        "size": reference.size,
        "name_text": reference.name,
        "type_text": reference.type,
    }


def _sealed(
    name: str, data: bytes, file_name: str, media_type: str
) -> tuple[bytes, JsonObject, list[bytes]]:
    with deterministic_random(f"attachment/{name}") as rng:
        sealed = seal_attachment(data, file_name, media_type)
    reference = sealed.reference(ATTACHMENT_ID)
    return sealed.stream, _reference_fields(reference), list(rng.drawn)


def _seal_vectors() -> tuple[list[JsonObject], dict[str, tuple[bytes, JsonObject]]]:
    vectors: list[JsonObject] = []
    streams: dict[str, tuple[bytes, JsonObject]] = {}
    for name, comment, data, file_name, media_type in SAMPLES:
        stream, reference, drawn = _sealed(name, data, file_name, media_type)
        streams[name] = (stream, reference)
        vectors.append(
            ok(
                f"seal-{name}",
                comment + " 'random' is the file key, then the secretstream header.",
                "seal",
                {
                    "file": data.hex(),
                    "name_text": file_name,
                    "type_text": media_type,
                    "random": [value.hex() for value in drawn],
                },
                {
                    "key": reference["key"],
                    "digest": reference["digest"],
                    "stream_size": len(stream),
                    "stream": stream.hex(),
                },
            )
        )
        if len(data) > ATTACHMENT_CHUNK:
            continue  # opened in pieces below (each stream of it is 130 KB of hex)
        vectors.append(
            ok(
                f"open-{name}",
                comment,
                "open",
                {"stream": stream.hex(), "reference": reference},
                {"file": data.hex()},
            )
        )
    # Opened as the bytes come, in pieces that cut across every boundary.
    stream, reference = streams["two-chunks"]
    vectors.append(
        ok(
            "open-two-chunks-in-pieces",
            "The same stream fed in pieces of 1, 24, 100, 65,000 bytes and the rest: what comes "
            "out does not depend on where the pieces end.",
            "open",
            {"stream": stream.hex(), "reference": reference, "pieces": [1, 24, 100, 65000]},
            {"file": SAMPLES[2][2].hex()},
        )
    )
    return vectors, streams


def _size_vectors() -> list[JsonObject]:
    vectors = [
        ok(
            f"ciphertext-size-{size}",
            f"The stream of a file of {size} bytes.",
            "ciphertext_size",
            {"size": size},
            {"stream_size": attachment_ciphertext_size(size)},
        )
        for size in (1, ATTACHMENT_CHUNK, ATTACHMENT_CHUNK + 1, 25 * 1024 * 1024, MAX_FILE_SIZE)
    ]
    for name, comment, size in (
        ("zero", "An empty file has no stream.", 0),
        ("negative", "A size of -1.", -1),
        ("above-2-40", "A size above 2^40, the largest file.", MAX_FILE_SIZE + 1),
        ("boolean", "A boolean is not a size.", True),
        ("fraction", "A size of 1.5.", 1.5),
    ):
        vectors.append(
            fails(
                f"ciphertext-size-{name}", comment, "ciphertext_size", {"size": size}, FormatError
            )
        )
    return vectors


def _seal_refusals() -> list[JsonObject]:
    base: JsonObject = {
        "file": b"notes".hex(),
        "name_text": "notes.txt",
        "type_text": "text/plain",
        "random": [],
    }
    cases: tuple[tuple[str, str, JsonObject], ...] = (
        ("empty-file", "An empty file is refused.", {"file": ""}),
        ("empty-name", "A file name of no bytes.", {"name_text": ""}),
        ("long-name", "A name of 256 bytes of UTF-8.", {"name_text": "é" * 128}),
        ("slash-in-name", "A name with a slash.", {"name_text": "../notes.txt"}),
        ("backslash-in-name", "A name with a backslash.", {"name_text": "a\\b.txt"}),
        ("control-in-name", "A name with a line feed.", {"name_text": "a\nb.txt"}),
        ("dot-dot-name", "The name '..'.", {"name_text": ".."}),
        ("surrogate-in-name", "A name with a lone surrogate.", {"name_text": "a\ud800.txt"}),
        ("upper-case-type", "A media type in upper case.", {"type_text": "Image/JPEG"}),
        ("type-without-subtype", "A media type without a subtype.", {"type_text": "image"}),
        (
            "type-with-parameter",
            "A media type with a parameter.",
            {"type_text": "text/plain; charset=utf-8"},
        ),
    )
    return [
        fails(f"seal-{name}", comment + NO_DRAW, "seal", {**base, **change}, FormatError)
        for name, comment, change in cases
    ]


def _open_refusals(streams: dict[str, tuple[bytes, JsonObject]]) -> list[JsonObject]:
    vectors: list[JsonObject] = []
    small, small_ref = streams["worksheet"]
    large, large_ref = streams["two-chunks"]
    one, one_ref = streams["one-byte"]

    def refuse(
        name: str, comment: str, stream: bytes, reference: JsonObject, error: type[CryptoError]
    ) -> None:
        vectors.append(
            fails(
                f"open-{name}",
                comment,
                "open",
                {"stream": stream.hex(), "reference": reference},
                error,
            )
        )

    refuse("empty", "No stream at all.", b"", small_ref, FormatError)
    refuse(
        "version-2", "A stream of an unknown version.", b"\x02" + small[1:], small_ref, Unsupported
    )
    refuse(
        "version-0",
        "Version 0, before the length is checked.",
        b"\x00" + small[1:-1],
        small_ref,
        Unsupported,
    )
    refuse("truncated-one-byte", "The last byte cut off.", small[:-1], small_ref, FormatError)
    refuse(
        "truncated-last-chunk",
        "The final chunk dropped: the stream ends at a chunk boundary, short of its size.",
        large[: DATA_AT + ATTACHMENT_CHUNK + 17],
        large_ref,
        FormatError,
    )
    refuse(
        "extended", "A byte added after the final chunk.", small + b"\x00", small_ref, FormatError
    )
    refuse(
        "extended-by-a-chunk",
        "The final chunk repeated after itself.",
        one + one[DATA_AT:],
        one_ref,
        FormatError,
    )
    for region, offset in (
        ("header", HEADER_AT),
        ("metadata", META_AT + 40),
        ("metadata-tag", DATA_AT - 1),
        ("data", DATA_AT + 10),
        ("last-byte", len(small) - 1),
    ):
        refuse(
            f"flipped-{region}",
            f"One bit of the {region.replace('-', ' ')} changed.",
            flip(small, offset),
            small_ref,
            DecryptionError,
        )
    first = large[DATA_AT : DATA_AT + ATTACHMENT_CHUNK + 17]
    last = large[DATA_AT + ATTACHMENT_CHUNK + 17 :]
    refuse(
        "reordered",
        "The two data chunks in the other order (the same length in all).",
        large[:DATA_AT] + last + first,
        large_ref,
        DecryptionError,
    )
    # Another file of the same size under another key: its chunks do not open under this one.
    other, _, _ = _sealed(
        "other", _pattern(ATTACHMENT_CHUNK + 1, 77), "journal page.jpg", "image/jpeg"
    )
    refuse(
        "chunk-of-another-file",
        "The final chunk taken from another file of the same size.",
        large[: DATA_AT + ATTACHMENT_CHUNK + 17] + other[DATA_AT + ATTACHMENT_CHUNK + 17 :],
        large_ref,
        DecryptionError,
    )
    refuse(
        "another-files-header",
        "The secretstream header of another file: no chunk opens.",
        replace(small, HEADER_AT, other[HEADER_AT:META_AT]),
        small_ref,
        DecryptionError,
    )
    refuse(
        "wrong-key",
        "A reference with another key.",
        small,
        {**small_ref, "key": bytes(32).hex()},
        DecryptionError,
    )
    refuse(
        "other-digest",
        "An authentic stream, but not the one the message names: its digest differs.",
        small,
        {**small_ref, "digest": attachment_digest(one).hex()},
        BindingError,
    )
    refuse(
        "other-name",
        "The message names the file otherwise than its own metadata.",
        small,
        {**small_ref, "name_text": "other.pdf"},
        BindingError,
    )
    refuse(
        "other-type",
        "The message gives another media type than the file's own.",
        small,
        {**small_ref, "type_text": "application/octet-stream"},
        BindingError,
    )
    refuse(
        "smaller-size",
        "The message says the file is a byte shorter: the stream's length is wrong first.",
        small,
        {**small_ref, "size": small_ref["size"] - 1},
        FormatError,
    )
    return vectors


def _crafted(
    name: str, meta: bytes, meta_tag: int, chunks: list[tuple[bytes, int]]
) -> tuple[bytes, JsonObject]:
    """A stream whose metadata and tags are chosen here, authentic under its own key: what a
    sender who breaks the format could make. The reference names the size the chunks hold."""
    with deterministic_random(f"attachment/crafted/{name}"):
        key = _random.random_bytes(32)
        header = _random.random_bytes(24)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
    parts = [b"\x01", header]
    for data, tag in [(meta, meta_tag), *chunks]:
        parts.append(
            sodium.crypto_secretstream_xchacha20poly1305_push(state, data, _labels.ATTACHMENT, tag)
        )
    stream = b"".join(parts)
    reference = {
        "attachment_id": ATTACHMENT_ID.hex(),
        "key": key.hex(),
        "digest": attachment_digest(stream).hex(),
        "size": sum(len(data) for data, _ in chunks),
        "name_text": "a.txt",
        "type_text": "text/plain",
    }
    return stream, reference


def _meta(
    size: int, name: bytes = b"a.txt", media_type: bytes = b"text/plain", version: int = 1
) -> bytes:
    meta = bytes([version]) + size.to_bytes(8, "big") + bytes([len(name)]) + name
    meta += bytes([len(media_type)]) + media_type
    return meta + bytes(512 - len(meta))


def _crafted_refusals() -> list[JsonObject]:
    message, final = 0, 3  # secretstream's TAG_MESSAGE and TAG_FINAL
    abc = [(b"abc", final)]
    cases: tuple[tuple[str, str, bytes, int, list[tuple[bytes, int]], type[CryptoError]], ...] = (
        (
            "metadata-final",
            "The metadata chunk is tagged final.",
            _meta(3),
            final,
            abc,
            FormatError,
        ),
        (
            "metadata-version-2",
            "Metadata of version 2.",
            _meta(3, version=2),
            message,
            abc,
            Unsupported,
        ),
        (
            "metadata-padding",
            "Metadata whose padding is not all zero.",
            _meta(3)[:-1] + b"\x01",
            message,
            abc,
            FormatError,
        ),
        (
            "metadata-name-with-slash",
            "Metadata naming the file with a slash.",
            _meta(3, name=b"../a.txt"),
            message,
            abc,
            FormatError,
        ),
        (
            "metadata-size-differs",
            "Metadata saying 4 bytes for a file of 3: not what the message says.",
            _meta(4),
            message,
            abc,
            BindingError,
        ),
        (
            "last-chunk-not-final",
            "The last data chunk is tagged as a message: the stream could go on.",
            _meta(3),
            message,
            [(b"abc", message)],
            FormatError,
        ),
        (
            "final-before-the-end",
            "A full chunk tagged final before the last one: the stream ended early.",
            _meta(ATTACHMENT_CHUNK + 1),
            message,
            [(_pattern(ATTACHMENT_CHUNK, 3), final), (b"z", final)],
            FormatError,
        ),
    )
    vectors = []
    for name, comment, meta, meta_tag, data, error in cases:
        stream, reference = _crafted(name, meta, meta_tag, data)
        vectors.append(
            fails(
                f"open-crafted-{name}",
                comment + " Authentic under its key: a sender broke the format.",
                "open",
                {"stream": stream.hex(), "reference": reference},
                error,
            )
        )
    return vectors


# --- message content --------------------------------------------------------------------------


def _references(streams: dict[str, tuple[bytes, JsonObject]]) -> list[AttachmentReference]:
    out = []
    for name in ("worksheet", "one-byte"):
        fields = streams[name][1]
        out.append(
            AttachmentReference(
                uuid.UUID(
                    bytes=bytes.fromhex(fields["attachment_id"])
                    if name == "worksheet"
                    else OTHER_ATTACHMENT_ID
                ),
                bytes.fromhex(fields["key"]),
                bytes.fromhex(fields["digest"]),
                fields["size"],
                fields["name_text"],
                fields["type_text"],
            )
        )
    return out


def _content_vectors(streams: dict[str, tuple[bytes, JsonObject]]) -> list[JsonObject]:
    first, second = _references(streams)
    vectors: list[JsonObject] = []
    samples = (
        (
            "text",
            "Text alone is its UTF-8, as before attachments.",
            MessageContent("Bonjour, Zoë 👋"),
        ),
        ("empty-text", "No text at all: an empty plaintext.", MessageContent("")),
        ("one-file", "A file with a caption.", MessageContent("Here is the worksheet.", (first,))),
        ("two-files-no-text", "Two files and no text.", MessageContent("", (first, second))),
    )
    encoded_of: dict[str, bytes] = {}
    for name, comment, content in samples:
        encoded = encode_content(content)
        encoded_of[name] = encoded
        fields: JsonObject = {
            "text_text": content.text,
            "attachments": [_reference_fields(reference) for reference in content.attachments],
        }
        vectors.append(
            ok(
                f"encode-content-{name}",
                comment,
                "encode_content",
                fields,
                {"content": encoded.hex()},
            )
        )
        vectors.append(
            ok(
                f"decode-content-{name}",
                comment,
                "decode_content",
                {"content": encoded.hex()},
                fields,
            )
        )

    one = encoded_of["one-file"]
    two = encoded_of["two-files-no-text"]
    text_end = 2 + 4 + len("Here is the worksheet.")
    first_ref = text_end + 1
    name_at = first_ref + 16 + 32 + 32 + 8
    decode_cases: tuple[tuple[str, str, bytes, type[CryptoError]], ...] = (
        (
            "not-utf-8",
            "Text that is not UTF-8 (and does not begin with 0xFF).",
            b"caf\xe9",
            FormatError,
        ),
        ("mark-alone", "The content mark with nothing after it.", b"\xff", FormatError),
        ("version-2", "Content of an unknown version.", b"\xff\x02" + one[2:], Unsupported),
        ("truncated", "The last byte of the last reference cut off.", one[:-1], FormatError),
        ("trailing-byte", "A byte after the last reference.", one + b"\x00", FormatError),
        (
            "count-zero",
            "Content that presents no attachment.",
            one[:text_end] + b"\x00",
            FormatError,
        ),
        (
            "count-eleven",
            "A count of 11, above the most a message presents.",
            one[:text_end] + bytes([MAX_ATTACHMENTS + 1]) + one[first_ref:],
            FormatError,
        ),
        (
            "count-above-references",
            "A count of 2 with one reference.",
            one[:text_end] + b"\x02" + one[first_ref:],
            FormatError,
        ),
        (
            "text-not-utf-8",
            "A caption that is not UTF-8.",
            replace(one, 6, b"\xc3\x28"),
            FormatError,
        ),
        (
            "text-length-too-long",
            "A caption length past the end.",
            replace(one, 2, (10**6).to_bytes(4, "big")),
            FormatError,
        ),
        (
            "same-file-twice",
            "One attachment presented twice.",
            two[: 2 + 4] + b"\x02" + two[7 : 7 + len(first.to_bytes())] * 2,
            FormatError,
        ),
        (
            "size-zero",
            "A reference to a file of no bytes.",
            replace(one, name_at - 8, bytes(8)),
            FormatError,
        ),
        (
            "slash-in-name",
            "A reference naming the file with a slash.",
            replace(one, name_at + 1, b"/"),
            FormatError,
        ),
        (
            "upper-case-type",
            "A reference with a media type in upper case.",
            replace(one, len(one) - len("application/pdf"), b"A"),
            FormatError,
        ),
    )
    for name, comment, refused, error in decode_cases:
        vectors.append(
            fails(
                f"decode-content-{name}",
                comment,
                "decode_content",
                {"content": refused.hex()},
                error,
            )
        )

    refs = [_reference_fields(first)]
    vectors.append(
        fails(
            "encode-content-eleven-files",
            "Eleven attachments, above the most a message presents.",
            "encode_content",
            {
                "text_text": "",
                "attachments": [
                    {**refs[0], "attachment_id": bytes([i]).hex() + ATTACHMENT_ID[1:].hex()}
                    for i in range(MAX_ATTACHMENTS + 1)
                ],
            },
            FormatError,
        )
    )
    vectors.append(
        fails(
            "encode-content-same-file-twice",
            "One attachment presented twice.",
            "encode_content",
            {"text_text": "", "attachments": refs * 2},
            FormatError,
        )
    )
    vectors.append(
        fails(
            "encode-content-lone-surrogate",
            "A caption with a lone surrogate.",
            "encode_content",
            {"text_text": "a\ud800", "attachments": refs},
            FormatError,
        )
    )
    return vectors


def attachment_file() -> str:
    seals, streams = _seal_vectors()
    vectors = [
        *seals,
        *_size_vectors(),
        *_seal_refusals(),
        *_open_refusals(streams),
        *_crafted_refusals(),
        *_content_vectors(streams),
    ]
    return document(
        "Attachments: a file sealed as a secretstream under a key of its own, opened whole or in "
        "pieces, and refused when truncated, extended, reordered, swapped, altered or named "
        "otherwise by its message; and message content, text alone or text with references.",
        vectors,
    )
