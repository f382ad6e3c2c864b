"""A push service for the Web Push tests, as a process of its own on 127.0.0.1: it makes
subscriptions as a browser would (a P-256 key pair and an auth secret of its own per
subscription), and checks each notice the portal posts the way a real push service and
browser together would:

* the VAPID header (RFC 8292: ``Authorization: vapid t=<JWT>, k=<key>``): ``k`` is the
  portal's public key given with ``--server-key``, the JWT is ES256 under it, its ``aud``
  is this service's origin, its ``exp`` in the future and at most a day ahead, and it has
  a ``sub``;
* the payload (RFC 8291, ``Content-Encoding: aes128gcm``), decrypted with the
  subscription's private key and auth secret (``http_ece``), and a ``TTL`` header.

Each notice is written, with what was found, to a JSON file in ``--dir``. Told with
``PUT /answers/<name>`` (a body such as ``429,500``), a subscription's next notices are
answered those statuses, one each, before ``201`` again; ``410`` or ``404`` there make it
gone for good, as a real service forgets an expired subscription.

    python -m tests.integration.push_server --port 8790 --dir /tmp/push --server-key <b64url>
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Refused(Exception):
    """A notice a real push service would refuse; the text says why."""


def check_vapid(header: str, server_key: str, origin: str) -> dict[str, Any]:
    """The claims of a valid RFC 8292 ``Authorization`` header, or ``Refused``."""
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "vapid":
        raise Refused(f"authorization scheme {scheme!r}, not vapid")
    fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
    if fields.get("k") != server_key:
        raise Refused("k is not the portal's public key")
    token = fields.get("t", "")
    try:
        head, body, signature = token.split(".")
    except ValueError:
        raise Refused("t is not a JWT") from None
    if json.loads(unb64url(head)).get("alg") != "ES256":
        raise Refused("the JWT is not ES256")
    raw = unb64url(signature)
    if len(raw) != 64:
        raise Refused("the signature is not 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(server_key))
    try:
        key.verify(der, f"{head}.{body}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("the JWT's signature does not verify") from None
    claims: dict[str, Any] = json.loads(unb64url(body))
    if claims.get("aud") != origin:
        raise Refused(f"aud is {claims.get('aud')!r}, not {origin!r}")
    expires = claims.get("exp")
    if not isinstance(expires, int) or not time.time() < expires <= time.time() + 86400:
        raise Refused("exp is not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        raise Refused("sub is not a mailto: or https: URI")
    return claims


class PushService:
    def __init__(self, folder: Path, server_key: str, origin: str) -> None:
        self.folder = folder
        self.server_key = server_key
        self.origin = origin
        self.lock = threading.Lock()
        self.keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self.answers: dict[str, list[int]] = {}
        self.gone: set[str] = set()
        self.count = 0

    def subscribe(self, name: str) -> dict[str, Any]:
        private = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        with self.lock:
            self.keys[name] = (private, auth)
        point = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {
            "endpoint": f"{self.origin}/push/{name}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(auth)},
        }

    def receive(self, name: str, headers: Any, body: bytes) -> int:
        record: dict[str, Any] = {"name": name, "at": time.time()}
        with self.lock:
            self.count += 1
            number = self.count
            queued = self.answers.get(name, [])
            status = 410 if name in self.gone else (queued.pop(0) if queued else 201)
            if status in (404, 410):
                self.gone.add(name)
            keys = self.keys.get(name)
        record["status"] = status
        try:
            if keys is None:
                raise Refused("no such subscription")
            record["claims"] = check_vapid(
                headers.get("Authorization", ""), self.server_key, self.origin
            )
            if headers.get("Content-Encoding") != "aes128gcm":
                raise Refused(f"Content-Encoding {headers.get('Content-Encoding')!r}")
            if not (headers.get("TTL") or "").isdigit():
                raise Refused("no TTL header")
            record["ttl"] = int(headers["TTL"])
            record["topic"] = headers.get("Topic")
            record["urgency"] = headers.get("Urgency")
            plaintext = http_ece.decrypt(
                body, private_key=keys[0], auth_secret=keys[1], version="aes128gcm"
            )
            record["payload"] = plaintext.decode("utf-8")
        except Exception as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            record["status"] = status = 400 if status == 201 else status
        record["body_b64"] = b64url(body)
        (self.folder / f"{number:04d}.json").write_text(json.dumps(record), encoding="utf-8")
        return status


def handler(service: PushService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.startswith("/subscribe/"):
                self._answer(200, service.subscribe(self.path.removeprefix("/subscribe/")))
            else:
                self._answer(404)

        def do_PUT(self) -> None:  # noqa: N802
            if self.path.startswith("/answers/"):
                text = self._body().decode()
                with service.lock:
                    service.answers[self.path.removeprefix("/answers/")] = [
                        int(s) for s in text.split(",") if s.strip()
                    ]
                self._answer(200)
            else:
                self._answer(404)

        def do_POST(self) -> None:  # noqa: N802
            if self.path.startswith("/push/"):
                status = service.receive(
                    self.path.removeprefix("/push/"), self.headers, self._body()
                )
                self._answer(status)
            else:
                self._answer(404)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--server-key", required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    origin = f"http://127.0.0.1:{args.port}"
    service = PushService(args.dir, args.server_key, origin)
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), handler(service))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    (args.dir / "ready").write_bytes(b"")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    httpd.shutdown()


if __name__ == "__main__":
    main()
