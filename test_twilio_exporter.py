"""The exporter's contract, one behaviour per test.

In-process tests drive `app` through wsgiref's validator; integration tests start real
gunicorn servers on loopback.
"""
import concurrent.futures
import contextlib
import fcntl
import http.server
import itertools
import threading
import io
import base64
import hashlib
import json
import logging
import os
import random
import re
import runpy
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# The exporter reads PROMETHEUS_MULTIPROC_DIR when imported; give this test process its own.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="twilio_exporter-test-metrics-")
import twilio_exporter as te  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from twilio.request_validator import RequestValidator, get_signature_algorithm  # noqa: E402

HERE = Path(__file__).resolve().parent
TOKEN = "test-token-primary"
ACCOUNT = "AC" + "a" * 32
FORM = "application/x-www-form-urlencoded"
STARTED_NS = time.time_ns()  # when the tests' inbox files were made, unless a test says otherwise


# --- helpers ---

def pytest_generate_tests(metafunc):
    """A test marked `stores` runs once on each store: a SQLite file, and a PostgreSQL database."""
    if metafunc.definition.get_closest_marker("stores"):
        metafunc.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgresql)], indirect=True)


@pytest.fixture
def store(request):
    """Which store a test runs on: SQLite unless it is marked `stores`."""
    return getattr(request, "param", "sqlite")


def forget_the_metrics_of_dead_processes():
    """Remove what processes that are gone left in this test process's metrics folder.

    make mutants forks a process for each mutant from one import of this module, and each left its
    files here: after a thousand mutants, every scrape read three thousand files, ten times slower.
    """
    for path in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*_*.db"):
        pid = int(path.stem.rpartition("_")[2])
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch, store, request):
    """A fresh store (a state file, or a database) and one auth token for every in-process test."""
    forget_the_metrics_of_dead_processes()
    if store == "postgres":
        use_store(monkeypatch, request.getfixturevalue("postgres").database(), str(tmp_path))
    else:
        use_store(monkeypatch, str(tmp_path / "state.sqlite3"))
    monkeypatch.setattr(te, "AUTH_TOKENS", (TOKEN,))
    monkeypatch.setattr(te, "PUBLIC_URL", "")
    yield tmp_path / "state.sqlite3"
    te.store().close()  # its upkeep thread starts no job after this test


def use_store(monkeypatch, target, inbox_dir=""):
    """Make a new Store the process's, as a worker's start does; the one before is closed."""
    before = te._store
    monkeypatch.setattr(te, "_store", te.make_store(target, inbox_dir))
    if before is not None:
        before.close()
    return te._store


class Postgres:
    """A PostgreSQL server of this machine's, on a free loopback port, in a folder of its own.

    As root (in CI), it runs as the postgres user, since initdb refuses root.
    """

    def __init__(self, folder):
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]  # Debian's postgresql package
        self.folder, self.port, self.databases = folder, free_port(), 0
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(folder, "postgres")
        self.run("initdb", "-D", folder / "data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    def run(self, program, *args):
        subprocess.run([*self.as_owner, self.bin / program, *map(str, args)], check=True, cwd="/",
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        self.run("pg_ctl", "-D", self.folder / "data", "-l", self.folder / "log", "-w", "-o",
                 f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                 "-c max_connections=300", "start")

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", self.folder / "data", "-m", mode, "-w", "stop")

    def url(self, database="postgres"):
        return f"postgresql://postgres:secret-password@127.0.0.1:{self.port}/{database}"

    def database(self):
        """A new, empty database's URL."""
        import psycopg
        self.databases += 1
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE exporter_{self.databases}")
        return self.url(f"exporter_{self.databases}")


@contextlib.contextmanager
def postgres_server():
    """A Postgres in a new folder (pytest's are closed to the postgres user), stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="twilio_exporter-test-postgres-"))
    server = Postgres(folder)
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # a test may have stopped it
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the session's tests; each takes a database of its own."""
    with postgres_server() as server:
        yield server


def call(path, method="GET", body=b"", headers=None, query="", content_type=FORM, environ=None):
    """Drive the app once through wsgiref's validator; return (code, headers, body)."""
    env = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    if content_type:
        env["CONTENT_TYPE"] = content_type
    setup_testing_defaults(env)
    env.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in (headers or {}).items()})
    env.update(environ or {})
    answered = {}
    result = validator(te.app)(env, lambda status, response_headers: answered.update(
        status=status, headers=response_headers))
    try:
        content = b"".join(result)
    finally:
        result.close()
    return int(answered["status"][:3]), dict(answered["headers"]), content


def signed_post(path, params, token=TOKEN, url=None, headers=None, **kwargs):
    """POST a form signed by the twilio library the way Twilio signs it."""
    url = url or f"http://127.0.0.1{path}"  # what setup_testing_defaults' Host gives
    signature = RequestValidator(token).compute_signature(url, params)
    return call(path, "POST", urllib.parse.urlencode(params).encode(),
                {"X-Twilio-Signature": signature, **(headers or {})}, **kwargs)


def message(sid, status, **extra):
    """Post one signed message status callback; return the HTTP code."""
    return signed_post("/webhooks/message", {"MessageSid": sid, "MessageStatus": status,
                                             "AccountSid": "AC" + "0" * 32, **extra})[0]


def voice(sid, status, **extra):
    """Post one signed call status callback; return the HTTP code."""
    return signed_post("/webhooks/call", {"CallSid": sid, "CallStatus": status, **extra})[0]


GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def clean_env(**settings):
    """This process's environment without any exporter setting, plus the given ones."""
    return {**{key: val for key, val in os.environ.items() if not key.startswith(("TWILIO_", "PROMETHEUS_"))},
            **settings}


def record(kind, sid, status, now, **fields):
    """Record one callback at a chosen time (an event's own), as moving it in from an inbox would."""
    with te.store().connection() as conn, te.store().transaction(conn):
        te.apply_callbacks(te.store(), conn, [te.new_callback(now, kind, sid, status, **fields)])


def parse_metrics(text):
    """Exposition text as {(sample name, sorted labels): value}."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(environ=None):
    """Scrape /metrics in-process (on the listener an environ names)."""
    code, _, body = call("/metrics", environ=environ)
    assert code == 200
    return parse_metrics(body.decode())


def value(samples, name, **labels):
    """One sample's value; KeyError when the series does not exist."""
    return samples[(name, tuple(sorted(labels.items())))]


def wait_for(condition, seconds=10):
    """Poll a condition until it holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.1)


def examples(count):
    """How many examples a fuzz test tries: all of them, or an eighth under make mutants, which runs it per mutant."""
    return count // 8 if os.environ.get("MUTANT_UNDER_TEST") else count


def sid(prefix, number):
    """A SID of Twilio's shape."""
    return f"{prefix}{number:032x}"


# --- endpoints ---

@pytest.mark.stores
def test_a_signed_message_callback_is_answered_200_with_no_body_and_counted():
    assert signed_post("/webhooks/message", {"MessageSid": sid("SM", 1), "MessageStatus": "sent"})[::2] == (200, b"")
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 1


@pytest.mark.stores
def test_a_signed_call_callback_is_counted():
    assert voice(sid("CA", 1), "ringing") == 200
    samples = scrape()
    assert value(samples, "twilio_call_callback_total", status="ringing") == 1
    assert value(samples, "twilio_call_status_gauge", status="ringing") == 1


def test_health_answers_ok_json_and_head_answers_with_no_body():
    code, headers, body = call("/health")
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert b'"status": "ok"' in body and b'"signatures": "checked"' in body
    assert call("/health", "HEAD")[::2] == (200, b"")


def test_health_of_a_fresh_exporter_says_what_it_runs_with_and_tracks_nothing(monkeypatch, state):
    assert json.loads(call("/health")[2]) == {
        "status": "ok", "signatures": "checked", "store": {"name": te.store().target, "up": True},
        "inbox": {"folder": str(state.parent), "backlog_bytes": 0, "backlog_seconds": 0,
                  "limit_bytes": te.INBOX_LIMIT},
        "retention_seconds": te.RETENTION_SECONDS, "tracked_messages": 0, "tracked_calls": 0, "labels": {}}
    monkeypatch.setattr(te, "AUTH_TOKENS", ())
    assert json.loads(call("/health")[2])["signatures"] == "NOT CHECKED: TWILIO_AUTH_TOKEN is not set"


@pytest.mark.stores
def test_health_reports_the_true_tracked_messages_and_calls():
    for number in range(3):
        message(sid("SM", 900 + number), "sent")
    message(sid("SM", 900), "delivered")
    voice(sid("CA", 900), "ringing")
    voice(sid("CA", 901), "completed")
    health = json.loads(call("/health")[2])
    assert (health["tracked_messages"], health["tracked_calls"]) == (3, 2)


def test_a_store_that_can_be_read_but_not_written_is_down_for_health_and_metrics_which_still_answer_200(
        monkeypatch, state):
    assert call("/health")[0] == 200
    writer = sqlite3.connect(state, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # readers go on; no other writer can
    try:
        with monkeypatch.context() as patched:
            patched.setattr(te, "BUSY_TIMEOUT_SECONDS", 0.1)  # only while the lock is surely held
            code, _, body = call("/health")  # its probe of the inbox leaves a line to move in
            health = json.loads(body)
            assert code == 200 and health["status"] == "ok" and "tracked_messages" not in health
            assert health["store"]["up"] is False
            assert health["store"]["error"].startswith("OperationalError: database is locked")
            samples = scrape()
            assert value(samples, "twilio_exporter_store_up") == 0
            assert not any(name.startswith("twilio_message_") for name, _ in samples)
    finally:
        writer.execute("ROLLBACK")
    assert json.loads(call("/health")[2])["store"] == {"name": te.store().target, "up": True}
    assert value(scrape(), "twilio_exporter_store_up") == 1


def private_listener(monkeypatch, port="9464"):
    """Configure a private listener on a port, in-process; return the environ of a request on each listener."""
    monkeypatch.setattr(te, "METRICS_BIND", f"127.0.0.1:{port}")
    monkeypatch.setattr(te, "METRICS_PORT", port)
    return {"SERVER_PORT": "80"}, {"SERVER_PORT": port}


def test_health_on_the_public_listener_says_ok_and_nothing_more(monkeypatch):
    public, private = private_listener(monkeypatch)
    assert call("/health", environ=public)[::2] == (200, b'{"status": "ok"}\n')
    assert json.loads(call("/health", environ=private)[2])["store"]["name"] == te.store().target


def test_with_a_private_listener_metrics_are_served_there_only_and_webhooks_on_the_public_one_only(monkeypatch):
    public, private = private_listener(monkeypatch)
    assert call("/metrics", environ=public)[0] == 404
    code, headers, body = call("/metrics", environ=private)
    assert code == 200 and headers["Content-Type"].startswith("text/plain") and b"twilio_exporter_store_up 1" in body
    callback = {"MessageSid": sid("SM", 932), "MessageStatus": "sent"}
    assert signed_post("/webhooks/message", callback, environ=public)[0] == 200
    not_found = ("twilio_webhook_requests_total", (("code", "404"), ("endpoint", "message")))
    before = scrape(private).get(not_found, 0)
    assert signed_post("/webhooks/message", callback, environ=private)[0] == 404
    assert scrape(private)[not_found] == before + 1


def test_without_a_private_listener_every_path_is_served_on_any_port():
    for port in ("80", "9464"):
        assert signed_post("/webhooks/message", {"MessageSid": sid("SM", 933), "MessageStatus": "sent"},
                           environ={"SERVER_PORT": port})[0] == 200
        assert call("/metrics", environ={"SERVER_PORT": port})[0] == 200
        assert b'"store"' in call("/health", environ={"SERVER_PORT": port})[2]


def test_a_broken_state_file_keeps_webhooks_and_health_at_200_and_only_the_private_listener_names_it(
        monkeypatch, state):
    public, private = private_listener(monkeypatch)
    state.write_bytes(b"not a database" * 100)
    assert call("/health", environ=public)[::2] == (200, b'{"status": "ok"}\n')
    store = json.loads(call("/health", environ=private)[2])["store"]
    assert store["up"] is False and "not a database" in store["error"] and store["name"] == str(state)
    assert signed_post("/webhooks/message", {"MessageSid": sid("SM", 934), "MessageStatus": "sent"},
                       environ=public)[0] == 200


def test_an_inbox_that_cannot_take_a_line_answers_503_naming_it_only_on_the_private_listener_and_in_the_log(
        monkeypatch, state, caplog):
    public, private = private_listener(monkeypatch)
    use_store(monkeypatch, str(state), str(state.parent / "missing"))
    for environ in (public, private):
        code, _, body = call("/health", environ=environ)
        assert code == 503 and json.loads(body)["status"] == "unavailable"
        assert (b"missing" in body) == (environ is private)
        if environ is private:
            assert "missing" in json.loads(body)["inbox"]["failure"]
        code, _, body = signed_post("/webhooks/message", {"MessageSid": sid("SM", 935), "MessageStatus": "sent"},
                                    environ=environ)
        assert code == (503 if environ is public else 404) and b"missing" not in body
        if environ is public:
            assert json.loads(body) == {"status": "unavailable", "reason": "see the exporter's log"}
    assert [record.levelname for record in caplog.records if str(state.parent / "missing") in record.getMessage()]\
        == ["ERROR"]  # the public 503 says "see the exporter's log": it is there


def test_health_says_when_signatures_are_not_checked(monkeypatch):
    monkeypatch.setattr(te, "AUTH_TOKENS", ())
    assert b"NOT CHECKED: TWILIO_AUTH_TOKEN is not set" in call("/health")[2]


def test_metrics_are_served_with_gzip_and_openmetrics_negotiation():
    _, headers, body = call("/metrics", headers={"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and body[:2] == b"\x1f\x8b"
    _, headers, body = call("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert headers["Content-Type"].startswith("application/openmetrics-text") and body.endswith(b"# EOF\n")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_a_wrong_method_on_a_webhook_gets_405_with_allow_post(method):
    code, headers, _ = call("/webhooks/message", method)
    assert (code, headers["Allow"]) == (405, "POST")


def test_a_wrong_method_on_health_gets_405():
    code, headers, _ = call("/health", "POST")
    assert (code, headers["Allow"]) == (405, "GET, HEAD")


def test_an_unknown_path_gets_404():
    assert call("/webhooks/sms", "POST")[0] == 404
    assert call("/")[0] == 404
    root = {"REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(root)
    del root["PATH_INFO"]  # PEP 3333 lets a server leave out a PATH_INFO that would be empty
    answered = []
    te.app(root, lambda status, headers: answered.append(status))
    assert answered == ["404 Not Found"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x", None])
def test_a_body_that_is_not_a_urlencoded_form_gets_415(content_type):
    assert call("/webhooks/message", "POST", b"MessageSid=SM1&MessageStatus=sent", content_type=content_type)[0] == 415


def test_a_form_content_type_with_a_charset_is_accepted():
    params = {"MessageSid": sid("SM", 2), "MessageStatus": "sent"}
    assert signed_post("/webhooks/message", params, content_type=FORM + "; charset=UTF-8")[0] == 200


def test_a_body_over_64_kib_gets_413_and_is_never_read():
    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("the body was read")
    code, _, body = call("/webhooks/message", "POST",
                         environ={"CONTENT_LENGTH": str(64 * 1024 + 1), "wsgi.input": Unreadable()})
    assert code == 413 and b"65537 bytes" in body


@pytest.mark.parametrize("body, reason", [
    (b"MessageSid=SM1&MessageStatus=%ff", b"UTF-8"),
    (b"\xff\xfe", b"UTF-8"),
    (b"MessageSid=SM1&garbage", b"not a form"),
    (b"MessageSid=SM1&MessageSid=SM2&MessageStatus=sent", b"repeats"),
    (b"&".join(b"f%d=1" % n for n in range(101)), b"not a form"),
])
def test_a_body_that_is_not_valid_utf8_or_not_a_form_gets_400(body, reason):
    code, _, answer = call("/webhooks/message", "POST", body,
                           {"X-Twilio-Signature": "irrelevant"})
    assert code == 400 and reason in answer
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 0


@pytest.mark.parametrize("params", [
    {"MessageStatus": "sent"},
    {"MessageSid": sid("SM", 3)},
    {"MessageSid": "", "MessageStatus": "sent"},
    {"MessageSid": "SM not a sid", "MessageStatus": "sent"},
    {"MessageSid": "S" * 65, "MessageStatus": "sent"},
])
def test_a_missing_or_malformed_sid_or_status_gets_400(params):
    code, _, body = signed_post("/webhooks/message", params)
    assert code == 400 and b"MessageSid and MessageStatus: a message SID and status are required" in body


def test_older_callbacks_sms_sid_and_sms_status_fields_are_understood():
    assert signed_post("/webhooks/message", {"SmsSid": sid("SM", 4), "SmsStatus": "sent"})[0] == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 1


def test_every_rejection_logs_one_line_with_its_reason_the_remote_address_and_never_a_token(caplog):
    call("/webhooks/message", "POST", b"x", content_type="text/plain")
    signed_post("/webhooks/message", {"MessageSid": sid("SM", 5), "MessageStatus": "sent"}, token="wrong-token",
                environ={"REMOTE_ADDR": "203.0.113.9"})
    rejections = [record.getMessage() for record in caplog.records if "rejected" in record.getMessage()]
    assert len(rejections) == 2
    assert "415" in rejections[0] and "content type 'text/plain'" in rejections[0]
    assert "403" in rejections[1] and "X-Twilio-Signature" in rejections[1] and "from 203.0.113.9" in rejections[1]
    assert not any(TOKEN in line or "wrong-token" in line for line in caplog.text.splitlines())


@pytest.mark.stores
def test_rejected_requests_change_no_callback_count():
    before = scrape()
    call("/webhooks/message", "POST", b"MessageSid=SM1&MessageStatus=sent", content_type="text/plain")
    signed_post("/webhooks/message", {"MessageSid": sid("SM", 6), "MessageStatus": "sent"}, token="wrong")
    after = scrape()
    callback_samples = [key for key in after if "callback" in key[0] or "gauge" in key[0]]
    assert all(after[key] == before[key] for key in callback_samples)


def test_webhook_requests_are_counted_by_endpoint_and_code():
    before = scrape()
    message(sid("SM", 7), "sent")
    call("/webhooks/message", "GET")
    signed_post("/webhooks/call", {"CallSid": sid("CA", 7), "CallStatus": "ringing"}, token="wrong")
    after = scrape()
    for endpoint, code in (("message", "200"), ("message", "405"), ("call", "403")):
        key = ("twilio_webhook_requests_total", (("code", code), ("endpoint", endpoint)))
        assert after[key] - before[key] == 1
    key = ("twilio_webhook_request_duration_seconds_count", (("endpoint", "message"),))
    assert after[key] - before[key] == 2


def test_a_bug_becomes_a_logged_500_and_the_worker_lives_on(monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("boom")
    monkeypatch.setattr(te, "inbox_line", broken)
    code, _, body = signed_post("/webhooks/message", {"MessageSid": sid("SM", 8), "MessageStatus": "sent"})
    assert (code, json.loads(body)) == (500, {"status": "error", "reason": "internal error, see the exporter's log"})
    assert caplog.messages == ["bug handling POST '/webhooks/message'"]
    assert "RuntimeError: boom" in caplog.text  # its traceback
    assert call("/health")[0] == 200


def test_a_corrupt_state_file_keeps_webhooks_at_200_and_once_moved_aside_a_fresh_one_counts_what_they_took(state):
    state.write_bytes(b"this is not a database" * 100)
    assert message(sid("SM", 9), "sent") == 200
    samples = scrape()
    assert value(samples, "twilio_exporter_store_up") == 0 and value(samples, "twilio_exporter_inbox_backlog_bytes") > 0
    assert not any(name.startswith("twilio_message_") for name, _ in samples)
    health = json.loads(call("/health")[2])
    assert health["status"] == "ok" and "not a database" in health["store"]["error"]
    state.rename(state.with_name("state.sqlite3.corrupt"))  # what the README says to do
    samples = scrape()
    assert value(samples, "twilio_exporter_store_up") == 1 and value(samples, "twilio_exporter_inbox_backlog_bytes") == 0
    assert value(samples, "twilio_message_callback_total", status="sent") == 1


def test_a_state_file_that_cannot_be_created_answers_503_and_recovers_once_it_can(monkeypatch, tmp_path):
    use_store(monkeypatch, str(tmp_path / "not-yet" / "state.sqlite3"))
    assert message(sid("SM", 45), "sent") == 503  # its inbox goes beside it
    code, _, body = call("/health")
    assert code == 503 and b"No such file or directory" in body and b"not-yet" in body
    (tmp_path / "not-yet").mkdir()
    assert message(sid("SM", 45), "sent") == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 1


def test_a_failing_tidy_up_is_logged_once_and_its_recovery_too(monkeypatch, caplog):
    failing = threading.Event()
    original = te.tidy

    def tidy(store, conn):
        if failing.is_set():
            raise sqlite3.OperationalError("disk I/O error")
        return original(store, conn)
    monkeypatch.setattr(te, "tidy", tidy)
    monkeypatch.setattr(te, "TIDY_INTERVAL_SECONDS", 0.01)
    monkeypatch.setattr(te, "FAILURE_RETRY_SECONDS", 0)
    failing.set()
    assert call("/health")[0] == 200  # starts the worker's upkeep
    wait_for(lambda: f"{te.store().target}: tidying failed" in caplog.text)
    time.sleep(0.1)
    failing.clear()
    wait_for(lambda: f"{te.store().target}: tidying works again" in caplog.text)
    assert caplog.text.count(f"{te.store().target}: tidying failed, retrying every 0.01 s: disk I/O error") == 1
    assert "twilio_exporter_store_up 1.0" in call("/metrics")[2].decode()  # the store itself was up throughout


def test_a_locked_state_file_keeps_webhooks_at_200_and_what_they_took_is_counted_once_when_it_goes(
        monkeypatch, state):
    monkeypatch.setattr(te, "BUSY_TIMEOUT_SECONDS", 0.1)
    assert message(sid("SM", 10), "queued") == 200
    blocker = sqlite3.connect(state, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert [message(sid("SM", 10 + number % 20), "sent") for number in range(30)] == [200] * 30  # 10 retried
        samples = scrape()
        assert value(samples, "twilio_exporter_store_up") == 0
        assert value(samples, "twilio_exporter_inbox_backlog_bytes") > 30 * 80
        assert 0 < value(samples, "twilio_exporter_inbox_backlog_seconds") < 60
        assert json.loads(call("/health")[2])["store"]["up"] is False
    finally:
        blocker.execute("ROLLBACK")
    monkeypatch.setattr(te, "BUSY_TIMEOUT_SECONDS", 5)  # the lock is gone: the scrape may wait out the upkeep thread
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 20
    assert value(samples, "twilio_message_status_gauge", status="sent") == 20
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 10
    assert value(samples, "twilio_exporter_inbox_backlog_bytes") == 0


@pytest.fixture
def own_postgres():
    """A PostgreSQL server for one test, which may stop and start it."""
    with postgres_server() as server:
        yield server


@pytest.mark.server
def test_postgresql_stopped_keeps_webhooks_at_200_and_what_they_took_is_counted_once_it_is_back(
        own_postgres, monkeypatch, tmp_path, caplog):
    use_store(monkeypatch, own_postgres.database(), str(tmp_path))
    assert message(sid("SM", 1900), "queued") == 200
    assert value(scrape(), "twilio_message_callback_total", status="queued") == 1
    own_postgres.stop()
    assert [message(sid("SM", 1900 + number % 10), "sent") for number in range(15)] == [200] * 15  # 5 retried
    samples = scrape()
    assert value(samples, "twilio_exporter_store_up") == 0 and value(samples, "twilio_exporter_inbox_backlog_bytes") > 0
    code, _, body = call("/health")
    health = json.loads(body)
    assert code == 200 and health["store"]["up"] is False and health["store"]["error"]
    own_postgres.start()
    samples = scrape()
    assert value(samples, "twilio_exporter_store_up") == 1 and value(samples, "twilio_exporter_inbox_backlog_bytes") == 0
    assert value(samples, "twilio_message_callback_total", status="sent") == 10
    assert value(samples, "twilio_message_status_gauge", status="sent") == 10
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 5
    assert "secret-password" in te.store().target and "secret-password" not in body.decode() + caplog.text


def test_past_the_inbox_limit_webhooks_and_health_answer_503_until_the_store_takes_the_backlog_in(
        monkeypatch, state):
    monkeypatch.setattr(te, "BUSY_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(te, "INBOX_LIMIT", 2000)
    blocker = sqlite3.connect(state, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        answered = []
        wait_for(lambda: answered.append(message(sid("SM", 1950 + len(answered)), "sent")) or answered[-1] == 503)
        assert 2000 // 100 <= answered.count(200) and answered.count(503) == 1
        code, _, body = call("/health")
        assert code == 503 and b"over TWILIO_EXPORTER_INBOX_LIMIT=2000" in body
    finally:
        blocker.execute("ROLLBACK")
    wait_for(lambda: message(sid("SM", 1949 + len(answered)), "sent") == 200)  # Twilio's retry of the 503
    assert call("/health")[0] == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == answered.count(200) + 1


def test_waiting_out_the_lock_while_other_workers_move_the_inboxes_in_is_no_failure_and_a_held_lock_is(
        state, monkeypatch):
    conn, real = te.store().open(), te.move_inboxes_in

    def locked_out_while_another_worker_folds(store, conn):
        other = store.open()
        real(store, other)  # another worker's fold takes this worker's line too
        other.close()
        raise sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(te, "move_inboxes_in", locked_out_while_another_worker_folds)
    dead_workers_inbox(inbox_line(sid("SM", 1800), "sent"))
    assert te.fold_inbox(te.store(), conn) == 0

    def locked_out(store, conn):
        raise sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(te, "move_inboxes_in", locked_out)
    dead_workers_inbox(inbox_line(sid("SM", 1801), "sent"), name="99999.2")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        te.fold_inbox(te.store(), conn)  # nothing moved meanwhile: the lock is held by something else
    conn.close()
    monkeypatch.setattr(te, "move_inboxes_in", real)
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 2


def test_a_store_on_a_full_disk_keeps_webhooks_at_200_and_each_callback_is_counted_once_when_space_returns(
        monkeypatch, caplog):
    full, original = threading.Event(), te.apply_callbacks

    def apply_callbacks(store, conn, callbacks):
        if full.is_set():
            raise sqlite3.OperationalError("database or disk is full")  # SQLite's own answer
        original(store, conn, callbacks)
    monkeypatch.setattr(te, "apply_callbacks", apply_callbacks)
    assert message(sid("SM", 199), "sent") == 200
    full.set()
    assert [message(sid("SM", 200 + number), "sent") for number in range(20)] == [200] * 20
    wait_for(lambda: "moving the inboxes in failed, retrying every 1 s: database or disk is full" in caplog.text)
    # What happens meanwhile, and how much is waiting: the failure is logged once, by the one worker.
    assert re.search(r"database or disk is full; callbacks are kept in the inbox meanwhile \(\d+ bytes so far\)",
                     caplog.text)
    assert value(scrape(), "twilio_exporter_store_up") == 0
    full.clear()
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 21
    wait_for(lambda: "moving the inboxes in works again after" in caplog.text)
    assert re.search(r"moving the inboxes in works again after \d+ s; \d+ bytes had waited in the inbox, and move "
                     r"in now", caplog.text)


@pytest.mark.stores
def test_callbacks_from_many_threads_are_each_counted_once():
    callbacks = [(sid("SM", 500 + number % 40), "sent") for number in range(80)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda callback: message(*callback), callbacks))
    assert codes == [200] * 80
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 40
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 40


def inbox_files():
    """The inbox files of the store of the test."""
    return sorted(Path(os.path.dirname(te.store().inbox.prefix)) / name for name in te.store().inbox.files())


def dead_workers_inbox(*lines, name="99999.1"):
    """An inbox file as a worker killed after writing these lines leaves it: unlocked, and made now unless named so."""
    if name.count(".") < 2:
        name = f"deadhost.{name}.{STARTED_NS}"
    path = Path(te.store().inbox.prefix + name)
    # Whole or not at all: an upkeep thread that found it empty would take it as done and remove it.
    path.with_name(path.name + ".new").write_bytes(b"".join(lines))
    path.with_name(path.name + ".new").rename(path)
    return path


def inbox_line(sid, status, kind="message"):
    """One callback as a worker writes it to its inbox."""
    return te.inbox_line(te.new_callback(time.time(), te.KINDS[kind], sid, status))


def signed_line(*fields):
    """An inbox line of any fields, with a checksum that matches them: damaged only in meaning."""
    record = "\t".join(fields).encode()
    return b"\n%s\t%08x\n" % (record, zlib.crc32(record))


@pytest.mark.stores
def test_a_callback_written_by_a_worker_killed_before_answering_counts_once_with_its_retry(state):
    dead_workers_inbox(inbox_line(sid("SM", 700), "delivered"))
    assert message(sid("SM", 700), "delivered") == 200  # Twilio's retry, as no 200 came
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="delivered") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 1


@pytest.mark.stores
def test_the_unfinished_line_of_a_worker_killed_while_writing_is_skipped_and_logged(state, caplog):
    dead_workers_inbox(inbox_line(sid("SM", 701), "sent"), inbox_line(sid("SM", 702), "sent")[:30])
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1
    assert "skipped the 29-byte unfinished line a worker was writing as it died" in caplog.text


@pytest.mark.stores
def test_a_damaged_line_is_logged_and_skipped_and_the_lines_around_it_are_counted(state, caplog):
    first = inbox_line(sid("SM", 703), "sent")
    damaged = inbox_line(sid("SM", 704), "sent").replace(sid("SM", 704).encode(), sid("SM", 714).encode())  # valid but for its CRC
    dead_workers_inbox(first, damaged, inbox_line(sid("SM", 705), "sent"))
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 2
    assert value(samples, "twilio_message_status_gauge", status="sent") == 2
    assert f"skipped a line at byte {len(first) + 1}, damaged (its checksum does not match)" in caplog.text


@pytest.mark.parametrize("version", [
    (),      # release 0.1: no version field, then time, kind, SID, status, error code, seconds
    ("2",),  # version 2: the same fields after the version, no labels
])
@pytest.mark.stores
def test_a_line_written_by_an_earlier_release_is_counted_after_an_upgrade(state, labels, version):
    labels("sender")
    dead_workers_inbox(signed_line(*version, repr(time.time() - 5), "message", sid("SM", 790), "sent", "", ""),
                       signed_line(*version, repr(time.time()), "message", sid("SM", 790), "undelivered", "30007", ""),
                       signed_line(*version, repr(time.time()), "call", sid("CA", 790), "completed", "", "42"))
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="undelivered", sender="unknown") == 1
    labels()
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1
    assert value(samples, "twilio_message_status_gauge", status="undelivered") == 1
    assert value(samples, "twilio_message_errors_total", error_code="30007") == 1
    assert value(samples, "twilio_call_duration_seconds_sum") == 42


LINE_VERSION_1_TIME = repr(time.time())
POISON_FIELDS = st.lists(st.sampled_from(["2", "1", "message", "call", sid("SM", 1), "sent", "delivered",
                                          "failed", "completed", "", "unknown", "30007", "42", "nan", "inf",
                                          "1e999", "-1", repr(time.time())]) | st.text(max_size=12), max_size=9)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=POISON_FIELDS)
@example(fields=[repr(time.time()), "call", sid("CA", 3), "completed", "", "12x"])  # seconds that do not parse
@example(fields=[LINE_VERSION_1_TIME, "message", sid("SM", 3), "sent", "", "", "a field more"])
@example(fields=["2", "nan", "call", sid("CA", 3), "completed", "", "nan"])
@example(fields=["3", repr(time.time()), "call", sid("CA", 3), "completed", "", "", "", "", "A" * 65, ""])
def test_no_single_line_can_stop_the_lines_around_it_being_counted(state, fields):
    # hypothesis runs every example on this test's one state file: each uses SIDs and an inbox of its own
    number = time.time_ns()
    before = value(scrape(), "twilio_call_callback_total", status="ringing")
    poison = signed_line(*(field.replace("\t", " ").replace("\n", " ") for field in fields))
    dead_workers_inbox(inbox_line(sid("CA", 2 * number + 1), "ringing", "call"), poison,
                       inbox_line(sid("CA", 2 * number + 2), "ringing", "call"), name=f"1.{number}")
    assert value(scrape(), "twilio_call_callback_total", status="ringing") == before + 2


def test_a_line_cut_short_by_a_full_disk_answers_503_and_never_spoils_the_next_one(state, caplog):
    assert message(sid("SM", 760), "sent") == 200
    inbox = te.store().inbox.file

    class CutShort:
        def write(self, line):
            return inbox.write(line[:20])
    te.store().inbox.file = CutShort()
    try:
        code, _, body = signed_post("/webhooks/message", {"MessageSid": sid("SM", 761), "MessageStatus": "sent"})
    finally:
        te.store().inbox.file = inbox
    assert code == 503 and f"inbox {te.store().inbox.path}: disk full: 20 of".encode() in body
    assert message(sid("SM", 761), "sent") == 200  # Twilio's retry
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 2
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 0
    assert "damaged (its checksum does not match)" in caplog.text


@pytest.mark.stores
def test_a_failed_move_commits_nothing_and_the_next_counts_every_line_once(state, monkeypatch):
    dead_workers_inbox(inbox_line(sid("SM", 706), "sent"), inbox_line(sid("SM", 707), "failed"))

    def failing(conn, callbacks):
        conn.execute("SELECT * FROM no_such_table")
    with monkeypatch.context() as patched:
        patched.setattr(te, "apply_callbacks", failing)
        assert value(scrape(), "twilio_exporter_store_up") == 0
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1
    assert value(samples, "twilio_message_callback_total", status="failed") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 0


def test_a_bug_while_moving_in_is_logged_with_its_traceback_and_the_backlog_waits_in_the_inbox_until_it_is_gone(
        monkeypatch, caplog):
    buggy, original = threading.Event(), te.apply_callbacks

    def apply_callbacks(store, conn, callbacks):
        if buggy.is_set():
            raise RuntimeError("boom")
        original(store, conn, callbacks)
    monkeypatch.setattr(te, "apply_callbacks", apply_callbacks)
    buggy.set()
    assert message(sid("SM", 770), "sent") == 200
    wait_for(lambda: "moving the inboxes in failed" in caplog.text and "RuntimeError: boom" in caplog.text)
    assert message(sid("SM", 770), "sent") == 200
    assert json.loads(call("/health")[2])["inbox"]["backlog_bytes"] > 0
    buggy.clear()
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 1


@pytest.mark.stores
def test_one_move_reads_at_most_fold_bytes_across_all_the_inbox_files(state, monkeypatch):
    lines = [inbox_line(sid("SM", 780 + number), "sent") for number in range(30)]
    monkeypatch.setattr(te, "FOLD_BYTES", len(b"".join(lines[:10])) + 10)
    for file in range(3):
        dead_workers_inbox(*lines[10 * file:10 * file + 10], name=f"99999.{file}")
    conn = te.store().open()  # a connection of its own: no upkeep thread folds meanwhile
    assert te.fold_inbox(te.store(), conn) == te.FOLD_BYTES  # the first file, and 10 bytes of the second: no line
    assert conn.execute("SELECT count(*) FROM item").fetchone() == (10,)
    conn.close()
    # a scrape moves one more FOLD_BYTES, the upkeep thread the rest: none is lost
    wait_for(lambda: value(scrape(), "twilio_message_callback_total", status="sent") == 30)


def test_a_whole_move_of_bytes_with_no_line_in_them_is_skipped_and_logged_not_read_forever(state, monkeypatch,
                                                                                           caplog):
    monkeypatch.setattr(te, "FOLD_BYTES", 100)
    dead_workers_inbox(b"x" * 150, inbox_line(sid("SM", 810), "sent"))
    wait_for(lambda: value(scrape(), "twilio_message_callback_total", status="sent") == 1)
    assert "skipped 100 bytes at 0 holding no line at all" in caplog.text


@pytest.mark.stores
def test_inbox_files_are_replaced_as_they_fill_and_removed_once_moved_in(state, monkeypatch):
    monkeypatch.setattr(te, "INBOX_ROTATE_BYTES", 500)
    dead = dead_workers_inbox(inbox_line(sid("SM", 708), "sent"))
    seen = set()
    for number in range(40):
        assert message(sid("SM", 710 + number), "sent") == 200
        seen.update(inbox_files())
    assert len(seen) >= 40 * len(inbox_line(sid("SM", 710), "sent")) // 500  # a new file each 500 bytes
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 41
    # Each file is removed once read to its end and let go by its worker; the worker's own stays.
    assert inbox_files() == [Path(te.store().inbox.path)]
    assert not dead.exists()
    assert message(sid("SM", 750), "sent") == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 42


def test_a_removed_inbox_files_name_is_remembered_a_week_so_a_copy_brought_back_adds_nothing(state):
    line = inbox_line(sid("SM", 751), "sent")
    dead = dead_workers_inbox(line)
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 1
    assert not dead.exists()
    with te.store().connection() as conn:
        te.prune(te.store(), conn, time.time() + te.INBOX_MEMORY_SECONDS - 60)  # a minute short of a week later
    dead_workers_inbox(line)  # a backup of it restored
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 0  # not even read
    with te.store().connection() as conn:
        te.prune(te.store(), conn, time.time() + te.INBOX_MEMORY_SECONDS + 60)
        assert conn.execute("SELECT count(*) FROM inbox WHERE name = ?", (dead.name,)).fetchone() == (0,)


def test_an_inbox_file_older_than_the_store_remembers_is_refused_kept_logged_once_and_shown_on_health(caplog):
    week = te.INBOX_MEMORY_SECONDS
    old = dead_workers_inbox(inbox_line(sid("SM", 752), "sent"), name=f"far.1.{time.time_ns() - (week + 3600) * 10**9}")
    recent = dead_workers_inbox(inbox_line(sid("SM", 753), "sent"), name=f"far.2.{time.time_ns() - (week - 3600) * 10**9}")
    timeless = dead_workers_inbox(inbox_line(sid("SM", 754), "sent"), name="far.3.copy2")  # no time to go by
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1  # the recent one only
    assert value(samples, "twilio_exporter_inbox_backlog_bytes") == 0  # a refused file is no backlog
    assert old.exists() and timeless.exists() and not recent.exists()
    assert json.loads(call("/health")[2])["inbox"]["refused"] == [old.name, timeless.name]
    scrape()
    refused = [line for line in caplog.messages if old.name in line]
    assert refused == [f"inbox {old.name}: not read, as it is older than the {week} s the store remembers inbox files "
                       "for, and may have been counted already. Remove it if so; if its callbacks were never counted, give "
                       f"it a name that ends in the time now (mv {old} {te.store().inbox.prefix}{te.HOST}.recovered."
                       "$(date +%s%N))"]
    # What the line says to do when its callbacks were never counted: a name that ends in the time now.
    old.rename(old.with_name(f"{te.store().inbox.prefix}{te.HOST}.recovered.{time.time_ns()}".rpartition("/")[2]))
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 2


def test_a_closed_store_stops_its_upkeep_thread_and_closes_its_connection():
    store = te.store()
    with store.connection() as conn:  # opens it, and starts the upkeep thread
        pass
    store.close()
    store.upkeep.join(timeout=10)
    assert not store.upkeep.is_alive()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        conn.execute("SELECT 1")


def test_an_empty_file_in_the_multiprocess_folder_does_not_break_the_scrape():
    empty = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]) / "counter_4194999.db"
    empty.touch()
    try:
        assert call("/metrics")[0] == 200
    finally:
        empty.unlink()


def test_child_exit_removes_a_dead_workers_empty_files_and_keeps_its_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    hooks = runpy.run_path(str(HERE / "gunicorn.conf.py"))
    (tmp_path / "counter_101.db").touch()
    (tmp_path / "histogram_101.db").write_bytes(b"\0" * 65536)
    hooks["child_exit"](None, type("Worker", (), {"pid": 101}))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["histogram_101.db"]


@pytest.mark.server
def test_child_exit_imports_nothing_so_a_second_death_inside_it_cannot_stop_the_master(tmp_path):
    # gunicorn 23 runs child_exit inside its SIGCHLD handler, so a second worker's death can run it
    # again before the first call returns. An import inside the hook was re-entered half-done, and
    # the ImportError stopped the master. Here a second death comes at the k-th import the hook
    # makes, for each k, in a fresh interpreter, with the config loaded afresh each time.
    script = f"""
import runpy, sys
state = dict(inside=False, imports=0, at=0)
class SecondDeathAtTheKthImport:
    def find_spec(self, name, path=None, target=None):
        if state["inside"]:
            state["imports"] += 1
            if state["imports"] == state["at"]:
                state["inside"] = False
                hooks["child_exit"](None, type("Worker", (), {{"pid": 2}}))
                state["inside"] = True
        return None
sys.meta_path.insert(0, SecondDeathAtTheKthImport())
for at in range(1, 40):
    for name in [name for name in sys.modules if name.startswith("prometheus_client")]:
        del sys.modules[name]
    hooks = runpy.run_path({str(HERE / "gunicorn.conf.py")!r})
    state.update(inside=True, imports=0, at=at)
    hooks["child_exit"](None, type("Worker", (), {{"pid": 1}}))
    state["inside"] = False
"""
    result = subprocess.run([sys.executable, "-c", script], env=clean_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path)),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_process_that_used_the_store_exits_without_waiting_for_its_upkeep_thread(tmp_path):
    (tmp_path / "metrics").mkdir()
    script = "import twilio_exporter as te\nwith te.store().connection():\n    pass\nprint('done')\n"
    result = subprocess.run([sys.executable, "-c", script], cwd=HERE, capture_output=True, text=True, timeout=30,
                            env=clean_env(TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"),
                                          PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics")))
    assert (result.returncode, result.stdout) == (0, "done\n"), result.stderr


# --- hostile clients ---

WSGI_TEXT = st.text(st.characters(max_codepoint=255), max_size=40)
FIELD_NAMES = st.sampled_from(["MessageSid", "MessageStatus", "SmsSid", "CallSid", "CallStatus", "ErrorCode",
                               "CallDuration"]) | st.text(max_size=12)
FORM_BODIES = st.dictionaries(FIELD_NAMES, st.text(max_size=40), max_size=8).map(
    lambda fields: urllib.parse.urlencode(fields).encode())
REQUESTS = st.fixed_dictionaries({
    "REQUEST_METHOD": st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]) | st.text(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10),
    "PATH_INFO": st.sampled_from(["/webhooks/message", "/webhooks/call", "/webhooks/events", "/health", "/metrics",
                                  "/"]) | WSGI_TEXT,
    "QUERY_STRING": WSGI_TEXT,
    "CONTENT_TYPE": st.sampled_from([FORM, FORM + "; charset=utf-8", "application/json", ""]) | WSGI_TEXT,
    "CONTENT_LENGTH": st.none() | st.integers(-100, 10 ** 7).map(str) | WSGI_TEXT,
    "HTTP_HOST": st.just("127.0.0.1") | WSGI_TEXT,
    "HTTP_X_TWILIO_SIGNATURE": st.none() | WSGI_TEXT,
    "HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS": st.none() | WSGI_TEXT,
    "HTTP_ACCEPT": st.none() | st.just("application/openmetrics-text; version=1.0.0") | WSGI_TEXT,
    "wsgi.url_scheme": st.sampled_from(["http", "https"]),
})


def call_raw(request, body):
    """Call the app with a raw environ and no validator, as a hostile client's request reaches it."""
    env = {key: val for key, val in request.items() if val is not None}
    env["wsgi.input"] = io.BytesIO(body)
    setup_testing_defaults(env)
    answered = []
    content = b"".join(te.app(env, lambda status, headers: answered.append(status)))
    return int(answered[0][:3]), content


def counter_table():
    """Every count the state file holds."""
    with te.store().connection() as conn:
        te.fold_inbox(te.store(), conn)
        return conn.execute("SELECT name, label, value FROM counter ORDER BY name, label").fetchall()


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=REQUESTS, body=st.binary(max_size=300) | FORM_BODIES)
def test_no_request_gets_a_5xx_or_changes_a_count_without_a_valid_signature(request, body):
    before = counter_table()
    code, _ = call_raw(request, body)
    assert code < 500
    assert counter_table() == before


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(st.tuples(REQUESTS, FORM_BODIES), max_size=5))
def test_unsigned_traffic_keeps_the_exposition_parseable_and_its_label_values_bounded(requests, monkeypatch):
    monkeypatch.setattr(te, "AUTH_TOKENS", ())
    for request, body in requests:
        assert call_raw({**request, "CONTENT_LENGTH": str(len(body))}, body)[0] < 500
    families = list(text_string_to_metric_families(call("/metrics")[2].decode()))
    labels = {(family.name, key, val) for family in families for sample in family.samples
              for key, val in sample.labels.items()}
    statuses = {val for name, key, val in labels if key == "status"}
    assert statuses <= set(te.KINDS["message"].statuses) | set(te.KINDS["call"].statuses)
    assert {val for name, key, val in labels if key == "endpoint"} == {"message", "call", "events"}
    event_types = {val for name, key, val in labels if key == "type" and name == "twilio_events"}
    assert event_types == {*te.EVENT_TYPES, "com.twilio.eventstreams.test-event", "other"}
    codes = {val for name, key, val in labels if key == "error_code"}
    assert all(code in ("unknown", "other") or code.isdigit() and len(code) <= 6 for code in codes)
    assert {val for name, key, val in labels if key == "answered_by"} == set(te.ANSWERED_BY)
    assert {val for name, key, val in labels if name == "twilio_message_opt_outs"} == set(te.OPT_OUT_TYPES)
    sip_codes = {val for name, key, val in labels if name == "twilio_call_sip_responses"}
    assert all(code == "other" or 100 <= int(code) <= 699 for code in sip_codes)


def valid_callbacks(kind):
    """Forms of genuine callbacks of one kind, as Twilio sends them."""
    return st.fixed_dictionaries(
        {kind.sid_fields[0]: st.integers(0, 10 ** 6).map(lambda number: sid(kind.name[:2].upper(), number)),
         kind.status_fields[0]: st.sampled_from(kind.statuses[:-1])},
        optional={"AccountSid": st.just(ACCOUNT), "ErrorCode": st.sampled_from(["30007", "30003", ""]),
                  "CallDuration": st.sampled_from(["0", "42", "x"]), "To": st.just("+15551234567")})


# Genuine callbacks, then mutated: a field dropped, changed or added.
SEEDED_CALLBACKS = st.sampled_from(list(te.KINDS.values())).flatmap(lambda kind: st.tuples(
    st.just(f"/webhooks/{kind.name}"), valid_callbacks(kind),
    st.sampled_from([None, *kind.sid_fields, *kind.status_fields]),
    st.dictionaries(FIELD_NAMES, st.text(max_size=40), max_size=2)))


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(callback=SEEDED_CALLBACKS, signature=st.none() | WSGI_TEXT | st.just("other-token"))
def test_a_genuine_or_mutated_callback_without_its_signature_is_never_counted(callback, signature):
    path, form, dropped, changed = callback
    form = {**{name: val for name, val in form.items() if name != dropped}, **changed}
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    if signature == "other-token":
        headers["X-Twilio-Signature"] = RequestValidator("other-token").compute_signature(
            f"http://127.0.0.1{path}", form)
    before = counter_table()
    code = call(path, "POST", urllib.parse.urlencode(form).encode(), headers)[0]
    assert code in (400, 403)
    assert counter_table() == before
    kind = te.KINDS[te.WEBHOOKS[path]]
    whole = re.fullmatch("[A-Za-z0-9]{1,64}", next((form[name] for name in kind.sid_fields if form.get(name)), "")) \
        and any(form.get(name) for name in kind.status_fields)
    assert signed_post(path, form)[0] == (200 if whole else 400)  # the same form, signed as Twilio signs


# --- Event Streams ---

def iso(when):
    """Unix time as Event Streams writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{int(when % 1 * 1000):03d}Z"


def cloud_event(event_type, source, schema, key, when, data):
    """A CloudEvent as Event Streams sends it; its id stays the same for the same key, as across retries."""
    stamp = iso(time.time() if when is None else when)
    return {"specversion": "1.0", "type": event_type, "source": source,
            "id": "EZ" + zlib.crc32(key.encode()).to_bytes(4, "big").hex() * 4,
            "dataschema": f"https://events-schemas.twilio.com/{schema}", "datacontenttype": "application/json",
            "time": stamp, "data": {"timestamp": stamp, **data}}


def message_event(message_sid, status, when=None, **data):
    """A Messaging.MessageStatus CloudEvent as Twilio sends it (status in upper case)."""
    event_type = f"com.twilio.messaging.message.{status}"
    return cloud_event(event_type, f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{message_sid}",
                       "Messaging.MessageStatus/7", f"{message_sid}{status}", when,
                       {"messageSid": message_sid, "accountSid": ACCOUNT, "eventName": event_type,
                        "apiVersion": "2010-04-01", "from": "+11234567890", "to": "+12345678901",
                        "messageStatus": status.upper(), **data})


def call_event(call_sid, event, parameters=None, when=None, prefix="com.twilio.voice.status-callback.call."):
    """A Voice.WebhookEvent CloudEvent, with the classic callback's fields in request.parameters."""
    return cloud_event(prefix + event, f"/v1/Calls/{call_sid}", "Voice.WebhookEvent/2", f"{call_sid}{event}", when,
                       {"sid": call_sid, "eventSid": "EV" + "0" * 32,
                        "request": {"method": "POST", "url": "https://example.com/status",
                                    "parameters": parameters or {}},
                        "response": {"responseCode": 200}})


def json_signature(url, body, token=TOKEN, body_hash=None):
    """Sign a JSON body as Twilio does: compute_hash, then the URL with bodySHA256; return (query, signature)."""
    validator = RequestValidator(token)
    query = "bodySHA256=" + (validator.compute_hash(body) if body_hash is None else body_hash)
    return query, validator.compute_signature(f"{url}?{query}", {})


def signed_events(events, token=TOKEN, body=None, body_hash=None, **kwargs):
    """POST an Event Streams batch signed as Twilio signs JSON."""
    body = json.dumps(events) if body is None else body
    query, signature = json_signature("http://127.0.0.1/webhooks/events", body, token, body_hash)
    return call("/webhooks/events", "POST", body.encode(), {"X-Twilio-Signature": signature}, query=query,
                content_type="application/json", **kwargs)


def events_received(event_type):
    """twilio_events_total of one type: like every request metric, it runs on across this process's tests."""
    return value(scrape(), "twilio_events_total", type=event_type)


@pytest.mark.stores
def test_message_status_events_are_counted_as_their_callbacks_would_be():
    undelivered = events_received("com.twilio.messaging.message.undelivered")
    assert signed_events([message_event(sid("SM", 960), "sent"), message_event(sid("SM", 960), "undelivered",
                                                                                errorCode=30007)])[::2] == (200, b"")
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1
    assert value(samples, "twilio_message_status_gauge", status="undelivered") == 1
    assert value(samples, "twilio_message_errors_total", error_code="30007") == 1
    assert events_received("com.twilio.messaging.message.undelivered") == undelivered + 1


def test_every_event_of_a_batch_is_counted_in_twilio_events_total():
    delivered = events_received("com.twilio.messaging.message.delivered")
    signed_events([message_event(sid("SM", 992 + number), "delivered") for number in range(3)])
    assert events_received("com.twilio.messaging.message.delivered") == delivered + 3


def test_an_error_code_sent_as_a_string_counts_like_one_sent_as_a_number():
    signed_events([message_event(sid("SM", 961), "failed", errorCode="30003"),
                   message_event(sid("SM", 962), "failed", errorCode=30003)])
    assert value(scrape(), "twilio_message_errors_total", error_code="30003") == 2


def test_one_event_object_not_in_an_array_is_accepted():
    assert signed_events(message_event(sid("SM", 963), "delivered"))[0] == 200
    assert value(scrape(), "twilio_message_callback_total", status="delivered") == 1


@pytest.mark.parametrize("prefix", ["com.twilio.voice.status-callback.call.",
                                    "com.twilio.voice.webhook.status-callback.call."])
def test_call_events_take_the_status_from_their_parameters_or_else_from_the_type(prefix):
    signed_events([call_event(sid("CA", 960), "answered", prefix=prefix),
                   call_event(sid("CA", 960), "completed", {"CallStatus": "completed", "CallDuration": "42"}, prefix=prefix),
                   call_event(sid("CA", 961), "completed", {"CallSid": sid("CA", 961), "CallStatus": "no-answer"},
                              prefix=prefix)])
    samples = scrape()
    assert value(samples, "twilio_call_callback_total", status="in-progress") == 1
    assert value(samples, "twilio_call_status_gauge", status="completed") == 1
    assert value(samples, "twilio_call_status_gauge", status="no-answer") == 1
    assert value(samples, "twilio_call_duration_seconds_sum") == 42


def test_a_call_event_without_data_sid_takes_the_call_sid_from_its_parameters():
    event = call_event(sid("CA", 962), "ringing", {"CallSid": sid("CA", 962)})
    del event["data"]["sid"]
    signed_events([event])
    assert value(scrape(), "twilio_call_status_gauge", status="ringing") == 1


@pytest.mark.stores
def test_a_retried_batch_and_an_event_in_two_batches_are_counted_once():
    delivered = events_received("com.twilio.messaging.message.delivered")
    batch = [message_event(sid("SM", 964), "sent"), message_event(sid("SM", 964), "delivered")]
    for _ in range(3):
        assert signed_events(batch)[0] == 200
    assert signed_events([batch[1], message_event(sid("SM", 965), "sent")])[0] == 200
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 2
    assert value(samples, "twilio_message_callback_total", status="delivered") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 5
    assert events_received("com.twilio.messaging.message.delivered") == delivered + 4


@pytest.mark.stores
def test_events_out_of_order_leave_the_message_at_its_latest_status():
    now = time.time()
    signed_events([message_event(sid("SM", 966), "delivered", now - 5)])
    signed_events([message_event(sid("SM", 966), "queued", now - 20), message_event(sid("SM", 966), "sent", now - 10)])
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="delivered") == 1
    assert value(samples, "twilio_message_status_gauge", status="sent") == 0


@pytest.mark.stores
def test_a_classic_callback_and_an_event_for_the_same_status_count_once():
    assert message(sid("SM", 967), "sent") == 200
    assert signed_events([message_event(sid("SM", 967), "sent"), message_event(sid("SM", 967), "delivered")])[0] == 200
    assert message(sid("SM", 967), "delivered") == 200
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1
    assert value(samples, "twilio_message_callback_total", status="delivered") == 1
    assert value(samples, "twilio_message_status_gauge", status="delivered") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 2


@pytest.mark.stores
def test_delivery_time_of_events_runs_on_their_own_time_not_their_arrival():
    two_hours_ago = time.time() - 7200  # both arrive now, as retries after an outage would
    signed_events([message_event(sid("SM", 968), "sent", two_hours_ago),
                   message_event(sid("SM", 968), "delivered", two_hours_ago + 5)])
    samples = scrape()
    assert value(samples, "twilio_message_delivery_seconds_sum") == pytest.approx(5, abs=0.01)
    assert value(samples, "twilio_message_delivery_seconds_bucket", le="5.0") == 1


def test_the_status_time_in_data_wins_over_the_time_the_event_was_published():
    two_hours_ago = time.time() - 7200
    sent, delivered = message_event(sid("SM", 991), "sent", two_hours_ago), message_event(sid("SM", 991), "delivered",
                                                                                          two_hours_ago + 5)
    sent["time"] = delivered["time"] = iso(time.time())  # published now, as a retried batch would be
    signed_events([sent, delivered])
    assert value(scrape(), "twilio_message_delivery_seconds_sum") == pytest.approx(5, abs=0.01)


def test_an_event_without_data_timestamp_takes_the_time_it_was_published():
    two_hours_ago = time.time() - 7200
    sent, delivered = message_event(sid("SM", 993), "sent", two_hours_ago), message_event(sid("SM", 993), "delivered",
                                                                                          two_hours_ago + 5)
    del sent["data"]["timestamp"], delivered["data"]["timestamp"]
    signed_events([sent, delivered])
    assert value(scrape(), "twilio_message_delivery_seconds_sum") == pytest.approx(5, abs=0.01)


def test_an_event_time_in_the_future_counts_as_its_arrival():
    signed_events([message_event(sid("SM", 969), "sent"), message_event(sid("SM", 969), "delivered",
                                                                          time.time() + 86400)])
    assert value(scrape(), "twilio_message_delivery_seconds_sum") < 5


@pytest.mark.parametrize("stamp", ["2025-01-01T00:01:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59Z",
                                   "yesterday", 1735689660, None])
def test_an_event_time_that_is_no_time_or_out_of_range_never_fails_the_batch(stamp):
    sent = message_event(sid("SM", 990), "sent", time.time() - 10)
    delivered = message_event(sid("SM", 990), "delivered")
    delivered["data"]["timestamp"] = delivered["time"] = stamp
    assert signed_events([sent, delivered])[0] == 200
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="delivered") == 1
    assert 0 <= value(samples, "twilio_message_delivery_seconds_sum") < 11


def test_the_sink_test_event_is_answered_200_logged_and_counted(caplog):
    test_event = {"specversion": "1.0", "type": "com.twilio.eventstreams.test-event", "source": "Sink",
                  "id": ACCOUNT, "dataschema": "https://events-schemas.twilio.com/EventStreams.TestSink/2",
                  "datacontenttype": "application/json", "time": iso(time.time()), "data": {"test_id": "abc"}}
    received = events_received("com.twilio.eventstreams.test-event")
    assert signed_events([test_event])[0] == 200
    assert events_received("com.twilio.eventstreams.test-event") == received + 1
    assert f"Event Streams test event '{ACCOUNT}' received from sink 'Sink'" in caplog.text


def test_an_event_of_another_type_is_answered_200_counted_as_other_and_moves_no_status():
    before, received = counter_table(), events_received("other")
    other = {**message_event(sid("SM", 970), "sent"), "type": "com.twilio.studio.flow.execution.started"}
    assert signed_events([other])[0] == 200
    assert counter_table() == before
    assert events_received("other") == received + 1
    assert ("twilio_events_total", (("type", other["type"]),)) not in scrape()


def test_an_event_without_a_sid_or_status_is_skipped_and_logged_and_the_rest_of_its_batch_counted(caplog):
    no_sid = message_event("not a sid", "sent")
    no_status = message_event(sid("SM", 971), "sent")
    del no_status["data"]["messageStatus"]
    assert signed_events([no_sid, no_status, message_event(sid("SM", 972), "sent")])[0] == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 1
    assert (f"skipped event {no_sid['id']!r} of type com.twilio.messaging.message.sent: a message SID and status "
            "are required (got 'not a sid', 'sent')") in caplog.messages
    assert f"skipped event {no_status['id']!r}" in caplog.text


@pytest.mark.parametrize("body, reason", [
    ("{not json", b"not JSON: Expecting property name"), ('"text"', b"not an array"), ("[1]", b"has no type"),
    ('[{"id": "EZ1", "data": {}}]', b"has no type"), ("[" * 100000 + "]" * 100000, b"not JSON"),
])
def test_a_body_that_is_not_a_batch_of_events_gets_400_and_a_log_line(body, reason, caplog):
    code, _, answered = signed_events(None, body=body)
    assert code == 400 and reason in answered
    assert reason.decode() in caplog.text


def test_an_event_without_a_type_is_named_by_its_id_in_the_log(caplog):
    assert signed_events([message_event(sid("SM", 973), "sent"), {"id": "EZ42", "data": {}}])[0] == 400
    assert "event 1 (id 'EZ42') has no type" in caplog.text
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 0


def test_a_batch_without_body_sha256_a_wrong_one_or_a_tampered_body_gets_403_and_counts_nothing():
    rejected = value(scrape(), "twilio_webhook_requests_total", endpoint="events", code="403")
    events = [message_event(sid("SM", 974), "sent")]
    body = json.dumps(events)
    signature = RequestValidator(TOKEN).compute_signature("http://127.0.0.1/webhooks/events", {})
    assert call("/webhooks/events", "POST", body.encode(), {"X-Twilio-Signature": signature},
                content_type="application/json")[0] == 403
    code, _, answered = signed_events(events, body_hash="0" * 64)
    assert code == 403 and json.loads(answered)["reason"] == (
        "X-Twilio-Signature and bodySHA256 do not match 'http://127.0.0.1/webhooks/events?bodySHA256="
        + "0" * 64 + "' and the body with any configured token")
    tampered = body.replace("SENT", "READ")
    query, signature = json_signature("http://127.0.0.1/webhooks/events", body)  # signed for the untampered body
    assert call("/webhooks/events", "POST", tampered.encode(), {"X-Twilio-Signature": signature}, query=query,
                content_type="application/json")[0] == 403
    assert signed_events(events, token="other-token")[0] == 403
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 0
    assert value(scrape(), "twilio_webhook_requests_total", endpoint="events", code="403") == rejected + 4


def test_events_signed_with_the_second_token_or_through_the_public_url_are_accepted(monkeypatch):
    monkeypatch.setattr(te, "AUTH_TOKENS", ("old-token", TOKEN))
    assert signed_events([message_event(sid("SM", 975), "sent")])[0] == 200
    monkeypatch.setattr(te, "PUBLIC_URL", "https://hooks.example.com/twilio")
    body = json.dumps([message_event(sid("SM", 976), "sent")])
    query, signature = json_signature("https://hooks.example.com/twilio/webhooks/events", body)
    assert call("/webhooks/events", "POST", body.encode(), {"X-Twilio-Signature": signature}, query=query,
                content_type="application/json")[0] == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 2


def test_the_signature_is_checked_before_the_json_is_parsed():
    assert signed_events(None, body="{not json", token="other-token")[0] == 403


def test_an_events_body_over_the_limit_gets_413_and_is_never_read():
    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("the body was read")
    code, _, body = call("/webhooks/events", "POST", content_type="application/json",
                         environ={"CONTENT_LENGTH": str(te.MAX_EVENTS_BODY_BYTES + 1), "wsgi.input": Unreadable()})
    assert code == 413 and str(te.MAX_EVENTS_BODY_BYTES + 1).encode() in body


def test_a_batch_of_the_limits_size_is_accepted():
    events = [message_event(sid("SM", 10 ** 5 + number), "sent") for number in range(7000)]
    body = json.dumps(events)
    events = events[:int(len(events) * te.MAX_EVENTS_BODY_BYTES / len(body)) - 1]
    assert len(json.dumps(events)) > te.MAX_EVENTS_BODY_BYTES - 2000
    assert signed_events(events)[0] == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == len(events)


@pytest.mark.parametrize("content_type", [FORM, "text/plain", None])
def test_an_events_body_that_is_not_json_gets_415(content_type):
    assert call("/webhooks/events", "POST", b"[]", content_type=content_type)[0] == 415


def test_a_get_on_the_events_endpoint_gets_405():
    code, headers, _ = call("/webhooks/events")
    assert code == 405 and headers["Allow"] == "POST"


def test_a_batch_that_cannot_be_written_gets_503_and_its_retry_counts_each_event_once(monkeypatch):
    batch = [message_event(sid("SM", 977), "sent"), message_event(sid("SM", 978), "sent")]
    assert signed_events([message_event(sid("SM", 979), "sent")])[0] == 200
    inbox = te.store().inbox.file

    class CutShort:
        def write(self, lines):
            return inbox.write(lines[:len(lines) // 2 + 10])  # the first event whole, the second cut short
    te.store().inbox.file = CutShort()
    try:
        assert signed_events(batch)[0] == 503
    finally:
        te.store().inbox.file = inbox
    assert signed_events(batch)[0] == 200  # Twilio's retry of the whole batch
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 3
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 1


EVENT_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                            lambda children: st.lists(children, max_size=4) | st.dictionaries(
                                st.text(max_size=10), children, max_size=4), max_leaves=20)
FUZZED_EVENTS = st.lists(st.fixed_dictionaries(
    {"type": st.sampled_from([*te.EVENT_TYPES, "com.twilio.eventstreams.test-event", "x"]) | EVENT_VALUES},
    optional={"id": EVENT_VALUES, "time": EVENT_VALUES, "data": st.fixed_dictionaries(
        {}, optional={"messageSid": st.just(sid("SM", 980)) | EVENT_VALUES, "sid": st.just(sid("CA", 980)) | EVENT_VALUES,
                      "messageStatus": st.sampled_from(["SENT", "DELIVERED", "sent"]) | EVENT_VALUES,
                      "errorCode": EVENT_VALUES, "timestamp": EVENT_VALUES,
                      "request": st.fixed_dictionaries({}, optional={"parameters": EVENT_VALUES})}) | EVENT_VALUES}),
    max_size=4)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=FUZZED_EVENTS, junk=st.binary(max_size=200), raw=st.booleans(),
       duplicate_key=st.booleans())
def test_no_events_body_gets_a_5xx_or_changes_a_count_without_a_valid_signature(events, junk, raw, duplicate_key):
    body = json.dumps(events, allow_nan=True)
    if duplicate_key:
        body = body.replace('{"type": ', '{"type": "x", "type": ', 1)
    payload = junk if raw else body.encode()
    before = counter_table()
    for headers in ({}, {"X-Twilio-Signature": "x"}):
        code = call("/webhooks/events", "POST", payload, headers, query="bodySHA256=" + "0" * 64,
                    content_type="application/json")[0]
        assert code == 403 or (code == 400 and raw)
    assert counter_table() == before
    if not raw:  # signed as Twilio signs: never a 5xx
        assert signed_events(None, body=body)[0] in (200, 400)


# --- status metrics ---

@pytest.mark.stores
def test_every_known_status_is_exported_at_zero_from_the_start():
    samples = scrape()
    for kind in te.KINDS.values():
        for status in kind.statuses:
            assert value(samples, f"twilio_{kind.name}_callback_total", status=status) == 0
            assert value(samples, f"twilio_{kind.name}_status_gauge", status=status) == 0
        assert value(samples, "twilio_webhook_duplicates_total", endpoint=kind.name) == 0


def library_statuses(status_enum):
    """The status values the twilio library knows for a resource."""
    return {val for key, val in vars(status_enum).items() if key.isupper()}


def test_the_vocabularies_hold_every_status_the_twilio_library_knows():
    from twilio.rest.api.v2010.account.call import CallInstance
    from twilio.rest.api.v2010.account.message import MessageInstance
    assert set(te.KINDS["message"].statuses) == library_statuses(MessageInstance.Status) | {"unknown"}
    # "initiated" is a status callback's event, not a status of the call resource
    assert set(te.KINDS["call"].statuses) == library_statuses(CallInstance.Status) | {"initiated", "unknown"}


# Each step of the lives Twilio documents: (earlier, later).
DOCUMENTED_STEPS = [("message", earlier, later) for earlier, later in [
    ("accepted", "queued"), ("scheduled", "queued"), ("queued", "sending"), ("sending", "sent"), ("queued", "sent"),
    ("queued", "failed"), ("sent", "delivered"), ("sent", "undelivered"), ("delivered", "read"),
    ("receiving", "received")]] + [("call", earlier, later) for earlier, later in [
        ("queued", "initiated"), ("initiated", "ringing"), ("ringing", "in-progress"), ("in-progress", "completed"),
        ("ringing", "busy"), ("ringing", "no-answer"), ("initiated", "failed"), ("queued", "canceled")]]


@pytest.mark.stores
@pytest.mark.parametrize("kind, earlier, later", DOCUMENTED_STEPS)
def test_a_later_status_arriving_first_is_not_replaced_by_the_earlier_one_which_still_counts(kind, earlier, later):
    post = message if kind == "message" else voice
    post(sid("XX", 950), later)
    post(sid("XX", 950), later)  # and its retry
    post(sid("XX", 950), earlier)
    samples = scrape()
    assert value(samples, f"twilio_{kind}_status_gauge", status=later) == 1
    assert value(samples, f"twilio_{kind}_status_gauge", status=earlier) == 0
    assert value(samples, f"twilio_{kind}_callback_total", status=earlier) == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint=kind) == 1


@pytest.mark.stores
def test_retry_of_a_delivered_callback_is_not_counted_again():
    for _ in range(4):
        assert message(sid("SM", 11), "delivered") == 200
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="delivered") == 1
    assert value(samples, "twilio_message_status_gauge", status="delivered") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 3


@pytest.mark.stores
def test_the_gauge_follows_each_message_to_its_latest_status():
    for status in ("queued", "sent", "delivered"):
        message(sid("SM", 12), status)
    message(sid("SM", 13), "queued")
    message(sid("SM", 13), "sent")
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="delivered") == 1
    assert value(samples, "twilio_message_status_gauge", status="sent") == 1
    assert value(samples, "twilio_message_status_gauge", status="queued") == 0
    assert value(samples, "twilio_message_callback_total", status="queued") == 2


@pytest.mark.stores
def test_a_late_sent_after_delivered_is_counted_but_does_not_move_the_message_back():
    message(sid("SM", 14), "delivered")
    message(sid("SM", 14), "sent")
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 1
    assert value(samples, "twilio_message_status_gauge", status="delivered") == 1
    assert value(samples, "twilio_message_status_gauge", status="sent") == 0


@pytest.mark.stores
def test_read_comes_after_delivered_and_a_final_status_does_not_replace_another():
    message(sid("SM", 15), "delivered")
    message(sid("SM", 15), "read")
    message(sid("SM", 16), "undelivered")
    message(sid("SM", 16), "delivered")
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="read") == 1
    assert value(samples, "twilio_message_status_gauge", status="undelivered") == 1
    assert value(samples, "twilio_message_status_gauge", status="delivered") == 0


@pytest.mark.stores
def test_calls_follow_their_own_lifecycle_out_of_order():
    for status in ("completed", "ringing", "initiated", "in-progress"):
        voice(sid("CA", 17), status)
    samples = scrape()
    assert value(samples, "twilio_call_status_gauge", status="completed") == 1
    assert sum(value(samples, "twilio_call_callback_total", status=s)
               for s in ("completed", "ringing", "initiated", "in-progress")) == 4


@pytest.mark.stores
def test_an_unknown_status_is_counted_as_unknown_and_logged_without_a_new_label(caplog):
    message(sid("SM", 18), "teleported")
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="unknown") == 1
    assert value(samples, "twilio_message_status_gauge", status="unknown") == 1
    assert not any(("status", "teleported") in labels for _, labels in samples)
    assert "unknown message status 'teleported'" in caplog.text
    message(sid("SM", 18), "sent")
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="unknown") == 0
    assert value(samples, "twilio_message_status_gauge", status="sent") == 1


@pytest.mark.stores
def test_error_codes_are_counted_for_failed_and_undelivered_only_and_kept_to_digits():
    message(sid("SM", 19), "undelivered", ErrorCode="30003")
    message(sid("SM", 19), "undelivered", ErrorCode="30003")
    message(sid("SM", 20), "failed", ErrorCode="30007")
    message(sid("SM", 21), "failed", ErrorCode="<script>")
    message(sid("SM", 22), "failed")
    message(sid("SM", 23), "delivered", ErrorCode="30001")
    samples = scrape()
    assert value(samples, "twilio_message_errors_total", error_code="30003") == 1
    assert value(samples, "twilio_message_errors_total", error_code="30007") == 1
    assert value(samples, "twilio_message_errors_total", error_code="unknown") == 2
    assert ("twilio_message_errors_total", (("error_code", "30001"),)) not in samples


@pytest.mark.stores
def test_an_error_code_of_more_than_six_digits_is_unknown():
    message(sid("SM", 910), "failed", ErrorCode="1234567")
    message(sid("SM", 911), "failed", ErrorCode="123456")
    samples = scrape()
    assert value(samples, "twilio_message_errors_total", error_code="unknown") == 1
    assert value(samples, "twilio_message_errors_total", error_code="123456") == 1


@pytest.mark.stores
def test_error_code_label_values_stop_growing_at_the_cap(monkeypatch):
    monkeypatch.setattr(te, "MAX_ERROR_CODES", 3)
    for number in range(6):
        message(sid("SM", 100 + number), "failed", ErrorCode=str(30000 + number))
    samples = scrape()
    codes = {dict(labels)["error_code"]: count for (name, labels), count in samples.items()
             if name == "twilio_message_errors_total"}
    assert codes == {"30000": 1, "30001": 1, "30002": 1, "other": 3}


@pytest.mark.stores
def test_call_duration_comes_from_call_duration_seconds_not_billed_minutes():
    voice(sid("CA", 24), "completed", CallDuration="42", Duration="1")
    voice(sid("CA", 25), "busy", CallDuration="0")
    samples = scrape()
    assert value(samples, "twilio_call_duration_seconds_sum") == 42
    assert value(samples, "twilio_call_duration_seconds_count") == 1
    assert value(samples, "twilio_call_duration_seconds_bucket", le="30.0") == 0
    assert value(samples, "twilio_call_duration_seconds_bucket", le="60.0") == 1


@pytest.mark.stores
def test_a_call_duration_that_is_not_a_number_is_left_out_of_the_histogram_and_the_status_still_counts():
    voice(sid("CA", 912), "completed", CallDuration="12s")
    samples = scrape()
    assert value(samples, "twilio_call_callback_total", status="completed") == 1
    assert value(samples, "twilio_call_duration_seconds_count") == 0


@pytest.mark.stores
def test_an_observation_exactly_on_a_bucket_bound_lands_in_that_bucket():
    voice(sid("CA", 913), "completed", CallDuration="30")
    now, kind = time.time(), te.KINDS["message"]
    record(kind, sid("SM", 913), "sent", now)
    record(kind, sid("SM", 913), "delivered", now + 5)
    samples = scrape()
    assert value(samples, "twilio_call_duration_seconds_bucket", le="10.0") == 0
    assert value(samples, "twilio_call_duration_seconds_bucket", le="30.0") == 1
    assert value(samples, "twilio_message_delivery_seconds_bucket", le="2.0") == 0
    assert value(samples, "twilio_message_delivery_seconds_bucket", le="5.0") == 1


@pytest.mark.stores
def test_delivery_time_runs_from_the_first_callback_to_delivered():
    now, kind = time.time(), te.KINDS["message"]
    record(kind, sid("SM", 26), "queued", now)
    record(kind, sid("SM", 26), "delivered", now + 7.5)
    record(kind, sid("SM", 26), "delivered", now + 9)
    samples = scrape()
    assert value(samples, "twilio_message_delivery_seconds_sum") == 7.5
    assert value(samples, "twilio_message_delivery_seconds_count") == 1
    assert value(samples, "twilio_message_delivery_seconds_bucket", le="5.0") == 0
    assert value(samples, "twilio_message_delivery_seconds_bucket", le="10.0") == 1


@pytest.mark.stores
def test_one_move_of_many_callbacks_adds_each_to_the_gauges_and_the_histograms():
    now, message, call = time.time(), te.KINDS["message"], te.KINDS["call"]
    with te.store().connection() as conn, te.store().transaction(conn):  # one transaction, as a fold of one inbox would
        te.apply_callbacks(te.store(), conn, [
            te.new_callback(now, message, sid("SM", 30), "sent"),
            te.new_callback(now, message, sid("SM", 31), "sent"),
            te.new_callback(now + 0.25, message, sid("SM", 30), "delivered"),  # under a second
            te.new_callback(now + 0.75, message, sid("SM", 31), "delivered"),
            te.new_callback(now, call, sid("CA", 30), "completed", seconds="42"),
            te.new_callback(now, call, sid("CA", 31), "completed", seconds="50"),
            te.new_callback(now, call, sid("CA", 32), "completed", seconds="7200")])  # past the top bound
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="sent") == 0
    assert value(samples, "twilio_message_status_gauge", status="delivered") == 2
    assert value(samples, "twilio_message_delivery_seconds_bucket", le="0.5") == 1
    assert value(samples, "twilio_message_delivery_seconds_bucket", le="1.0") == 2
    assert value(samples, "twilio_message_delivery_seconds_sum") == 1
    assert value(samples, "twilio_call_status_gauge", status="completed") == 3
    assert value(samples, "twilio_call_duration_seconds_bucket", le="30.0") == 0
    assert value(samples, "twilio_call_duration_seconds_bucket", le="60.0") == 2
    assert value(samples, "twilio_call_duration_seconds_bucket", le="3600.0") == 2
    assert value(samples, "twilio_call_duration_seconds_bucket", le="+Inf") == 3
    assert value(samples, "twilio_call_duration_seconds_count") == 3
    assert value(samples, "twilio_call_duration_seconds_sum") == 42 + 50 + 7200


@pytest.mark.stores
def test_pruning_forgets_old_messages_and_the_gauge_drops_them(monkeypatch):
    now = time.time()  # the worker prunes too, by the clock: these expire only at the time given below
    record(te.KINDS["message"], sid("SM", 27), "sent", now - 100)
    record(te.KINDS["message"], sid("SM", 28), "sent", now)
    with te.store().connection() as conn:
        assert te.prune(te.store(), conn, now - 100 + te.RETENTION_SECONDS + 1) == 1
        assert conn.execute("SELECT count(*) FROM item").fetchone() == (1,)
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="sent") == 1
    assert value(samples, "twilio_message_callback_total", status="sent") == 2


def checkpoint_fully(conn):
    """Copy the whole WAL into the state file, retrying while the worker's upkeep thread is busy in it."""
    wait_for(lambda: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0)


def test_pruning_gives_the_space_back_so_the_file_stays_bounded(state):
    kind, now = te.KINDS["message"], time.time()
    later = now + te.RETENTION_SECONDS + 1  # when all have expired; the worker's own pruning goes by the clock
    with te.store().connection() as conn:
        with te.store().transaction(conn):
            te.apply_callbacks(te.store(), conn, [te.new_callback(now, kind, sid("SM", number), "sent") for number in range(3000)])
        checkpoint_fully(conn)
        full = state.stat().st_size
        assert te.prune(te.store(), conn, later) == te.PRUNE_BATCH
        assert te.prune(te.store(), conn, later) == 3000 - te.PRUNE_BATCH
        assert te.prune(te.store(), conn, later) == 0
        checkpoint_fully(conn)
        assert conn.execute("PRAGMA freelist_count").fetchone() == (0,)
    assert state.stat().st_size < full / 4


@pytest.mark.stores
def test_pruning_runs_by_itself_again_every_interval_and_logs_what_it_forgot(monkeypatch, caplog):
    monkeypatch.setattr(te, "RETENTION_SECONDS", 60)
    monkeypatch.setattr(te, "PRUNE_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(te, "FAILURE_RETRY_SECONDS", 0)
    message(sid("SM", 30), "sent")
    for number in (29, 31, 32):  # each expired only after the prunes before it have run
        record(te.KINDS["message"], sid("SM", number), "sent", time.time() - 120)
        wait_for(lambda: value(scrape(), "twilio_message_status_gauge", status="sent") == 1)
    assert caplog.messages.count("pruned 1 messages and calls older than 60 s") == 3


def test_pruning_goes_on_at_once_while_whole_batches_expire_then_waits_its_interval(monkeypatch):
    monkeypatch.setattr(te, "PRUNE_BATCH", 2)
    conn = te.store().open()  # a connection of its own: no upkeep thread prunes meanwhile
    with te.store().transaction(conn):
        te.apply_callbacks(te.store(), conn, [te.new_callback(time.time() - te.RETENTION_SECONDS - 60, te.KINDS["message"],
                                                  sid("SM", 34 + number), "sent") for number in range(3)])
    assert [te.prune_expired(te.store(), conn) for _ in range(3)] == [0, te.PRUNE_INTERVAL_SECONDS, te.PRUNE_INTERVAL_SECONDS]
    assert conn.execute("SELECT count(*) FROM item").fetchone() == (0,)
    conn.close()


def test_the_backlog_is_the_bytes_past_each_files_read_position_and_the_age_of_the_oldest_line_not_read():
    now = time.time()

    def line(number, age):
        return te.inbox_line(te.new_callback(now - age, te.KINDS["message"], sid("SM", 50 + number), "sent"))
    read, unread, done = line(1, 300), line(2, 100), line(3, 1000)
    partly = dead_workers_inbox(read, unread, name="99999.1")
    # An event's own time may be older than its arrival: then the file's, from its name, is the line's age.
    dead_workers_inbox(line(4, 500), name=f"99998.1.{int((now - 150) * 1e9)}")
    whole = dead_workers_inbox(done, name="99997.1")
    inbox = te.store().inbox
    inbox.offsets = {partly.name: len(read), whole.name: len(done)}  # the third file the store has not seen
    total, age = inbox.measure()
    assert total == len(unread) + len(line(4, 500))
    assert 150 <= age < 151
    assert inbox.measure(age=False)[0] == total
    inbox.offsets = inbox.files()
    assert inbox.measure() == (0, 0)  # every file read to its end


def test_a_fold_with_nothing_new_takes_no_write_lock_and_removes_a_moved_in_file_brought_back(monkeypatch, caplog):
    caplog.set_level("DEBUG", logger="twilio_exporter")
    line = inbox_line(sid("SM", 41), "sent")
    path = dead_workers_inbox(line)
    conn = te.store().open()
    te.fold_inbox(te.store(), conn)  # moved in, and removed: its worker is gone
    assert not path.exists()
    dead_workers_inbox(line)  # a copy brought back, from a backup say
    holder = te.store().open()
    te.store().begin(holder)  # another worker's move, holding the write lock
    monkeypatch.setattr(te, "BUSY_TIMEOUT_SECONDS", 0.1)
    try:
        assert te.fold_inbox(te.store(), conn) == 0
        assert not path.exists()
        assert "waited out the lock" not in caplog.text
    finally:
        holder.rollback()
        holder.close()
    # listed just before another worker's fold removed it
    monkeypatch.setattr(te.store().inbox, "files", lambda: {path.name: len(line)})
    assert te.fold_inbox(te.store(), conn) == 0
    assert conn.execute("SELECT value FROM counter WHERE name = 'twilio_message_callback_total'").fetchall() == [(1,)]
    conn.close()


def pace_file():
    """The file that paces the folds of this host's workers."""
    return Path(te.store().inbox.prefix + "pace")


def test_moving_in_goes_on_at_once_while_each_fold_is_full_then_waits_its_interval_and_longer_when_idle(
        monkeypatch):
    now = int(time.time()) + 0.5  # one time for all: every line as long, so a fold takes two whole
    lines = [te.inbox_line(te.new_callback(now, te.KINDS["message"], sid("SM", 36 + number), "sent"))
             for number in range(5)]
    assert len(set(map(len, lines))) == 1
    dead_workers_inbox(*lines)
    monkeypatch.setattr(te, "FOLD_BYTES", 2 * len(lines[0]))
    monkeypatch.setattr(te, "FOLD_INTERVAL_SECONDS", 5)  # far longer than a slow machine takes between two calls
    conn = te.store().open()  # a connection of its own: no upkeep thread folds meanwhile
    assert [te.fold_for_upkeep(te.store(), conn) for _ in range(3)] == [0, 0, te.FOLD_INTERVAL_SECONDS]
    assert conn.execute("SELECT count(*) FROM item").fetchone() == (5,)
    assert 0 < te.fold_for_upkeep(te.store(), conn) <= te.FOLD_INTERVAL_SECONDS  # caught up just now: not due yet
    os.utime(pace_file(), (time.time() - 60, time.time() - 60))  # the interval over
    assert te.fold_for_upkeep(te.store(), conn) == te.FOLD_IDLE_SECONDS
    conn.close()


def test_the_workers_of_a_host_fold_in_turn_once_an_interval_and_the_others_keep_their_read_positions_fresh(
        monkeypatch):
    monkeypatch.setattr(te, "FOLD_INTERVAL_SECONDS", 5)  # far longer than a slow machine takes between two calls
    first, second = te.store().open(), te.store().open()  # two workers' upkeep threads
    dead_workers_inbox(inbox_line(sid("SM", 61), "sent"), name="99999.1")
    assert te.fold_for_upkeep(te.store(), first) == te.FOLD_INTERVAL_SECONDS
    later = dead_workers_inbox(inbox_line(sid("SM", 62), "sent"), name="99999.2")
    monkeypatch.setattr(te.store().inbox, "offsets", {"99999.1": 0})  # stale: that file is moved in and removed
    # The first caught up just now: the second waits for the interval's end, and moves nothing in.
    assert 0 < te.fold_for_upkeep(te.store(), second) <= te.FOLD_INTERVAL_SECONDS
    assert second.execute("SELECT count(*) FROM item").fetchone() == (1,)
    assert te.store().inbox.offsets == {}  # read afresh: no file listed that the store has a read position for
    os.utime(pace_file(), (time.time() - 2, time.time() - 2))
    assert 2 < te.fold_for_upkeep(te.store(), second) <= 3  # the rest of the interval
    os.utime(pace_file(), (time.time() - 60, time.time() - 60))
    with open(pace_file(), "ab") as folding:  # due, but another worker folds now: it moves these lines too
        fcntl.flock(folding, fcntl.LOCK_EX)
        assert te.fold_for_upkeep(te.store(), second) == te.FOLD_INTERVAL_SECONDS
        assert second.execute("SELECT count(*) FROM item").fetchone() == (1,)
    assert te.fold_for_upkeep(te.store(), second) == te.FOLD_INTERVAL_SECONDS  # due, and free: it folds
    assert second.execute("SELECT count(*) FROM item").fetchone() == (2,)
    assert not later.exists()
    monkeypatch.setattr(te.store().inbox, "offsets", {})
    partly = dead_workers_inbox(inbox_line(sid("SM", 63), "sent"), name="99999.3")
    with te.store().transaction(first):  # the store has read it part of the way
        first.execute('INSERT INTO inbox (name, "offset") VALUES (?, 10)', (partly.name,))
    assert 0 < te.fold_for_upkeep(te.store(), first) <= te.FOLD_INTERVAL_SECONDS
    assert te.store().inbox.offsets == {partly.name: 10}
    first.close()
    second.close()


def test_a_pace_file_touched_in_the_future_a_clock_stepped_back_never_holds_the_folds_back():
    conn = te.store().open()
    te.fold_for_upkeep(te.store(), conn)
    os.utime(pace_file(), (time.time() + 3600, time.time() + 3600))  # written to, in the future
    dead_workers_inbox(inbox_line(sid("SM", 64), "sent"))
    assert te.fold_for_upkeep(te.store(), conn) == te.FOLD_INTERVAL_SECONDS
    assert conn.execute("SELECT count(*) FROM item").fetchone() == (1,)
    conn.close()


def test_a_failed_prune_is_logged_once_and_never_fails_a_callback(monkeypatch, caplog):
    def broken(store, conn, now):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(te, "prune", broken)
    monkeypatch.setattr(te, "PRUNE_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(te, "FAILURE_RETRY_SECONDS", 0)
    assert message(sid("SM", 32), "sent") == 200
    failed = f"{te.store().target}: pruning failed, retrying every 0.05 s: disk I/O error"
    wait_for(lambda: failed in caplog.text)
    time.sleep(0.3)
    assert caplog.text.count(failed) == 1
    assert message(sid("SM", 33), "sent") == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 2


def test_an_upkeep_thread_starts_no_job_once_its_store_is_closed(monkeypatch):
    ran = []

    def fold_then_the_store_closes(store, conn):
        ran.append("fold")
        store.closed = True  # what closing the store does, while this thread is mid-round
        return 0
    monkeypatch.setattr(te, "fold_for_upkeep", fold_then_the_store_closes)
    for job in ("prune_expired", "tidy", "poll_when_due"):
        monkeypatch.setattr(te, job, lambda store, conn, job=job: ran.append(job) or 0)
    te.upkeep_forever(te.store())  # in this thread: it returns when it sees the store closed
    assert ran == ["fold"]


def test_an_upkeep_thread_runs_each_job_again_only_when_it_asks_logs_no_recovery_without_a_failure_and_closes(
        monkeypatch, caplog):
    store, ran, opened = te.store(), [], []
    open_connection = store.open
    monkeypatch.setattr(store, "open", lambda: opened.append(open_connection()) or opened[-1])

    def job(name, wait):
        def run(store, conn):
            ran.append(name)
            if ran.count("fold") == 5:
                store.closed = True  # the loop returns before its next job
            return wait
        return run
    monkeypatch.setattr(te, "fold_for_upkeep", job("fold", 0.02))  # a backlog: again soon
    for name in ("prune_expired", "tidy", "poll_when_due"):
        monkeypatch.setattr(te, name, job(name, 60))  # not again for a minute
    te.upkeep_forever(store)
    assert ran == ["fold", "prune_expired", "tidy", "poll_when_due", "fold", "fold", "fold", "fold"]
    assert "works again" not in caplog.text
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")  # its connection, closed as it returned


@pytest.mark.stores
def test_state_survives_a_new_connection_and_retries_are_still_recognised(monkeypatch):
    message(sid("SM", 31), "delivered")
    use_store(monkeypatch, te.store().target, te.store().inbox.folder)  # as after a restart
    assert message(sid("SM", 31), "delivered") == 200
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="delivered") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 1


# --- breakdown labels ---

SENDER, OTHER_SENDER = "+14155550100", "+14155550111"
SERVICE = "MG" + "c" * 32


@pytest.fixture
def labels(monkeypatch):
    """Turn on breakdown labels in this process, as TWILIO_EXPORTER_LABELS and _LABEL_LIMIT would."""
    import phonenumbers

    def choose(*names, limit=100):
        monkeypatch.setattr(te, "LABELS", tuple(name for name in te.LABEL_NAMES if name in names))
        monkeypatch.setattr(te, "LABEL_LIMIT", limit)
        if "country" in names:  # as at start-up: imported only for the country
            monkeypatch.setattr(te, "phonenumbers", phonenumbers, raising=False)
        else:
            monkeypatch.delattr(te, "phonenumbers", raising=False)
    return choose


def series_of(samples, name):
    """{labels as a dict's items: value} of one metric's samples."""
    return {labels: count for (sample, labels), count in samples.items() if sample == name}


def exposition_lines(name):
    """The exposition's sample lines of one metric, without their values."""
    return [line.rsplit(" ", 1)[0] for line in call("/metrics")[2].decode().splitlines() if line.startswith(name + "{")]


def test_without_labels_the_exposition_keeps_exactly_its_names_and_labels():
    message(sid("SM", 1400), "sent", From=SENDER, To="+447700900123", MessagingServiceSid=SERVICE)
    message(sid("SM", 1400), "undelivered", ErrorCode="30007", From=SENDER, To="+447700900123")
    voice(sid("CA", 1400), "completed", From=SENDER, To="+14155550199", ToCountry="US", CallDuration="5")
    for kind in te.KINDS.values():
        for metric in (f"twilio_{kind.name}_callback_total", f"twilio_{kind.name}_status_gauge"):
            assert exposition_lines(metric) == [f'{metric}{{status="{status}"}}' for status in kind.statuses]
    assert exposition_lines("twilio_message_errors_total") == ['twilio_message_errors_total{error_code="30007"}']


@pytest.mark.stores
def test_each_chosen_label_breaks_the_counts_down_and_a_message_keeps_the_labels_of_its_first_callback(labels):
    labels("account", "messaging_service", "sender", "country")
    first = {"From": SENDER, "To": "+447700900123", "MessagingServiceSid": SERVICE}
    assert message(sid("SM", 1401), "sent", **first) == 200
    assert message(sid("SM", 1401), "undelivered", ErrorCode="30007") == 200  # some callbacks lack From and To
    assert message(sid("SM", 1402), "sent", From=OTHER_SENDER, To="+14165550100") == 200
    samples = scrape()
    ours = {"account": "AC" + "0" * 32, "messaging_service": SERVICE, "sender": SENDER, "country": "GB"}
    theirs = {"account": "AC" + "0" * 32, "messaging_service": "none", "sender": OTHER_SENDER, "country": "CA"}
    for status, count in (("sent", 1), ("undelivered", 1), ("delivered", 0)):
        assert value(samples, "twilio_message_callback_total", status=status, **ours) == count
    assert value(samples, "twilio_message_status_gauge", status="undelivered", **ours) == 1
    assert value(samples, "twilio_message_status_gauge", status="sent", **ours) == 0
    assert value(samples, "twilio_message_status_gauge", status="sent", **theirs) == 1
    assert series_of(samples, "twilio_message_errors_total") == {
        tuple(sorted({"error_code": "30007", **ours}.items())): 1}
    assert len(series_of(samples, "twilio_message_callback_total")) == 2 * len(te.KINDS["message"].statuses)


@pytest.mark.stores
def test_a_new_label_set_has_every_status_at_zero_from_its_first_callback(labels):
    labels("sender")
    assert json.loads(call("/health")[2])["labels"] == {"sender": {"values": 0, "limit": 100, "over_limit": False}}
    message(sid("SM", 1403), "sent", From=SENDER)
    assert json.loads(call("/health")[2])["labels"] == {"sender": {"values": 1, "limit": 100, "over_limit": False}}
    samples = scrape()
    for status in te.KINDS["message"].statuses:
        assert value(samples, "twilio_message_callback_total", status=status, sender=SENDER) == (status == "sent")
        assert value(samples, "twilio_message_status_gauge", status=status, sender=SENDER) == (status == "sent")


@pytest.mark.parametrize("to, country", [
    ("+447700900123", "GB"), ("+14155550100", "US"), ("+14165550100", "CA"), ("whatsapp:+447700900123", "GB"),
    ("+33612345678", "FR"), ("garbage", "unknown"), ("+999123", "unknown"), ("", "unknown"),
    ("+" + "1" * 60, "unknown"),
])
def test_the_country_is_the_destination_numbers(labels, to, country):
    labels("country")
    message(sid("SM", 1404), "sent", To=to)
    assert value(scrape(), "twilio_message_callback_total", status="sent", country=country) == 1


def library_country(number):
    """The country phonenumbers itself gives a number: parse, then its region or its calling code's main one."""
    import phonenumbers
    try:
        parsed = phonenumbers.parse(number.rpartition(":")[2], None)
    except phonenumbers.NumberParseException:
        return "unknown"
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(parsed.country_code)
    return region if re.fullmatch("[A-Z]{2}", region) and region != "ZZ" else "unknown"


# The calling codes of more than one region (phonenumbers' COUNTRY_CODE_TO_REGION_CODE), whose numbers
# country_of parses: led by a national prefix ("+1 1…", "+44 0…") or not.
SHARED_CALLING_CODES = (1, 7, 39, 44, 47, 61, 212, 262, 290, 358, 590, 599)


@settings(max_examples=examples(2000), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.from_regex(r"(whatsapp:)?\+[0-9]{0,17}", fullmatch=True) | st.text(max_size=20)
       | st.builds("+{}{}".format, st.sampled_from(SHARED_CALLING_CODES), st.from_regex(r"[0-9]{0,14}", fullmatch=True)))
def test_the_country_is_always_the_one_phonenumbers_gives_though_most_numbers_skip_its_parsing(labels, number):
    labels("country")
    assert te.country_of.__wrapped__(number) == library_country(number)


def test_every_example_number_of_a_shared_calling_code_is_in_the_region_phonenumbers_gives(labels):
    import phonenumbers
    labels("country")
    examples = [phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                for code in SHARED_CALLING_CODES for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
                for kind in range(12) if (example := phonenumbers.example_number_for_type(region, kind))]
    assert len(examples) > 300  # every type of Guernsey's, Jersey's, Christmas Island's, … numbers
    wrong, expected = [], {}
    for number in examples:
        found, expected[number] = te.country_of.__wrapped__(number), library_country(number)
        if found != expected[number]:
            wrong.append((number, found, expected[number]))
    assert wrong == []
    assert set(expected.values()) >= {"GB", "GG", "IM", "JE", "AU", "CC", "CX", "CA"}


def test_an_invalid_number_gets_the_same_country_whatever_came_before_it(labels):
    labels("country")
    invalid = "+14160000000"  # a Toronto area code, exchange 000: no region's plan has it
    assert library_country(invalid) == "US"  # phonenumbers falls back to +1's main country
    te.country_of.cache_clear()
    assert te.country_of(invalid) == "US"
    assert te.country_of("+14165550100") == "CA" == library_country("+14165550100")
    te.country_of.cache_clear()
    assert te.country_of(invalid) == "US"


def test_a_valid_nanp_number_of_an_area_code_already_seen_is_answered_without_parsing(labels, monkeypatch):
    labels("country")
    monkeypatch.setattr(te, "AREA_CODE_REGIONS", {})
    te.country_of.cache_clear()
    assert te.country_of("+14165550100") == "CA" and te.AREA_CODE_REGIONS == {"416": "CA"}
    assert te.country_of("+14160000000") == "US"  # invalid: parsed, as before, and nothing learned from it
    assert te.AREA_CODE_REGIONS == {"416": "CA"}
    assert library_country("+14165550199") == "CA"
    monkeypatch.setattr(te.phonenumbers, "parse", lambda *args: pytest.fail("parsed"))
    assert te.country_of("+14165550199") == "CA"


def test_a_call_takes_twilios_to_country_and_has_no_messaging_service_label(labels):
    labels("messaging_service", "sender", "country")
    voice(sid("CA", 1405), "completed", From=SENDER, To="+14155550100", ToCountry="CA", CallDuration="5")
    voice(sid("CA", 1406), "completed", From=SENDER, To="+14155550100", CallDuration="5")
    samples = scrape()
    assert value(samples, "twilio_call_callback_total", status="completed", sender=SENDER, country="CA") == 1
    assert value(samples, "twilio_call_callback_total", status="completed", sender=SENDER, country="US") == 1
    assert value(samples, "twilio_call_status_gauge", status="completed", sender=SENDER, country="US") == 1


def test_events_carry_the_same_labels_and_facts_as_callbacks(labels):
    labels("account", "messaging_service", "sender", "country")
    parameters = {"CallStatus": "completed", "From": SENDER, "To": "+14155550100", "ToCountry": "CA",
                  "AccountSid": ACCOUNT, "AnsweredBy": "human", "SipResponseCode": "200"}
    # an outbound message's country is its recipient's, whatever else the event carries
    assert signed_events([message_event(sid("SM", 1407), "sent", messagingServiceSid=SERVICE, to="+447700900123",
                                        fromCountry="IE", numberOfSegments=2),
                          call_event(sid("CA", 1407), "completed", parameters)])[0] == 200
    samples = scrape()
    message_labels = {"account": ACCOUNT, "messaging_service": SERVICE, "sender": "+11234567890", "country": "GB"}
    assert value(samples, "twilio_message_callback_total", status="sent", **message_labels) == 1
    assert value(samples, "twilio_message_segments_total", **message_labels) == 2
    call_labels = {"account": ACCOUNT, "sender": SENDER, "country": "CA"}
    assert value(samples, "twilio_call_callback_total", status="completed", **call_labels) == 1
    assert value(samples, "twilio_call_answered_by_total", answered_by="human", **call_labels) == 1
    assert value(samples, "twilio_call_sip_responses_total", code="200", **call_labels) == 1


@pytest.mark.stores
def test_past_the_limit_new_values_count_as_other_and_the_first_overflow_is_logged_once(labels, caplog):
    labels("sender", limit=2)
    for number in range(5):
        message(sid("SM", 1410 + number), "sent", From=f"+1415555{number:04d}")
    message(sid("SM", 1410), "delivered", From="+14155550000")
    samples = scrape()
    senders = {dict(labels)["sender"]: count for labels, count in series_of(samples, "twilio_message_callback_total")
               .items() if dict(labels)["status"] == "sent"}
    assert senders == {"+14155550000": 1, "+14155550001": 1, "other": 3}
    assert value(samples, "twilio_message_status_gauge", status="delivered", sender="+14155550000") == 1
    assert caplog.text.count("label sender has reached its limit of 2 values") == 1
    assert json.loads(call("/health")[2])["labels"] == {"sender": {"values": 2, "limit": 2, "over_limit": True}}


def label_values(samples, label):
    """The distinct values of one label across every sample that has it."""
    return {dict(labels)[label] for (_, labels) in samples if label in dict(labels)}


def test_the_limit_holds_under_a_hundred_thousand_callbacks_from_random_senders_to_random_destinations(labels):
    labels("sender", "country")
    randomness = random.Random(14)
    kind, now, count = te.KINDS["message"], time.time(), examples(100_000)
    callbacks = [te.new_callback(now, kind, sid("SM", 20_000_000 + number), "sent", labels=te.callback_labels(
        kind, "", "", f"+{randomness.randrange(10 ** 11):011d}", f"+{randomness.randrange(10 ** 11):011d}", ""))
        for number in range(count)]
    with te.store().connection() as conn:
        for start in range(0, count, 5000):
            with te.store().transaction(conn):
                te.apply_callbacks(te.store(), conn, callbacks[start:start + 5000])
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent", sender="other", country="other") > 0
    assert len(label_values(samples, "sender")) == te.LABEL_LIMIT + 1
    assert len(label_values(samples, "country")) == te.LABEL_LIMIT + 1


def test_the_exposition_never_exceeds_the_documented_worst_case_series_count(labels):
    labels(*te.LABEL_NAMES, limit=2)
    randomness, statuses = random.Random(15), ("sent", "delivered", "undelivered", "failed")
    for number in range(300):
        choice = randomness.choice
        params = {"AccountSid": choice(["AC" + c * 32 for c in "abc"]), "From": choice("ABC"),
                  "MessagingServiceSid": choice(["MG" + c * 32 for c in "ab"] + [""]),
                  "To": choice(["+447700900123", "+14155550100", "+33612345678"])}
        message(sid("SM", 1500 + number % 100), choice(statuses), ErrorCode=choice(["1", "2", "3"]), **params)
        voice(sid("CA", 1500 + number % 100), choice(["ringing", "completed"]), **params)
    samples = scrape()
    per_label = te.LABEL_LIMIT + 1
    for kind in te.KINDS.values():
        worst = len(kind.statuses) * per_label ** len(kind.label_names)  # README, "Breakdown labels"
        for metric in (f"twilio_{kind.name}_callback_total", f"twilio_{kind.name}_status_gauge"):
            assert 0 < len(series_of(samples, metric)) <= worst
    assert len(series_of(samples, "twilio_message_errors_total")) <= (te.MAX_ERROR_CODES + 1) * per_label ** 4


@pytest.mark.stores
def test_pruning_keeps_each_label_sets_gauge_exact(labels):
    labels("sender")
    now, kind = time.time(), te.KINDS["message"]
    with te.store().connection() as conn, te.store().transaction(conn):
        te.apply_callbacks(te.store(), conn, [te.new_callback(now - 100, kind, sid("SM", 1420), "sent", labels=("", "", "A", "", "")),
                                  te.new_callback(now, kind, sid("SM", 1421), "sent", labels=("", "", "B", "", ""))])
    with te.store().connection() as conn:
        assert te.prune(te.store(), conn, now - 100 + te.RETENTION_SECONDS + 1) == 1
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="sent", sender="A") == 0
    assert value(samples, "twilio_message_status_gauge", status="sent", sender="B") == 1
    assert value(samples, "twilio_message_callback_total", status="sent", sender="A") == 1


@pytest.mark.parametrize("sender", ["+1" + "4" * 63, "+1415\n5550100", "+1415555010\x00", "Café", "a\tb"])
def test_a_label_value_out_of_shape_is_counted_as_unknown_beside_good_ones(labels, sender):
    labels("sender", "messaging_service")
    message(sid("SM", 1433), "sent", From=sender, MessagingServiceSid="MG" + "1" * 32)
    message(sid("SM", 1434), "sent", From=SENDER, MessagingServiceSid="MG" + "1" * 32)
    samples = scrape()  # parsed by prometheus_client: a value out of shape would not get this far unharmed
    assert value(samples, "twilio_message_callback_total", status="sent", sender="unknown",
                 messaging_service="MG" + "1" * 32) == 1
    assert value(samples, "twilio_message_callback_total", status="sent", sender=SENDER,
                 messaging_service="MG" + "1" * 32) == 1


@pytest.mark.stores
def test_counts_from_before_a_label_was_chosen_show_as_unknown_and_a_label_dropped_is_summed_over(labels):
    message(sid("SM", 1430), "sent", From=SENDER)
    labels("sender")
    message(sid("SM", 1431), "sent", From=SENDER)
    message(sid("SM", 1432), "sent", From=OTHER_SENDER)
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent", sender="unknown") == 1
    assert value(samples, "twilio_message_callback_total", status="sent", sender=SENDER) == 1
    labels()
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 3


def test_a_state_file_of_release_0_1_is_upgraded_in_place_and_counts_on(state):
    with sqlite3.connect(state) as conn:  # the tables release 0.1 made, with a message at "sent"
        conn.executescript("""
            CREATE TABLE item (kind TEXT NOT NULL, sid TEXT NOT NULL, status TEXT NOT NULL, seen INTEGER NOT NULL,
                               first_seen REAL NOT NULL, PRIMARY KEY (kind, sid)) WITHOUT ROWID;
            CREATE TABLE counter (name TEXT NOT NULL, label TEXT NOT NULL, value REAL NOT NULL,
                                  PRIMARY KEY (name, label)) WITHOUT ROWID;""")
        conn.execute("INSERT INTO item VALUES ('message', ?, 'sent', ?, ?)",
                     (sid("SM", 1440), 1 << te.KINDS["message"].statuses.index("sent"), time.time()))
        conn.executemany("INSERT INTO counter VALUES (?, ?, 1)", [("twilio_message_callback_total", "sent"),
                                                                   ("twilio_message_status_gauge", "sent"),
                                                                   ("twilio_message_errors_total", "30001")])
    te.MAX_ERROR_CODES, limit = 1, te.MAX_ERROR_CODES  # the code counted before holds the one place
    try:
        assert message(sid("SM", 1440), "undelivered", ErrorCode="30007") == 200
        assert message(sid("SM", 1440), "sent") == 200
        samples = scrape()
    finally:
        te.MAX_ERROR_CODES = limit
    assert value(samples, "twilio_message_status_gauge", status="sent") == 0
    assert value(samples, "twilio_message_status_gauge", status="undelivered") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 1
    assert series_of(samples, "twilio_message_errors_total") == {(("error_code", "30001"),): 1,
                                                                  (("error_code", "other"),): 1}


# The tables of schema versions 3 and 4, as the releases before made them.
OLD_SCHEMA = """
CREATE TABLE item (kind TEXT NOT NULL, sid TEXT NOT NULL, status TEXT NOT NULL, seen BIGINT NOT NULL,
                   first_seen DOUBLE PRECISION NOT NULL, labels TEXT NOT NULL DEFAULT '',
                   PRIMARY KEY (kind, sid)) WITHOUT ROWID;
CREATE INDEX item_first_seen ON item (first_seen);
CREATE TABLE counter (name TEXT NOT NULL, label TEXT NOT NULL, value DOUBLE PRECISION NOT NULL,
                      PRIMARY KEY (name, label)) WITHOUT ROWID;
CREATE TABLE label_value (name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, value)) WITHOUT ROWID;
CREATE TABLE inbox (name TEXT PRIMARY KEY, "offset" BIGINT NOT NULL, finished DOUBLE PRECISION) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE poll (operation TEXT PRIMARY KEY, due DOUBLE PRECISION NOT NULL, last_success DOUBLE PRECISION,
                   errors BIGINT NOT NULL DEFAULT 0, payload TEXT) WITHOUT ROWID;
"""


def old_store(target, version, items, counters, label_values):
    """A store as schema version 3 or 4 left it; a label set is named by its text, or in 4 by its number."""
    texts = sorted(({key for *_, key in items} | {label[label.index("\t"):] for _, label, _ in counters
                                                    if "\t" in label}) - {""})
    numbered = {text: f"\t#{number}" for number, text in enumerate(texts, 1)} if version == 4 else {}
    script = OLD_SCHEMA + ("CREATE TABLE series (id BIGINT PRIMARY KEY, labels TEXT NOT NULL UNIQUE) WITHOUT ROWID;"
                           if version == 4 else "")
    if target.startswith("postgresql://"):
        import psycopg
        conn = psycopg.connect(target, autocommit=True)
        conn.execute(script.replace(" WITHOUT ROWID", ""))
        placeholder = "%s"
    else:
        conn = sqlite3.connect(target, isolation_level=None)
        conn.executescript(script)
        placeholder = "?"

    def insert(table, rows):
        for row in rows:
            conn.execute(f"INSERT INTO {table} VALUES ({', '.join([placeholder] * len(row))})", row)
    insert("item", [(*item[:-1], numbered.get(item[-1], item[-1])) for item in items])
    insert("counter", [(name, first + numbered.get(tab + key, tab + key), value)
                       for name, label, value in counters for first, tab, key in [label.partition("\t")]])
    insert("series", [(int(key[2:]), text) for text, key in numbered.items()])
    insert("label_value", label_values)
    insert("meta", [("schema_version", str(version))])
    conn.close()


@pytest.mark.stores
@pytest.mark.parametrize("version", [3, 4])
def test_a_store_of_an_earlier_schema_is_upgraded_keeping_every_count_and_each_message_its_label_set(
        labels, version):
    sent, undelivered = (1 << te.KINDS["message"].statuses.index(status) for status in ("sent", "undelivered"))
    first, other, gone = (f"\tmessaging_service=none\tsender={sender}" for sender in (SENDER, OTHER_SENDER, "Promo=1"))
    counters = [("twilio_message_callback_total", "sent" + first, 1), ("twilio_message_status_gauge", "sent" + first, 1),
                ("twilio_message_callback_total", "sent" + other, 1),
                ("twilio_message_callback_total", "undelivered" + other, 1),
                ("twilio_message_status_gauge", "undelivered" + other, 1),
                ("twilio_message_errors_total", "30007" + other, 1),
                ("twilio_message_callback_total", "sent" + gone, 4),  # its messages pruned since
                ("twilio_message_callback_total", "sent", 7), ("twilio_message_status_gauge", "sent", 2),
                ("twilio_webhook_duplicates_total", "message", 3), ("twilio_message_delivery_seconds_bucket", "5.0", 2),
                ("twilio_message_delivery_seconds_sum", "", 6.5), ("twilio_call_callback_total", "completed", 9)]
    old_store(te.store().target, version, [("message", sid("SM", 1450), "sent", sent, time.time(), first),
                                           ("message", sid("SM", 1451), "undelivered", sent | undelivered,
                                            time.time(), other),
                                           ("message", sid("SM", 1453), "sent", sent, time.time(), "")], counters,
              [("messaging_service", "none"), ("sender", SENDER), ("sender", OTHER_SENDER), ("sender", "Promo=1"),
               ("error_code", "30007")])
    labels("messaging_service", "sender")
    samples = scrape()  # every count as it was
    ours, theirs = {"messaging_service": "none", "sender": SENDER}, {"messaging_service": "none", "sender": OTHER_SENDER}
    assert value(samples, "twilio_message_callback_total", status="sent", **ours) == 1
    assert value(samples, "twilio_message_callback_total", status="sent", **theirs) == 1
    assert value(samples, "twilio_message_callback_total", status="undelivered", **theirs) == 1
    assert value(samples, "twilio_message_callback_total", status="sent", messaging_service="none",
                 sender="Promo=1") == 4
    assert value(samples, "twilio_message_callback_total", status="sent", messaging_service="unknown",
                 sender="unknown") == 7
    assert value(samples, "twilio_message_status_gauge", status="sent", **ours) == 1
    assert value(samples, "twilio_message_status_gauge", status="sent", messaging_service="unknown",
                 sender="unknown") == 2
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 3
    assert value(samples, "twilio_message_delivery_seconds_bucket", le="5.0") == 2
    assert value(samples, "twilio_message_delivery_seconds_sum") == 6.5
    assert value(samples, "twilio_call_callback_total", status="completed", sender="unknown") == 9
    assert series_of(samples, "twilio_message_errors_total") == {
        (("error_code", "30007"), *sorted(theirs.items())): 1}
    assert sum(sample_value for (name, _), sample_value in samples.items() if name.startswith(
        ("twilio_message_callback_total", "twilio_message_status_gauge", "twilio_message_errors_total",
         "twilio_call_callback_total"))) == sum(count for name, _, count in counters
                                                if name != "twilio_webhook_duplicates_total" and "seconds" not in name)
    assert message(sid("SM", 1450), "delivered") == 200  # without From: its label set is the one it had
    assert message(sid("SM", 1452), "sent", From=SENDER) == 200
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="sent", **ours) == 1
    assert value(samples, "twilio_message_status_gauge", status="delivered", **ours) == 1
    assert value(samples, "twilio_message_callback_total", status="sent", **ours) == 2
    with te.store().connection() as conn:
        assert sorted(conn.execute("SELECT id, messaging_service, sender FROM series")) == [
            (1, "none", SENDER), (2, "none", OTHER_SENDER), (3, "none", "Promo=1")]
        assert sorted(conn.execute("SELECT sid, series FROM item")) == [
            (sid("SM", 1450), 1), (sid("SM", 1451), 2), (sid("SM", 1452), 1), (sid("SM", 1453), 0)]
        assert not [label for (label,) in conn.execute("SELECT label FROM counter") if "\t" in label]
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            str(te.SCHEMA_VERSION),)


def test_a_worker_of_the_release_before_can_write_nothing_to_an_upgraded_store():
    conn = te.store().open()
    for statement, values in [("SELECT labels FROM item", ()),  # where its move starts
                              ("INSERT INTO counter (name, label, value) VALUES (?, ?, ?) ON CONFLICT (name, label) "
                               "DO UPDATE SET value = counter.value + excluded.value", ("twilio_x", "sent\t#1", 1))]:
        with pytest.raises(sqlite3.OperationalError):
            conn.execute(statement, values)
    conn.close()


@pytest.mark.stores
def test_a_label_set_numbered_in_a_move_that_failed_is_numbered_afresh_if_another_took_its_number():
    callbacks = [te.new_callback(time.time(), te.KINDS["message"], sid("SM", number), "sent",
                                 labels=("", "", SENDER, "", "")) for number in (1460, 1461)]
    conn = te.store().open()
    with pytest.raises(RuntimeError), te.store().transaction(conn):
        # Numbers their label set 1 (the second finds it in this move, uncommitted), then the move fails.
        te.apply_callbacks(te.store(), conn, callbacks)
        raise RuntimeError("the move fails after its counts")
    with te.store().transaction(conn):  # another host's move, meanwhile, numbers another label set 1
        conn.execute("INSERT INTO series VALUES (1, '', '', ?, '', '')", (OTHER_SENDER,))
    with te.store().transaction(conn):
        te.apply_callbacks(te.store(), conn, callbacks)
    assert conn.execute("SELECT id FROM series WHERE sender = ?", (SENDER,)).fetchall() == [(2,)]
    assert conn.execute("SELECT series FROM item").fetchall() == [(2,), (2,)]
    assert conn.execute("SELECT label, series, value FROM counter WHERE name = 'twilio_message_callback_total'"
                        ).fetchall() == [("sent", 2, 2)]
    conn.close()


def test_a_store_keeps_the_number_of_each_label_set_committed_but_not_of_one_holding_a_value_counted_as_other(
        labels):
    labels("sender", limit=1)
    conn = te.store().open()

    def move(number, sender):
        with te.store().transaction(conn):
            te.apply_callbacks(te.store(), conn, [te.new_callback(time.time(), te.KINDS["message"], sid("SM", number), "sent",
                                                      labels=("", "", sender, "", ""))])
    move(1470, SENDER)  # numbered in this move: the next finds it committed, and keeps its number
    move(1471, SENDER)
    statements = []
    conn.set_trace_callback(statements.append)
    move(1472, SENDER)
    assert not [sql for sql in statements if "label_value" in sql or re.search("(FROM|INTO) series", sql)]
    for number in range(1473, 1483):  # past the limit: each new sender is counted as "other"
        move(number, f"+1555010{number}")
    assert len(te.store().label_sets) == 2  # no labels, and SENDER's: none for the senders counted as "other"
    assert dict(conn.execute("SELECT sender, id FROM series")) == {SENDER: 1, "other": 2}
    assert conn.execute("SELECT value FROM counter WHERE label = 'sent' AND series = 2").fetchone() == (10,)
    conn.close()


def test_a_store_of_a_later_release_is_refused_naming_both_versions_and_left_as_it_is():
    conn = te.store().open()
    later = str(te.SCHEMA_VERSION + 1)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (later,))
    conn.close()
    with pytest.raises(sqlite3.Error, match=f"the store's schema is version {later}, of a later release than this "
                                            f"one's {te.SCHEMA_VERSION}"):
        te.store().open()
    conn = sqlite3.connect(te.store().target)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (later,)
    conn.close()


@pytest.mark.parametrize("sender, to, channel", [
    ("whatsapp:+14155550100", "whatsapp:+447700900123", "whatsapp"),
    ("+14155550100", "WhatsApp:+447700900123", "whatsapp"),  # From has no scheme: To's
    ("messenger:1234567890", "messenger:987", "messenger"),
    ("rcs:brand_agent", "+447700900123", "rcs"),
    ("rcs:brand:agent", "+447700900123", "rcs"),  # the scheme ends at the first colon
    ("+14155550100", "+447700900123", "sms"),
    ("12345", "+447700900123", "sms"),  # a short code
    ("MyBrand", "+447700900123", "sms"),  # an alphanumeric sender ID
    ("", "", "sms"),
    ("fb:1234", "+447700900123", "other"),
    ("apple:abc", "", "other"),
])
def test_the_channel_is_the_address_scheme_of_from_else_of_to_in_a_fixed_vocabulary(labels, sender, to, channel):
    labels("channel")
    assert message(sid("SM", 2400), "sent", From=sender, To=to) == 200
    assert series_of(scrape(), "twilio_message_callback_total")[(("channel", channel), ("status", "sent"))] == 1


@pytest.mark.docs
def test_the_channel_vocabulary_is_exactly_the_five_values_the_readme_lists():
    vocabulary = {*te.CHANNELS.values(), "sms", "other"}
    assert vocabulary == {"sms", "whatsapp", "messenger", "rcs", "other"}
    row = next(line for line in (HERE / "README.md").read_text().splitlines() if line.startswith("| `channel` |"))
    assert set(re.findall(r"`(\w+)`", row.split("|")[2].split(":")[0])) == vocabulary


def test_the_channel_comes_from_events_too_and_calls_have_none(labels):
    labels("channel", "sender")
    assert signed_events([message_event(sid("SM", 2401), "sent", **{"from": "whatsapp:+14155550100"})])[0] == 200
    assert voice(sid("CA", 2401), "completed", From="whatsapp:+14155550100") == 200
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent", channel="whatsapp",
                 sender="whatsapp:+14155550100") == 1
    assert value(samples, "twilio_call_callback_total", status="completed", sender="whatsapp:+14155550100") == 1


# --- stuck: items at a status that should move on, past TWILIO_EXPORTER_STUCK_SECONDS ---

def mark_stuck():
    """Run the upkeep job that counts the items that became stuck; return when it asks to run again."""
    with te.store().connection() as conn:
        return te.mark_stuck(te.store(), conn)


def stuck(samples, kind):
    """{status: value} of twilio_<kind>_stuck."""
    return {dict(labels)["status"]: count for labels, count in series_of(samples, f"twilio_{kind}_stuck").items()}


@pytest.mark.stores
def test_an_item_at_a_status_that_should_move_on_counts_as_stuck_once_past_the_stuck_time_from_that_status():
    assert te.STUCK_SECONDS == 3600
    now = time.time()
    record(te.KINDS["message"], sid("SM", 2300), "queued", now - 3610)
    record(te.KINDS["message"], sid("SM", 2301), "queued", now - 3590)  # not yet
    record(te.KINDS["message"], sid("SM", 2302), "accepted", now - 7200)
    record(te.KINDS["message"], sid("SM", 2302), "sent", now - 100)  # changed since: the clock starts again
    record(te.KINDS["message"], sid("SM", 2303), "sent", now - 7200)
    record(te.KINDS["message"], sid("SM", 2303), "queued", now - 3610)  # arrived late, an earlier status: no change
    record(te.KINDS["message"], sid("SM", 2304), "scheduled", now - 86400 + 100)  # may wait days by design
    record(te.KINDS["call"], sid("CA", 2300), "ringing", now - 7200)
    record(te.KINDS["call"], sid("CA", 2301), "in-progress", now - 7200)  # a call may last hours
    assert mark_stuck() == 1  # unless this worker's upkeep thread counted them first
    samples = scrape()
    assert stuck(samples, "message") == {"accepted": 0, "queued": 1, "sending": 0, "sent": 1}
    assert stuck(samples, "call") == {"queued": 0, "initiated": 0, "ringing": 1}
    mark_stuck()
    assert stuck(scrape(), "message")["queued"] == 1  # counted once


def test_stuck_items_are_counted_a_batch_at_a_time_and_the_next_look_comes_at_once_while_whole_batches_cross(
        tmp_path):
    store = te.make_store(str(tmp_path / "batches.sqlite3"))  # no upkeep thread to count them first
    conn = store.open()
    old = time.time() - te.STUCK_SECONDS - 10
    with store.transaction(conn):
        te.apply_callbacks(store, conn, [te.new_callback(old, te.KINDS["message"], sid("SM", 10 ** 6 + number), "sent")
                                         for number in range(te.PRUNE_BATCH + 1)])
    assert te.PRUNE_BATCH == 2000
    assert te.mark_stuck(store, conn) == 0  # a whole batch crossed: more may wait
    assert conn.execute("SELECT sum(value) FROM counter WHERE name = 'twilio_message_stuck'").fetchone() == (2000,)
    assert te.mark_stuck(store, conn) == te.STUCK_CHECK_SECONDS
    assert conn.execute("SELECT sum(value) FROM counter WHERE name = 'twilio_message_stuck'").fetchone() == (2001,)
    conn.close()
    store.close()


@pytest.mark.stores
def test_a_status_change_or_pruning_takes_a_stuck_item_out(monkeypatch):
    now = time.time()
    for number in range(3):
        record(te.KINDS["message"], sid("SM", 2310 + number), "sent", now - 4000)
    mark_stuck()
    assert stuck(scrape(), "message")["sent"] == 3
    assert message(sid("SM", 2310), "delivered") == 200
    assert message(sid("SM", 2311), "sent") == 200  # a retry of its status changes nothing
    assert message(sid("SM", 2312), "queued") == 200  # nor does an earlier status arriving late
    assert stuck(scrape(), "message")["sent"] == 2
    with te.store().connection() as conn:
        te.prune(te.store(), conn, now - 4000 + te.RETENTION_SECONDS + 1)
    samples = scrape()
    assert stuck(samples, "message")["sent"] == 0
    assert value(samples, "twilio_message_status_gauge", status="sent") == 0


def test_stuck_items_carry_the_breakdown_labels_of_their_message(labels):
    labels("sender")
    record(te.KINDS["message"], sid("SM", 2320), "sent", time.time() - 4000, labels=("", "", SENDER, "", ""))
    record(te.KINDS["message"], sid("SM", 2321), "sent", time.time(), labels=("", "", OTHER_SENDER, "", ""))
    mark_stuck()
    samples = scrape()
    assert value(samples, "twilio_message_stuck", status="sent", sender=SENDER) == 1
    assert value(samples, "twilio_message_stuck", status="sent", sender=OTHER_SENDER) == 0


def test_the_upkeep_thread_shows_a_stuck_item_without_a_scrape_and_looks_again_every_second():
    assert te.STUCK_CHECK_SECONDS <= 5  # the contract: at most 5 s after an item becomes stuck
    record(te.KINDS["call"], sid("CA", 2330), "ringing", time.time() - 3600 + 2)  # stuck 2 s from now
    te.store().start()
    with te.store().connection() as conn:
        wait_for(lambda: conn.execute("SELECT stuck FROM item").fetchone() == (1,), seconds=15)


def test_finding_the_stuck_items_reads_an_index_of_those_waiting_not_every_tracked_item():
    with te.store().connection() as conn:
        plan = " ".join(str(row) for row in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT kind, sid FROM item WHERE {te.WAITING} AND changed < ?", (0,)))
        assert "item_waiting" in plan and "SCAN item " not in plan + " "
        indexed = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'item_waiting'").fetchone()[0]
    assert indexed.endswith(f"WHERE {te.WAITING}")


@pytest.mark.stores
def test_a_store_of_version_5_is_upgraded_its_items_wait_the_stuck_time_from_the_upgrade_and_keep_their_labels(
        labels):
    labels("sender", "channel")
    now = time.time()
    record(te.KINDS["message"], sid("SM", 2340), "sent", now - 86400 + 600,  # within retention, long since sent
              labels=("", "", SENDER, "", ""))
    target = te.store().target
    with te.store().connection() as conn, te.store().transaction(conn):  # as version 5 left it
        conn.execute("DROP INDEX item_waiting")
        for column in ("changed", "stuck"):
            conn.execute(f"ALTER TABLE item DROP COLUMN {column}")
        conn.execute("CREATE TABLE series_v6 AS SELECT * FROM series")
        conn.execute("DROP TABLE series")
        conn.execute("CREATE TABLE series (id BIGINT PRIMARY KEY, account TEXT NOT NULL, messaging_service TEXT "
                     "NOT NULL, sender TEXT NOT NULL, country TEXT NOT NULL, "
                     "UNIQUE (account, messaging_service, sender, country))")
        conn.execute("INSERT INTO series SELECT id, account, messaging_service, sender, country FROM series_v6")
        conn.execute("DROP TABLE series_v6")
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    te.store().close()
    te._store = te.make_store(target, os.path.dirname(te.store().inbox.prefix))
    assert mark_stuck() == 1
    samples = scrape()
    assert value(samples, "twilio_message_status_gauge", status="sent", sender=SENDER, channel="unknown") == 1
    assert value(samples, "twilio_message_stuck", status="sent", sender=SENDER, channel="unknown") == 0
    assert message(sid("SM", 2341), "sent", From=SENDER) == 200  # a label set of the new kind beside the old
    assert value(scrape(), "twilio_message_callback_total", status="sent", sender=SENDER, channel="sms") == 1
    with te.store().connection() as conn:
        changed, = conn.execute("SELECT changed FROM item").fetchone()
        assert now <= changed <= time.time()
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("6",)


# --- what each message or call carries once: segments, who answered, SIP responses, inbound and opt-outs ---

def inbound_event(message_sid, when=None, **data):
    """A Messaging.InboundMessageV1 CloudEvent: a text received on one of the team's numbers."""
    event_type = "com.twilio.messaging.inbound-message.received"
    return cloud_event(event_type, f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{message_sid}",
                       "Messaging.InboundMessageV1/1", f"{message_sid}{data}", when,
                       {"messageSid": message_sid, "accountSid": ACCOUNT, "from": "+447700900123",
                        "to": SENDER, "body": "STOP sending me secrets 4921", "numMedia": 0, **data})


def test_every_value_of_who_answered_and_of_the_opt_out_types_is_exported_at_zero_from_the_start():
    samples = scrape()
    assert {answered: value(samples, "twilio_call_answered_by_total", answered_by=answered)
            for answered in te.ANSWERED_BY} == dict.fromkeys(te.ANSWERED_BY, 0)
    assert {kind: value(samples, "twilio_message_opt_outs_total", type=kind) for kind in ("stop", "start", "help")} == \
        dict.fromkeys(("stop", "start", "help"), 0)
    assert value(samples, "twilio_message_segments_total") == value(samples, "twilio_inbound_messages_total") == 0
    assert series_of(samples, "twilio_call_sip_responses_total") == {}


@pytest.mark.stores
def test_a_messages_segments_count_once_from_the_first_callback_that_carries_a_whole_number_from_1_to_100():
    assert message(sid("SM", 2000), "queued", NumSegments="0") == 200  # 0: not yet known, not a count
    assert message(sid("SM", 2000), "sent", NumSegments="3") == 200
    assert message(sid("SM", 2000), "sent", NumSegments="3") == 200  # Twilio's retry
    assert message(sid("SM", 2000), "delivered", NumSegments="4") == 200  # a later count changes nothing
    for number, raw in enumerate(["101", "2.5", "-1", "x", "１"]):
        assert message(sid("SM", 2001 + number), "sent", NumSegments=raw) == 200
    assert message(sid("SM", 2010), "sent", NumSegments="100") == 200
    assert signed_events([message_event(sid("SM", 2011), "sent", numberOfSegments=2),
                          message_event(sid("SM", 2011), "delivered", numberOfSegments=9)])[0] == 200
    samples = scrape()
    assert value(samples, "twilio_message_segments_total") == 3 + 100 + 2
    assert value(samples, "twilio_message_callback_total", status="sent") == 8  # each callback still counts


@pytest.mark.stores
def test_who_answered_counts_each_call_once_from_the_first_callback_that_carries_it_and_anything_else_is_unknown():
    assert voice(sid("CA", 2000), "in-progress", AnsweredBy="machine_end_beep") == 200
    assert voice(sid("CA", 2000), "completed", AnsweredBy="human") == 200  # the first one stands
    assert voice(sid("CA", 2000), "completed", AnsweredBy="human") == 200
    assert voice(sid("CA", 2001), "completed", AnsweredBy="robot") == 200
    assert voice(sid("CA", 2002), "completed") == 200
    samples = scrape()
    assert series_of(samples, "twilio_call_answered_by_total") == {
        (("answered_by", answered),): {"machine_end_beep": 1, "unknown": 1}.get(answered, 0)
        for answered in te.ANSWERED_BY}


def test_a_chosen_label_whose_field_a_callback_lacks_counts_as_unknown_and_a_missing_service_as_none(labels):
    labels("account", "messaging_service", "sender")
    assert voice(sid("CA", 2005), "completed") == 200
    assert signed_post("/webhooks/message", {"MessageSid": sid("SM", 2005), "MessageStatus": "sent"})[0] == 200
    samples = scrape()
    assert value(samples, "twilio_call_callback_total", status="completed", account="unknown", sender="unknown") == 1
    assert value(samples, "twilio_message_callback_total", status="sent", account="unknown", messaging_service="none",
                 sender="unknown") == 1


@pytest.mark.stores
def test_an_asynchronous_amd_result_without_a_status_is_answered_200_and_counts_who_answered_only(labels):
    labels("sender")
    before = counter_table()
    amd = {"CallSid": sid("CA", 2010), "AccountSid": ACCOUNT, "AnsweredBy": "machine_start",
           "MachineDetectionDuration": "2410"}
    assert signed_post("/webhooks/call", amd)[0] == signed_post("/webhooks/call", amd)[0] == 200  # and its retry
    samples = scrape()
    assert value(samples, "twilio_call_answered_by_total", answered_by="machine_start", sender="unknown") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="call") == 1
    assert {name for name, *_ in set(counter_table()) - set(before)} == {
        "twilio_call_answered_by_total", "twilio_webhook_duplicates_total"}  # no status, no gauge
    assert voice(sid("CA", 2010), "completed", From=SENDER) == 200
    samples = scrape()
    # the call takes the labels of its first status callback; the AMD result kept those it came with
    assert value(samples, "twilio_call_callback_total", status="completed", sender=SENDER) == 1
    assert value(samples, "twilio_call_status_gauge", status="completed", sender=SENDER) == 1
    assert value(samples, "twilio_call_answered_by_total", answered_by="machine_start", sender=SENDER) == 0
    assert json.loads(call("/health")[2])["tracked_calls"] == 1  # it had no status to move out of
    assert signed_post("/webhooks/call", {"CallSid": sid("CA", 2011), "AnsweredBy": ""})[0] == 400
    code, _, body = signed_post("/webhooks/message", {"MessageSid": sid("SM", 2011), "NumSegments": "2"})
    assert code == 400 and json.loads(body)["reason"].endswith(  # segments are taken from a status callback only
        f"a message callback without a status carries nothing counted ({sid('SM', 2011)})")


@pytest.mark.stores
def test_a_retry_that_carries_a_fact_for_the_first_time_counts_the_fact_and_a_duplicate():
    assert voice(sid("CA", 2050), "completed") == 200
    assert voice(sid("CA", 2050), "completed", AnsweredBy="human") == 200  # the same status from another source
    samples = scrape()
    assert value(samples, "twilio_call_callback_total", status="completed") == 1
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="call") == 1
    assert value(samples, "twilio_call_answered_by_total", answered_by="human") == 1


@pytest.mark.stores
def test_an_item_known_by_its_facts_alone_is_pruned_without_moving_a_gauge(monkeypatch):
    now = time.time()
    assert signed_post("/webhooks/call", {"CallSid": sid("CA", 2020), "AnsweredBy": "human"})[0] == 200
    assert voice(sid("CA", 2021), "ringing") == 200
    assert json.loads(call("/health")[2])["tracked_calls"] == 1  # the one with a status
    with te.store().connection() as conn:
        assert te.prune(te.store(), conn, now + te.RETENTION_SECONDS + 1) == 2
    samples = scrape()
    assert json.loads(call("/health")[2])["tracked_calls"] == 0
    assert all(count == 0 for count in series_of(samples, "twilio_call_status_gauge").values())
    assert value(samples, "twilio_call_answered_by_total", answered_by="human") == 1  # counters stay


@pytest.mark.stores
def test_sip_responses_count_each_call_once_from_its_final_status_callback_three_digits_from_100_to_699():
    assert voice(sid("CA", 2030), "ringing", SipResponseCode="180") == 200  # not final
    assert voice(sid("CA", 2030), "completed", SipResponseCode="200") == 200
    assert voice(sid("CA", 2030), "completed", SipResponseCode="200") == 200
    assert voice(sid("CA", 2031), "busy", SipResponseCode="486") == 200
    assert voice(sid("CA", 2031), "completed", SipResponseCode="487") == 200  # the call's second final status
    for number, raw in enumerate(["099", "700", "4860", "48", "abc"]):
        assert voice(sid("CA", 2040 + number), "no-answer", SipResponseCode=raw) == 200
    assert series_of(scrape(), "twilio_call_sip_responses_total") == {(("code", "200"),): 1, (("code", "486"),): 1}


def test_sip_response_codes_stop_growing_at_100_values_and_the_next_counts_as_other():
    for number, code in enumerate(range(100, 202)):
        assert voice(sid("CA", 2100 + number), "completed", SipResponseCode=str(code)) == 200
    codes = series_of(scrape(), "twilio_call_sip_responses_total")
    assert len(codes) == 101 and codes[(("code", "other"),)] == 2 and codes[(("code", "199"),)] == 1


@pytest.mark.stores
def test_an_inbound_message_counts_once_per_sid_though_a_retry_carries_a_new_event_id_and_its_opt_out_by_type():
    stop = inbound_event(sid("SM", 2200), optOutType="STOP")
    retry = {**stop, "id": "EZ" + "9" * 32}
    # any status an inbound event carries is not one of ours
    assert signed_events([stop, inbound_event(sid("SM", 2201), messageStatus="RECEIVED"),
                          inbound_event(sid("SM", 2202), optOutType="HELP"),
                          inbound_event(sid("SM", 2203), optOutType="UNSUBSCRIBE")])[0] == 200
    assert signed_events([retry])[0] == 200
    samples = scrape()
    assert value(samples, "twilio_inbound_messages_total") == 4
    assert series_of(samples, "twilio_message_opt_outs_total") == {
        (("type", "stop"),): 1, (("type", "start"),): 0, (("type", "help"),): 1}
    assert value(samples, "twilio_events_total", type="com.twilio.messaging.inbound-message.received") >= 5
    # an inbound message has no status of ours: the outbound counts do not move
    assert all(count == 0 for count in series_of(samples, "twilio_message_callback_total").values())


def test_an_inbound_message_is_broken_down_by_the_number_it_came_in_on_and_the_texters_country(labels):
    labels("account", "sender", "country")
    assert signed_events([inbound_event(sid("SM", 2210), optOutType="stop"),
                          inbound_event(sid("SM", 2211), fromCountry="IE")])[0] == 200
    samples = scrape()
    assert value(samples, "twilio_inbound_messages_total", account=ACCOUNT, sender=SENDER, country="GB") == 1
    assert value(samples, "twilio_inbound_messages_total", account=ACCOUNT, sender=SENDER, country="IE") == 1
    assert value(samples, "twilio_message_opt_outs_total", type="stop", account=ACCOUNT, sender=SENDER,
                 country="GB") == 1


def test_a_message_body_is_never_read_into_a_metric_or_a_log(caplog):
    caplog.set_level(logging.DEBUG)
    body = "STOP sending me secrets 4921"
    assert signed_events([inbound_event(sid("SM", 2220)), {**inbound_event(sid("SM", 2221)), "type": 7},
                          inbound_event("not a sid")])[0] == 400
    assert signed_events([inbound_event(sid("SM", 2220)), inbound_event("not a sid")])[0] == 200
    assert body not in call("/metrics")[2].decode() and "secrets" not in caplog.text
    assert "skipped event" in caplog.text  # the bad event was logged, without its body


def test_a_line_written_before_facts_were_recorded_is_counted():
    dead_workers_inbox(signed_line("3", repr(time.time()), "message", sid("SM", 2230), "sent", "", "", "", "", "",
                                   ""))
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 1


# --- signatures ---

def test_a_bad_or_missing_signature_gets_403_and_changes_no_count_and_the_log_names_the_request(caplog):
    params = {"MessageSid": sid("SM", 32), "MessageStatus": "sent"}
    code, _, body = signed_post("/webhooks/message", params, token="not-the-token", environ={"REMOTE_ADDR": "203.0.113.7"})
    assert code == 403
    reason = "X-Twilio-Signature does not match 'http://127.0.0.1/webhooks/message' with any configured token"
    assert json.loads(body) == {"status": "rejected", "reason": reason}
    body = urllib.parse.urlencode(params).encode()
    assert call("/webhooks/message", "POST", body)[0] == 403
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 0
    assert caplog.messages[0] == f"rejected POST '/webhooks/message' from 203.0.113.7: 403 {reason}"


def test_a_signature_over_other_parameters_gets_403():
    signature = RequestValidator(TOKEN).compute_signature(
        "http://127.0.0.1/webhooks/message", {"MessageSid": sid("SM", 33), "MessageStatus": "sent"})
    tampered = urllib.parse.urlencode({"MessageSid": sid("SM", 33), "MessageStatus": "delivered"}).encode()
    assert call("/webhooks/message", "POST", tampered, {"X-Twilio-Signature": signature})[0] == 403


def test_twilios_published_test_vector_validates(monkeypatch):
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "mycompany.com", "PATH_INFO": "/myapp.php",
               "QUERY_STRING": "foo=1&bar=2", "HTTP_X_TWILIO_SIGNATURE": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}
    monkeypatch.setattr(te, "AUTH_TOKENS", ("12345",))
    assert te.signature_is_valid(environ, params.items())
    assert not te.signature_is_valid({**environ, "QUERY_STRING": "foo=1"}, params.items())


def test_any_token_in_the_rotation_list_is_accepted(monkeypatch):
    monkeypatch.setattr(te, "AUTH_TOKENS", ("old-primary", "new-secondary"))
    assert message(sid("SM", 34), "sent") == 403
    params = {"MessageSid": sid("SM", 34), "MessageStatus": "sent"}
    assert signed_post("/webhooks/message", params, token="new-secondary")[0] == 200
    assert signed_post("/webhooks/message", {**params, "MessageStatus": "delivered"}, token="old-primary")[0] == 200


def test_the_query_string_is_part_of_the_signed_url():
    params = {"MessageSid": sid("SM", 35), "MessageStatus": "sent"}
    url = "http://127.0.0.1/webhooks/message?tenant=eu"
    assert signed_post("/webhooks/message", params, url=url, query="tenant=eu")[0] == 200
    unqueried = "http://127.0.0.1/webhooks/message"
    assert signed_post("/webhooks/message", params, url=unqueried, query="tenant=eu")[0] == 403


def test_public_url_with_a_path_prefix_is_the_signed_base(monkeypatch):
    monkeypatch.setattr(te, "PUBLIC_URL", "https://hooks.example.com/twilio")
    params = {"MessageSid": sid("SM", 36), "MessageStatus": "sent"}
    assert signed_post("/webhooks/message", params, url="https://hooks.example.com/twilio/webhooks/message")[0] == 200
    assert signed_post("/webhooks/message", params, url="http://127.0.0.1/webhooks/message")[0] == 403


def test_the_signed_url_includes_the_prefix_the_exporter_is_mounted_under():
    params = {"MessageSid": sid("SM", 920), "MessageStatus": "sent"}
    mounted = {"SCRIPT_NAME": "/twilio"}
    assert signed_post("/webhooks/message", params, url="http://127.0.0.1/webhooks/message", environ=mounted)[0] == 403
    assert signed_post("/webhooks/message", params, url="http://127.0.0.1/twilio/webhooks/message",
                       environ=mounted)[0] == 200


def test_a_forwarded_https_scheme_and_host_make_the_signed_url():
    params = {"MessageSid": sid("SM", 37), "MessageStatus": "sent"}
    forwarded = {"wsgi.url_scheme": "https", "HTTP_HOST": "abc123.ngrok.app"}
    assert signed_post("/webhooks/message", params, url="https://abc123.ngrok.app/webhooks/message",
                       environ=forwarded)[0] == 200
    assert signed_post("/webhooks/message", params, url="http://abc123.ngrok.app/webhooks/message",
                       environ=forwarded)[0] == 403


def test_without_a_host_header_the_signed_url_is_the_server_name_and_port():
    params = {"MessageSid": sid("SM", 38), "MessageStatus": "sent"}
    bare = {"HTTP_HOST": "", "SERVER_NAME": "hooks.internal", "SERVER_PORT": "8080"}  # an HTTP/1.0 client
    assert signed_post("/webhooks/message", params, url="http://hooks.internal:8080/webhooks/message",
                       environ=bare)[0] == 200
    assert signed_post("/webhooks/message", params, url="http://127.0.0.1/webhooks/message", environ=bare)[0] == 403


@pytest.mark.parametrize("host", ["[", "example.com:port", "example.com:99999"])
def test_a_host_header_that_makes_no_url_gets_403_not_500(host):
    code, _, body = signed_post("/webhooks/message", {"MessageSid": sid("SM", 780), "MessageStatus": "sent"},
                                headers={"Host": host})
    assert code == 403 and b"X-Twilio-Signature does not match" in body


def test_the_signature_algorithm_named_in_the_settings_header_is_honoured():
    params = {"MessageSid": sid("SM", 38), "MessageStatus": "sent"}
    url = "http://127.0.0.1/webhooks/message"
    body = urllib.parse.urlencode(params).encode()
    sha256 = RequestValidator(TOKEN).compute_signature(url, params, "HMAC_SHA256")
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"}
    assert call("/webhooks/message", "POST", body, {"X-Twilio-Signature": sha256, **settings})[0] == 200
    assert call("/webhooks/message", "POST", body, {"X-Twilio-Signature": sha256})[0] == 403
    # Signed over the URL with its port, as some proxies pass it on: the validator's second try, in SHA-256 too
    with_port = RequestValidator(TOKEN).compute_signature("http://127.0.0.1:80/webhooks/message", params, "HMAC_SHA256")
    assert call("/webhooks/message", "POST", body, {"X-Twilio-Signature": with_port, **settings})[0] == 200


class QueryDict(dict):
    """Django's shape, which RequestValidator reads too: every value of a field, by getlist()."""

    def getlist(self, name):
        """Every value of a field."""
        return self[name]


@st.composite
def signed_requests(draw):
    """A request as Twilio or an impostor sends it: (environ, form pairs, tokens configured, whether genuine)."""
    tokens = draw(st.lists(st.text(min_size=1, max_size=16).map(str.strip).filter(lambda t: t and "," not in t),
                           min_size=1, max_size=3, unique=True))
    scheme, host = draw(st.sampled_from(["http", "https"])), draw(st.sampled_from(["127.0.0.1", "hooks.example.com"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":0", ":port", ":99999", ":"]))
    hostile_host = draw(st.sampled_from(["", "", "", "[", "#", "é", "a@b", "\uff03"]))  # ＃ reads as # under NFKC
    query = draw(st.sampled_from(["", "tenant=eu", "a=1&a=2", "x=%E2%82%AC", "q=1#", "bodySHA256=00"]) | WSGI_TEXT)
    names = st.sampled_from(["MessageSid", "MessageStatus", "To", "Body", ""]) | st.text(max_size=8)
    pairs = draw(st.lists(st.tuples(names, st.text(max_size=12)), max_size=8))  # repeats, empties, non-ASCII
    pairs += pairs[:draw(st.integers(0, 2))]  # a field sent twice with the same value
    environ = {"wsgi.url_scheme": scheme, "HTTP_HOST": host + hostile_host + port, "PATH_INFO": "/webhooks/message",
               "QUERY_STRING": query}
    url = te.signed_url(environ)
    signed_url = draw(st.sampled_from([url, url.replace(port, "", 1) if port else url,
                                       url.replace(host, host + (":443" if scheme == "https" else ":80"), 1)]))
    algorithm = draw(st.sampled_from(["HMAC_SHA1", "HMAC_SHA256"]))
    signer = draw(st.sampled_from(tokens) | st.just("a-stranger"))
    signature = RequestValidator(signer).compute_signature(signed_url, QueryDict(te.MultiDict(pairs)), algorithm)
    signed, signed_pairs = signature, sorted(set(pairs))
    mutation = draw(st.sampled_from(["none", "none", "signature", "value", "extra field", "settings"]))
    if mutation == "signature":
        signature = draw(st.sampled_from([signature[:-1], signature[:-2] + "A=", "", signature.lower()]) | WSGI_TEXT)
    elif mutation == "value" and pairs:
        pairs[0] = (pairs[0][0], pairs[0][1] + "x")
    elif mutation == "extra field":
        pairs.append(("Extra", ""))
    settings = {"HMAC_SHA1": draw(st.sampled_from(["", "algorithm=HMAC_SHA1"])),
                "HMAC_SHA256": draw(st.sampled_from(["key=k1,algorithm=HMAC_SHA256", "algorithm=hmac_sha256"]))}
    if mutation == "settings":
        settings = dict.fromkeys(settings, draw(st.sampled_from(["algorithm=HMAC_MD5", "algorithm=HMAC_SHA256"])
                                               | WSGI_TEXT))
    environ.update(HTTP_X_TWILIO_SIGNATURE=signature, HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS=settings[algorithm])
    sent = (url, sorted(set(pairs)), get_signature_algorithm(settings[algorithm]).upper(), signature)
    return environ, pairs, tokens, signer in tokens and sent == (signed_url, signed_pairs, algorithm, signed)


@settings(max_examples=examples(600), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=signed_requests())
def test_the_standard_library_signature_check_agrees_with_the_twilio_library(monkeypatch, request):
    environ, pairs, tokens, genuine = request
    monkeypatch.setattr(te, "AUTH_TOKENS", tuple(tokens))
    url = te.signed_url(environ)
    algorithm = get_signature_algorithm(environ["HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS"])
    try:
        oracle = any(RequestValidator(token).validate(url, QueryDict(te.MultiDict(pairs)),
                                                      environ["HTTP_X_TWILIO_SIGNATURE"], algorithm) for token in tokens)
    except ValueError:  # a URL the library cannot parse
        oracle = False
    assert te.signature_is_valid(environ, pairs) == oracle
    fast = te.signed_with_a_token(url, pairs, environ["HTTP_X_TWILIO_SIGNATURE"], algorithm)
    assert fast <= oracle  # what the fast path accepts, the library accepts
    assert fast == (genuine and te.validate_reads(url))  # and it settles every genuine request alone


def test_the_fast_signature_path_settles_a_genuine_callback_without_the_library(monkeypatch):
    params = {"MessageSid": sid("SM", 40), "MessageStatus": "sent"}
    monkeypatch.setattr(te.RequestValidator, "validate", lambda *args: pytest.fail("the library was asked"))
    assert signed_post("/webhooks/message", params)[0] == 200
    sha256 = RequestValidator(TOKEN).compute_signature("http://127.0.0.1/webhooks/message", params, "HMAC_SHA256")
    body = urllib.parse.urlencode(params).encode()
    assert call("/webhooks/message", "POST", body, {"X-Twilio-Signature": sha256, "X-Twilio-Webhooks-Signature-"
                                                    "Settings": "algorithm=HMAC_SHA256"})[0] == 200


def test_a_form_body_of_exactly_the_limit_is_read():
    params = {"MessageSid": sid("SM", 39), "MessageStatus": "sent", "Padding": ""}
    params["Padding"] = "x" * (te.MAX_BODY_BYTES - len(urllib.parse.urlencode(params)))
    assert len(urllib.parse.urlencode(params)) == te.MAX_BODY_BYTES
    assert signed_post("/webhooks/message", params)[0] == 200


def test_without_a_token_unsigned_callbacks_are_accepted(monkeypatch):
    monkeypatch.setattr(te, "AUTH_TOKENS", ())
    body = urllib.parse.urlencode({"MessageSid": sid("SM", 39), "MessageStatus": "sent"}).encode()
    assert call("/webhooks/message", "POST", body)[0] == 200


# --- settings ---

def start_up(monkeypatch, **env):
    """Run the module's start-up in this process with only these settings; return what it defines.

    The same code as an import, without its cost: a start-up that fails raises as the import would.
    """
    for name in os.environ:
        if name.startswith("TWILIO_") or name in ("STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
            monkeypatch.delenv(name)
    for name, val in env.items():
        monkeypatch.setenv(name, val)
    return runpy.run_path(str(HERE / "twilio_exporter.py"), run_name="twilio_exporter")


NOT_A_URL = "Not an http(s) URL with a host and no query, e.g. https://hooks.example.com/twilio."
NOT_CATEGORIES = "Not a comma-separated list of usage categories such as sms,calls, or all."
NOT_AN_ADDRESS = "Not a host:port address, e.g. 127.0.0.1:9464."


@pytest.mark.parametrize("name, raw, reason", [
    ("TWILIO_EXPORTER_RETENTION", "abc", "Not a whole number above 0."),
    ("TWILIO_EXPORTER_RETENTION", "-5", "Not a whole number above 0."),
    ("TWILIO_EXPORTER_RETENTION", "0", "Not a whole number above 0."),
    ("TWILIO_EXPORTER_PUBLIC_URL", "hooks.example.com", NOT_A_URL),
    ("TWILIO_EXPORTER_PUBLIC_URL", "ftp://hooks.example.com", NOT_A_URL),
    ("TWILIO_EXPORTER_PUBLIC_URL", "https://", NOT_A_URL),
    ("TWILIO_EXPORTER_PUBLIC_URL", "https://hooks.example.com/?a=1", NOT_A_URL),
    ("TWILIO_EXPORTER_PUBLIC_URL", "https://hooks.example.com/#top", NOT_A_URL),
    ("TWILIO_EXPORTER_LOG_LEVEL", "chatty", "Not one of DEBUG, INFO, WARNING, ERROR."),
    ("TWILIO_ACCOUNT_SID", "not-a-sid", "Not an account SID (AC and 32 hex digits)."),
    ("TWILIO_ACCOUNT_SID", "AC" + "a" * 31, "Not an account SID (AC and 32 hex digits)."),
    ("TWILIO_EXPORTER_POLL_INTERVAL", "0", "Not a whole number above 0."),
    ("TWILIO_EXPORTER_API_URL", "api.twilio.com", NOT_A_URL),
    ("TWILIO_EXPORTER_USAGE_CATEGORIES", "sms;calls", NOT_CATEGORIES),
    ("TWILIO_EXPORTER_USAGE_CATEGORIES", ",", NOT_CATEGORIES),
    ("TWILIO_EXPORTER_USAGE_CATEGORIES", "SMS", NOT_CATEGORIES),
    ("TWILIO_EXPORTER_METRICS_BIND", "9464", NOT_AN_ADDRESS),
    ("TWILIO_EXPORTER_METRICS_BIND", ":9464", NOT_AN_ADDRESS),
    ("TWILIO_EXPORTER_METRICS_BIND", "127.0.0.1:0", NOT_AN_ADDRESS),
    ("TWILIO_EXPORTER_METRICS_BIND", "127.0.0.1:65536", NOT_AN_ADDRESS),
    ("TWILIO_EXPORTER_METRICS_BIND", "127.0.0.1:x", NOT_AN_ADDRESS),
    ("TWILIO_EXPORTER_LABELS", "sender,city", "'city' is not a label: choose from account, messaging_service, "
                                              "sender, country, channel."),
    ("TWILIO_EXPORTER_LABEL_LIMIT", "0", "Not a whole number above 0."),
    ("TWILIO_EXPORTER_STUCK_SECONDS", "1h", "Not a whole number above 0."),
])
def test_a_bad_setting_stops_start_up_naming_the_variable_the_value_and_what_is_wrong(name, raw, reason, tmp_path,
                                                                                     monkeypatch):
    with pytest.raises(ValueError) as stopped:
        start_up(monkeypatch, **{name: raw, "TWILIO_EXPORTER_DB": str(tmp_path / "s.sqlite3")})
    assert str(stopped.value) == f"Config '{name}' has value '{raw}'. {reason}"


@pytest.mark.parametrize("env, named", [
    ({"TWILIO_ACCOUNT_SID": ACCOUNT}, "Config 'TWILIO_ACCOUNT_SID' is set, so polling needs credentials"),
    ({"TWILIO_API_KEY": "SK" + "b" * 32}, "Config 'TWILIO_API_KEY' and 'TWILIO_API_SECRET' go together"),
    ({"TWILIO_API_SECRET": "secret"}, "Config 'TWILIO_API_KEY' and 'TWILIO_API_SECRET' go together"),
])
def test_polling_settings_that_cannot_work_stop_start_up(env, named, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=re.escape(named)):
        start_up(monkeypatch, **env, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))


@pytest.mark.parametrize("env", [
    {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN},
    {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": "SK" + "b" * 32, "TWILIO_API_SECRET": "secret"},
])
def test_polling_with_either_kind_of_credentials_starts(env, tmp_path, monkeypatch):
    assert start_up(monkeypatch, **env, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))["ACCOUNT_SID"] == ACCOUNT


def test_good_settings_are_read_as_their_values(tmp_path, monkeypatch):
    module = start_up(monkeypatch, TWILIO_AUTH_TOKEN=" primary , secondary ,", TWILIO_EXPORTER_RETENTION="3600",
                      TWILIO_EXPORTER_STUCK_SECONDS="3599",
                      TWILIO_EXPORTER_PUBLIC_URL="https://hooks.example.com/twilio/", TWILIO_EXPORTER_LOG_LEVEL="debug",
                      TWILIO_EXPORTER_USAGE_CATEGORIES="sms, calls", TWILIO_EXPORTER_POLL_INTERVAL="30",
                      TWILIO_EXPORTER_METRICS_BIND="127.0.0.1:9464", TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"),
                      TWILIO_EXPORTER_LABELS="country, sender", TWILIO_EXPORTER_LABEL_LIMIT="50")
    assert module["AUTH_TOKENS"] == ("primary", "secondary")
    assert module["RETENTION_SECONDS"] == 3600 and module["POLL_INTERVAL_SECONDS"] == 30
    assert module["STUCK_SECONDS"] == 3599
    assert module["PUBLIC_URL"] == "https://hooks.example.com/twilio"
    assert module["LOG_LEVEL"] == "DEBUG" and module["USAGE_CATEGORIES"] == ("sms", "calls")
    assert (module["METRICS_BIND"], module["METRICS_PORT"]) == ("127.0.0.1:9464", "9464")
    assert module["DB_PATH"] == str(tmp_path / "s.sqlite3")
    assert (module["LABELS"], module["LABEL_LIMIT"]) == (("sender", "country"), 50)
    te.log.setLevel("INFO")  # the one logger, which that start-up set to DEBUG


@pytest.mark.parametrize("address, port", [("[::1]:9464", "9464"), ("127.0.0.1:1", "1"), ("0.0.0.0:65535", "65535")])
def test_a_metrics_listener_may_be_an_ipv6_address_and_any_port(address, port, tmp_path, monkeypatch):
    module = start_up(monkeypatch, TWILIO_EXPORTER_METRICS_BIND=address, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))
    assert (module["METRICS_BIND"], module["METRICS_PORT"]) == (address, port)


@pytest.mark.parametrize("level", ["debug", "Info", "WARNING", "error"])
def test_each_log_level_is_taken_in_any_case(level, tmp_path, monkeypatch):
    module = start_up(monkeypatch, TWILIO_EXPORTER_LOG_LEVEL=level, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))
    assert module["LOG_LEVEL"] == level.upper()


def test_a_public_url_may_be_plain_http_behind_a_proxy_that_ends_tls(tmp_path, monkeypatch):
    module = start_up(monkeypatch, TWILIO_EXPORTER_PUBLIC_URL="http://10.0.0.5:8080/twilio/",
                      TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))
    assert module["PUBLIC_URL"] == "http://10.0.0.5:8080/twilio"


def test_the_defaults_are_the_documented_ones(tmp_path, monkeypatch):
    module = start_up(monkeypatch, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))
    assert (module["AUTH_TOKENS"], module["PUBLIC_URL"], module["METRICS_BIND"]) == ((), "", "")
    assert (module["RETENTION_SECONDS"], module["POLL_INTERVAL_SECONDS"], module["LOG_LEVEL"]) == (86400, 60, "INFO")
    assert module["USAGE_CATEGORIES"] == ("sms", "mms", "calls", "totalprice")
    assert module["API_URL"] == "https://api.twilio.com"
    assert (module["LABELS"], module["LABEL_LIMIT"]) == ((), 100)
    assert module["STUCK_SECONDS"] == 3600


@pytest.mark.parametrize("stuck, retention", [("3600", "3600"), ("86400", "86400"), ("7200", "3600")])
def test_a_stuck_time_not_shorter_than_the_retention_stops_start_up_naming_both(stuck, retention, tmp_path,
                                                                                monkeypatch):
    with pytest.raises(ValueError) as stopped:
        start_up(monkeypatch, TWILIO_EXPORTER_STUCK_SECONDS=stuck, TWILIO_EXPORTER_RETENTION=retention,
                 TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))
    assert str(stopped.value).startswith(f"Config 'TWILIO_EXPORTER_STUCK_SECONDS' ({stuck}) must be shorter than "
                                         f"'TWILIO_EXPORTER_RETENTION' ({retention})")
    assert start_up(monkeypatch, TWILIO_EXPORTER_STUCK_SECONDS=str(int(retention) - 1),
                    TWILIO_EXPORTER_RETENTION=retention, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))


def test_the_country_label_without_phonenumbers_stops_start_up_with_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "phonenumbers", None)  # as if it were not installed
    assert start_up(monkeypatch, TWILIO_EXPORTER_LABELS="sender", TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))
    with pytest.raises(ValueError) as stopped:
        start_up(monkeypatch, TWILIO_EXPORTER_LABELS="sender,country", TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))
    assert str(stopped.value) == ("Config 'TWILIO_EXPORTER_LABELS' includes country, which needs the phonenumbers "
                                  "package: pip install 'phonenumbers>=8.13'")


def test_a_postgresql_store_without_psycopg_stops_start_up_with_the_pip_command_and_never_the_password(
        monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    with pytest.raises(ValueError) as stopped:
        start_up(monkeypatch, TWILIO_EXPORTER_DB="postgresql://exporter:hunter2@db.example.com/twilio")
    assert str(stopped.value) == ("Config 'TWILIO_EXPORTER_DB' has value 'postgresql://exporter:***@db.example.com/"
                                  "twilio'. A PostgreSQL store needs the psycopg package: pip install "
                                  "'psycopg[binary]>=3.1'")


@pytest.mark.parametrize("url, shown", [("postgresql://exporter:hunter2@db.example.com",
                                          "postgresql://exporter:***@db.example.com"),
                                         ("postgres://db.example.com/?password=hunter2",
                                          "postgres://db.example.com/?password=***")])
def test_a_postgresql_url_without_a_database_stops_start_up_naming_it_without_the_password(url, shown, monkeypatch):
    with pytest.raises(ValueError) as stopped:
        start_up(monkeypatch, TWILIO_EXPORTER_DB=url)
    assert str(stopped.value) == (f"Config 'TWILIO_EXPORTER_DB' has value {shown!r}. "
                                  "Name the database, e.g. postgresql://exporter@db.example.com/twilio_exporter")


@pytest.mark.parametrize("url, name", [
    ("postgresql://exporter:hunter2@db.example.com:5433/twilio?sslmode=require&password=hunter2",
     "postgresql://exporter:***@db.example.com:5433/twilio?sslmode=require&password=***"),
    ("postgres://exporter:hun@ter2@db/twilio", "postgres://exporter:***@db/twilio"),  # an @ left unescaped
    ("postgresql://:hunter2@db/twilio?PASSWORD=hunter2&application_name=x",
     "postgresql://:***@db/twilio?PASSWORD=***&application_name=x"),
    ("postgresql://db/twilio", "postgresql://db/twilio"),
    ("postgresql://exporter@db/twilio?sslmode=require", "postgresql://exporter@db/twilio?sslmode=require"),
])
def test_logs_and_health_name_a_postgresql_store_without_its_password(url, name):
    assert te.make_store(url).name == name


def test_a_postgresql_url_selects_the_postgresql_store_and_its_inbox_folder(tmp_path, monkeypatch):
    module = start_up(monkeypatch, TWILIO_EXPORTER_DB="postgres://exporter:hunter2@db/twilio",
                      STATE_DIRECTORY=str(tmp_path))
    assert type(module["store"]()) is module["PostgresStore"]
    assert module["store"]().inbox.prefix == f"{tmp_path}/twilio_exporter.inbox."
    assert module["store"]().name == "postgres://exporter:***@db/twilio"
    module = start_up(monkeypatch, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"),
                      TWILIO_EXPORTER_INBOX_DIR=str(tmp_path / "inboxes"))
    assert type(module["store"]()) is module["SQLiteStore"]
    assert module["store"]().inbox.prefix == f"{tmp_path}/inboxes/s.sqlite3.inbox."


def test_the_state_file_may_not_live_in_the_multiprocess_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="Config 'TWILIO_EXPORTER_DB' .* inside PROMETHEUS_MULTIPROC_DIR"):
        start_up(monkeypatch, TWILIO_EXPORTER_DB=str(tmp_path / "sub" / "state.db"))
    assert start_up(monkeypatch, TWILIO_EXPORTER_DB=str(tmp_path.parent / "beside.db"))["DB_PATH"] == str(
        tmp_path.parent / "beside.db")


def test_the_state_file_defaults_to_systemds_state_directory_else_the_current_folder(tmp_path, monkeypatch):
    assert start_up(monkeypatch, STATE_DIRECTORY=f"{tmp_path}:/elsewhere")["DB_PATH"] == str(
        tmp_path / "twilio_exporter.sqlite3")
    monkeypatch.chdir(tmp_path)
    assert start_up(monkeypatch)["DB_PATH"] == str(tmp_path / "twilio_exporter.sqlite3")


@pytest.mark.server
def test_a_bad_setting_stops_a_fresh_interpreter_naming_the_variable(tmp_path):
    process = subprocess.run([sys.executable, "-c", "import twilio_exporter"], cwd=HERE, capture_output=True,
                             text=True, timeout=60, env=clean_env(TWILIO_EXPORTER_RETENTION="abc",
                                                                  TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3")))
    assert process.returncode != 0 and "Config 'TWILIO_EXPORTER_RETENTION' has value 'abc'" in process.stderr


def test_private_metrics_folders_of_servers_that_are_gone_are_removed_and_live_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    prefix = f"twilio_exporter-metrics-{os.getuid()}-"
    gone = subprocess.Popen(["true"], start_new_session=True)  # its own process group, soon empty
    gone.wait()
    stale, live = tmp_path / f"{prefix}{gone.pid}-0badf00d", tmp_path / f"{prefix}{os.getpgrp()}-0badf00d"
    other = tmp_path / f"twilio_exporter-metrics-{os.getuid() + 1}-{gone.pid}-0badf00d"  # another user's
    for folder in (stale, live, other):
        folder.mkdir()
    made = Path(te.private_metrics_dir())
    assert made.parent == tmp_path
    assert made.name == f"{prefix}{os.getpgrp()}-{hashlib.sha1(te.DB_PATH.encode()).hexdigest()[:8]}"
    assert made.is_dir() and made.stat().st_mode & 0o777 == 0o700
    assert not stale.exists() and live.exists() and other.exists()
    assert te.private_metrics_dir() == str(made)  # the same server, the same folder


def test_a_private_metrics_folder_of_another_user_stops_start_up_naming_the_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    theirs = tmp_path / (f"twilio_exporter-metrics-{os.getuid()}-{os.getpgrp()}-"
                         f"{hashlib.sha1(te.DB_PATH.encode()).hexdigest()[:8]}")
    theirs.mkdir()
    os.chown(theirs, os.getuid() + 1, -1)  # root in CI; as another user, that user's folder would be made so
    with pytest.raises(te.ConfigError, match=f"Metrics folder '{theirs}' belongs to another user; "
                                             "set PROMETHEUS_MULTIPROC_DIR."):
        te.private_metrics_dir()


def test_the_metrics_listener_on_the_public_listeners_port_stops_start_up(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Config 'TWILIO_EXPORTER_METRICS_BIND' has value '127.0.0.1:8080'. "
                                         "It must use another port than TWILIO_EXPORTER_BIND"):
        start_up(monkeypatch, TWILIO_EXPORTER_BIND="0.0.0.0:8080", TWILIO_EXPORTER_METRICS_BIND="127.0.0.1:8080",
                 TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))


@pytest.mark.parametrize("env", [{}, {"TWILIO_EXPORTER_BIND": "127.0.0.1:8080"}])
def test_gunicorn_conf_refuses_the_metrics_listener_on_the_public_listeners_port(env, monkeypatch):
    for name, val in {**env, "TWILIO_EXPORTER_METRICS_BIND": "127.0.0.1:8080"}.items():
        monkeypatch.setenv(name, val)
    with pytest.raises(SystemExit, match="Config 'TWILIO_EXPORTER_METRICS_BIND' has value '127.0.0.1:8080'"):
        runpy.run_path(str(HERE / "gunicorn.conf.py"))


@pytest.mark.parametrize("metrics_bind, warned", [("", True), ("127.0.0.1:9464", False)])
def test_a_public_url_without_a_private_metrics_listener_logs_one_warning(metrics_bind, warned, tmp_path,
                                                                          monkeypatch, caplog):
    start_up(monkeypatch, TWILIO_EXPORTER_PUBLIC_URL="https://hooks.example.com", TWILIO_AUTH_TOKEN=TOKEN,
             TWILIO_EXPORTER_METRICS_BIND=metrics_bind, TWILIO_EXPORTER_DB=str(tmp_path / "s"))["warn_about_the_settings"]()
    assert caplog.text.count("set TWILIO_EXPORTER_METRICS_BIND") == (1 if warned else 0)


@pytest.mark.parametrize("token, warned", [("", True), (TOKEN, False)])
def test_no_token_logs_a_warning_at_start_up(token, warned, tmp_path, monkeypatch, caplog):
    start_up(monkeypatch, TWILIO_AUTH_TOKEN=token, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"))["warn_about_the_settings"]()
    assert caplog.text.count("TWILIO_AUTH_TOKEN is not set: webhooks are accepted WITHOUT signature checks") == (
        1 if warned else 0)


# --- bounds, each at its real value ---

def test_a_form_of_exactly_max_form_fields_is_counted():
    params = {"MessageSid": sid("SM", 2101), "MessageStatus": "sent",
              **{f"Field{number}": "1" for number in range(te.MAX_FORM_FIELDS - 2)}}
    assert len(params) == te.MAX_FORM_FIELDS == 100
    assert signed_post("/webhooks/message", params)[0] == 200
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 1


def test_a_sid_of_64_letters_and_digits_is_counted_and_one_of_any_other_character_is_refused():
    assert message("SM" + "aZ09" * 15 + "ab", "sent") == 200
    assert message("SM-" + "a" * 30, "sent") == 400
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 1


def test_max_error_codes_distinct_codes_count_as_themselves_and_the_next_as_other():
    assert te.MAX_ERROR_CODES == 200
    assert message(sid("SM", 2500), "failed", ErrorCode="1234567") == 200  # seven digits: "unknown", the first
    for number in range(te.MAX_ERROR_CODES):
        assert message(sid("SM", 2200 + number), "undelivered", ErrorCode=str(300000 + number)) == 200
    codes = series_of(scrape(), "twilio_message_errors_total")
    assert codes[(("error_code", "unknown"),)] == 1
    assert codes[(("error_code", "300000"),)] == codes[(("error_code", "300198"),)] == 1  # six digits
    assert codes[(("error_code", "other"),)] == 1  # the 201st value
    assert len(codes) == te.MAX_ERROR_CODES + 1


def test_a_label_value_of_64_printable_characters_is_kept_and_a_longer_one_counts_as_unknown(labels):
    labels("sender")
    long_sender = "Promo " + "x" * 58
    assert message(sid("SM", 2501), "sent", From=long_sender) == 200
    assert message(sid("SM", 2502), "sent", From=long_sender + "x") == 200
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent", sender=long_sender) == 1
    assert value(samples, "twilio_message_callback_total", status="sent", sender="unknown") == 1


def test_the_inbox_takes_lines_up_to_its_default_limit_of_a_gibibyte_behind_and_no_further(state):
    assert te.INBOX_LIMIT == 1024 ** 3
    inbox = te.Inbox(str(state) + ".limit.")
    inbox.backlog = te.INBOX_LIMIT
    inbox.write(b"\n")
    inbox.backlog = te.INBOX_LIMIT + 1
    with pytest.raises(te.Unavailable, match=f"over TWILIO_EXPORTER_INBOX_LIMIT={te.INBOX_LIMIT}"):
        inbox.write(b"\n")
    inbox.close()


def test_the_read_positions_are_replaced_whole_so_a_scrape_measuring_meanwhile_never_sees_half_of_them(state):
    inbox = te.Inbox(str(state) + ".whole.")
    inbox.offsets, seen = {"a.1.1": 5, "b.1.2": 7}, []

    class Connection:
        def execute(self, sql, parameters):
            for row in [("a.1.1", 6, None), ("b.1.2", 8, None)]:
                seen.append(dict(inbox.offsets))  # what another thread reads between two rows
                yield row
    inbox.refresh(Connection(), {"a.1.1": 9, "b.1.2": 9})
    assert seen == [{"a.1.1": 5, "b.1.2": 7}] * 2
    assert inbox.offsets == {"a.1.1": 6, "b.1.2": 8}


def test_a_worker_starts_a_new_inbox_file_once_its_file_has_reached_the_rotation_size(state, monkeypatch):
    line = inbox_line(sid("SM", 2700), "sent")
    monkeypatch.setattr(te, "INBOX_ROTATE_BYTES", 2 * len(line))
    inbox = te.Inbox(str(state) + ".rotation.")
    for _ in range(3):
        inbox.write(line)
    assert [size for _, size in sorted(inbox.files().items())] == [2 * len(line), len(line)]
    inbox.close()


def test_one_fold_reads_at_most_a_mebibyte_and_the_next_folds_count_the_rest():
    assert te.FOLD_BYTES == 1024 * 1024
    line = inbox_line(sid("SM", 2600), "sent")
    lines = [inbox_line(sid("SM", 2600 + number), "sent") for number in range(te.FOLD_BYTES // len(line) + 100)]
    dead_workers_inbox(*lines)
    conn = te.store().open()  # a connection of its own: no upkeep thread folds meanwhile
    read = te.fold_inbox(te.store(), conn)
    assert te.FOLD_BYTES - 2 * len(line) < read <= te.FOLD_BYTES
    while te.fold_inbox(te.store(), conn):
        pass
    assert conn.execute("SELECT count(*) FROM item").fetchone() == (len(lines),)
    conn.close()


# --- real gunicorn ---

def free_port():
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real gunicorn serving the exporter on loopback."""

    def __init__(self, tmp_path, args, cwd=HERE, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [arg.format(port=self.port) for arg in args]
        env = clean_env(HOME=str(tmp_path), TWILIO_EXPORTER_BIND=f"127.0.0.1:{self.port}", **env)
        self.log = open(tmp_path / f"gunicorn-{self.port}.log", "wb")
        self.process = subprocess.Popen([GUNICORN, *args, "twilio_exporter:app"], cwd=cwd, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get(self.url + "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("gunicorn did not start: " + Path(self.log.name).read_text())

    def workers(self):
        """The pids of the current workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def metrics(self):
        """Scrape /metrics over HTTP and parse it."""
        code, body = get(self.url + "/metrics")
        assert code == 200, body
        return parse_metrics(body.decode())

    def stop(self, graceful=True):
        """Stop gunicorn and wait for it: gracefully as systemd does (SIGTERM), or at once (SIGQUIT) at a test's end.

        A graceful stop takes a second: each gthread worker notices it only when its poll for connections times out.
        """
        self.process.send_signal(signal.SIGTERM if graceful else signal.SIGQUIT)
        self.process.wait(timeout=30)
        self.log.close()


def get(url):
    """GET a URL; return (code, body)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post_until_acknowledged(base_url, path, params, token=TOKEN, seconds=30):
    """POST a signed callback (or a batch of events), retrying any non-200 or connection error as Twilio does.

    base_url may be a list of hosts' URLs behind a load balancer: each retry goes to the next one.
    """
    hosts = [base_url] if isinstance(base_url, str) else base_url
    deadline, attempt = time.monotonic() + seconds, 0  # a loaded machine restarts killed workers slowly
    while time.monotonic() < deadline:
        base_url, attempt = hosts[attempt % len(hosts)], attempt + 1
        if path == "/webhooks/events":
            body = json.dumps(params)
            query, signature = json_signature(base_url + path, body, token or TOKEN)
            url, body, headers = f"{base_url}{path}?{query}", body.encode(), {"Content-Type": "application/json"}
        else:
            body, headers = urllib.parse.urlencode(params).encode(), {"Content-Type": FORM}
            signature = token and RequestValidator(token).compute_signature(base_url + path, params)
            url = base_url + path
        if token:
            headers["X-Twilio-Signature"] = signature
        try:
            request = urllib.request.Request(url, body, headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 200:
                    return 1
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.05)
    raise AssertionError(f"{params} was never acknowledged")


def send_all(base_url, callbacks, token=TOKEN, threads=16, during=None):
    """Send (path, params) callbacks concurrently; run `during(futures)` meanwhile; return acknowledgements."""
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(post_until_acknowledged, base_url, path, params, token) for path, params in callbacks]
        if during:
            during(futures)
        return sum(future.result() for future in futures)


def traffic(messages, calls, first=0, async_amd=False):
    """Distinct signed callbacks for some messages and calls, each sent twice (a Twilio retry).

    Each message has 2 segments, each call a human answering and SIP response 200; with async_amd,
    each call's AMD result comes to the call webhook too, without a status.
    """
    callbacks = []
    for number in range(first, first + messages):
        final = ("undelivered", {"ErrorCode": "30003"}) if number % 5 == 0 else ("delivered", {})
        for status, extra in (("sent", {}), final):
            params = {"MessageSid": sid("SM", number), "MessageStatus": status, "NumSegments": "2", **extra}
            callbacks += [("/webhooks/message", params)] * 2
    for number in range(first, first + calls):
        amd = [("", {"AnsweredBy": "human"})] if async_amd else []
        for status, extra in (*amd, ("ringing", {"SipResponseCode": "180"}),
                              ("completed", {"CallDuration": "30", "AnsweredBy": "human", "SipResponseCode": "200"})):
            params = {"CallSid": sid("CA", number), **({"CallStatus": status} if status else {}), **extra}
            callbacks += [("/webhooks/call", params)] * 2
    return callbacks


def assert_exact_counts(samples, messages, calls, **labels):
    """The counters and gauges equal the distinct callbacks of traffic(messages, calls), in one label set if given."""
    undelivered = len(range(0, messages, 5))
    for name, status, count in (("callback_total", "sent", messages),
                                ("callback_total", "delivered", messages - undelivered),
                                ("callback_total", "undelivered", undelivered), ("status_gauge", "sent", 0),
                                ("status_gauge", "delivered", messages - undelivered),
                                ("status_gauge", "undelivered", undelivered)):
        assert value(samples, f"twilio_message_{name}", status=status, **labels) == count
    assert value(samples, "twilio_message_errors_total", error_code="30003", **labels) == undelivered
    assert value(samples, "twilio_message_segments_total", **labels) == 2 * messages
    assert value(samples, "twilio_call_callback_total", status="completed", **labels) == calls
    assert value(samples, "twilio_call_status_gauge", status="completed", **labels) == calls
    assert value(samples, "twilio_call_answered_by_total", answered_by="human", **labels) == calls
    sip = {dict(key)["code"]: count for key, count in series_of(samples, "twilio_call_sip_responses_total").items()
           if labels.items() <= dict(key).items()}
    assert sip == ({"200": calls} if calls else {})
    if not labels:  # the histograms have no breakdown labels
        assert value(samples, "twilio_call_duration_seconds_sum") == 30 * calls


@pytest.fixture
def gunicorn(tmp_path):
    """Start the production config with 3 workers on a state file in tmp_path."""
    servers = []

    def start(**env):
        server = Server(tmp_path, ["-c", str(HERE / "gunicorn.conf.py")], TWILIO_AUTH_TOKEN=TOKEN,
                        TWILIO_EXPORTER_WORKERS="3", TWILIO_EXPORTER_DB=str(tmp_path / "state.sqlite3"),
                        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), **env)
        server.db = tmp_path / "state.sqlite3"
        servers.append(server)
        return server
    yield start
    for server in servers:
        if server.process.poll() is None:
            server.stop(graceful=False)


def killing_workers(server, killed):
    """A `during` for send_all: SIGKILL a worker ten times a second until 90% are sent, noting each in killed.

    One worker is always left, and at most ten are killed: on a slow machine, killing workers as
    fast as gunicorn boots them could otherwise stop every request, and so the loop, for good.
    """
    def kill_workers_while_sending(futures):
        while sum(future.done() for future in futures) < len(futures) * 0.9 and len(killed) < 10:
            time.sleep(0.1)
            workers = server.workers()
            if len(workers) > 1:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])
    return kill_workers_while_sending


def as_event_batches(callbacks, size=20):
    """traffic()'s callbacks as Event Streams events, in batches."""
    events = []
    for path, params in callbacks:
        if path == "/webhooks/message":
            extra = {"errorCode": int(params["ErrorCode"])} if "ErrorCode" in params else {}
            events.append(message_event(params["MessageSid"], params["MessageStatus"],
                                        numberOfSegments=int(params["NumSegments"]), **extra))
        else:
            events += [call_event(params["CallSid"], params["CallStatus"], params)] if "CallStatus" in params else []
    return [("/webhooks/events", events[start:start + size]) for start in range(0, len(events), size)]


@pytest.mark.server
def test_counts_are_exact_when_workers_are_sigkilled_with_event_batches_in_flight(gunicorn):
    server, killed = gunicorn(), []
    inbound = [inbound_event(sid("SM", 5000 + number), optOutType="STOP" if number % 5 == 0 else "")
               for number in range(100)]
    inbound += [{**event, "id": event["id"][:-4] + "beef"} for event in inbound[::2]]  # retried with new ids
    # queued two hours ago by their own time, and never sent: stuck once the upkeep looks
    waiting = [message_event(sid("SM", 6000 + number), "queued", when=time.time() - 7200) for number in range(30)]
    batches = as_event_batches(traffic(messages=300, calls=100), size=4)
    batches += [("/webhooks/events", events[start:start + 4]) for events in (inbound, waiting)
                for start in range(0, len(events), 4)]
    retried = batches + batches[::3]  # a third of the batches retried whole, as after a lost answer
    assert send_all(server.url, retried, during=killing_workers(server, killed)) == len(retried)
    samples = server.metrics()
    assert len(killed) >= 2
    assert_exact_counts(samples, 300, 100)
    assert value(samples, "twilio_inbound_messages_total") == 100
    assert value(samples, "twilio_message_opt_outs_total", type="stop") == 20
    wait_for(lambda: value(server.metrics(), "twilio_message_stuck", status="queued") == 30)
    assert value(server.metrics(), "twilio_message_status_gauge", status="queued") == 30
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") >= 600
    assert value(samples, "twilio_webhook_requests_total", endpoint="events", code="200") >= len(batches)


def postgresql_host(folder, url):
    """An exporter host over a PostgreSQL database: gunicorn with the production config, 2 workers, its own inbox."""
    (folder / "inbox").mkdir(parents=True, exist_ok=True)
    return Server(folder, ["-c", str(HERE / "gunicorn.conf.py")], TWILIO_AUTH_TOKEN=TOKEN, TWILIO_EXPORTER_WORKERS="2",
                  TWILIO_EXPORTER_DB=url, TWILIO_EXPORTER_INBOX_DIR=str(folder / "inbox"),
                  PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"))


def store_series(samples):
    """The samples every host exports alike: those kept in the store (not a host's requests, backlog or store_up)."""
    return {key: val for key, val in samples.items()
            if not key[0].startswith(("twilio_webhook_request", "twilio_exporter_"))}


@pytest.fixture
def hosts():
    """A list to put exporter hosts in; whichever still run at the end are stopped."""
    started = []
    yield started
    for host in started:
        if host.process.poll() is None:
            host.stop(graceful=False)


@pytest.mark.server
def test_two_hosts_over_postgresql_count_exactly_through_sigkills_a_host_killed_whole_and_postgresql_restarted(
        own_postgres, tmp_path, hosts):
    url = own_postgres.database()
    hosts += [postgresql_host(tmp_path / name, url) for name in ("a", "b")]
    urls, killed, events = [host.url for host in hosts], [], []

    def havoc(futures):
        """SIGKILL workers on both hosts; kill host a whole and restart it; restart PostgreSQL."""
        def done():
            return sum(future.done() for future in futures) / len(futures)
        kills = [0.05, 0.1, 0.15, 0.2, 0.45, 0.5, 0.7, 0.8]  # how far the traffic has got at each worker's SIGKILL
        while done() < 0.9:
            time.sleep(0.05)
            host = hosts[len(killed) % 2]
            workers = host.workers() if host.process.poll() is None else []  # none while they restart
            if kills and done() > kills[0] and workers:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])
                kills.pop(0)
            if done() > 0.3 and "host killed" not in events:
                os.killpg(hosts[0].process.pid, signal.SIGKILL)  # master and workers, mid-run
                hosts[0].process.wait()
                hosts[0].log.close()
                hosts[0] = postgresql_host(tmp_path / "a", url)  # its inbox folder, with what it left
                urls[0] = hosts[0].url
                events.append("host killed")
            if done() > 0.6 and "postgresql restarted" not in events:
                own_postgres.stop()
                time.sleep(1)
                own_postgres.start()
                events.append("postgresql restarted")
    callbacks = traffic(messages=300, calls=100)
    # Each callback and its retry go to different hosts, as a load balancer may send them.
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(post_until_acknowledged, urls[number % 2:] + urls[:number % 2], path, params)
                   for number, (path, params) in enumerate(callbacks)]
        havoc(futures)
        assert sum(future.result() for future in futures) == len(callbacks)
    assert events == ["host killed", "postgresql restarted"] and len(killed) >= 4
    wait_for(lambda: all(value(host.metrics(), "twilio_exporter_inbox_backlog_bytes") == 0 for host in hosts), 60)
    scrapes = [host.metrics() for host in hosts]
    for samples in scrapes:
        assert value(samples, "twilio_exporter_store_up") == 1
        assert_exact_counts(samples, 300, 100)
    assert store_series(scrapes[0]) == store_series(scrapes[1])
    for host in hosts:
        host.stop()
    logs = "".join(path.read_text() for path in tmp_path.glob("*/gunicorn-*.log"))  # every start of each host
    assert "deadlock" not in logs and "could not serialize" not in logs


@pytest.mark.postgresql
def test_hosts_starting_at_once_on_an_empty_postgresql_database_make_its_tables_once_without_failing(postgres):
    url = postgres.database()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:  # eight connections, as eight workers would open
        connections = list(pool.map(lambda _: te.make_store(url).open(), range(8)))
    assert connections[0].execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(
        te.SCHEMA_VERSION)
    for conn in connections:
        conn.close()


@pytest.mark.postgresql
def test_a_postgresql_store_analyzes_its_items_each_time_they_outgrow_their_statistics_twice(postgres):
    store = te.make_store(postgres.database())
    conn = store.open()
    conn.execute("ALTER TABLE item SET (autovacuum_enabled = false)")  # as in its first minute: not yet come

    def add(first, count):
        with store.transaction(conn):
            te.apply_callbacks(store, conn, [te.new_callback(time.time(), te.KINDS["message"], sid("SM", number),
                                                             "sent") for number in range(first, first + count)])

    def counted_rows():  # what the planner believes the table holds: -1 before any ANALYZE
        return conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'item'::regclass").fetchone()[0]
    add(0, 100)
    te.tidy(store, conn)
    assert counted_rows() == -1  # a few pages: left to autovacuum
    add(100, 5000)
    te.tidy(store, conn)
    assert counted_rows() == 5100
    add(5100, 2000)  # not yet twice the pages
    te.tidy(store, conn)
    assert counted_rows() == 5100
    add(7100, 5000)
    te.tidy(store, conn)
    assert counted_rows() == 12100
    conn.close()


@pytest.mark.postgresql
def test_a_dead_hosts_inbox_copied_to_a_live_host_over_postgresql_counts_each_line_once_even_if_it_returns(
        postgres, monkeypatch, tmp_path):
    url = postgres.database()
    dead, live = tmp_path / "dead", tmp_path / "live"
    dead.mkdir(), live.mkdir()
    lines = [inbox_line(sid("SM", 1960 + number), "sent") for number in range(6)]
    use_store(monkeypatch, url, str(dead))
    left = dead_workers_inbox(*lines, name=f"deadhost.4242.{time.time_ns()}")
    with monkeypatch.context() as partly:  # the dead host had moved the first three in
        partly.setattr(te, "FOLD_BYTES", len(b"".join(lines[:3])))
        conn = te.store().open()
        assert te.fold_inbox(te.store(), conn) == len(b"".join(lines[:3]))
        conn.close()
    shutil.copy2(left, live / left.name)  # the recovery step: the README's "Running more than one host"
    use_store(monkeypatch, url, str(live))
    assert value(scrape(), "twilio_message_callback_total", status="sent") == 6
    assert not (live / left.name).exists()  # read to its end and removed
    use_store(monkeypatch, url, str(dead))  # the dead host comes back, with its own copy
    samples = scrape()
    assert value(samples, "twilio_message_callback_total", status="sent") == 6
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") == 0
    assert not left.exists()
    with te.store().connection() as conn:  # the file's name is remembered a week, then forgotten
        te.prune(te.store(), conn, time.time() + te.INBOX_MEMORY_SECONDS - 60)
        assert conn.execute("SELECT count(*) FROM inbox WHERE name = ?", (left.name,)).fetchone()[0] == 1
        te.prune(te.store(), conn, time.time() + te.INBOX_MEMORY_SECONDS + 60)
        assert conn.execute("SELECT count(*) FROM inbox WHERE name = ?", (left.name,)).fetchone()[0] == 0


@pytest.mark.server
def test_counts_are_exact_across_workers_under_concurrent_retried_load_and_a_sigkill(gunicorn):
    server, killed = gunicorn(), []
    callbacks = traffic(messages=300, calls=100, async_amd=True)
    assert send_all(server.url, callbacks, during=killing_workers(server, killed)) == len(callbacks)
    samples = server.metrics()
    assert len(killed) >= 2
    wait_for(lambda: not set(killed) & set(server.workers()))  # each replaced, once gunicorn has reaped it
    assert_exact_counts(samples, 300, 100)
    assert value(samples, "twilio_webhook_duplicates_total", endpoint="message") >= 600
    assert value(samples, "twilio_webhook_requests_total", endpoint="message", code="200") >= 1200
    for _ in range(5):
        assert server.metrics() == samples  # identical whichever worker serves the scrape


@pytest.mark.server
def test_counts_per_label_set_are_exact_across_workers_under_retried_load_and_sigkills(gunicorn):
    server, killed = gunicorn(TWILIO_EXPORTER_LABELS="sender,country"), []
    groups = {(SENDER, "+447700900123"): 0, (OTHER_SENDER, "+14165550100"): 1000}  # each its own SIDs
    callbacks = [(path, {**params, "From": sender, "To": to}) for (sender, to), first in groups.items()
                 for path, params in traffic(messages=150, calls=50, first=first)]
    random.Random(16).shuffle(callbacks)  # interleaved, and some retries and later statuses come first
    assert send_all(server.url, callbacks, during=killing_workers(server, killed)) == len(callbacks)
    samples = server.metrics()
    assert len(killed) >= 2
    assert_exact_counts(samples, 150, 50, sender=SENDER, country="GB")
    assert_exact_counts(samples, 150, 50, sender=OTHER_SENDER, country="CA")
    assert value(samples, "twilio_call_duration_seconds_sum") == 30 * 100
    assert label_values(samples, "sender") == {SENDER, OTHER_SENDER}


@pytest.mark.server
def test_the_label_limit_holds_across_workers_and_a_restart_and_its_overflow_is_logged_once(gunicorn):
    settings = {"TWILIO_EXPORTER_LABELS": "sender", "TWILIO_EXPORTER_LABEL_LIMIT": "3"}
    server = gunicorn(**settings)
    send_all(server.url, [("/webhooks/message", {"MessageSid": sid("SM", 1600 + number), "MessageStatus": "sent",
                                                 "From": f"+1415555{number % 10:04d}"}) for number in range(60)])
    senders = label_values(server.metrics(), "sender")  # which three came first is the race's
    assert len(senders) == 4 and "other" in senders
    server.stop()
    server = gunicorn(**settings)
    send_all(server.url, [("/webhooks/message", {"MessageSid": sid("SM", 1700 + number), "MessageStatus": "sent",
                                                 "From": f"+1416555{number:04d}"}) for number in range(20)])
    samples = server.metrics()
    assert label_values(samples, "sender") == senders  # the same three, and the rest, all 20 new ones, are other
    assert value(samples, "twilio_message_callback_total", status="sent", sender="other") >= 20
    assert sum(value(samples, "twilio_message_callback_total", status="sent", sender=sender)
               for sender in senders) == 80
    server.stop()
    logs = "".join(path.read_text() for path in Path(server.log.name).parent.glob("gunicorn-*.log"))
    assert logs.count("label sender has reached its limit of 3 values") == 1


@pytest.mark.server
def test_a_restart_keeps_the_gauges_and_still_recognises_retries(gunicorn):
    server = gunicorn()
    callbacks = traffic(messages=40, calls=10)
    send_all(server.url, callbacks)
    before = server.metrics()
    server.stop()
    server = gunicorn()
    restarted = server.metrics()
    assert_exact_counts(restarted, 40, 10)
    # the multiprocess folder was wiped at start, so request counts begin again
    assert value(before, "twilio_webhook_requests_total", endpoint="message", code="200") == 160
    assert value(restarted, "twilio_webhook_requests_total", endpoint="message", code="200") == 0
    send_all(server.url, callbacks)
    after = server.metrics()
    assert_exact_counts(after, 40, 10)
    assert value(after, "twilio_webhook_duplicates_total", endpoint="message") == \
        value(before, "twilio_webhook_duplicates_total", endpoint="message") + 4 * 40


@pytest.mark.server
def test_the_wal_is_emptied_within_a_second_after_load_from_several_workers(gunicorn):
    server = gunicorn()
    wal = Path(str(server.db) + "-wal")
    callbacks = traffic(messages=500, calls=0)
    assert send_all(server.url, callbacks) == len(callbacks)
    wait_for(lambda: wal.stat().st_size == 0, seconds=3 * te.TIDY_INTERVAL_SECONDS)
    assert_exact_counts(server.metrics(), 500, 0)


@pytest.mark.server
def test_gunicorn_trusts_x_forwarded_proto_from_a_local_proxy_for_the_signed_url(gunicorn):
    server = gunicorn()
    params = {"MessageSid": sid("SM", 40), "MessageStatus": "sent"}
    public = f"https://127.0.0.1:{server.port}/webhooks/message"
    request = urllib.request.Request(server.url + "/webhooks/message", urllib.parse.urlencode(params).encode(), {
        "Content-Type": FORM, "X-Forwarded-Proto": "https",
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(public, params)})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert value(server.metrics(), "twilio_message_callback_total", status="sent") == 1


@pytest.mark.server
def test_sixteen_slow_clients_do_not_starve_a_real_callback(gunicorn):
    server = gunicorn()
    slow = []
    for _ in range(16):
        client = socket.create_connection(("127.0.0.1", server.port))
        client.sendall(b"POST /webhooks/message HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode())
        slow.append(client)
    try:
        params = {"MessageSid": sid("SM", 42), "MessageStatus": "sent"}
        request = urllib.request.Request(server.url + "/webhooks/message", urllib.parse.urlencode(params).encode(), {
            "Content-Type": FORM,
            "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(server.url + "/webhooks/message", params)})
        with urllib.request.urlopen(request, timeout=2) as response:  # the contract: answered within 2 s
            assert response.status == 200
    finally:
        for client in slow:
            client.close()


def two_listeners(gunicorn):
    """A server with the public listener and a private one for /metrics; return (server, private URL)."""
    private_port = free_port()
    server = gunicorn(TWILIO_EXPORTER_METRICS_BIND=f"127.0.0.1:{private_port}")
    return server, f"http://127.0.0.1:{private_port}"


def fetch(url, path, host=None, params=None):
    """GET a path, or POST a signed callback when params are given, with any Host header; return (code, body)."""
    headers, body = ({}, None) if params is None else ({"Content-Type": FORM, "X-Twilio-Signature": RequestValidator(
        TOKEN).compute_signature(f"http://{host or url[7:]}{path}", params)}, urllib.parse.urlencode(params).encode())
    request = urllib.request.Request(url + path, body, {**headers, **({"Host": host} if host else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.server
def test_with_a_private_listener_the_public_one_serves_only_the_webhooks_and_a_bare_health(gunicorn):
    server, private = two_listeners(gunicorn)
    params = {"MessageSid": sid("SM", 930), "MessageStatus": "sent"}
    assert fetch(server.url, "/webhooks/message", params=params)[0] == 200
    assert fetch(server.url, "/metrics")[0] == 404
    assert fetch(server.url, "/health") == (200, b'{"status": "ok"}\n')
    assert fetch(private, "/webhooks/message", params=params)[0] == 404
    code, body = fetch(private, "/metrics")
    assert code == 200 and value(parse_metrics(body.decode()), "twilio_message_callback_total", status="sent") == 1
    code, body = fetch(private, "/health")
    assert code == 200 and json.loads(body)["store"]["name"] == str(server.db) and json.loads(body)["tracked_messages"] == 1


@pytest.mark.server
def test_a_host_header_claiming_the_other_listener_changes_nothing(gunicorn):
    server, private = two_listeners(gunicorn)
    assert fetch(server.url, "/metrics", host=private[7:])[0] == 404
    assert fetch(server.url, "/health", host=private[7:]) == (200, b'{"status": "ok"}\n')
    assert fetch(private, "/metrics", host=server.url[7:])[0] == 200
    params = {"MessageSid": sid("SM", 931), "MessageStatus": "sent"}
    assert fetch(private, "/webhooks/message", host=server.url[7:], params=params)[0] == 404


@pytest.mark.server
@pytest.mark.parametrize("metrics_bind", ["127.0.0.1:{port}", "nonsense"])
def test_gunicorn_stops_on_a_bad_metrics_listener_naming_the_setting(metrics_bind, tmp_path):
    port = free_port()
    process = subprocess.run(
        [GUNICORN, "-c", str(HERE / "gunicorn.conf.py"), "twilio_exporter:app"], cwd=HERE, capture_output=True,
        text=True, timeout=60, env=clean_env(HOME=str(tmp_path), TWILIO_EXPORTER_BIND=f"127.0.0.1:{port}",
                                            TWILIO_EXPORTER_METRICS_BIND=metrics_bind.format(port=port),
                                            TWILIO_EXPORTER_WORKERS="1", TWILIO_EXPORTER_DB=str(tmp_path / "s")))
    assert process.returncode != 0
    assert f"Config 'TWILIO_EXPORTER_METRICS_BIND' has value '{metrics_bind.format(port=port)}'" in process.stderr


@pytest.mark.server
def test_gunicorn_with_a_public_url_and_one_listener_warns_that_metrics_are_public(gunicorn):
    server = gunicorn(TWILIO_EXPORTER_PUBLIC_URL="https://hooks.example.com")

    def opened_the_store(pid):  # post_worker_init runs once the module, and any warning of its, is loaded
        with contextlib.suppress(OSError):
            return any(os.readlink(fd).endswith(".sqlite3") for fd in Path(f"/proc/{pid}/fd").iterdir())
    wait_for(lambda: len(server.workers()) == 3 and all(map(opened_the_store, server.workers())))
    server.log.flush()
    log = Path(server.log.name).read_text()
    assert log.count("set TWILIO_EXPORTER_METRICS_BIND to serve those on a private address") == 1  # the master's
    assert fetch(server.url, "/metrics")[0] == 200  # unset: every path on the one listener, as before


@pytest.mark.server
def test_the_file_alone_under_preloading_gunicorn_with_two_binds_splits_the_paths_the_same_way(tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(HERE / "twilio_exporter.py", alone)
    private_port = free_port()
    server = Server(tmp_path, ["--preload", "-w", "2", "-b", "127.0.0.1:{port}", "-b", f"127.0.0.1:{private_port}"], cwd=alone,
                    TWILIO_EXPORTER_METRICS_BIND=f"127.0.0.1:{private_port}")
    try:
        private = f"http://127.0.0.1:{private_port}"
        assert fetch(server.url, "/webhooks/message", params={"MessageSid": sid("SM", 932),
                                                               "MessageStatus": "sent"})[0] == 200
        assert fetch(server.url, "/metrics")[0] == 404
        code, body = fetch(private, "/metrics")
        assert code == 200 and value(parse_metrics(body.decode()), "twilio_message_callback_total", status="sent") == 1
        assert fetch(server.url, "/health") == (200, b'{"status": "ok"}\n')
    finally:
        server.stop(graceful=False)


def raw_request(server, head):
    """Send raw request bytes to a server; return its status line."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(head)
        return client.makefile("rb").readline().decode()


@pytest.mark.server
@pytest.mark.parametrize("head", [
    b"POST /webhooks/message?" + b"a" * 4100 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # a request line over 4094 bytes
    b"POST /webhooks/message HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(40)) + b"\r\n",
    b"POST /webhooks/message HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8200 + b"\r\n\r\n",  # a header over 8190
])
def test_gunicorn_refuses_an_oversized_request_line_too_many_headers_or_an_oversized_header(gunicorn, head):
    server = gunicorn()
    # gunicorn's own refusal (which code depends on its version); the app would have answered 415
    assert raw_request(server, head).split()[1] in ("400", "414", "431")
    assert raw_request(server, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").split()[1] == "200"


def worker_resources(server):
    """{pid: (RSS in kB, open file descriptors)} of the current workers."""
    resources = {}
    for pid in server.workers():
        rss = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)
        resources[pid] = (int(rss), len(os.listdir(f"/proc/{pid}/fd")))
    return resources


# Eight threads allocating at once after the module is imported, then glibc's count of its arenas.
ARENAS_AFTER_THREADS = """
import ctypes, sys, threading
import twilio_exporter
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
threads = [threading.Thread(target=lambda: [libc.free(libc.malloc(4096)) for _ in range(1000)]) for _ in range(8)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
libc.malloc_stats()  # to stderr: an "Arena N:" paragraph for each
"""


@pytest.mark.parametrize("arena_max, arenas", [(None, 1), ("4", 4)])
def test_a_worker_holds_glibc_to_one_malloc_arena_unless_malloc_arena_max_says_otherwise(arena_max, arenas, tmp_path):
    env = clean_env(TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"), TMPDIR=str(tmp_path), MALLOC_ARENA_MAX=arena_max)
    if arena_max is None:
        del env["MALLOC_ARENA_MAX"]  # unset, whatever this machine's environment says
    process = subprocess.run([sys.executable, "-c", ARENAS_AFTER_THREADS], cwd=HERE, capture_output=True, text=True,
                             env=env, timeout=60)
    assert process.returncode == 0, process.stderr
    assert re.findall(r"^Arena \d+:", process.stderr, re.M) == [f"Arena {number}:" for number in range(arenas)]


@pytest.mark.server
def test_rss_and_open_files_stay_flat_over_twenty_eight_thousand_callbacks_after_the_warm_up(gunicorn):
    server = gunicorn()
    clients, warm, measured = 4, 20_000, 28_000  # callbacks, all clients together: 9,333 a worker measured
    sent, samples = itertools.count(1), {}
    warmed = threading.Event()

    def load(first):
        for number in range(first, first + warm + measured):
            count = next(sent)  # across the clients' threads
            if count > warm + measured:
                return
            post_until_acknowledged(server.url, "/webhooks/message",
                                    {"MessageSid": sid("SM", number), "MessageStatus": "sent"})
            if count == warm:
                warmed.set()

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(load, 10 ** 7 * (index + 1)) for index in range(clients)]
        while not warmed.wait(0.2):
            for future in futures:
                if future.done():
                    future.result()  # a client that failed during the warm-up raises here
        samples["warm"] = worker_resources(server)
        for future in futures:
            future.result()
    samples["end"] = worker_resources(server)
    assert samples["warm"].keys() == samples["end"].keys()  # no worker died or was replaced
    for pid, (rss_warm, fds_warm) in samples["warm"].items():
        rss_end, fds_end = samples["end"][pid]
        # The page caches of its two connections (scrapes', upkeep's) may still fill as the file grows;
        # anything past them would be a leak. 5 MiB over a worker's 9,333 callbacks: 562 bytes a callback.
        assert rss_end - rss_warm < 2 * te.CACHE_KIB + 1024, f"worker {pid} grew from {rss_warm} kB to {rss_end} kB"
        assert fds_end <= fds_warm + clients, f"worker {pid} went from {fds_warm} to {fds_end} open files"
    assert value(server.metrics(), "twilio_message_callback_total", status="sent") == warm + measured


@pytest.mark.server
def test_a_bind_on_gunicorns_command_line_without_the_metrics_listener_stops_start_up_naming_both(tmp_path):
    (tmp_path / "tmp").mkdir()
    public, private = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    process = subprocess.run(
        [GUNICORN, "-c", str(HERE / "gunicorn.conf.py"), "-b", public, "twilio_exporter:app"],
        cwd=HERE, env=clean_env(HOME=str(tmp_path), TMPDIR=str(tmp_path / "tmp"), TWILIO_EXPORTER_WORKERS="1",
                                TWILIO_EXPORTER_METRICS_BIND=private, TWILIO_EXPORTER_DB=str(tmp_path / "s.sqlite3"),
                                TWILIO_AUTH_TOKEN=TOKEN),
        capture_output=True, text=True, timeout=60)
    assert process.returncode == 1
    last = process.stderr.splitlines()[-1]
    assert last.startswith(f"twilio-exporter: TWILIO_EXPORTER_METRICS_BIND is {private}, but gunicorn listens "
                           f"only on {public}: a -b or --bind on its command line replaces")
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.server
@pytest.mark.parametrize("setting, line", [
    (("TWILIO_EXPORTER_RETENTION", "abc"), "Config 'TWILIO_EXPORTER_RETENTION' has value 'abc'. Not a whole number "
                                           "above 0."),
    (("TWILIO_EXPORTER_DB", "postgresql://exporter:hunter2@db.example.com"),
     "Config 'TWILIO_EXPORTER_DB' has value 'postgresql://exporter:***@db.example.com'. Name the database, e.g. "
     "postgresql://exporter@db.example.com/twilio_exporter"),
])
def test_a_bad_setting_stops_gunicorn_with_one_line_naming_it_and_leaves_no_folder(setting, line, tmp_path):
    (tmp_path / "tmp").mkdir()
    settings = {"TWILIO_EXPORTER_DB": str(tmp_path / "s.sqlite3"), "TWILIO_EXPORTER_RETENTION": "60",
                setting[0]: setting[1]}  # the bad one replaces its good value
    process = subprocess.run(
        [GUNICORN, "-c", str(HERE / "gunicorn.conf.py"), "twilio_exporter:app"],
        cwd=HERE, env=clean_env(HOME=str(tmp_path), TMPDIR=str(tmp_path / "tmp"), TWILIO_EXPORTER_WORKERS="1",
                                TWILIO_EXPORTER_BIND=f"127.0.0.1:{free_port()}", **settings),
        capture_output=True, text=True, timeout=60)
    assert (process.returncode, process.stderr.splitlines(), process.stdout) == (1, [f"twilio-exporter: {line}"], "")
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.server
@pytest.mark.parametrize("preload", [True, False])
def test_a_bad_setting_stops_the_file_run_alone_with_its_line_and_no_traceback(preload, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(HERE / "twilio_exporter.py", alone)
    process = subprocess.run(
        [GUNICORN, *["--preload"] * preload, "-w", "2", "-b", f"127.0.0.1:{free_port()}", "twilio_exporter:app"],
        cwd=alone, env=clean_env(HOME=str(tmp_path), TMPDIR=str(tmp_path), TWILIO_EXPORTER_RETENTION="1d"),
        capture_output=True, text=True, timeout=60)
    line = "Config 'TWILIO_EXPORTER_RETENTION' has value '1d'. Not a whole number above 0."
    assert not list(tmp_path.glob("twilio_exporter-metrics-*"))
    if preload:  # the master imports the app before it starts a worker, and prints a RuntimeError as one line
        assert (process.returncode, process.stderr.split(), process.stdout) == (1, f"Error: {line}".split(), "")
        return
    # without --preload the workers' first import is the check: each prints the line, then gunicorn its own
    assert process.returncode != 0 and line in process.stderr.splitlines()
    assert process.stderr.count(line) <= 2  # a line from each worker at most
    assert "twilio_exporter.py" not in process.stderr and "ConfigError" not in process.stderr  # no traceback of ours
    assert "App failed to load." in process.stderr  # gunicorn's own words come after (gunicorn 27 may add a traceback)


@pytest.mark.server
def test_the_file_copied_alone_and_run_with_plain_gunicorn_reports_exact_counts(tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(HERE / "twilio_exporter.py", alone)
    server = Server(tmp_path, ["-w", "4", "-b", "127.0.0.1:{port}"], cwd=alone)
    try:
        callbacks = traffic(messages=60, calls=20)
        assert send_all(server.url, callbacks, token=None) == len(callbacks)
        first = server.metrics()
        assert_exact_counts(first, 60, 20)
        assert value(first, "twilio_webhook_requests_total", endpoint="message", code="200") == 4 * 60
        assert value(first, "twilio_webhook_requests_total", endpoint="call", code="200") == 4 * 20
        assert value(first, "twilio_webhook_request_duration_seconds_count", endpoint="message") == 4 * 60
        for _ in range(8):
            assert server.metrics() == first  # no split between workers, no jumps between scrapes
        assert (alone / "twilio_exporter.sqlite3").exists()
    finally:
        server.stop(graceful=False)


# --- account polling ---

class FakeTwilioApi(http.server.ThreadingHTTPServer):
    """Twilio's REST API for Balance.json and Usage/Records/Today.json, on loopback.

    It counts calls per operation, and `mode` makes it answer normally, 500, 401, or hang.
    """
    daemon_threads = True

    def __init__(self):
        self.calls = {"balance": 0, "usage": 0}
        self.mode = "ok"
        self.credentials = None  # (user, password) the API insists on, as Basic auth; None: any
        self.callback_token = TOKEN  # what the status callbacks it sends are signed with
        self.created = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), FakeTwilioHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class FakeTwilioHandler(http.server.BaseHTTPRequestHandler):
    """Answers as Twilio's API does."""

    def do_GET(self):
        """Serve one API call."""
        operation = {f"/2010-04-01/Accounts/{ACCOUNT}/Balance.json": "balance",
                     f"/2010-04-01/Accounts/{ACCOUNT}/Usage/Records/Today.json": "usage"}.get(self.path.split("?")[0])
        with self.server.lock:
            if operation:
                self.server.calls[operation] += 1
        if self.server.mode == "hang":
            time.sleep(30)
            return
        if self.server.mode == "html":  # a proxy's error page, not Twilio's JSON
            self.send_response(502)
            self.send_header("Content-Length", "11")
            self.end_headers()
            self.wfile.write(b"Bad Gateway")
            return
        expected = self.server.credentials and "Basic " + base64.b64encode(
            ":".join(self.server.credentials).encode()).decode()
        mode = "401" if expected and self.headers.get("Authorization") != expected else self.server.mode
        if operation is None or mode != "ok":
            code = {"401": 401, "403": 403, "500": 500}.get(mode, 404)
            body = {"code": 20003 if code == 401 else 20500, "message": "Authenticate" if code == 401 else "Internal",
                    "more_info": "https://www.twilio.com/docs/errors/20003", "status": code}
        else:
            code = 200
            body = {"account_sid": ACCOUNT, "balance": "42.50", "currency": "USD"} if operation == "balance" else {
                "usage_records": [
                    {"account_sid": ACCOUNT, "category": "sms", "count": "120", "count_unit": "messages",
                     "usage": "125", "usage_unit": "segments", "price": "0.98", "price_unit": "usd"},
                    {"account_sid": ACCOUNT, "category": "calls", "count": "7", "count_unit": "calls",
                     "usage": "31", "usage_unit": "minutes", "price": "0.43", "price_unit": "usd"},
                    {"account_sid": ACCOUNT, "category": "recordings", "count": "2", "count_unit": "recordings",
                     "usage": "3", "usage_unit": "minutes", "price": "0.01", "price_unit": "usd"},
                    {"account_sid": ACCOUNT, "category": "mms", "count": None, "count_unit": None,
                     "usage": None, "usage_unit": None, "price": None, "price_unit": None},
                    {"account_sid": ACCOUNT, "category": "totalprice", "count": "0", "count_unit": "",
                     "usage": "1.42", "usage_unit": "usd", "price": "1.42", "price_unit": "usd"}],
                "first_page_uri": self.path, "next_page_uri": None, "previous_page_uri": None,
                "uri": self.path, "page": 0, "page_size": 50, "start": 0, "end": 3}
        self.answer_json(code, body)

    def do_POST(self):
        """Create a message or call, answer 201, then send its status callbacks as Twilio would."""
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        path = self.path.split("?")[0]
        kind = {f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json": "message",
                f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json": "call"}.get(path)
        if kind is None or self.server.mode == "400":
            code, body = 400, {"code": 21608, "status": 400, "more_info": "https://www.twilio.com/docs/errors/21608",
                               "message": f"The number {form.get('To')} is unverified. Trial accounts may only "
                                          "send messages to verified numbers."}
        else:
            code = 201
            self.server.created += 1
            sid = ("SM" if kind == "message" else "CA") + f"{self.server.created:032x}"
            body = {"sid": sid, "account_sid": ACCOUNT, "to": form.get("To"), "status": "queued"}
            if self.server.mode != "silent":
                threading.Thread(target=self.send_callbacks, args=(kind, sid, form["StatusCallback"], form),
                                 daemon=True).start()
        self.answer_json(code, body)

    def answer_json(self, code, body):
        """Answer with a JSON body, as Twilio's API does."""
        content = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def send_callbacks(self, kind, sid, url, created):
        """POST signed status callbacks in lifecycle order, a moment apart; an asynchronous AMD result if asked."""
        if kind == "message":
            steps = [(url, {"MessageSid": sid, "MessageStatus": status}) for status in ("queued", "sent", "delivered")]
        else:
            steps = [(url, {"CallSid": sid, "CallStatus": status}) for status in ("initiated", "ringing", "in-progress")]
            if created.get("MachineDetection") == "Enable" and created.get("AsyncAmd") == "true":
                steps.append((created["AsyncAmdStatusCallback"], {"CallSid": sid, "AnsweredBy": "human",
                                                                  "MachineDetectionDuration": "1830"}))
            steps.append((url, {"CallSid": sid, "CallStatus": "completed", "CallDuration": "4"}))
        for url, params in steps:
            time.sleep(0.3)
            params = {"AccountSid": ACCOUNT, **params}
            signature = RequestValidator(self.server.callback_token).compute_signature(url, params)
            request = urllib.request.Request(url, urllib.parse.urlencode(params).encode(),
                                             {"Content-Type": FORM, "X-Twilio-Signature": signature})
            try:
                urllib.request.urlopen(request, timeout=5).close()
            except urllib.error.HTTPError:
                pass  # Twilio logs it in its debugger; the test looks at the exporter

    def log_message(self, *args):
        """Stay quiet."""


@pytest.fixture
def fake_api():
    """A fake Twilio REST API for one test."""
    api = FakeTwilioApi()
    yield api
    api.shutdown()
    api.server_close()


def polling_server(gunicorn, fake_api, interval=2, **env):
    """The exporter with account polling on, against the fake API."""
    return gunicorn(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_EXPORTER_API_URL=fake_api.url,
                    TWILIO_EXPORTER_POLL_INTERVAL=str(interval), **env)


def scrape_concurrently(server, scrapes=40):
    """Many scrapes at once, spread over the workers; every one must answer 200 within 5 s."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: urllib.request.urlopen(server.url + "/metrics", timeout=5).status,
                              range(scrapes)))
    assert codes == [200] * scrapes


@pytest.mark.server
def test_balance_and_usage_are_exported_with_one_api_call_per_interval_across_workers(gunicorn, fake_api):
    server = polling_server(gunicorn, fake_api, interval=3)
    scrape_concurrently(server)
    wait_for(lambda: ("twilio_account_balance", (("currency", "USD"),)) in server.metrics())
    samples = server.metrics()
    assert fake_api.calls == {"balance": 1, "usage": 1}
    assert value(samples, "twilio_account_balance", currency="USD") == 42.5
    assert value(samples, "twilio_usage_count", category="sms", count_unit="messages") == 120
    assert value(samples, "twilio_usage_amount", category="calls", usage_unit="minutes") == 31
    assert value(samples, "twilio_usage_price", category="totalprice", currency="USD") == 1.42
    assert ("twilio_usage_count", (("category", "recordings"), ("count_unit", "recordings"))) not in samples
    assert value(samples, "twilio_api_errors_total", operation="balance") == 0
    assert time.time() - value(samples, "twilio_api_last_success_timestamp_seconds", operation="usage") < 60
    time.sleep(3)
    scrape_concurrently(server)
    wait_for(lambda: fake_api.calls == {"balance": 2, "usage": 2})
    time.sleep(1)
    assert fake_api.calls == {"balance": 2, "usage": 2}


@pytest.mark.server
def test_the_first_poll_starts_with_the_workers_before_any_scrape(gunicorn, fake_api):
    polling_server(gunicorn, fake_api, interval=60)  # the fixture waits for /health, which polls nothing
    wait_for(lambda: fake_api.calls == {"balance": 1, "usage": 1})


def polling_in_process(monkeypatch, fake_api, interval=60, api_key=("SK" + "b" * 32, "api-secret")):
    """Account polling on in this process, against the fake API, with an API key (or the auth token)."""
    for name, val in {"ACCOUNT_SID": ACCOUNT, "API_KEY": api_key[0], "API_SECRET": api_key[1],
                      "API_URL": fake_api.url, "POLL_INTERVAL_SECONDS": interval}.items():
        monkeypatch.setattr(te, name, val)
    fake_api.credentials = api_key if api_key[0] else (ACCOUNT, te.AUTH_TOKENS[0])


def test_without_an_account_sid_nothing_is_polled_and_no_account_or_api_series_is_exported():
    names = {name for name, _ in scrape()}
    assert "twilio_message_callback_total" in names
    assert not [name for name in names if name.startswith(("twilio_account_", "twilio_usage_", "twilio_api_"))]


def test_polled_balance_and_usage_are_exported_as_twilio_answered_them(fake_api, monkeypatch):
    polling_in_process(monkeypatch, fake_api)
    started = time.time()
    first = scrape()  # it starts the poll; nothing polled yet, nothing failed
    assert ("twilio_account_balance", (("currency", "USD"),)) not in first
    assert value(first, "twilio_api_errors_total", operation="balance") == 0
    assert value(first, "twilio_api_errors_total", operation="usage") == 0
    wait_for(lambda: fake_api.calls == {"balance": 1, "usage": 1} and ("twilio_usage_price", (
        ("category", "totalprice"), ("currency", "USD"))) in scrape())
    samples = scrape()
    assert value(samples, "twilio_account_balance", currency="USD") == 42.5
    assert value(samples, "twilio_usage_count", category="sms", count_unit="messages") == 120
    assert value(samples, "twilio_usage_amount", category="calls", usage_unit="minutes") == 31
    assert value(samples, "twilio_usage_price", category="sms", currency="USD") == 0.98
    assert value(samples, "twilio_usage_price", category="totalprice", currency="USD") == 1.42
    assert not any(dict(labels).get("category") == "recordings" for _, labels in samples)  # not asked for
    assert value(samples, "twilio_usage_count", category="mms", count_unit="") == 0  # Twilio's nulls
    assert value(samples, "twilio_usage_amount", category="mms", usage_unit="") == 0
    assert value(samples, "twilio_usage_price", category="mms", currency="") == 0
    for operation in ("balance", "usage"):
        assert value(samples, "twilio_api_errors_total", operation=operation) == 0
        assert started <= value(samples, "twilio_api_last_success_timestamp_seconds", operation=operation) <= time.time()
    for _ in range(5):
        scrape()
    assert fake_api.calls == {"balance": 1, "usage": 1}  # once per interval, however many scrapes


def test_polling_without_an_api_key_signs_in_with_the_account_sid_and_the_first_auth_token(fake_api, monkeypatch):
    monkeypatch.setattr(te, "AUTH_TOKENS", ("primary-token", "secondary-token"))
    polling_in_process(monkeypatch, fake_api, api_key=("", ""))
    scrape()
    wait_for(lambda: ("twilio_account_balance", (("currency", "USD"),)) in scrape())


def test_polling_signs_in_with_the_api_key_when_there_is_one(fake_api, monkeypatch):
    polling_in_process(monkeypatch, fake_api)
    fake_api.credentials = (ACCOUNT, TOKEN)  # what signing in with the auth token would send
    scrape()
    wait_for(lambda: value(scrape(), "twilio_api_errors_total", operation="balance") == 1)


def test_all_usage_categories_are_exported_when_asked(fake_api, monkeypatch):
    polling_in_process(monkeypatch, fake_api)
    monkeypatch.setattr(te, "USAGE_CATEGORIES", ("all",))
    scrape()
    wait_for(lambda: ("twilio_usage_count", (("category", "recordings"), ("count_unit", "recordings"))) in scrape())


@pytest.mark.parametrize("mode, reason", [
    ("401", "HTTP 401, Twilio error 20003: Authenticate. Check TWILIO_API_KEY and TWILIO_API_SECRET, or "
            f"TWILIO_AUTH_TOKEN, for {ACCOUNT}."),
    ("403", "HTTP 403, Twilio error 20500: Internal. Check TWILIO_API_KEY and TWILIO_API_SECRET, or "
            f"TWILIO_AUTH_TOKEN, for {ACCOUNT}."),
    ("500", "HTTP 500, Twilio error 20500: Internal."),
    ("html", "HTTP 502."),  # an answer that is not Twilio's JSON: no code or message to give
])
def test_a_failing_api_is_counted_logged_with_its_reason_and_the_last_values_stay(mode, reason, fake_api,
                                                                                  monkeypatch, caplog):
    polling_in_process(monkeypatch, fake_api, interval=1)
    scrape()
    wait_for(lambda: ("twilio_account_balance", (("currency", "USD"),)) in scrape())
    succeeded = value(scrape(), "twilio_api_last_success_timestamp_seconds", operation="balance")
    fake_api.mode = mode
    wait_for(lambda: value(scrape(), "twilio_api_errors_total", operation="usage") >= 1)
    samples = scrape()
    assert value(samples, "twilio_account_balance", currency="USD") == 42.5
    assert value(samples, "twilio_api_last_success_timestamp_seconds", operation="balance") == succeeded
    assert f"Twilio API usage failed: {reason} Next try in 1 s." in caplog.messages
    assert "api-secret" not in caplog.text


def test_an_answer_the_store_cannot_keep_is_logged_naming_the_store_the_operation_and_the_error(fake_api, monkeypatch,
                                                                                                 caplog):
    polling_in_process(monkeypatch, fake_api)

    @contextlib.contextmanager
    def store_down():
        raise sqlite3.OperationalError("disk I/O error")
        yield
    monkeypatch.setattr(te.store(), "connection", store_down)
    te.poll_account(te.store(), ["balance"])  # as the poll thread runs it
    assert fake_api.calls == {"balance": 1, "usage": 0}
    assert (f"store {te.store().target}: keeping the answer of Twilio API balance failed: disk I/O error"
            in caplog.messages)


def test_a_hanging_api_counts_as_an_error_after_the_timeout_and_names_it(fake_api, monkeypatch, caplog):
    polling_in_process(monkeypatch, fake_api)
    monkeypatch.setattr(te, "API_TIMEOUT_SECONDS", 0.5)
    fake_api.mode = "hang"
    started = time.monotonic()
    assert call("/metrics")[0] == 200  # never waits for the API
    wait_for(lambda: value(scrape(), "twilio_api_errors_total", operation="balance") == 1)
    assert time.monotonic() - started < 5
    assert "Twilio API balance failed: ReadTimeout: " in caplog.text


def test_a_scrape_with_no_poll_due_does_not_wait_for_the_write_lock(monkeypatch):
    monkeypatch.setattr(te, "ACCOUNT_SID", ACCOUNT)
    with te.store().connection() as conn, te.store().transaction(conn):  # OR REPLACE: a poll thread an earlier test left may get here first
        conn.executemany("INSERT OR REPLACE INTO poll (operation, due) VALUES (?, ?)",
                         [(operation, time.time() + 60) for operation in te.POLLS])
    writer = te.store().open()
    te.wait_for_lock(writer.execute, "BEGIN IMMEDIATE")  # the upkeep thread may hold it for a moment
    monkeypatch.setattr(te, "BUSY_TIMEOUT_SECONDS", 0.1)  # only now: the scrape must not need the lock at all
    try:
        assert call("/metrics")[0] == 200
    finally:
        writer.rollback()


@pytest.mark.server
def test_all_usage_categories_when_asked(gunicorn, fake_api):
    server = polling_server(gunicorn, fake_api, TWILIO_EXPORTER_USAGE_CATEGORIES="all")
    scrape_concurrently(server, 1)
    wait_for(lambda: ("twilio_usage_count", (("category", "recordings"), ("count_unit", "recordings")))
             in server.metrics())


@pytest.mark.server
def test_an_api_outage_keeps_the_last_values_counts_errors_and_scrapes_still_answer(gunicorn, fake_api):
    server = polling_server(gunicorn, fake_api)
    scrape_concurrently(server, 1)
    wait_for(lambda: ("twilio_account_balance", (("currency", "USD"),)) in server.metrics())
    succeeded = value(server.metrics(), "twilio_api_last_success_timestamp_seconds", operation="balance")
    fake_api.mode = "500"
    time.sleep(2)
    scrape_concurrently(server)
    wait_for(lambda: value(server.metrics(), "twilio_api_errors_total", operation="usage") == 1)
    samples = server.metrics()
    assert value(samples, "twilio_api_errors_total", operation="balance") == 1
    assert value(samples, "twilio_account_balance", currency="USD") == 42.5
    assert value(samples, "twilio_api_last_success_timestamp_seconds", operation="balance") == succeeded


@pytest.mark.server
def test_a_hanging_api_never_holds_a_scrape_and_counts_as_an_error_after_the_timeout(gunicorn, fake_api):
    fake_api.mode = "hang"
    server = polling_server(gunicorn, fake_api, interval=30)
    scrape_concurrently(server)  # each within 5 s, though the API does not answer for 30
    wait_for(lambda: value(server.metrics(), "twilio_api_errors_total", operation="balance") == 1,
             seconds=te.API_TIMEOUT_SECONDS + 5)
    assert fake_api.calls["balance"] == 1


@pytest.mark.server
def test_bad_credentials_are_logged_once_per_interval_with_a_hint_and_no_secret(gunicorn, fake_api, tmp_path):
    fake_api.mode = "401"
    server = polling_server(gunicorn, fake_api, interval=30, TWILIO_API_KEY="SK" + "b" * 32,
                            TWILIO_API_SECRET="very-secret-api-secret")
    for _ in range(5):
        scrape_concurrently(server, 8)
    wait_for(lambda: value(server.metrics(), "twilio_api_errors_total", operation="usage") == 1)
    log = Path(server.log.name).read_text()
    failures = [line for line in log.splitlines() if "Twilio API" in line]
    assert len(failures) == 2, failures  # balance and usage, once each
    assert all("HTTP 401" in line and "20003" in line and "TWILIO_API_KEY" in line for line in failures)
    assert "very-secret-api-secret" not in log and TOKEN not in log


# --- send-test ---

def send_test(server, fake_api, *args, timeout=15, api_url=None):
    """Run `python twilio_exporter.py send-test` against the fake API (or api_url) and a running exporter."""
    env = clean_env(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_EXPORTER_API_URL=api_url or fake_api.url,
                    TWILIO_EXPORTER_PUBLIC_URL=server.url, TWILIO_EXPORTER_DB=str(server.db),
                    PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="send-test-"))
    return subprocess.run([sys.executable, str(HERE / "twilio_exporter.py"), "send-test", "--to", "+15551234567",
                           *args, "--timeout", str(timeout), "--metrics-url", server.url + "/metrics"],
                          env=env, capture_output=True, text=True, timeout=timeout + 30)


@pytest.mark.server
def test_send_test_prints_each_message_status_as_recorded_and_exits_0(gunicorn, fake_api):
    process = send_test(gunicorn(), fake_api, "--from", "+15557654321")
    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stderr == ""  # none of the server's warnings (its public URL has no private metrics listener)
    assert fake_api.calls == {"balance": 0, "usage": 0}  # nor the account polling a server does
    lines = process.stdout.splitlines()
    assert lines[0].startswith("sent message SM") and "/webhooks/message" in lines[0]
    assert [line.split()[1] for line in lines[1:]] == ["queued", "sent", "delivered"]
    assert all(re.fullmatch(r"\s*\d+\.\d+s \S+", line) for line in lines[1:])


@pytest.mark.server
def test_send_test_places_a_call_and_follows_it_to_completed(gunicorn, fake_api):
    process = send_test(gunicorn(), fake_api, "--from", "+15557654321", "--call")
    assert process.returncode == 0, process.stdout + process.stderr
    assert [line.split()[1] for line in process.stdout.splitlines()[1:]] == [
        "initiated", "ringing", "in-progress", "completed"]


@pytest.mark.server
def test_send_test_asks_for_answering_machine_detection_when_told_and_waits_for_its_result(gunicorn, fake_api):
    server = gunicorn()
    process = send_test(server, fake_api, "--from", "+15557654321", "--call", "--machine-detection")
    assert process.returncode == 0, process.stdout + process.stderr
    printed = [line.split()[1] for line in process.stdout.splitlines()[1:]]
    assert printed[:3] == ["initiated", "ringing", "in-progress"]
    assert sorted(printed[3:]) == ["answered_by", "completed"]  # 0.3 s apart: one poll may see both
    assert value(server.metrics(), "twilio_call_answered_by_total", answered_by="human") == 1
    process = send_test(server, fake_api, "--from", "+15557654321", "--machine-detection")
    assert process.returncode == 2 and "--machine-detection needs --call" in process.stderr


@pytest.mark.server
def test_send_test_names_the_signature_when_callbacks_are_signed_with_another_token(gunicorn, fake_api):
    fake_api.callback_token = "the-token-of-another-account"
    server = gunicorn()
    process = send_test(server, fake_api, "--messaging-service-sid", "MG" + "c" * 32, timeout=4)
    assert process.returncode == 1
    assert "SIGNATURE" in process.stdout and "TWILIO_AUTH_TOKEN" in process.stdout
    assert f"{server.url}/webhooks/message" in process.stdout
    assert "Traceback" not in process.stdout + process.stderr


@pytest.mark.server
def test_send_test_names_the_callback_url_when_nothing_arrives(gunicorn, fake_api):
    fake_api.mode = "silent"
    server = gunicorn()
    process = send_test(server, fake_api, "--from", "+15557654321", timeout=2)
    assert process.returncode == 1
    assert f"No callback arrived. Twilio was told to call: {server.url}/webhooks/message" in process.stdout
    assert "ngrok" in process.stdout and "SIGNATURE" not in process.stdout


@pytest.mark.server
def test_send_test_shows_twilios_error_code_and_message_without_a_traceback_or_credentials(gunicorn, fake_api):
    fake_api.mode = "400"
    process = send_test(gunicorn(), fake_api, "--from", "+15557654321")
    assert process.returncode == 1
    assert process.stderr.splitlines() == ["Twilio refused the message: HTTP 400, Twilio error 21608: Unable to "
                                           "create record: The number +15551234567 is unverified. Trial accounts may only send messages to "
                                           "verified numbers."]
    assert TOKEN not in process.stdout + process.stderr


@pytest.mark.server
def test_send_test_says_it_could_not_reach_twilio_and_why(gunicorn, fake_api):
    nowhere = f"http://127.0.0.1:{free_port()}"
    process = send_test(gunicorn(), fake_api, "--from", "+15557654321", api_url=nowhere)
    assert process.returncode == 1 and process.stdout == ""
    assert len(process.stderr.splitlines()) == 1
    assert process.stderr.startswith(f"Could not reach Twilio at {nowhere}: ConnectionError: ")
    assert "Connection refused" in process.stderr and "None" not in process.stderr


def test_a_twilio_error_without_a_code_or_message_never_says_none():
    class Response:
        status_code, text = 503, "<html>Service Unavailable</html>"
    assert te.api_error_reason(Exception("boom", Response())) == (503, "HTTP 503")
    Response.text = '{"code": 20003, "message": "Authenticate"}'
    assert te.api_error_reason(Exception("boom", Response())) == (503, "HTTP 503, Twilio error 20003: Authenticate")
    Response.text = '["not", "an", "object"]'
    assert te.api_error_reason(Exception("boom", Response())) == (503, "HTTP 503")


# --- deployment files ---

def exported_metric_names(monkeypatch):
    """Every sample name /metrics can show (error codes and SIP responses appear once there is one)."""
    with_polled_account(monkeypatch)  # first: the upkeep thread the callback starts must never poll
    message(sid("SM", 44), "failed", ErrorCode="30003")
    voice(sid("CA", 44), "busy", SipResponseCode="486")
    names = set()
    for family in text_string_to_metric_families(call("/metrics")[2].decode()):
        names |= {sample.name for sample in family.samples}
    return names


def test_the_dashboard_uses_the_datasource_variable_and_has_every_panel():
    dashboard = json.loads((HERE / "deploy" / "grafana-dashboard.json").read_text())
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert list(variables) == ["datasource", *te.LABEL_NAMES]
    for name in te.LABEL_NAMES:  # All is ".*", which also matches a series without the label
        assert variables[name]["definition"] == f"label_values(twilio_message_callback_total, {name})"
        assert variables[name]["allValue"] == ".*" and variables[name]["current"]["value"] == "$__all"
    assert all(panel["datasource"]["uid"] == "${datasource}" for panel in dashboard["panels"])
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for needed in ("delivery success rate", "callbacks per minute by status", "status distribution",
                   "failures by error code", "call completion rate", "call duration quantiles",
                   "delivery latency quantiles", "webhook requests", "webhook handling latency",
                   "account balance", "spend today per category", "api polling",
                   "delivery success rate by sender", "delivery success rate by destination country",
                   "failures by sender and error code", "failures by destination country and error code"):
        assert needed in titles, needed


def test_the_dashboard_and_alerts_query_only_metrics_the_exporter_exports(monkeypatch):
    exported = exported_metric_names(monkeypatch)
    dashboard = json.loads((HERE / "deploy" / "grafana-dashboard.json").read_text())
    queries = " ".join(target["expr"] for panel in dashboard["panels"] for target in panel["targets"])
    queries += (HERE / "deploy" / "alerts.yml").read_text()
    used = set(re.findall(r"\btwilio_[a-z_]+", queries))
    assert used and used <= exported, used - exported


@pytest.mark.docs
def test_the_example_environment_file_lists_every_setting():
    env_file = (HERE / "deploy" / "twilio-exporter.env").read_text()
    sources = (HERE / "twilio_exporter.py").read_text() + (HERE / "gunicorn.conf.py").read_text()
    settings = set(re.findall(r'config\("([A-Z_]+)"', sources)) | {"TWILIO_EXPORTER_BIND", "TWILIO_EXPORTER_WORKERS",
                                                                   "PROMETHEUS_MULTIPROC_DIR"}
    for setting in settings:
        assert f"#{setting}=" in env_file, setting


@pytest.mark.server
def test_make_smoke_passes_against_a_running_exporter_and_fails_loudly_with_a_wrong_token(gunicorn):
    server = gunicorn()
    smoke = ["bash", str(HERE / "deploy" / "smoke.sh")]
    passed = subprocess.run(smoke, env=clean_env(URL=server.url, TWILIO_AUTH_TOKEN=TOKEN),
                            capture_output=True, text=True, timeout=60)
    assert passed.returncode == 0, passed.stdout
    assert passed.stdout.count("PASS  ") == 13 and "FAIL" not in passed.stdout
    lines = passed.stdout.splitlines()
    adding = next(number for number, line in enumerate(lines) if line.startswith("Adding one test message (SMsmoketest"))
    assert adding < lines.index("PASS  signed message callback")  # said before anything is sent
    failed = subprocess.run(smoke, env=clean_env(URL=server.url, TWILIO_AUTH_TOKEN="wrong"),
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert "FAIL  signed message callback: HTTP 403" in failed.stdout and "smoke test FAILED" in failed.stdout


@pytest.mark.server
def test_make_smoke_reads_the_metrics_from_the_private_listener_when_the_listeners_are_split(gunicorn):
    server, private = two_listeners(gunicorn)
    smoke = ["bash", str(HERE / "deploy" / "smoke.sh")]
    passed = subprocess.run(smoke, env=clean_env(URL=server.url, METRICS_URL=private, TWILIO_AUTH_TOKEN=TOKEN),
                            capture_output=True, text=True, timeout=60)
    assert passed.returncode == 0 and passed.stdout.count("PASS  ") == 13, passed.stdout
    alone = subprocess.run(smoke, env=clean_env(URL=server.url, TWILIO_AUTH_TOKEN=TOKEN),
                           capture_output=True, text=True, timeout=60)
    assert alone.returncode == 1
    assert f"FAIL  /metrics: {server.url}/metrics answered 404" in alone.stdout and "give its URL as METRICS_URL" in \
        alone.stdout and "nothing was sent" in alone.stdout


@pytest.mark.server
def test_make_smoke_passes_with_breakdown_labels_summing_every_series(gunicorn):
    server = gunicorn(TWILIO_EXPORTER_LABELS="sender,country")
    passed = subprocess.run(["bash", str(HERE / "deploy" / "smoke.sh")],
                            env=clean_env(URL=server.url, TWILIO_AUTH_TOKEN=TOKEN), capture_output=True, text=True,
                            timeout=60)
    assert passed.returncode == 0 and passed.stdout.count("PASS  ") == 13, passed.stdout


def test_the_systemd_unit_has_the_directives_the_deploy_guide_asks_for():
    unit = (HERE / "deploy" / "twilio-exporter.service").read_text().splitlines()
    for directive in ("DynamicUser=yes", "StateDirectory=twilio-exporter", "RuntimeDirectory=twilio-exporter",
                      "EnvironmentFile=/etc/twilio-exporter/twilio-exporter.env", "Restart=on-failure",
                      "KillMode=mixed", "ExecReload=/bin/kill -s HUP $MAINPID", "NoNewPrivileges=yes",
                      "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
                      "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
                      "CapabilityBoundingSet="):
        assert directive in unit, directive
    assert any("gunicorn -c /opt/twilio-exporter/gunicorn.conf.py twilio_exporter:app" in line for line in unit)


# --- documentation ---

@pytest.mark.docs
def test_the_readmes_alerts_table_lists_exactly_the_alerts_of_alerts_yml():
    rules = re.findall(r"^\s*- alert: (\w+)$", (HERE / "deploy" / "alerts.yml").read_text(), re.M)
    readme = (HERE / "README.md").read_text()
    table = readme[readme.index("| alert | fires when |"):].split("\n\n")[0]
    listed = re.findall(r"^\| `(\w+)` \|", table, re.M)
    assert len(rules) == 14 and len(listed) == len(set(listed))
    assert sorted(listed) == sorted(rules)


def with_polled_account(monkeypatch):
    """Turn account polling on in-process, with answers already polled and no API calls."""
    monkeypatch.setattr(te, "ACCOUNT_SID", ACCOUNT)
    monkeypatch.setattr(te, "poll_when_due", lambda store, conn: 60)
    usage = [{"category": "sms", "count": 3.0, "count_unit": "messages", "usage": 3.0, "usage_unit": "segments",
              "price": 0.02, "currency": "USD"}]
    with te.store().connection() as conn, te.store().transaction(conn):
        conn.executemany("INSERT INTO poll VALUES (?, 0, ?, 0, ?)", [
            ("balance", time.time(), json.dumps({"balance": 9.5, "currency": "USD"})),
            ("usage", time.time(), json.dumps(usage))])


@pytest.mark.docs
def test_every_metric_and_setting_is_in_the_readme(monkeypatch):
    readme = (HERE / "README.md").read_text()
    with_polled_account(monkeypatch)
    metric_names = {family.name + "_total" if family.type == "counter" else family.name
                    for family in text_string_to_metric_families(call("/metrics")[2].decode())}
    assert len(metric_names) == 27
    for name in metric_names:
        assert f"`{name}`" in readme, name
    sources = (HERE / "twilio_exporter.py").read_text() + (HERE / "gunicorn.conf.py").read_text()
    settings = (set(re.findall(r'config\("([A-Z_]+)"', sources))
                | set(re.findall(r'os\.environ(?:\.get\(|\[)"([A-Z_]+)"', sources)))
    assert {"TWILIO_AUTH_TOKEN", "TWILIO_EXPORTER_DB", "TWILIO_EXPORTER_WORKERS", "STATE_DIRECTORY"} <= settings
    for setting in settings:
        assert f"`{setting}`" in readme, setting
    assert "make run" in readme and "make test" in readme


def markdown_files():
    """The README and the maintainers' documents (not the results that make bench and make steps write)."""
    return [HERE / "README.md", *sorted(path for path in (HERE / "docs").glob("*.md")
                                        if not path.read_text().startswith("<!-- written by make "))]


def anchor(heading):
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.docs
def test_the_readme_is_for_operators_within_450_lines_led_by_a_table_of_contents_of_every_section():
    readme = (HERE / "README.md").read_text()
    assert len(readme.splitlines()) <= 450
    sections = re.findall(r"^## (.+)$", readme, re.M)
    contents = readme[readme.index("## Contents"):].split("\n## ", 1)[0]
    assert sections[0] == "Contents" and sections[1] == "Quick start"
    assert [f"#{anchor(section)}" for section in sections[1:]] == re.findall(r"\]\((#[\w-]+)\)", contents)


@pytest.mark.docs
def test_every_link_between_the_documents_leads_to_a_file_and_a_heading_that_exist():
    for path in markdown_files():
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if target.startswith("http"):
                continue
            name, _, heading = target.partition("#")
            linked = (path.parent / name).resolve() if name else path
            assert linked.exists(), f"{path.name}: {target}"
            if heading:
                headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
                assert heading in {anchor(text) for text in headings}, f"{path.name}: {target}"


@pytest.mark.docs
def test_nothing_in_the_documents_reads_as_a_diary():
    for path in [*markdown_files(), HERE / "twilio_exporter.py", HERE / "gunicorn.conf.py", HERE / "Makefile"]:
        text = path.read_text()
        for diary in (r"\bI\b(?! [A-Z])", r"\bsession\b", r"\b20\d\d-\d\d-\d\d\b", r"\bthis morning\b", r"\byesterday\b"):
            assert not re.search(diary, text.replace("I/O", "")), f"{path.name}: {diary}"


def readme_shell_blocks():
    """The README's shell blocks, each as its text."""
    return re.findall(r"^```sh\n(.*?)^```", (HERE / "README.md").read_text(), re.M | re.S)


@pytest.mark.docs
def test_each_readme_shell_block_runs_or_says_what_it_needs_that_a_test_machine_lacks():
    blocks = readme_shell_blocks()
    needing = [block for block in blocks if block.startswith("# needs: ")]
    assert len(blocks) >= 6 and 2 <= len(blocks) - len(needing) < len(blocks)


@pytest.mark.server
@pytest.mark.docs
@pytest.mark.parametrize("number", [number for number, block in enumerate(readme_shell_blocks())
                                    if not block.startswith("# needs: ")])
def test_a_readme_shell_block_runs_as_written_against_an_exporter_started_as_it_says(tmp_path, number):
    block = readme_shell_blocks()[number]
    token = re.search(r"TWILIO_AUTH_TOKEN=(\S+)", block)
    settings, metrics_port = {"TWILIO_AUTH_TOKEN": token.group(1)} if token else {}, free_port()
    if ":9464" in block:  # the README's private listener
        settings["TWILIO_EXPORTER_METRICS_BIND"] = f"127.0.0.1:{metrics_port}"
    server = Server(tmp_path, ["-c", str(HERE / "gunicorn.conf.py")], TWILIO_EXPORTER_WORKERS="2",
                    TWILIO_EXPORTER_DB=str(tmp_path / "state.sqlite3"), PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "m"),
                    **settings)
    try:
        script = block.replace(":8080", f":{server.port}").replace(":9464", f":{metrics_port}")
        ran = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=HERE, env=clean_env(),
                             capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        for expected in re.findall(r"^# (\S.*?)(?: {2,}\(.*)?$", block, re.M):  # what the block says it prints
            if not expected.startswith(("A ", "needs:")):
                assert expected in ran.stdout, expected
    finally:
        server.stop(graceful=False)
