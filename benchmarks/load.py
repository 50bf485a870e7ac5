"""Load generators for benchmarks/web.py: ``wrk`` (installed with apt-get when missing and we are
root), else threads with keep-alive ``http.client`` connections; and N POSTs over C connections
from one thread (:func:`post`)."""

import http.client
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import threading
import time
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


TIMEOUT_SECONDS = 10
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)


@dataclass
class _Slot:
    """One of the connections: its socket (None: closed) and the request it waits on."""

    sock: socket.socket | None = None
    number: int = -1
    since: float = 0.0
    received: bytes = b""


def post(url: str, requests: list[tuple[dict, bytes]], connections: int, rate: float = 0):
    """POST each (headers, body) once, at most ``connections`` at a time; returns
    [(status, milliseconds)] in order (status 0: no answer).

    One thread, each request's bytes built beforehand and only the status line and
    Content-Length of each answer read: the load generator runs on the portal's machine, so its
    own CPU per request is kept to a small part of the portal's. With ``rate``, request i is due
    i / rate seconds after the start whatever the answers before it (open loop), and its time
    counts from then, so a stalled server is not hidden.
    """
    parts = urlsplit(url)
    address = (parts.hostname, parts.port or 80)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    wire = [_post_bytes(parts.netloc, path, headers, body) for headers, body in requests]
    answers: list[tuple[int, float]] = [(0, 0.0)] * len(wire)
    slots = [_Slot() for _ in range(connections)]
    selector, started, sent, done = selectors.DefaultSelector(), time.perf_counter(), 0, 0
    while done < len(wire):
        now = time.perf_counter()
        for slot in slots:
            due = started + sent / rate if rate else now
            if slot.number < 0 and sent < len(wire) and due <= now:
                if not _send(selector, slot, address, sent, wire[sent], due):
                    slot.number, done = -1, done + 1  # not sent: counted as failed
                sent += 1
        waits = [started + sent / rate - now] if rate and sent < len(wire) else []
        events = selector.select(max(0.0, min([TIMEOUT_SECONDS, *waits])))
        for key, _mask in events:
            slot = key.data
            status = _read(selector, slot)
            if status is not None:
                answers[slot.number] = (status, (time.perf_counter() - slot.since) * 1000)
                slot.number, done = -1, done + 1
        for slot in slots:  # no answer within the timeout: counted as failed
            if slot.number >= 0 and time.perf_counter() - slot.since > TIMEOUT_SECONDS:
                _close(selector, slot)
                slot.number, done = -1, done + 1
    selector.close()
    return answers


def _post_bytes(host: str, path: str, headers: dict, body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _send(selector, slot: _Slot, address, number: int, data: bytes, due: float) -> bool:
    """Send request ``number`` on ``slot`` (connecting first when closed): whether it went."""
    slot.number, slot.since, slot.received = number, due, b""
    try:
        if slot.sock is None:
            slot.sock = socket.create_connection(address, timeout=TIMEOUT_SECONDS)
            selector.register(slot.sock, selectors.EVENT_READ, slot)
        slot.sock.sendall(data)
    except OSError:
        _close(selector, slot)
        return False
    return True


def _read(selector, slot: _Slot) -> int | None:
    """The answer's status once it is complete (0: the connection failed), else None."""
    try:
        chunk = slot.sock.recv(65536)
    except OSError:
        chunk = b""
    slot.received += chunk
    head_end = slot.received.find(b"\r\n\r\n")
    head = slot.received[:head_end] if head_end > 0 else b""
    length = _CONTENT_LENGTH.search(head)
    whole = head and (length is None or len(slot.received) >= head_end + 4 + int(length[1]))
    if not chunk:  # closed: the end of an answer without a length, or a failure
        _close(selector, slot)
        return int(head[9:12]) if whole else 0
    if not whole or length is None:
        return None
    if _CLOSE.search(head):
        _close(selector, slot)
    return int(head[9:12])


def _close(selector, slot: _Slot) -> None:
    if slot.sock is not None:
        selector.unregister(slot.sock)
        slot.sock.close()
        slot.sock = None
