"""The gateway's own HTTP API (DESIGN.md): routers, auth, error shape, views."""
