"""``python -m flows.deployments`` on a real terminal (a pty), unattended.

It must come up without asking anything (Prefect's server asks an interactive question when
its stdin is a terminal and its profile has no API URL), with its Prefect home under the data
folder, and stop cleanly on Ctrl-C and on SIGTERM: exit promptly, with the server and every
child process gone and the port closed, so no schedule can fire any more.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
COME_UP_S = 240  # a busy 2-core machine; the server usually answers in 10-30 s
STOP_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PREFECT_") and k != "DO_NOT_TRACK"}
    env.update(PYTHONPATH=f"{REPO / 'src'}{os.pathsep}{REPO}", TIERLENS_DATA_DIR=str(data_dir),
               TIERLENS_INBOX=str(data_dir / "inbox"),
               TIERLENS_WAREHOUSE=str(data_dir / "wh" / "tierlens.duckdb"),
               TIERLENS_SERVING_DIR=str(data_dir / "serving"), TERM="xterm")
    return env


class Terminal:
    """The command as the foreground job of a fresh pty (its controlling terminal)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: never returns
            try:
                os.chdir(REPO)
                os.execve(sys.executable, [sys.executable, *argv], env)
            finally:
                os._exit(127)
        self.output = ""
        self.status: int | None = None

    def _drain(self, wait_s: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], wait_s)
        if ready:
            try:
                self.output += os.read(self.fd, 65536).decode(errors="replace")
            except OSError:  # EIO: the other side is closed
                time.sleep(wait_s)

    def expect(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output:
            if time.monotonic() > deadline or self.poll() is not None:
                raise AssertionError(f"{text!r} not seen (exit {self.status}); output:\n"
                                     f"{self.output[-3000:]}")
            self._drain(0.5)

    def poll(self) -> int | None:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def wait(self, timeout_s: float) -> int | None:
        deadline = time.monotonic() + timeout_s
        while self.poll() is None and time.monotonic() < deadline:
            self._drain(0.2)
        self._drain(0.1)
        return self.status

    def close(self) -> None:
        if self.poll() is None:
            for p in psutil.Process(self.pid).children(recursive=True):
                p.kill()
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def _deployments(port: int) -> list[str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/deployments/filter",
                                 data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return sorted(d["name"] for d in json.load(r))


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
@pytest.mark.timeout(COME_UP_S + STOP_S + 60)
@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_serves_unattended_and_stops_cleanly(tmp_path, stop):
    port = _free_port()
    term = Terminal(["-m", "flows.deployments", "--port", str(port)], _env(tmp_path))
    try:
        term.expect("Ctrl-C to stop", COME_UP_S)
        # registered on its own server, whose home and profile are under the data folder
        assert _deployments(port) == ["ingest-and-score", "monthly-report", "nightly-outcomes",
                                      "rescore"]
        home = tmp_path / "prefect"
        assert f'PREFECT_API_URL = "http://127.0.0.1:{port}/api"' in \
            (home / "profiles.toml").read_text()
        assert (home / "server.log").exists()
        assert "How would you like to proceed" not in term.output
        assert "anonymous usage data" not in term.output  # no telemetry banner
        below = psutil.Process(term.pid).children(recursive=True)
        assert any("server" in p.cmdline() for p in below), [p.cmdline() for p in below]

        if stop == "ctrl-c":
            os.write(term.fd, b"\x03")  # the terminal sends SIGINT to the foreground job
        else:
            os.kill(term.pid, signal.SIGTERM)
        assert term.wait(STOP_S) == 0, term.output[-3000:]
        assert "stopped" in term.output
        _, alive = psutil.wait_procs(below, timeout=10)
        assert not alive, [p.cmdline() for p in alive]
        assert not _port_open(port)  # no server left: nothing can schedule a run any more
    finally:
        term.close()


def test_port_in_use_is_one_line_and_non_zero(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "flows.deployments", "--port", str(port)],
                             cwd=REPO, env=_env(tmp_path), capture_output=True, text=True,
                             timeout=120, check=False)
    assert out.returncode == 1
    assert out.stderr.strip() == (f"error: port {port} is already in use; pick another with "
                                  "--port N")
