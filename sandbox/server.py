"""Serving a stand-in on loopback from a background thread."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Self

import uvicorn
from starlette.requests import Request


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
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True
        )
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
    ``start()``/``stop()``, use as a context manager, and its ``base_url``.

    A stand-in can also be mounted under a path of another server (the
    one-port sandbox, ``sandbox.service``) instead of running its own; that
    server then calls ``serve_at(url)`` so ``base_url`` and every URL the
    stand-in hands out name the mounted address.
    """

    _server: BackgroundServer
    _public_url: str | None = None

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def serve_at(self, url: str | None) -> None:
        """Say where clients reach this stand-in when another server mounts it (None: its own server)."""
        self._public_url = url.rstrip("/") if url else None

    @property
    def base_url(self) -> str:
        return self._public_url or self._server.base_url


def public_base_url(request: Request) -> str:
    """The stand-in's base URL as the caller reached it, mount prefix included.

    Starlette's ``request.base_url`` leaves out the path of a ``Mount`` (it
    names the outermost app), so URLs built from it would miss ``/slack`` or
    ``/whatsapp`` in the one-port sandbox; ``root_path`` carries the prefix.
    """
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def route_path(request: Request) -> str:
    """The request's path below the stand-in's mount point (the whole path when it runs alone)."""
    path, root = request.url.path, request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
