"""gunicorn settings for the web process (``deploy/entrypoint web``), read from the environment.

Threads (gthread) rather than more processes: requests mostly wait on PostgreSQL and upstream
APIs. Requests still running at a stop get ``graceful_timeout`` to finish, less than the
orchestrator's grace period (Kubernetes: 30 s). Each worker process is replaced after about
``max_requests`` requests (with jitter, so they do not restart together).

Logs go through the portal's own configuration (core/logging): JSON lines in production, with the
access log's request id (the response's ``X-Request-ID``) and figures as fields.
"""

import os

from core.logging.config import gunicorn_logging_config, log_format


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = f"0.0.0.0:{_int('PORT', 8000)}"
worker_class = "gthread"
workers = _int("WEB_WORKERS", 2)
threads = _int("WEB_THREADS", 8)
timeout = _int("WEB_TIMEOUT", 60)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 25)
keepalive = 5
max_requests = _int("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Heartbeat files in memory: the image's root file system may be read-only.
worker_tmp_dir = "/dev/shm"
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
logconfig_dict = gunicorn_logging_config(log_format(), loglevel.upper())
# Addresses whose X-Forwarded-* headers are believed: the load balancer or ingress in front.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# Prometheus (portal/metrics/http.py): each worker process writes its request timings to files in
# PROMETHEUS_MULTIPROC_DIR and /metrics adds up every process's. Set, it is emptied at start (one
# gunicorn per directory); unset, gunicorn makes a private one under /tmp and removes it at exit.
_metrics_dir_made = ""


def on_starting(server):
    global _metrics_dir_made
    import tempfile
    from pathlib import Path

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not directory:
        directory = _metrics_dir_made = tempfile.mkdtemp(prefix="portal-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stale in Path(directory).glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_made:
        import shutil

        shutil.rmtree(_metrics_dir_made, ignore_errors=True)
