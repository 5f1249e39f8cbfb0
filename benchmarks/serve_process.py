"""``lookout serve`` (web + delivery worker + scheduler) as its own process, as it runs in production, for benchmarks.

With ``web_processes`` above one, the first process runs web, worker and
scheduler and the others are web only, all sharing the port (``--reuse-port``);
with ``workers`` above one, that many less one ``lookout worker`` processes join.
"""

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

from benchmarks.cpu import cpu_seconds

_PLATFORM_PREFIXES = ("LOOKOUT_", "TELEGRAM_", "SLACK_", "WHATSAPP_")


class ServeProcess:
    """Started with exactly ``settings`` (nothing from this shell's Lookout or platform settings leaks in); logs to ``log_path``."""

    def __init__(
        self, settings: Mapping[str, str], log_path: Path, *, web_processes: int = 1, workers: int = 1
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._env = {k: v for k, v in os.environ.items() if not k.startswith(_PLATFORM_PREFIXES)}
        self._env.update(settings)
        self._env["LOOKOUT_PUBLIC_URL"] = self.url
        serve = [sys.executable, "-m", "runtime.cli", "serve", "--port", str(self.port)]
        if web_processes > 1:
            serve.append("--reuse-port")
        self._commands = [serve] + [[*serve, "--no-worker", "--no-scheduler"] for _ in range(web_processes - 1)]
        # More delivery workers (PostgreSQL): ``lookout worker`` processes beside the serve process's own.
        self._commands += [[sys.executable, "-m", "runtime.cli", "worker"] for _ in range(workers - 1)]
        self._processes: list[subprocess.Popen[bytes]] = []
        self.exit_code: int | None = None

    def __enter__(self) -> ServeProcess:
        with self.log_path.open("wb") as log:  # each child holds its own copy
            self._processes = [
                subprocess.Popen(c, env=self._env, stdout=log, stderr=subprocess.STDOUT) for c in self._commands
            ]
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in self._processes):
                    codes = [p.poll() for p in self._processes]
                    self.__exit__()
                    raise RuntimeError(
                        f"lookout serve did not start (exit codes {codes}); its log:\n{self.log()[-3000:]}"
                    ) from None
                time.sleep(0.1)
        if len(self._processes) > 1:
            time.sleep(1)  # the first to answer may not be the last to start
        return self

    @property
    def alive(self) -> bool:
        return bool(self._processes) and all(p.poll() is None for p in self._processes)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cpu_seconds(self) -> float:
        """User + system CPU time the serve processes have used so far (Linux /proc)."""
        return cpu_seconds(p.pid for p in self._processes)

    def peak_rss_mb(self) -> float:
        """The largest peak resident memory among the serve processes (Linux /proc, VmHWM)."""
        peaks = []
        for process in self._processes:
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return round(max(peaks, default=0.0), 1)

    def stop(self) -> int | None:
        """SIGTERM (a clean stop: in-flight sends finish, the rest is given back), then the first process's exit code."""
        if self._processes and self.exit_code is None:
            for process in self._processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            codes = []
            for process in self._processes:
                try:
                    codes.append(process.wait(timeout=45))
                except subprocess.TimeoutExpired:
                    process.kill()
                    codes.append(process.wait(timeout=10))
            self.exit_code = codes[0]
        return self.exit_code

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
