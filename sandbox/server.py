"""Serving a stand-in on loopback from a background thread."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any, Self

import uvicorn


class BackgroundServer:
    """An ASGI app under uvicorn on 127.0.0.1, on a free port chosen at ``start()``.

    Binding before the thread starts means the port is ours and known at once:
    no race between choosing a free port and using it.
    """

    def __init__(self, app: Any, name: str, port: int = 0) -> None:
        self.app = app
        self.name = name
        self._wanted_port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"the {self.name} is not running; call start() first")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, *, startup_timeout: float = 10.0) -> None:
        if self._thread is not None:
            raise RuntimeError(f"the {self.name} is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._wanted_port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.01)

    def stop(self, *, timeout: float = 5.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        self._server, self._thread, self._port = None, None, None


class ServedStandIn:
    """Running a stand-in that keeps its ``BackgroundServer`` in ``self._server``:
    ``start()``/``stop()``, use as a context manager, and its ``base_url``."""

    _server: BackgroundServer

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url
