"""gunicorn settings for twilio-exporter: `gunicorn -c gunicorn.conf.py twilio_exporter:app`.

Plain assignments and bare hooks, read by gunicorn's master before any worker starts.
"""
import glob
import os
import shutil
import sys
import tempfile

# --- where to listen, how many workers ---
# TWILIO_EXPORTER_BIND: host:port (default 0.0.0.0:8080). Put TLS and the public name on a proxy.
bind = os.environ.get("TWILIO_EXPORTER_BIND", "").strip() or "0.0.0.0:8080"
# TWILIO_EXPORTER_METRICS_BIND: host:port of a second, private listener for /metrics and the full /health,
# on another port (unset: one listener serves every path). The public listener then serves only the
# webhooks and a /health that says ok or not. The app tells them apart by the port.
_metrics_bind = os.environ.get("TWILIO_EXPORTER_METRICS_BIND", "").strip()
if _metrics_bind:
    _host, _, _port = _metrics_bind.rpartition(":")
    if not _host or not _port.isdigit() or _port == bind.rpartition(":")[2]:
        raise ValueError(f"Config 'TWILIO_EXPORTER_METRICS_BIND' has value {_metrics_bind!r}. Not a host:port "
                         f"address on another port than TWILIO_EXPORTER_BIND ({bind}).")
    bind = [bind, _metrics_bind]
# TWILIO_EXPORTER_WORKERS: processes, each with the threads below. 2 x cores + 1 is the usual start.
_workers = os.environ.get("TWILIO_EXPORTER_WORKERS", "").strip() or str(2 * (os.cpu_count() or 1) + 1)
if not _workers.isdigit() or int(_workers) == 0:
    raise ValueError(f"Config 'TWILIO_EXPORTER_WORKERS' has value {_workers!r}. Not a whole number above 0.")
workers = int(_workers)
# Threads, not sync workers: a sync worker is held by one slow client until `timeout`, so a
# handful of clients trickling bytes would starve Twilio. gthread parks idle connections in
# a poller and gives each request a thread; 32 per worker leaves room for slow clients and
# costs little, since a waiting thread uses no CPU. A worker's threads append to its one inbox
# file; its upkeep thread moves what the inboxes hold into the SQLite state file.
worker_class = "gthread"
threads = 32

# --- time limits ---
# Twilio gives a callback 15 s in all, 10 s of it to connect. A worker whose main loop stops
# for 30 s is killed and replaced; idle keep-alive connections are closed after 2 s.
timeout = 30
graceful_timeout = 10
keepalive = 2

# --- request limits ---
# Twilio's callbacks have a short request line and about a dozen headers; tighter limits end
# a slow or hostile client sooner. The body limit (64 KiB) is the exporter's own.
limit_request_line = 4094
limit_request_fields = 32
limit_request_field_size = 8190

# --- multiprocess metrics ---
# prometheus_client's per-process files; systemd's RuntimeDirectory= when set, else a private
# temporary folder. It is wiped at start, and must never hold the SQLite state file.
_TEMPORARY_PREFIX = os.path.join(tempfile.gettempdir(), "twilio_exporter-metrics-conf-")
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = (os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
                                              or tempfile.mkdtemp(prefix=os.path.basename(_TEMPORARY_PREFIX)))
metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
# Imported here, once, and not in child_exit: gunicorn 23 (Python 3.9) runs that hook inside its
# SIGCHLD handler, so a second worker dying during the first import re-entered it half-done and
# the ImportError stopped the master (seen as a hung SIGKILL test).
from prometheus_client import multiprocess  # noqa: E402  (reads PROMETHEUS_MULTIPROC_DIR, set above)
# gunicornc's control socket goes beside the metrics, not in a shared ~/.gunicorn.
control_socket = os.path.join(metrics_dir, "gunicorn.ctl")


def on_starting(server):
    """Start from empty metrics files: counts from an earlier run would otherwise be added in."""
    os.makedirs(metrics_dir, exist_ok=True)
    for path in glob.glob(os.path.join(metrics_dir, "*.db")):
        os.remove(path)


def post_worker_init(worker):
    """Start the worker's upkeep at once: the inboxes move in, and the account is polled, before any request."""
    exporter = sys.modules.get("twilio_exporter")
    if exporter is not None and worker.wsgi is exporter.app:
        exporter.store().start()


def child_exit(server, worker):
    """Drop a dead worker's live-gauge files, and any file it left empty (client_python#1199)."""
    multiprocess.mark_process_dead(worker.pid)
    for path in glob.glob(os.path.join(metrics_dir, f"*_{worker.pid}.db")):
        try:
            if os.path.getsize(path) < 8:
                os.remove(path)
        except FileNotFoundError:  # gone meanwhile: an exception here would stop the master
            pass


def on_exit(server):
    """Remove the temporary metrics folder this config made (known by its name, even after a HUP reload)."""
    if metrics_dir.startswith(_TEMPORARY_PREFIX):
        shutil.rmtree(metrics_dir, ignore_errors=True)
