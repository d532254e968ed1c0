"""dbwright as an MCP server: the library's read-only analyses as tools, writes only by plan token.

    build_server(target, mode="read-only"|"plan"|"apply") -> FastMCP
    serve_http(server, host, port, token)                  streamable HTTP (loopback unless a token)

safety.py is the guarded query path, tokens.py the plan tokens, auditlog.py the audit log.
"""

from dbwright.mcp.safety import Limits
from dbwright.mcp.server import build_server, check_bind, serve_http, tools_for

__all__ = ["Limits", "build_server", "check_bind", "serve_http", "tools_for"]
