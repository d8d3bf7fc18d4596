"""A real HTTP server for the tests: ``ledger serve`` (uvicorn) in a subprocess on a free
port of 127.0.0.1 (``tests/api/test_http.py``, ``tests/reliability/test_reliability_http.py``)."""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port of 127.0.0.1 free now, from a range of this test process's own.

    Under pytest-xdist each worker (``PYTEST_XDIST_WORKER`` gw0, gw1, …) draws from its own
    1,000 ports below the kernel's ephemeral range (32768-), so two workers never pick the same
    port, and no server of another test can answer on the port a test's server is about to bind."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(worker[2:]) if worker[2:].isdigit() else 0
    low = 20000 + (number % 12) * 1000
    for port in random.sample(range(low, low + 1000), 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{low + 999}")


class PortTaken(RuntimeError):
    """The free port was taken by someone else before the server bound it."""


class Server:
    """``ledger serve`` on a free port of 127.0.0.1 over the test's database."""

    def __init__(self, db_url: str, log: Path, workers: int) -> None:
        for attempt in range(3):  # another test (an xdist worker) may take the free port before uvicorn binds it
            try:
                self._start(db_url, log, workers)
                return
            except PortTaken:
                if attempt == 2:
                    raise

    def _start(self, db_url: str, log: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LEDGER_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from adapters.cli.main import main; main()", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(workers), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        # A hang guard, not a speed check: under load 8-13 on 2 cores ``ledger serve`` took 26-41 s
        # to answer (a 30 s bound failed tests with "server did not start").
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = log.read_text(errors="replace")
                if "address already in use" in output.lower():
                    raise PortTaken(output)
                raise RuntimeError("server did not start:\n" + output)
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
