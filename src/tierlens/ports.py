"""Is a TCP port free? Checked before a server (the dashboard, a local Prefect server) starts,
so that a port in use is one line suggesting ``--port``, not a server's traceback."""

from __future__ import annotations

import socket


def port_in_use(port: int, host: str = "0.0.0.0") -> bool:
    """True when nothing could listen on ``host:port`` now (``0.0.0.0``: any interface)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False
