"""Headless Chromium over the DevTools protocol, for the tests that look at a page in a real
browser (the report, Datasette). Chromium is never skipped in CI: .ci/run installs it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
from pathlib import Path

import pytest


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI"):
        pytest.fail("chromium is missing in CI: .ci/run installs it")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    return found


async def render(url: str, screenshot: Path, profile: Path) -> dict:
    """Open *url* in headless Chromium: console errors, image widths, the page text and a PNG."""
    from tornado.websocket import websocket_connect

    proc = await asyncio.create_subprocess_exec(
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1200,900", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        while True:  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/..."
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            if not line:
                raise RuntimeError("chromium exited before it listened")
            if "DevTools listening on" in line:
                port = int(line.split("ws://127.0.0.1:")[1].split("/")[0])
                break
        from tornado.httpclient import AsyncHTTPClient

        pages = json.loads((await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/json/list")).body)
        page = next(p for p in pages if p["type"] == "page")
        ws = await websocket_connect(page["webSocketDebuggerUrl"], max_message_size=1 << 28)
        ids = iter(range(1, 1_000_000))
        events: list[dict] = []

        async def call(method: str, **params):
            n = next(ids)
            ws.write_message(json.dumps({"id": n, "method": method, "params": params}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.read_message(), 60))
                if msg.get("id") == n:
                    assert "error" not in msg, msg
                    return msg["result"]
                events.append(msg)

        for domain in ("Page", "Runtime", "Log"):
            await call(f"{domain}.enable")
        await call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            events.append(json.loads(await asyncio.wait_for(ws.read_message(), 60)))
        images = await call(
            "Runtime.evaluate",
            expression="Promise.all(Array.from(document.images).map(i => i.decode().then(() => i.naturalWidth,"
            " () => 0)))",
            awaitPromise=True,
            returnByValue=True,
        )
        height = await call("Runtime.evaluate", expression="document.body.scrollHeight", returnByValue=True)
        text = await call("Runtime.evaluate", expression="document.body.innerText", returnByValue=True)
        shot = await call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": 1200, "height": height["result"]["value"], "scale": 1},
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        errors = [
            e["params"]
            for e in events
            if e.get("method") == "Runtime.exceptionThrown"
            or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
            or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
        ]
        ws.close()
        return {"errors": errors, "image_widths": images["result"]["value"], "text": text["result"]["value"]}
    finally:
        proc.kill()
        await proc.wait()
