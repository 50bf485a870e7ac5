"""Load generators for benchmarks/web.py: ``wrk`` (installed with apt-get when missing and we are
root), else threads with keep-alive ``http.client`` connections; and N POSTs over C connections."""

import http.client
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Run:
    """One timed run against one URL (latencies in milliseconds)."""

    rps: float
    p50: float
    p99: float
    requests: int
    bad: int  # answers other than 2xx/3xx, and socket errors


def find_wrk() -> str | None:
    """The wrk binary, installed with apt-get if missing (as root); None if unavailable."""
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk with apt-get …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        command = ["apt-get", "install", "-y", "-qq", "wrk"]
        subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> Run:
    """The figures of ``wrk --latency`` output."""
    percentile = dict(re.findall(r"^\s*(50|99)%\s+([\d.]+(?:us|ms|s|m))\b", output, re.MULTILINE))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Run(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50=_ms(percentile["50"]),
        p99=_ms(percentile["99"]),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        bad=(int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    )


def wrk(binary: str, url: str, headers: dict, seconds: float, connections: int) -> Run:
    command = [binary, "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    command += ["--latency", *(f"-H{name}: {value}" for name, value in headers.items()), url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if not re.search(r"^\s*99%", done.stdout, re.MULTILINE):
        raise RuntimeError(f"wrk {url}: {done.stdout}{done.stderr}")
    return parse_wrk(done.stdout)


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def request(conn, method: str, url: str, headers: dict, body: bytes | None = None):
    """One request on ``conn`` (reopened by http.client when the server closed it)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        return 0, b""


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99 of ``latencies``."""
    if len(latencies) < 2:
        return (latencies or [0.0])[0], (latencies or [0.0])[0]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[98]


def threads(url: str, headers: dict, seconds: float, connections: int) -> Run:
    """What wrk measures, with ``connections`` Python threads (slower: a floor, not a ceiling)."""
    latencies, bad, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        conn, mine, errors = _connection(url), [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status, _ = request(conn, "GET", url, headers)
            mine.append((time.perf_counter() - started) * 1000)
            errors += not 200 <= status < 400
        with lock:
            latencies.extend(mine)
            bad[0] += errors

    started = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    p50, p99 = percentiles(latencies)
    return Run(len(latencies) / (time.monotonic() - started), p50, p99, len(latencies), bad[0])


def get(url: str, headers: dict, seconds: float, connections: int, wrk_binary: str | None) -> Run:
    """GET ``url`` from ``connections`` connections for ``seconds``."""
    if wrk_binary:
        return wrk(wrk_binary, url, headers, seconds, connections)
    return threads(url, headers, seconds, connections)


def post_all(url: str, requests: list[tuple[dict, bytes]], connections: int):
    """POST each (headers, body) once over ``connections`` keep-alive connections; returns
    [(status, milliseconds)] in order."""
    local = threading.local()

    def send(item):
        if not hasattr(local, "conn"):
            local.conn = _connection(url)
        started = time.perf_counter()
        status, _ = request(local.conn, "POST", url, *item)
        return status, (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(connections) as pool:
        return list(pool.map(send, requests))


def post_paced(url: str, requests: list[tuple[dict, bytes]], rate: float, connections: int):
    """POST each (headers, body) at ``rate`` a second (open loop: request i is due at i / rate
    seconds whatever the answers before it); returns [(status, milliseconds)], each latency
    counted from when the request was due, so a stalled server is not hidden."""
    local, started = threading.local(), time.perf_counter()

    def send(numbered):
        number, item = numbered
        if not hasattr(local, "conn"):
            local.conn = _connection(url)
        due = started + number / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        status, _ = request(local.conn, "POST", url, *item)
        return status, (time.perf_counter() - due) * 1000

    with ThreadPoolExecutor(connections) as pool:
        return list(pool.map(send, enumerate(requests)))
