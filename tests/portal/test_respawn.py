"""scripts/respawn (how make run runs the worker and beat) starts a process again when it dies,
and stops with it when told to."""

import os
import signal
import subprocess
import sys

from tests.processes import ROOT, wait_until


def test_a_process_that_dies_is_started_again_and_sigterm_stops_everything(tmp_path):
    runs = tmp_path / "runs"
    code = f"import os; open({str(runs)!r}, 'a').write(f'{{os.getpid()}}\\n'); os._exit(3)"
    respawn = subprocess.Popen(
        ["scripts/respawn", sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "RESPAWN_DELAY": "0.2"},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    wait_until(
        lambda: runs.exists() and len(runs.read_text().split()) >= 3, 30, "three runs", every=0.1
    )
    assert len(set(runs.read_text().split())) >= 3  # three runs, three processes

    respawn.send_signal(signal.SIGTERM)
    assert respawn.wait(timeout=10) == 0
    assert "ended with status 3; starting it again" in respawn.stderr.read()


def test_sigterm_reaches_the_running_process(tmp_path):
    stopped, listening = tmp_path / "stopped", tmp_path / "listening"
    code = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(stopped)!r}, 'w').close(), "
        "sys.exit(0)))\n"
        f"open({str(listening)!r}, 'w').close()\n"
        "time.sleep(60)\n"
    )
    respawn = subprocess.Popen(["scripts/respawn", sys.executable, "-c", code], cwd=ROOT)
    wait_until(listening.exists, 30, "the process to handle SIGTERM")
    respawn.send_signal(signal.SIGTERM)
    assert respawn.wait(timeout=10) == 0
    assert stopped.exists()
