"""A throw-away NATS server for the sync tests: ``nats-server -js`` on a
free port of the loopback address, its JetStream store in a temporary
directory, stopped by its pid.

    with NatsServer(tmp_path) as server:
        db.sync(server.url, chain="grand")

It listens on 127.0.0.1 only, never on another address.  The port is one
the kernel just handed out for 127.0.0.1 (bound to port 0, then released);
if another process takes it before the server does, the server fails to
start and another port is tried.  Only the process this helper started is
ever signalled, by the pid it got from starting it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from typing import Optional

HOST = "127.0.0.1"
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def available() -> bool:
    """True when nats-server is installed (Debian package nats-server)."""
    return os.access(NATS_SERVER, os.X_OK)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def unused_url() -> str:
    """A nats:// URL where no server listens (for the unreachable case)."""
    return f"nats://{HOST}:{free_port()}"


class NatsServer:
    """``nats-server -js -a 127.0.0.1 -p PORT -sd DIR``; see the module doc."""

    def __init__(self, tmpdir, start_timeout: float = 10.0) -> None:
        self.dir = os.path.join(str(tmpdir), "nats")
        self.start_timeout = start_timeout
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.log = os.path.join(str(tmpdir), "nats-server.log")

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    def start(self) -> "NatsServer":
        os.makedirs(self.dir, exist_ok=True)
        last = ""
        for _ in range(5):
            self.port = free_port()
            with open(self.log, "wb") as log:
                self.proc = subprocess.Popen(
                    [NATS_SERVER, "-js", "-a", HOST, "-p", str(self.port), "-sd", self.dir],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                return self
            last = self._read_log()
            self.stop()
        raise RuntimeError(f"nats-server did not start on {HOST}: {last[-2000:]}")

    def _read_log(self) -> str:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            # Ready once it says so (JetStream is up before the client
            # listener opens) and the port answers.
            if "Server is ready" in self._read_log():
                try:
                    with socket.create_connection((HOST, self.port), timeout=0.5):
                        return True
                except OSError:
                    pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Stop the server this helper started (SIGTERM, then SIGKILL)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> "NatsServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
