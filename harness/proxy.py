"""nginx in front of server processes, with the site configuration the project ships.

``deploy/nginx/confide.conf`` is read as it is and only its machine-specific parts are
replaced (:func:`site_for_test`): the listening addresses (127.0.0.1 on free ports, no
IPv6), the upstream's two ports, the certificate paths and the log folder. Every
replacement must find its text, so a change of the shipped file that the tests would no
longer cover fails here rather than passing unnoticed.

:class:`PrivateNginx` runs Debian's ``/usr/sbin/nginx`` in the foreground with a prefix, a
pid file, logs and temporary folders of its own, inside a main configuration like Debian's
``nginx.conf`` (which includes the site inside ``http {}``); :meth:`PrivateNginx.stop` stops
it with SIGTERM (nginx's fast shutdown: the master waits for its workers), and SIGKILL to
its process group when that does not end it.

:func:`make_certificates` makes a certificate authority of the test's and a server
certificate signed by it for ``portal.example.org`` and 127.0.0.1, with pyca/cryptography.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx" / "confide.conf"
NGINX = Path("/usr/sbin/nginx")
# The name the shipped configuration serves, kept in the tests.
PUBLIC_NAME = "portal.example.org"
START_TIMEOUT = 15.0


def missing_programs() -> list[str]:
    """What the proxy tests need and this machine lacks."""
    return [] if os.access(NGINX, os.X_OK) else ["Debian's nginx (/usr/sbin/nginx)"]


@dataclass(frozen=True)
class ProxyCertificates:
    """PEM files: the test's certificate authority, and the server's certificate and key."""

    authority: Path
    certificate: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        """A client's TLS context that trusts the test's authority alone."""
        return ssl.create_default_context(cafile=str(self.authority))


def make_certificates(directory: Path, name: str = PUBLIC_NAME) -> ProxyCertificates:
    """A certificate authority and a server certificate for ``name`` and 127.0.0.1 signed
    by it (ECDSA P-256, valid for a day), written into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Confide test authority")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    authority = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    made = ProxyCertificates(
        directory / "authority.pem", directory / "fullchain.pem", directory / "privkey.pem"
    )
    made.authority.write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    made.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    made.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    made.key.chmod(0o600)
    return made


def site_for_test(
    *,
    https_port: int,
    http_port: int,
    upstream_ports: tuple[int, int],
    certificates: ProxyCertificates,
    log_dir: Path,
) -> str:
    """``deploy/nginx/confide.conf`` with its machine-specific parts replaced."""
    text = SITE.read_text(encoding="utf-8")
    first, second = upstream_ports
    replacements = [
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{first} "),
        ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{second} "),
        (f"/etc/letsencrypt/live/{PUBLIC_NAME}/fullchain.pem", str(certificates.certificate)),
        (f"/etc/letsencrypt/live/{PUBLIC_NAME}/privkey.pem", str(certificates.key)),
        ("/var/log/nginx/", f"{log_dir}/"),
    ]
    for old, new in replacements:
        if old not in text:
            raise ValueError(f"{SITE.relative_to(ROOT)} no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def _main_config(prefix: Path, site: Path) -> str:
    """A main configuration like Debian's nginx.conf, with this prefix's paths. Its
    http-level TLS and gzip lines are Debian's: the site must hold with them."""
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = prefix / "temp"
    return (
        f"{user}"
        "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "    sendfile on;\n"
        "    tcp_nopush on;\n"
        "    types_hash_max_size 2048;\n"
        "    default_type application/octet-stream;\n"
        "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n"
        "    ssl_prefer_server_ciphers on;\n"
        "    gzip on;\n"
        f"    access_log {prefix}/access.log;\n"
        f"    client_body_temp_path {temp}/body;\n"
        f"    proxy_temp_path {temp}/proxy;\n"
        f"    fastcgi_temp_path {temp}/fastcgi;\n"
        f"    uwsgi_temp_path {temp}/uwsgi;\n"
        f"    scgi_temp_path {temp}/scgi;\n"
        f"    include {site};\n"
        "}\n"
    )


class PrivateNginx:
    """nginx with the given site configuration, in a folder of its own."""

    def __init__(self, prefix: Path, site: str, ports: tuple[int, ...]) -> None:
        self.prefix = prefix
        self.ports = ports
        self.site_path = prefix / "confide.conf"
        self.config_path = prefix / "nginx.conf"
        self.error_log_path = prefix / "error.log"
        self.process: subprocess.Popen[bytes] | None = None
        (prefix / "temp").mkdir(parents=True, exist_ok=True)
        self.site_path.write_text(site, encoding="utf-8")
        self.config_path.write_text(_main_config(prefix, self.site_path), encoding="utf-8")

    def _command(self, *extra: str) -> list[str]:
        return [
            str(NGINX),
            "-p",
            f"{self.prefix}/",
            "-c",
            str(self.config_path),
            "-e",
            str(self.error_log_path),
            *extra,
        ]

    def check(self) -> str:
        """``nginx -t``: what it says of the configuration; raises when it refuses it."""
        result = subprocess.run(
            self._command("-t"), capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{result.stderr}")
        return result.stderr

    def start(self) -> None:
        """Starts nginx and returns once every port accepts connections."""
        self.check()
        output = (self.prefix / "nginx.out").open("wb")
        with output:
            self.process = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group: the workers go with the master whatever happens.
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(self.ports)
        while waiting and time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if _accepts(waiting[0]):
                waiting.pop(0)
            else:
                time.sleep(0.05)
        if waiting:
            self.stop()
            raise RuntimeError(f"nginx did not start:\n{self.error_log()[-4000:]}")

    def error_log(self) -> str:
        if not self.error_log_path.exists():
            return ""
        return self.error_log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM (nginx's fast shutdown), then SIGKILL to its process group."""
        process = self.process
        if process is None:
            return
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # The master still runs, so the group is still its own: the workers go too.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False
