"""The sandbox's feature phone (``/_console/sms``) against the real app: texts go in through Twilio's signed
webhook on the one sandbox port, and what the app sends back is on the phone's screen."""

from __future__ import annotations

import httpx

from core.settings import Settings
from runtime.app import build, create_app
from sandbox.server import BackgroundServer
from sandbox.service import Sandbox, SandboxConfig
from tests.support.processes import free_port


async def test_the_feature_phone_joins_and_stops(database_url: str, clock) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with Sandbox(SandboxConfig(app_url=url)) as sandbox:
        settings = Settings(**sandbox.app_environment(), LOOKOUT_DATABASE_URL=database_url)
        lookout = build(settings, clock=clock)
        server = BackgroundServer(create_app(lookout), "lookout", port)
        server.start()
        try:
            async with httpx.AsyncClient(base_url=sandbox.base_url) as console:
                page = await console.get("/_console/sms")
                assert page.status_code == 200 and "Feature phone" in page.text
                assert "script-src 'self'" in page.headers["content-security-policy"]
                sent = await console.post("/_console/api/sms/text", json={"text": "Hello"})
                assert sent.status_code == 200 and sent.json()["status"] == 200
                state = (await console.get("/_console/api/sms/state")).json()
                assert [t["direction"] for t in state["texts"]] == ["in", "out"]
                assert "Mercia Vale Police" in state["texts"][1]["body"] and state["texts"][1]["segments"] >= 1
                assert (await console.post("/_console/api/sms/text", json={"text": ""})).status_code == 400
                assert (await console.post("/_console/api/sms/text", json={"text": 5})).status_code == 400
                await console.post("/_console/api/sms/text", json={"text": "STOP"})
                assert (await console.get("/_console/api/sms/state")).json()["opted_out"] is True
        finally:
            server.stop()
            await lookout.aclose()
