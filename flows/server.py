"""A local Prefect server for ``python -m flows.deployments``, and a clean stop for it.

The server runs non-interactively (``--no-prompt``, stdin closed: it can never stop to ask a
question on the terminal), with its own ``PREFECT_HOME`` and profile under the settings'
data folder (``<data_dir>/prefect``: the SQLite database, ``profiles.toml`` and
``server.log``), with analytics and telemetry off (so no telemetry banner either). It runs in its own session, so Ctrl-C reaches only the
serving process, which stops the runner first (schedules paused on the server) and then the
server and every process still below it (:func:`stop_process_tree`).

Nothing here imports Prefect: :func:`prefect_environment` must go into ``os.environ`` before
Prefect is imported, because Prefect reads its settings once, at import.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from tierlens.ports import port_in_use

PROFILE = "tierlens"


class ServerError(Exception):
    """The local Prefect server could not be started (one-line reason)."""


def prefect_environment(home: Path, api_url: str) -> dict[str, str]:
    """The Prefect settings of the local server and of everything that talks to it."""
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_PROFILES_PATH": str(home / "profiles.toml"),
        "PREFECT_API_URL": api_url,
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # the client side of Prefect's telemetry (and its banner)
    }


def write_profile(home: Path, api_url: str) -> Path:
    """``<home>/profiles.toml`` with one active profile pointing at the local server, so that
    ``PREFECT_HOME=<home> prefect deployment ls`` (and any other Prefect command) finds it."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "profiles.toml"
    path.write_text(f'active = "{PROFILE}"\n\n[profiles.{PROFILE}]\n'
                    f'PREFECT_API_URL = "{api_url}"\n'
                    'PREFECT_CLI_PROMPT = "false"\n'
                    'PREFECT_SERVER_ANALYTICS_ENABLED = "false"\n')
    return path


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def start_local_server(home: Path, port: int, timeout_s: float = 300,
                       host: str = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    """``prefect server start`` in its own session; returns it and its API URL once healthy.

    Its output goes to ``<home>/server.log``. Raises :class:`ServerError` if the port is
    taken, if the server exits, or if it doesn't answer within ``timeout_s`` (then it is
    stopped first).
    """
    url = f"http://{host}:{port}/api"
    if port_in_use(port, host):
        raise ServerError(f"port {port} is already in use; pick another with --port N")
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "server.log"
    env = {**os.environ, **prefect_environment(home, url)}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "--no-prompt", "server", "start", "--host", host,
             "--port", str(port), "--analytics-off"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # Ctrl-C on the terminal never reaches it directly
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerError(f"prefect server exited with code {proc.returncode}: "
                                  f"{_last_line(log_path)} (log: {log_path})")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        return proc, url
            except OSError:
                time.sleep(0.5)
        raise ServerError(f"prefect server did not answer on {url} within {timeout_s:.0f}s "
                          f"(log: {log_path})")
    except BaseException:  # includes Ctrl-C while waiting: never leave it behind
        stop_process_tree(proc)
        raise


def stop_process_tree(server: subprocess.Popen | None = None, timeout_s: float = 20) -> None:
    """Stop ``server`` (its whole process group) and every process still below this one:
    SIGTERM, then SIGKILL for any that is still there after ``timeout_s``."""
    me = psutil.Process()
    procs = me.children(recursive=True)
    if server is not None and server.poll() is None:
        try:
            procs += [p for p in psutil.Process(server.pid).children(recursive=True)
                      if p not in procs]
            os.killpg(server.pid, signal.SIGTERM)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    for p in procs:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout_s)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)
    if server is not None:
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def sigterm_as_interrupt(*_: object) -> None:
    """A SIGTERM handler that stops the process the way Ctrl-C does (a SIGINT to itself):
    inside ``asyncio.run`` that cancels the main task, so the runner shuts down cleanly."""
    os.kill(os.getpid(), signal.SIGINT)
