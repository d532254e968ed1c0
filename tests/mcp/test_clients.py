"""Other clients than the SDK's: the MCP Inspector's CLI (from the npm registry) lists the tools, and an HTTP
client that vanishes mid-call leaves no traceback on the server's stderr."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest

from dbwright.mcp.server import DISCONNECT_LOGGERS, READ_ONLY_TOOLS, quiet_disconnects
from tests.mcp.test_transports import wait_for_port
from tests.pgcluster import free_port

INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"
CACHE = Path(os.environ.get("DBWRIGHT_TEST_CACHE", Path.home() / ".cache" / "dbwright-tests"))


def inspector_cli() -> Path:
    """The Inspector's CLI, installed once into the test cache (later runs reuse it: no network)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the MCP Inspector comes from the npm registry")
    folder = CACHE / "mcp-inspector" / INSPECTOR.rsplit("@", 1)[1]
    binary = folder / "node_modules" / ".bin" / "mcp-inspector"
    if not binary.exists():
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(folder),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                INSPECTOR,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not binary.exists():
            pytest.skip(f"npm could not install {INSPECTOR}: {(done.stderr or done.stdout).strip()[:300]}")
    return binary


def test_mcp_inspector_cli_lists_the_tools(pg):
    binary = inspector_cli()
    done = subprocess.run(
        [str(binary), "--cli", sys.executable, "-m", "dbwright", "mcp", pg.url, "--method", "tools/list"],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    tools = {tool["name"]: tool for tool in json.loads(done.stdout)["tools"]}
    assert set(tools) == set(READ_ONLY_TOOLS)
    assert all(tool["outputSchema"]["type"] == "object" for tool in tools.values())
    assert tools["review"]["annotations"]["readOnlyHint"] is True


CLIENT = """
import anyio
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

async def main():
    async with streamablehttp_client("http://127.0.0.1:{port}/mcp") as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            print("listed", len((await session.list_tools()).tools), flush=True)
            await session.call_tool("query", {{"sql": "SELECT count(*) FROM generate_series(1, 50000000)"}})

anyio.run(main)
"""


def test_http_client_that_disconnects_leaves_no_traceback(pg):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dbwright", "mcp", pg.url, "--transport", "http", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, server, seconds=60)
        for stop in (signal.SIGKILL, signal.SIGTERM):  # a crashed client, then one told to quit
            client = subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(CLIENT.format(port=port))],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert client.stdout is not None
            assert client.stdout.readline().startswith("listed")  # connected, mid-call from here on
            time.sleep(0.5)
            client.send_signal(stop)
            client.communicate(timeout=30)
        time.sleep(2)  # the server notices the closed streams
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=30)
    assert "Traceback" not in stderr and "Error in" not in stderr, stderr
    assert "ClosedResourceError" not in stderr


def _log_failure(logger_name: str, error: BaseException) -> None:
    try:
        raise error
    except BaseException:
        logging.getLogger(logger_name).exception("Error in standalone SSE writer")


@pytest.mark.parametrize(
    "error",
    [
        anyio.ClosedResourceError(),
        anyio.BrokenResourceError(),
        anyio.EndOfStream(),
        ConnectionResetError(104, "Connection reset by peer"),
        BaseExceptionGroup("task group", [anyio.ClosedResourceError(), BrokenPipeError()]),
    ],
)
def test_disconnect_tracebacks_are_dropped(caplog, error):
    """The SDK logs a vanished client's closed stream with logger.exception; the HTTP server drops those."""
    quiet_disconnects()
    with caplog.at_level(logging.ERROR):
        for name in DISCONNECT_LOGGERS:
            _log_failure(name, error)
    assert caplog.records == []


def test_other_errors_are_still_logged(caplog):
    quiet_disconnects()
    with caplog.at_level(logging.ERROR):
        _log_failure("mcp.server.streamable_http", RuntimeError("a real bug"))
        _log_failure(
            "mcp.server.streamable_http", BaseExceptionGroup("g", [anyio.ClosedResourceError(), KeyError()])
        )
    assert len(caplog.records) == 2 and caplog.records[0].exc_info
