"""gunicorn settings for twilio-exporter: `gunicorn -c gunicorn.conf.py twilio_exporter:app`.

Plain assignments and bare hooks, read by gunicorn's master before any worker starts.
"""
import glob
import importlib.util
import os
import runpy
import shutil
import sys

# --- the exporter's settings ---
# The module reads and checks every setting (README.md lists them). The master runs it here under
# another name, so a bad setting stops start-up before any worker, and the workers still import it
# afresh: a HUP reload takes new code.
try:
    exporter = runpy.run_path(importlib.util.find_spec("twilio_exporter").origin, run_name="twilio_exporter_settings")
except ValueError as error:
    if type(error).__name__ != "ConfigError":
        raise
    sys.exit(f"twilio-exporter: {error}")  # one line and status 1, the last thing printed

# --- where to listen, how many workers ---
# TWILIO_EXPORTER_BIND (default 0.0.0.0:8080), and TWILIO_EXPORTER_METRICS_BIND for a second, private
# listener for /metrics and the full /health. Put TLS and the public name on a proxy.
bind = [exporter["BIND"], exporter["METRICS_BIND"]] if exporter["METRICS_BIND"] else exporter["BIND"]
# TWILIO_EXPORTER_WORKERS: processes, each with the threads below. 2 x cores + 1 is the usual start.
workers = exporter["WORKERS"]
# Threads, not sync workers: a sync worker is held by one slow client until `timeout`, so a
# handful of clients trickling bytes would starve Twilio. gthread parks idle connections in
# a poller and gives each request a thread; 32 per worker leaves room for slow clients and
# costs little, since a waiting thread uses no CPU.
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
# prometheus_client's per-process files, in the folder the module chose above (PROMETHEUS_MULTIPROC_DIR,
# systemd's RuntimeDirectory=, or a private one). It is wiped at start, and never holds the state file.
metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
# Imported here, once, and not in child_exit: gunicorn 23 (Python 3.9) runs that hook inside its
# SIGCHLD handler, where a second worker dying during an import re-entered it half-done.
from prometheus_client import multiprocess  # noqa: E402  (the module above set PROMETHEUS_MULTIPROC_DIR)
# gunicornc's control socket goes beside the metrics, not in a shared ~/.gunicorn.
control_socket = os.path.join(metrics_dir, "gunicorn.ctl")


def on_starting(server):
    """Refuse a metrics listener gunicorn will not listen on; start from empty metrics files."""
    if exporter["METRICS_BIND"] and exporter["METRICS_BIND"] not in server.cfg.bind:
        on_exit(server)
        sys.exit(f"twilio-exporter: TWILIO_EXPORTER_METRICS_BIND is {exporter['METRICS_BIND']}, but gunicorn "
                 f"listens only on {', '.join(server.cfg.bind)}: a -b or --bind on its command line replaces "
                 "gunicorn.conf.py's listeners, so /metrics would be served nowhere. Drop the -b and set "
                 "TWILIO_EXPORTER_BIND, or give a -b for the metrics listener too.")
    os.makedirs(metrics_dir, exist_ok=True)
    for path in glob.glob(os.path.join(metrics_dir, "*.db")):
        os.remove(path)


def post_worker_init(worker):
    """Start the worker's store at once: the inboxes move in, and the account is polled, before any request."""
    module = sys.modules.get("twilio_exporter")
    if module is not None and worker.wsgi is module.app:
        module.store().start()


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
    """Remove the metrics folder if it is the private one the module made for this server."""
    if metrics_dir == exporter["private_metrics_dir"]():
        shutil.rmtree(metrics_dir, ignore_errors=True)
