"""The real transports, in a subprocess: stdio, and streamable HTTP on loopback with a bearer token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from dbwright.errors import RefusedError
from dbwright.mcp import check_bind
from mcp import ClientSession, StdioServerParameters
from tests.pgcluster import free_port

TOKEN = "t0ken-for-tests-only"


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) with a socket listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60.0) -> None:
    """Wait for the server to listen: importing the MCP SDK alone takes seconds on a loaded machine."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read() if process.stderr else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("server did not start listening")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.com"])
def test_non_loopback_bind_needs_a_token(host):
    with pytest.raises(RefusedError, match="not a loopback address"):
        check_bind(host, None)
    check_bind(host, TOKEN)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_bind_needs_no_token(host):
    check_bind(host, None)


def test_cli_refuses_non_loopback_bind_without_token(pg):
    port = free_port()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbwright",
            "mcp",
            pg.url,
            "--transport",
            "http",
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 17
    assert "not a loopback address" in done.stderr and "Traceback" not in done.stderr
    assert listening_addresses(port) == set()


def test_http_binds_to_localhost_by_default_and_requires_the_token(pg):
    port = free_port()
    env = {**os.environ, "DBWRIGHT_MCP_TOKEN": TOKEN}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dbwright",
            "mcp",
            pg.url,
            "--transport",
            "http",
            "--port",
            str(port),
            "--token-env",
            "DBWRIGHT_MCP_TOKEN",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, process)
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
        url = f"http://127.0.0.1:{port}/mcp"
        denied = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert denied.status_code == 401

        async def session() -> tuple[list[str], list]:
            async with (
                httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client,
                streamable_http_client(url, http_client=client) as (read, write, _),
                ClientSession(read, write) as mcp_session,
            ):
                await mcp_session.initialize()
                names = [t.name for t in (await mcp_session.list_tools()).tools]
                result = await mcp_session.call_tool("query", {"sql": "SELECT 40 + 2 AS answer"})
                return names, result.structuredContent["rows"]

        names, rows = anyio.run(session)
        assert "query" in names and "apply_plan" not in names
        assert rows == [[42]]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_stdio_transport(pg):
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "dbwright", "mcp", pg.url, "--mode", "plan"], env=dict(os.environ)
    )

    async def session() -> tuple[list[str], str]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as mcp_session:
            await mcp_session.initialize()
            names = [t.name for t in (await mcp_session.list_tools()).tools]
            result = await mcp_session.call_tool("query", {"sql": "SELECT 1; DROP TABLE x"})
            return names, result.content[0].text

    names, text = anyio.run(session)
    assert "plan_change" in names and "apply_plan" not in names
    assert text == "refused: exactly one statement is allowed, got 2"


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["--mode", "yolo"], 22, "unknown mode 'yolo'"),  # an invalid argument, not a bad target
        (
            ["--transport", "http", "--token-env", "DBWRIGHT_TEST_UNSET_TOKEN"],
            10,
            "DBWRIGHT_TEST_UNSET_TOKEN",
        ),
    ],
)
def test_cli_bad_options_are_one_line(pg, args, code, phrase):
    env = {k: v for k, v in os.environ.items() if k != "DBWRIGHT_TEST_UNSET_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "dbwright", "mcp", pg.url, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == code, done.stderr
    assert len(lines) == 1 and phrase in lines[0] and "Traceback" not in done.stderr


def test_cli_malformed_target_fails_at_start_without_the_password():
    done = subprocess.run(
        [sys.executable, "-m", "dbwright", "mcp", "mysql://root:Sup3rSecret@localhost/db"],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 10 and "unsupported URL scheme" in done.stderr
    assert "Sup3rSecret" not in done.stderr + done.stdout
