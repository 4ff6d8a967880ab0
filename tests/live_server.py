"""A real server process on a file database, for e2e, fault tests and benchmarks.

``LiveServer`` migrates a fresh database with Alembic, seeds the demo (EXAM_ENV=test),
starts gunicorn on 127.0.0.1 and a free port, and stops (or kills) it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    database_url: str
    workers: int = 1
    threads: int = 4
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "EXAM_ENV": "test", "DATABASE_URL": self.database_url,
            "SECRET_KEY": "live-server-test-secret", "EXPIRY_SWEEP_SECONDS": "1",
            "RATELIMIT_STORAGE_URI": "memory://", "PYTHONUNBUFFERED": "1",
            "FAST_PASSWORD_HASHING": "1",
        })
        env.update(self.env_extra)
        return env

    def _cli(self, *args: str) -> str:
        return subprocess.run(
            args, cwd=ROOT, env=self.env(), check=True, capture_output=True, text=True,
            timeout=120,
        ).stdout

    def prepare(self) -> None:
        """Migrate the database to head and seed the demo."""
        self._cli(str(BIN / "alembic"), "upgrade", "head")
        self._cli(str(BIN / "flask"), "--app", "webapp", "seed-demo")

    def start(self, log_path: Path | None = None) -> None:
        self.log_path = log_path
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(self.workers), "--threads",
             str(self.threads), "--bind", f"127.0.0.1:{self.port}", "--timeout", "60",
             "--graceful-timeout", "5", "webapp:create_app()"],
            cwd=ROOT, env=self.env(), stdout=out, stderr=out, start_new_session=True,
        )
        if log_path:
            out.close()  # the child holds its own descriptor
        self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server on {self.url} not ready after {timeout} s")

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, no flush."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None
