"""The whole dashboard in a real browser: `taktgeber.dashboard.serve` in a subprocess,
every page opened in headless Debian chromium driven over the DevTools protocol, no error
box, the key texts present, one screenshot per page in docs/screenshots/ (gitignored)."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_dashboard_world import build_published
from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
PAGES = {
    # url path → texts the rendered page must show (from the known warehouse); table cells
    # are drawn on a canvas, so only texts outside tables can be checked this way
    "": ["Overview", "DSO (countback)", "41.3 days", "EUR 12,345.67", "Money in flight"],
    "reconciliation": ["Reconciliation", "Findings", "EUR 11,242.50", "Finding detail"],
    "invoicing": ["Invoicing", "Drafts ready", "CHF 3,000.00", "Blocked by: rate_mismatch"],
    "data_health": ["Data health", "raw_hubspot", "1 of 3 dbt nodes did not pass"],
}
ERROR_MARKERS = ("Traceback", "Error:", "Exception:")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is absent: run .ci/install-system-deps.sh (apt-get install chromium)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process we started (serve forwards it once), then kill its group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    published = build_published(tmp_path_factory.mktemp("browser"))
    port = _free_port()
    code = (
        "from pathlib import Path; from taktgeber.dashboard import serve; "
        f"serve({port}, Path({str(published)!r}))"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(server)


class DevTools:
    """Just enough of the Chrome DevTools protocol: navigate, evaluate, screenshot."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    def call(self, method: str, **params: object) -> dict:
        ident = next(self._ids)
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=60))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def text(self, expression: str) -> str:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return str(result.get("result", {}).get("value", ""))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    chromium = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1400,1000",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        ws_url = _devtools_url(chromium)
        port = re.search(r":(\d+)/", ws_url).group(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20) as ws:
            tools = DevTools(ws)
            tools.call("Page.enable")
            yield tools
    finally:
        _stop(chromium)


def _devtools_url(chromium: subprocess.Popen) -> str:
    deadline = time.monotonic() + 30
    assert chromium.stderr is not None
    while time.monotonic() < deadline:
        line = chromium.stderr.readline()
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
        if not line and chromium.poll() is not None:
            break
    raise RuntimeError("chromium did not report its DevTools address")


def _render(browser: DevTools, url: str, expected: list[str], timeout: float = 60) -> str:
    """Navigate; wait until every expected text shows, the run ended and nothing is loading."""
    browser.call("Page.navigate", url=url)
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = browser.text("document.body ? document.body.innerText : ''")
        busy = browser.text(
            'String(document.querySelectorAll(\'[data-testid="stStatusWidget"], '
            '[data-testid^="stSkeleton"], [data-testid="stAppSkeleton"]\').length)'
        )
        if all(text in body for text in expected) and busy == "0":
            time.sleep(0.5)  # let charts finish drawing before the screenshot
            return browser.text("document.body.innerText")
        time.sleep(0.3)
    missing = [text for text in expected if text not in body]
    raise AssertionError(
        f"{url}: missing {missing} after {timeout:.0f} s; page text:\n{body[:3000]}"
    )


@pytest.mark.parametrize("path", list(PAGES), ids=[p or "overview" for p in PAGES])
def test_page_renders_in_chromium(dashboard_url: str, browser: DevTools, path: str) -> None:
    body = _render(browser, f"{dashboard_url}/{path}", PAGES[path])
    error_boxes = browser.text(
        "String(document.querySelectorAll('[data-testid=\"stException\"]').length)"
    )
    assert error_boxes == "0", body
    for marker in ERROR_MARKERS:
        assert marker not in body, f"{marker!r} on {path or 'overview'}:\n{body[:3000]}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = browser.call("Page.captureScreenshot", format="png")
    target = SCREENSHOTS / f"{path or 'overview'}.png"
    target.write_bytes(base64.b64decode(shot["data"]))
    assert target.stat().st_size > 10_000
