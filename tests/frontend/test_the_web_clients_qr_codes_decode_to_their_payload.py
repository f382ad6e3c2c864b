"""The QR codes the web client draws (``src/app/qr.js`` on the vendored ``qr`` library)
decode to exactly their payload when read by an independent decoder, zxing-cpp: the safety
number's 65 bytes, payloads past the 106 bytes the portal's own encoder stopped at, and an
authenticator app's ``otpauth://`` URI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp

ROOT = Path(__file__).resolve().parents[2]
QR_MODULE = ROOT / "frontend" / "static" / "frontend" / "src" / "app" / "qr.js"
URI = (
    "otpauth://totp/Confide:theo%40practice.invalid"
    "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Confide"
)
SIZES = [1, 65, 106, 107, 200, 1000, 2331]


def payload(size: int) -> bytes:
    return bytes((i * 37 + 11) & 0xFF for i in range(size))


def matrices(inputs: list[bytes | str]) -> list[list[list[bool]]]:
    """The modules ``qrModules`` gives for each input, computed by Node."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the web client's modules")
    script = f"""
      import {{ qrModules }} from {json.dumps(QR_MODULE.as_uri())};
      const inputs = JSON.parse(await new Response(process.stdin).text());
      const data = inputs.map((i) => (typeof i === 'string' ? i : Uint8Array.from(i.bytes)));
      process.stdout.write(JSON.stringify(data.map((d) => qrModules(d))));
    """
    encoded = [i if isinstance(i, str) else {"bytes": list(i)} for i in inputs]
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(encoded),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: list[list[list[bool]]] = json.loads(done.stdout)
    return result


def read(modules: list[list[bool]], scale: int = 3, quiet: int = 4) -> bytes:
    """What zxing-cpp reads from the symbol drawn as a grayscale image."""
    side = (len(modules) + 2 * quiet) * scale
    pixels = bytearray(b"\xff" * side * side)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if not dark:
                continue
            for dy in range(scale):
                start = ((y + quiet) * scale + dy) * side + (x + quiet) * scale
                pixels[start : start + scale] = bytes(scale)
    image = memoryview(pixels).cast("B", (side, side))
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(found) == 1, "exactly one QR code is read"
    data: bytes = found[0].bytes
    return data


def test_every_payload_size_decodes_to_itself() -> None:
    inputs: list[bytes | str] = [payload(size) for size in SIZES]

    for size, modules in zip(SIZES, matrices(inputs), strict=True):
        assert read(modules) == payload(size), f"{size} bytes"


def test_an_authenticator_uri_decodes_to_itself() -> None:
    [modules] = matrices([URI])

    assert read(modules) == URI.encode()
