"""Attachments: a file encrypted with libsodium's secretstream under a key of its own, and
the message content that presents it (crypto/SPEC.md, "Attachments" and "Message
content").

::

    file_key = random(32)
    sheader  = random(24)
    state    = secretstream state of (file_key, sheader)
    meta     = 0x01 || u64(size) || u8(len(name)) || name || u8(len(type)) || type,
               zero bytes to 512
    c0       = push(state, meta, "confide/v1/attachment", TAG_MESSAGE)
    c1..cn   = push(state, each 65536 bytes of the file, "confide/v1/attachment",
                    TAG_MESSAGE, TAG_FINAL for the last)
    stream   = 0x01 || sheader || c0 || c1 || ... || cn
    digest   = BLAKE2b-256("confide/v1/attachment-digest" || stream)

The message that presents the file carries ``file_key`` and ``digest`` (and the file's
size, name and type): the key opens the stream, the digest names exactly its bytes, and
the message's seal binds both to its sender, conversation and epoch. The server, which
stores the stream, learns only its length.

Opening works as the bytes arrive (:class:`AttachmentOpener`), so that a large file is
never held twice; nothing it returns counts as the file until :meth:`finish` has checked
the end of the stream and its digest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import uuid

import nacl.bindings
import nacl.exceptions

from . import _labels, _random
from ._fields import Reader, coerce_id, require_bytes, require_type, u64
from ._primitives import HASH_SIZE, KEY_SIZE
from .errors import (
    BindingError,
    CryptoError,
    DecryptionError,
    FormatError,
    UnsupportedVersionError,
)
from .padding import MAX_PLAINTEXT

__all__ = [
    "ATTACHMENT_CHUNK",
    "ATTACHMENT_VERSION",
    "CONTENT_VERSION",
    "MAX_ATTACHMENTS",
    "MAX_FILE_SIZE",
    "MAX_NAME",
    "MAX_TYPE",
    "AttachmentOpener",
    "AttachmentReference",
    "AttachmentSealer",
    "MessageContent",
    "SealedAttachment",
    "attachment_ciphertext_size",
    "attachment_digest",
    "attachment_digest_hasher",
    "decode_content",
    "encode_content",
    "open_attachment",
    "seal_attachment",
]

ATTACHMENT_VERSION = 1
CONTENT_VERSION = 1
# Plaintext bytes of the file in each chunk of the stream but the last.
ATTACHMENT_CHUNK = 65536
MAX_ATTACHMENTS = 10
# The largest file the format carries (1 TiB): its stream's length stays an exact integer in
# every implementation (a JavaScript number).
MAX_FILE_SIZE = 2**40
MAX_NAME = 255
MAX_TYPE = 127

_HEADER = nacl.bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_ABYTES = nacl.bindings.crypto_secretstream_xchacha20poly1305_ABYTES
_TAG_MESSAGE = nacl.bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = nacl.bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_META = 512
# 0x01, the secretstream header, and the metadata chunk.
_PREFIX = 1 + _HEADER + _META + _ABYTES
# A content whose first byte is this is not text: 0xFF never begins valid UTF-8.
_CONTENT_MARK = 0xFF

_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\Z")
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/\\]")


def attachment_ciphertext_size(size: int) -> int:
    """The exact length of the stream that carries a file of ``size`` bytes (1 or more)."""
    _check_size(size)
    chunks = -(-size // ATTACHMENT_CHUNK)
    return _PREFIX + size + chunks * _ABYTES


def attachment_digest(stream: bytes) -> bytes:
    """``BLAKE2b-256("confide/v1/attachment-digest" || stream)``: what a message names."""
    hasher = attachment_digest_hasher()
    hasher.update(require_bytes(stream, "The stream"))
    return hasher.digest()


def attachment_digest_hasher() -> hashlib.blake2b:
    """A hasher that gives :func:`attachment_digest` of the bytes fed to its ``update``, for
    a stream read a piece at a time."""
    hasher = hashlib.blake2b(digest_size=HASH_SIZE)
    hasher.update(_labels.ATTACHMENT_DIGEST)
    return hasher


# --- the file's name, type and size ---------------------------------------------------------


def _check_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_FILE_SIZE:
        raise FormatError(
            f"An attachment's size is an integer from 1 to {MAX_FILE_SIZE} bytes, not {size!r}"
        )
    return size


def _check_name(name: object) -> bytes:
    text = require_type(name, str, "The file name")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError("The file name is not valid Unicode") from None
    if not 1 <= len(encoded) <= MAX_NAME:
        raise FormatError(f"A file name is 1 to {MAX_NAME} bytes of UTF-8 (got {len(encoded)})")
    if _NAME_FORBIDDEN.search(text) or text in (".", ".."):
        raise FormatError("A file name holds no control character, slash or backslash")
    return encoded


def _check_type(media_type: object) -> bytes:
    text = require_type(media_type, str, "The media type")
    if not _TYPE.match(text):  # the pattern holds at most MAX_TYPE characters
        raise FormatError(f"Not a media type in lower case (type/subtype): {text[:MAX_TYPE]!r}")
    return text.encode("ascii")


def _read_name(reader: Reader) -> str:
    raw = reader.take(reader.take(1)[0])
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("The file name is not valid UTF-8") from None
    _check_name(name)
    return name


def _read_type(reader: Reader) -> str:
    raw = reader.take(reader.take(1)[0])
    try:
        media_type = raw.decode("ascii")
    except UnicodeDecodeError:
        raise FormatError("The media type is not ASCII") from None
    _check_type(media_type)
    return media_type


# --- the reference a message carries ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AttachmentReference:
    """What a message says of one attachment: where the server keeps it
    (``attachment_id``), the key that opens it, the digest of its stream, and the file's
    size, name and media type. The key never appears in a ``repr``."""

    attachment_id: uuid.UUID
    key: bytes = dataclasses.field(repr=False)
    digest: bytes
    size: int
    name: str
    type: str

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "attachment_id",
            uuid.UUID(bytes=coerce_id(self.attachment_id, "The attachment id")),
        )
        key = require_bytes(self.key, "The file key")
        digest = require_bytes(self.digest, "The digest")
        if len(key) != KEY_SIZE or len(digest) != HASH_SIZE:
            raise FormatError("A file key and a digest are 32 bytes each")
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "digest", digest)
        _check_size(self.size)
        _check_name(self.name)
        _check_type(self.type)

    @property
    def stream_size(self) -> int:
        """The length of the stream the server holds for it."""
        return attachment_ciphertext_size(self.size)

    def to_bytes(self) -> bytes:
        name, media_type = _check_name(self.name), _check_type(self.type)
        return b"".join(
            (
                self.attachment_id.bytes,
                self.key,
                self.digest,
                u64(self.size),
                bytes([len(name)]),
                name,
                bytes([len(media_type)]),
                media_type,
            )
        )

    @classmethod
    def read(cls, reader: Reader) -> AttachmentReference:
        attachment_id = uuid.UUID(bytes=reader.take(16))
        key = reader.take(KEY_SIZE)
        digest = reader.take(HASH_SIZE)
        size = _check_size(reader.take_u64())
        return cls(attachment_id, key, digest, size, _read_name(reader), _read_type(reader))


# --- message content ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MessageContent:
    """What a message says: its text, and the files it presents (none for a text message)."""

    text: str
    attachments: tuple[AttachmentReference, ...] = ()


def encode_content(content: MessageContent) -> bytes:
    """A message's plaintext: the text as UTF-8 when it presents no file; otherwise
    ``0xFF || 0x01 || u32(len(text)) || text || u8(count) || references``."""
    require_type(content, MessageContent, "The content")
    text = require_type(content.text, str, "The text")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError("The text is not valid Unicode (it contains a lone surrogate)") from None
    attachments = tuple(content.attachments)
    if not attachments:
        if len(encoded) > MAX_PLAINTEXT:
            raise FormatError(f"A message's text is at most {MAX_PLAINTEXT} bytes of UTF-8")
        return encoded
    if len(attachments) > MAX_ATTACHMENTS:
        raise FormatError(f"A message presents at most {MAX_ATTACHMENTS} attachments")
    for reference in attachments:
        require_type(reference, AttachmentReference, "An attachment")
    if len({r.attachment_id for r in attachments}) != len(attachments):
        raise FormatError("A message presents each attachment once")
    if len(encoded) > MAX_PLAINTEXT:
        raise FormatError(f"A message's text is at most {MAX_PLAINTEXT} bytes of UTF-8")
    plaintext = b"".join(
        (
            bytes([_CONTENT_MARK, CONTENT_VERSION]),
            len(encoded).to_bytes(4, "big"),
            encoded,
            bytes([len(attachments)]),
            *(r.to_bytes() for r in attachments),
        )
    )
    if len(plaintext) > MAX_PLAINTEXT:
        raise FormatError(f"A message's content is at most {MAX_PLAINTEXT} bytes")
    return plaintext


def decode_content(plaintext: bytes) -> MessageContent:
    """The content of an opened message's plaintext (:func:`encode_content`).

    Raises :class:`FormatError` for text that is not UTF-8 and for any malformed content;
    :class:`UnsupportedVersionError` for a content version this implementation does not
    know."""
    data = require_bytes(plaintext, "The plaintext")
    if not data or data[0] != _CONTENT_MARK:
        return MessageContent(_utf8(data, "The message plaintext"))
    if len(data) < 2:
        raise FormatError("The message content is truncated")
    if data[1] != CONTENT_VERSION:
        raise UnsupportedVersionError(f"Unsupported message content version 0x{data[1]:02x}")
    reader = Reader(data[2:])
    text = _utf8(reader.take(reader.take_u32()), "The message text")
    count = reader.take(1)[0]
    if not 1 <= count <= MAX_ATTACHMENTS:
        raise FormatError(f"A message presents 1 to {MAX_ATTACHMENTS} attachments (got {count})")
    attachments = tuple(AttachmentReference.read(reader) for _ in range(count))
    if reader.rest():
        raise FormatError("The message content has bytes after its last attachment")
    if len({r.attachment_id for r in attachments}) != count:
        raise FormatError("A message presents each attachment once")
    return MessageContent(text, attachments)


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{what} is not valid UTF-8 text") from None


# --- sealing --------------------------------------------------------------------------------


def _meta(size: int, name: bytes, media_type: bytes) -> bytes:
    meta = b"".join(
        (
            bytes([ATTACHMENT_VERSION]),
            u64(size),
            bytes([len(name)]),
            name,
            bytes([len(media_type)]),
            media_type,
        )
    )
    return meta + bytes(_META - len(meta))


class AttachmentSealer:
    """Encrypts one file of a known size as its bytes come: :meth:`start` gives the
    stream's first bytes, :meth:`push` each next piece of the file (exactly
    ``ATTACHMENT_CHUNK`` bytes, fewer only for the last), and once the last is pushed,
    :meth:`reference` names the stream for the message that presents it."""

    def __init__(self, size: int, name: str, media_type: str) -> None:
        self._size = _check_size(size)
        self._name = _check_name(name)
        self._type = _check_type(media_type)
        self._key = _random.random_bytes(KEY_SIZE)
        header = _random.random_bytes(_HEADER)
        self._state = nacl.bindings.crypto_secretstream_xchacha20poly1305_state()
        # libsodium's init_pull with a header makes the very state init_push would have made
        # had it drawn that header: so the header comes from this package's randomness.
        nacl.bindings.crypto_secretstream_xchacha20poly1305_init_pull(
            self._state, header, self._key
        )
        self._first = (
            bytes([ATTACHMENT_VERSION])
            + header
            + self._push(_meta(self._size, self._name, self._type), _TAG_MESSAGE)
        )
        self._hasher = attachment_digest_hasher()
        self._started = False
        self._pushed = 0
        self._digest: bytes | None = None

    def __repr__(self) -> str:
        return f"AttachmentSealer(size={self._size}, pushed={self._pushed})"

    @property
    def stream_size(self) -> int:
        return attachment_ciphertext_size(self._size)

    def _push(self, data: bytes, tag: int) -> bytes:
        return nacl.bindings.crypto_secretstream_xchacha20poly1305_push(
            self._state, data, _labels.ATTACHMENT, tag
        )

    def start(self) -> bytes:
        """The stream's version, header and metadata chunk."""
        if self._started:
            raise FormatError("The stream was already started")
        self._started = True
        self._hasher.update(self._first)
        return self._first

    def push(self, piece: bytes) -> bytes:
        """The stream's next chunk, of the file's next ``ATTACHMENT_CHUNK`` bytes (the
        remainder, for the last)."""
        data = require_bytes(piece, "A piece of the file")
        if not self._started:
            raise FormatError("Start the stream before pushing to it")
        left = self._size - self._pushed
        if left == 0:
            raise FormatError("The whole file was already pushed")
        expected = min(ATTACHMENT_CHUNK, left)
        if len(data) != expected:
            raise FormatError(f"This piece of the file is {expected} bytes (got {len(data)})")
        self._pushed += len(data)
        final = self._pushed == self._size
        chunk = self._push(data, _TAG_FINAL if final else _TAG_MESSAGE)
        self._hasher.update(chunk)
        if final:
            self._digest = self._hasher.digest()
        return chunk

    @property
    def key(self) -> bytes:
        """The file key (never in a ``repr``)."""
        return self._key

    @property
    def digest(self) -> bytes:
        """The stream's digest, once the whole file is pushed."""
        if self._digest is None:
            raise FormatError("The file is not all pushed yet")
        return self._digest

    def reference(self, attachment_id: uuid.UUID | bytes) -> AttachmentReference:
        """The reference a message carries, once the whole file is pushed, under the id the
        server gave its upload (asked for with the stream's size, before or after sealing)."""
        if self._digest is None:
            raise FormatError("The file is not all pushed yet")
        return AttachmentReference(
            uuid.UUID(bytes=coerce_id(attachment_id, "The attachment id")),
            self._key,
            self._digest,
            self._size,
            self._name.decode("utf-8"),
            self._type.decode("ascii"),
        )


@dataclasses.dataclass(frozen=True)
class SealedAttachment:
    """A whole file sealed at once (:func:`seal_attachment`)."""

    stream: bytes = dataclasses.field(repr=False)
    sealer: AttachmentSealer

    def reference(self, attachment_id: uuid.UUID | bytes) -> AttachmentReference:
        return self.sealer.reference(attachment_id)


def seal_attachment(data: bytes, name: str, media_type: str) -> SealedAttachment:
    """The stream of a whole file held in memory (``AttachmentSealer`` for larger ones)."""
    content = require_bytes(data, "The file")
    sealer = AttachmentSealer(len(content), name, media_type)
    parts = [sealer.start()]
    parts.extend(
        sealer.push(content[offset : offset + ATTACHMENT_CHUNK])
        for offset in range(0, len(content), ATTACHMENT_CHUNK)
    )
    return SealedAttachment(b"".join(parts), sealer)


# --- opening --------------------------------------------------------------------------------


class AttachmentOpener:
    """Opens the stream a reference names as its bytes arrive, in pieces of any size:
    :meth:`feed` returns the file's bytes authenticated so far, :meth:`finish` checks that
    the stream ended where it must and is the one the message names. Until ``finish``
    returns, what was fed is not the file: a caller keeps it aside and drops it on any
    error."""

    def __init__(self, reference: AttachmentReference) -> None:
        self._reference = require_type(reference, AttachmentReference, "The reference")
        self._expected = reference.stream_size
        self._received = 0
        self._buffer = bytearray()
        self._hasher = attachment_digest_hasher()
        self._state: nacl.bindings.crypto_secretstream_xchacha20poly1305_state | None = None
        self._meta_read = False
        self._opened = 0
        self._failed = False

    def __repr__(self) -> str:
        return f"AttachmentOpener(received={self._received}, of={self._expected})"

    def feed(self, piece: bytes) -> bytes:
        """The file's bytes that the chunks completed by ``piece`` hold. Only an incomplete
        chunk is kept between calls; after any failure the opener refuses to go on."""
        data = require_bytes(piece, "A piece of the stream")
        if self._failed:
            raise FormatError("This stream already failed to open: begin again")
        try:
            return self._feed(memoryview(data))
        except CryptoError:
            self._failed = True
            raise

    def _feed(self, data: memoryview) -> bytes:
        if self._received == 0 and len(data):
            if data[0] != ATTACHMENT_VERSION:
                raise UnsupportedVersionError(f"Unsupported attachment version 0x{data[0]:02x}")
        self._received += len(data)
        if self._received > self._expected:
            raise FormatError(
                f"The stream is longer than the {self._expected} bytes its file makes: "
                "something was added to it"
            )
        self._hasher.update(data)
        out = bytearray()
        while True:
            need = self._next_need()
            if need == 0:
                break
            if self._buffer:
                # Complete the chunk begun by an earlier piece.
                taken = min(need - len(self._buffer), len(data))
                self._buffer.extend(data[:taken])
                data = data[taken:]
                if len(self._buffer) < need:
                    break
                unit = bytes(self._buffer)
                self._buffer.clear()
            elif len(data) >= need:
                unit, data = bytes(data[:need]), data[need:]
            else:
                self._buffer.extend(data)
                break
            out.extend(self._take(unit))
        return bytes(out)

    def _next_need(self) -> int:
        if self._state is None:
            return 1 + _HEADER
        if not self._meta_read:
            return _META + _ABYTES
        left = self._reference.size - self._opened
        return min(ATTACHMENT_CHUNK, left) + _ABYTES if left else 0

    def _take(self, unit: bytes) -> bytes:
        if self._state is None:
            self._state = nacl.bindings.crypto_secretstream_xchacha20poly1305_state()
            nacl.bindings.crypto_secretstream_xchacha20poly1305_init_pull(
                self._state, unit[1:], self._reference.key
            )
            return b""
        try:
            plain, tag = nacl.bindings.crypto_secretstream_xchacha20poly1305_pull(
                self._state, unit, _labels.ATTACHMENT
            )
        except nacl.exceptions.RuntimeError:
            raise DecryptionError(
                "A chunk of the attachment does not open: it was altered, moved, or is "
                "another file's"
            ) from None
        if not self._meta_read:
            self._meta_read = True
            if tag != _TAG_MESSAGE:
                raise FormatError("The attachment's metadata chunk is tagged as its end")
            self._check_meta(plain)
            return b""
        self._opened += len(plain)
        last = self._opened == self._reference.size
        if tag != (_TAG_FINAL if last else _TAG_MESSAGE):
            raise FormatError(
                "The attachment's last chunk is not marked final"
                if last
                else "The attachment's stream ends early"
            )
        return plain

    def _check_meta(self, meta: bytes) -> None:
        if meta[0] != ATTACHMENT_VERSION:
            raise UnsupportedVersionError(
                f"Unsupported attachment metadata version 0x{meta[0]:02x}"
            )
        reader = Reader(meta[1:])
        size = reader.take_u64()
        name, media_type = _read_name(reader), _read_type(reader)
        if any(reader.rest()):
            raise FormatError("The attachment's metadata has non-zero padding")
        ref = self._reference
        if (size, name, media_type) != (ref.size, ref.name, ref.type):
            raise BindingError(
                "The attachment's own name, type or size is not what its message says"
            )

    def finish(self) -> None:
        """Checks that the whole stream arrived and is the one the message names."""
        if self._received < self._expected or self._opened < self._reference.size:
            raise FormatError(
                f"The stream is truncated: {self._received} of its {self._expected} bytes arrived"
            )
        if not hmac.compare_digest(self._hasher.digest(), self._reference.digest):
            raise BindingError("The stream is not the one its message names (its digest differs)")


def open_attachment(stream: bytes, reference: AttachmentReference) -> bytes:
    """The file of a whole stream, checked against the reference its message carries."""
    data = require_bytes(stream, "The stream")
    require_type(reference, AttachmentReference, "The reference")
    if not data:
        raise FormatError("The attachment's stream is empty")
    if data[0] != ATTACHMENT_VERSION:
        raise UnsupportedVersionError(f"Unsupported attachment version 0x{data[0]:02x}")
    if len(data) != reference.stream_size:
        raise FormatError(
            f"The stream is {len(data)} bytes, not the {reference.stream_size} its file makes"
        )
    opener = AttachmentOpener(reference)
    plain = opener.feed(data)
    opener.finish()
    return plain
