"""Files for the attachment browser tests, made here: a real PNG photo (without Pillow: its
chunks written with zlib and struct), a small valid PDF, and a file of any size; and a
file's download from a conversation."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page


def download(page: Page, name: str) -> bytes:
    """Clicks "Download <name>" (the last one shown) and returns the bytes the browser
    saved, checking it saved them under that name."""
    with page.expect_download(timeout=20_000) as info:
        page.get_by_role("button", name=f"Download {name}", exact=True).last.click()
    saved = info.value
    assert saved.suggested_filename == name
    return Path(saved.path()).read_bytes()


def png(width: int = 360, height: int = 270, seed: int = 7) -> bytes:
    """An RGB PNG of ``width`` x ``height`` with varied pixels (a gradient under noise, so
    it stays a few hundred KB compressed), valid for any decoder."""
    rng = random.Random(seed)
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(
                (
                    (x * 255 // width + rng.randrange(64)) & 0xFF,
                    (y * 255 // height + rng.randrange(64)) & 0xFF,
                    rng.randrange(256),
                )
            )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def pdf(title: str = "Worksheet") -> bytes:
    """A one-page PDF with a line of text, its cross-reference table exact."""
    stream = f"BT /F1 18 Tf 72 720 Td ({title}: three things I noticed this week) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def noise(size: int, seed: int = 3) -> bytes:
    """``size`` bytes that do not compress."""
    return random.Random(seed).randbytes(size)
