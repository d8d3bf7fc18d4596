"""A real HTTP server for the tests: ``ledger serve`` (uvicorn) in a subprocess on a free
port of 127.0.0.1 (``tests/api/test_http.py``, ``tests/reliability/test_reliability_http.py``)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``ledger serve`` on a free port of 127.0.0.1 over the test's database."""

    def __init__(self, db_url: str, log: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LEDGER_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from adapters.cli.main import main; main()", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(workers), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("server did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
