"""scripts/respawn (how make run runs the worker and beat) starts a process again when it dies,
and stops with it when told to."""

import os
import signal
import subprocess
import sys
import time

from tests.processes import ROOT


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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not runs.exists() or len(runs.read_text().split()) < 3):
        time.sleep(0.1)
    assert len(set(runs.read_text().split())) >= 3  # three runs, three processes

    respawn.send_signal(signal.SIGTERM)
    assert respawn.wait(timeout=10) == 0
    assert "ended with status 3; starting it again" in respawn.stderr.read()


def test_sigterm_reaches_the_running_process(tmp_path):
    stopped = tmp_path / "stopped"
    code = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(stopped)!r}, 'w').close(), "
        "sys.exit(0)))\n"
        "time.sleep(60)\n"
    )
    respawn = subprocess.Popen(["scripts/respawn", sys.executable, "-c", code], cwd=ROOT)
    time.sleep(1)
    respawn.send_signal(signal.SIGTERM)
    assert respawn.wait(timeout=10) == 0
    assert stopped.exists()
