"""The MCP server at `/mcp`: a workspace's knowledge as tools for MCP clients (Claude Code,
Cursor, …) over Streamable HTTP, with the official SDK. `server.py` has the tools, which
search memory and ask through the web platform's task path; `endpoint.py` checks the API
token (hub/admin/tokens.py) and serves the SDK's ASGI app from the Flask app's WSGI process.
Part of the composition root: it may import anything, and nothing imports it.
"""
