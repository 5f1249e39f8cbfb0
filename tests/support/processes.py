"""Running ``lookout`` as a real process, the way an operator would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from runtime.examples import EXAMPLE_FORCE_CONFIG

ROOT = Path(__file__).resolve().parents[2]
LOOKOUT = [sys.executable, "-m", "runtime.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lookout_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOKOUT_", "TELEGRAM_", "SLACK_", "WHATSAPP_"))}
    env.update(
        LOOKOUT_DATABASE_URL=database_url,
        LOOKOUT_FORCE_CONFIG=str(EXAMPLE_FORCE_CONFIG),
        # Any lookup that escapes the stand-ins fails fast on a closed loopback port.
        LOOKOUT_GEOCODER_DOMAIN="127.0.0.1:9",
        LOOKOUT_GEOCODER_SCHEME="http",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def run_lookout(args: list[str], env: dict[str, str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOOKOUT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def run_json(args: list[str], env: dict[str, str]) -> dict | list:
    done = run_lookout([*args, "--json"], env)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


class Server:
    """``lookout serve`` on a free loopback port, stopped on exit."""

    def __init__(self, env: dict[str, str], *, port: int | None = None) -> None:
        # A test that must name the server's address before it starts (LOOKOUT_PUBLIC_URL) picks the port itself.
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output: str | None = None
        self.process = subprocess.Popen(
            [*LOOKOUT, "serve", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"lookout serve exited early:\n{self.process.stdout.read()}")  # type: ignore[union-attr]
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("lookout serve did not start listening")

    def stop(self) -> str:
        """Stop the server (once; later calls return the same output) and return everything it logged."""
        if self.output is not None:
            return self.output
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        self.output = output
        return output
