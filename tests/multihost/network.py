"""A small network of hosts on this machine, for tests of a deployment spread over several hosts.

Each host is a Linux network namespace with its own loopback and one link per network, joined by
veth pairs to bridges that live in a namespace of their own (the "switch"). Two networks: the
service network (PostgreSQL, the web hosts, the clients) and the broker network (Redis), so the
broker can be cut from every host at once by taking its bridge down. The addresses are private
test addresses that exist only inside the namespaces created here.

Where the machine refuses network namespaces, every host is a set of loopback addresses of this
machine instead (``127.77.x.y``), and the broker is cut by pausing Redis; ``Network.mode`` says
which one was built (``MULTIHOST_NETWORK=loopback`` asks for loopback).
"""

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

NETWORKS = {"service": 0, "broker": 1}
NAMESPACE_PREFIX = os.environ.get("MULTIHOST_PREFIX", f"mh{os.getpid() % 100000}")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Host:
    """One machine: its namespace (None on loopback) and its address on each network."""

    name: str
    namespace: str | None
    addresses: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` as run on this host (in its namespaces, with its own host name)."""
        if not self.namespace:
            return argv
        own_name = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.name]
        return ["ip", "netns", "exec", self.namespace, *own_name, *argv]

    def start(self, argv: list[str], *, env: dict[str, str], log, cwd=None) -> subprocess.Popen:
        """Start a long-running process on this host, its output in ``log``."""
        process = subprocess.Popen(
            self.command(argv),
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def run(self, argv: list[str], *, env: dict[str, str], timeout: float, cwd=None):
        """Run a command on this host to its end; its output is returned (stdout, stderr)."""
        return subprocess.run(
            self.command(argv),
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pids(self) -> set[int]:
        """Every process this host runs (in a namespace: all of the namespace's)."""
        pids = {process.pid for process in self.processes}
        if self.namespace:
            listed = subprocess.run(
                ["ip", "netns", "pids", self.namespace], capture_output=True, text=True
            )
            pids |= {int(pid) for pid in listed.stdout.split()}
        return pids

    def signal_all(self, signum: int) -> None:
        """Send ``signum`` to every process this host runs and to their process groups."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)

    def kill(self) -> None:
        """Pull the plug: SIGKILL every process this host runs, at once."""
        self.signal_all(signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=30)

    def freeze(self) -> None:
        """Stop every process this host runs where it stands (SIGSTOP); ``thaw`` resumes them."""
        self.signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        """Resume the processes ``freeze`` stopped."""
        self.signal_all(signal.SIGCONT)

    def stop(self) -> None:
        """Stop this host's processes: SIGTERM, then SIGKILL what is left after 20 s."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


class Network:
    """Hosts joined by a service network and a broker network."""

    def __init__(self, mode: str):
        self.mode = mode
        self.hosts: dict[str, Host] = {}
        self.switch = f"{NAMESPACE_PREFIX}-switch"
        self.paused: list[subprocess.Popen] = []

    @classmethod
    def build(cls, layout: dict[str, tuple[str, ...]]) -> "Network":
        """Hosts by name, each on the networks named: namespaces if allowed, else loopback."""
        network = cls("namespaces")
        try:
            if os.environ.get("MULTIHOST_NETWORK") == "loopback":
                raise FileNotFoundError("MULTIHOST_NETWORK=loopback")
            network._build_namespaces(layout)
        except (subprocess.CalledProcessError, FileNotFoundError) as error:
            network.close()
            network = cls("loopback")
            network.refusal = getattr(error, "stderr", None) or str(error)
            network._build_loopback(layout)
        return network

    def address(self, host: str, network: str = "service") -> str:
        return self.hosts[host].addresses[network]

    def _build_namespaces(self, layout) -> None:
        _ip("netns", "add", self.switch)
        for network in NETWORKS:
            _ip("-n", self.switch, "link", "add", f"br-{network}", "type", "bridge")
            _ip("-n", self.switch, "link", "set", f"br-{network}", "up")
        for index, (name, networks) in enumerate(layout.items(), start=2):
            namespace = f"{NAMESPACE_PREFIX}-{name}"
            _ip("netns", "add", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
            host = Host(name, namespace, {})
            self.hosts[name] = host
            for network in networks:
                number = NETWORKS[network]
                inside, outside = f"{NAMESPACE_PREFIX}{index}n{number}", f"p{index}n{number}"
                _ip("link", "add", inside, "type", "veth", "peer", "name", outside)
                _ip("link", "set", inside, "netns", namespace)
                _ip("link", "set", outside, "netns", self.switch)
                _ip("-n", namespace, "link", "set", inside, "name", f"eth{number}")
                address = f"10.77.{number}.{index}"
                _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", f"eth{number}")
                _ip("-n", namespace, "link", "set", f"eth{number}", "up")
                _ip("-n", self.switch, "link", "set", outside, "master", f"br-{network}")
                _ip("-n", self.switch, "link", "set", outside, "up")
                host.addresses[network] = address

    def _build_loopback(self, layout) -> None:
        for index, (name, networks) in enumerate(layout.items(), start=2):
            addresses = {network: f"127.77.{NETWORKS[network]}.{index}" for network in networks}
            self.hosts[name] = Host(name, None, addresses)

    def cut_broker(self, redis: subprocess.Popen) -> None:
        """Cut every host off the broker: its network goes down (loopback: Redis is paused)."""
        if self.mode == "namespaces":
            _ip("-n", self.switch, "link", "set", "br-broker", "down")
        else:
            os.kill(redis.pid, signal.SIGSTOP)

    def restore_broker(self, redis: subprocess.Popen) -> None:
        """Undo ``cut_broker``."""
        if self.mode == "namespaces":
            _ip("-n", self.switch, "link", "set", "br-broker", "up")
        else:
            os.kill(redis.pid, signal.SIGCONT)

    def close(self) -> None:
        """Stop every host's processes and remove the namespaces."""
        for host in self.hosts.values():
            host.stop()
        for host in self.hosts.values():
            if host.namespace:
                subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True)
        if self.mode == "namespaces":
            subprocess.run(["ip", "netns", "del", self.switch], capture_output=True)
