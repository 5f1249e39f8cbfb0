"""``lookout serve`` (web + delivery worker + scheduler) as its own process, as it runs in production, for benchmarks."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

_PLATFORM_PREFIXES = ("LOOKOUT_", "TELEGRAM_", "SLACK_", "WHATSAPP_")


class ServeProcess:
    """Started with exactly ``settings`` (nothing from this shell's Lookout or platform settings leaks in); logs to ``log_path``."""

    def __init__(self, settings: Mapping[str, str], log_path: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._env = {k: v for k, v in os.environ.items() if not k.startswith(_PLATFORM_PREFIXES)}
        self._env.update(settings)
        self._env["LOOKOUT_PUBLIC_URL"] = self.url
        self._process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    def __enter__(self) -> ServeProcess:
        log = self.log_path.open("wb")
        self._process = subprocess.Popen([sys.executable, "-m", "bots.cli", "serve", "--port", str(self.port)],
                                         env=self._env, stdout=log, stderr=subprocess.STDOUT)
        log.close()  # the child holds its own copy
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    self.__exit__()
                    raise RuntimeError(f"lookout serve did not start; its log:\n{self.log()[-3000:]}") from None
                time.sleep(0.1)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        """SIGTERM (a clean stop: in-flight sends finish, the rest is given back), then its exit code."""
        if self._process is not None and self.exit_code is None:
            if self._process.poll() is None:
                self._process.send_signal(signal.SIGTERM)
            try:
                self.exit_code = self._process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self.exit_code = self._process.wait(timeout=10)
        return self.exit_code

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
