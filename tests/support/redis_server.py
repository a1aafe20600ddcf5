"""A real ``redis-server`` on a free loopback port, which a test may kill and restart."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_HINT = (
    "redis-server is not installed; the tests start their own server from that binary. "
    "Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), "
    "or run `make test`, which installs it where it can."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process bound to 127.0.0.1 on its own port and directory.

    ``kill()`` sends SIGKILL (a crash, as a test needs it), ``start()`` brings the
    server back on the same port. Nothing is persisted unless ``persist=True``. With a
    ``password`` the server requires it (``--requirepass``); :attr:`url` still has none.
    ``snapshots_only``: persisted by RDB snapshots alone (Redis's default configuration),
    so a crash loses what was written after the last ``SAVE``.
    """

    def __init__(
        self,
        port: int | None = None,
        persist: bool = False,
        password: str | None = None,
        snapshots_only: bool = False,
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        self.binary = binary
        self.port = port or free_port()
        self.persist = persist or snapshots_only
        self.snapshots_only = snapshots_only
        self.password = password
        self.dir = Path(tempfile.mkdtemp(prefix="pc-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        if self.is_running():
            return
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--save",
            "60 1" if self.persist else "",
            "--appendonly",
            "yes" if self.persist and not self.snapshots_only else "no",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--loglevel",
            "warning",
        ]
        if self.password is not None:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self.ping():
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer on port {self.port} in {timeout}s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                if self.password is not None:
                    sock.sendall(f"AUTH {self.password}\r\n".encode())
                    if not sock.recv(16).startswith(b"+OK"):
                        return False
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the server: no shutdown, no save, connections drop at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def flushall(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url, password=self.password)
        try:
            client.flushall()
        finally:
            client.close()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
