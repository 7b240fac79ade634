"""twilio-exporter: Twilio SMS and voice status callbacks in, Prometheus metrics out.

Run it with `gunicorn -c gunicorn.conf.py twilio_exporter:app`, point Twilio's status
callbacks at /webhooks/message and /webhooks/call (or an Event Streams sink at
/webhooks/events), and scrape /metrics. README.md lists every metric and setting.

Each source (a form callback, an Event Streams event) is parsed into the same Callback record.
A webhook writes its callbacks to its worker's inbox file and answers 200, whether or not the
store is up. Each worker process has one Store (`store()`): its connections, its inbox file and
its upkeep thread, which, in turn with the other workers, moves the host's inboxes into the
store (one SQLite file that every worker shares, or a PostgreSQL database that several hosts
share), committing the de-duplication record, the counts and the inbox's read position in one
transaction. So a callback answered 200 is counted exactly once, whichever worker or host took it
and whichever serves the scrape. Only the HTTP-level metrics (requests by code, handling time)
use prometheus_client's multiprocess files.
"""
import argparse
import base64
import ctypes
import fcntl
import glob
import hashlib
import hmac
import http
import json
import logging
import math
import os
import random
import re
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from collections import defaultdict
from itertools import chain
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import NamedTuple
from urllib.parse import parse_qs, parse_qsl, urlparse, urlsplit

__version__ = "0.1.0"
log = logging.getLogger("twilio_exporter")


# --- configuration ---

try:  # a gunicorn worker that cannot import the app for this prints its message alone, no traceback
    from gunicorn.errors import AppImportError
except ImportError:  # the module used without gunicorn (its command line, a test)
    AppImportError = Exception


class ConfigError(ValueError, RuntimeError, AppImportError):
    """A setting has a value the exporter cannot run with.

    gunicorn's master, importing the app first (--preload), prints a RuntimeError as one line and exits 1.
    """


def config(name, default, parse=str):
    """Read one setting from the environment, once; a bad value stops start-up naming it, never a password."""
    raw = os.environ.get(name, "").strip() or default
    try:
        return parse(raw)
    except ValueError as error:
        raise ConfigError(f"Config {name!r} has value {hide_password(raw)!r}. {error}") from None


def hide_password(text):
    """A setting's value or a store's URL with any password in it shown as ***."""
    text = re.sub(r"(://[^:/?#@]*:)[^/?#]*@", r"\1***@", text)  # to the last @ of the host part
    return re.sub(r"(?i)(password=)[^&]*", r"\1***", text)


def positive_int(raw):
    """Parse a whole number above zero."""
    if not raw.isdigit() or int(raw) == 0:
        raise ValueError("Not a whole number above 0.")
    return int(raw)


def comma_list(raw):
    """Split a comma-separated list, such as auth tokens (primary, secondary), dropping empty items."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def public_url(raw):
    """Check a public base URL such as https://hooks.example.com/twilio."""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("Not an http(s) URL with a host and no query, "
                         "e.g. https://hooks.example.com/twilio.")
    return raw.rstrip("/")


def account_sid(raw):
    """Check an account SID: AC and 32 hex digits."""
    if not re.fullmatch(r"AC[0-9a-fA-F]{32}", raw):
        raise ValueError("Not an account SID (AC and 32 hex digits).")
    return raw


def category_list(raw):
    """Split a comma-separated list of usage categories; "all" keeps every one."""
    categories = comma_list(raw)
    if not categories or not all(re.fullmatch(r"[a-z0-9-]+", category) for category in categories):
        raise ValueError("Not a comma-separated list of usage categories such as sms,calls, or all.")
    return categories


def log_level(raw):
    """Check a logging level name."""
    if raw.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("Not one of DEBUG, INFO, WARNING, ERROR.")
    return raw.upper()


def listen_address(raw):
    """Check a host:port to listen on, such as 127.0.0.1:9464."""
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("Not a host:port address, e.g. 127.0.0.1:9464.")
    return raw


def label_list(raw):
    """Check a comma-separated list of breakdown labels; they come out in LABEL_NAMES' order."""
    names = comma_list(raw)
    unknown = [name for name in names if name not in LABEL_NAMES]
    if unknown:
        raise ValueError(f"{unknown[0][:40]!r} is not a label: choose from {', '.join(LABEL_NAMES)}.")
    return tuple(name for name in LABEL_NAMES if name in names)


def store_target(raw):
    """Check TWILIO_EXPORTER_DB: a PostgreSQL URL (which needs psycopg), else the state file's path."""
    if raw.startswith(POSTGRES_SCHEMES):
        load_psycopg()
        if not urlsplit(raw).path.strip("/"):
            raise ValueError("Name the database, e.g. postgresql://exporter@db.example.com/twilio_exporter")
        return raw
    return state_path(raw)


def state_path(raw):
    """Check the state file's place: never inside the multiprocess metrics folder."""
    path, metrics_dir = os.path.abspath(raw), os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    metrics_dir = metrics_dir and os.path.abspath(metrics_dir)
    if metrics_dir and os.path.commonpath([path, metrics_dir]) == metrics_dir:
        raise ValueError("It is inside PROMETHEUS_MULTIPROC_DIR, where every *.db file is read as metrics.")
    return path


# The breakdown labels that TWILIO_EXPORTER_LABELS may choose, in the order the metrics carry them.
LABEL_NAMES = ("account", "messaging_service", "sender", "country", "channel")
AUTH_TOKENS = config("TWILIO_AUTH_TOKEN", "", comma_list)
PUBLIC_URL = config("TWILIO_EXPORTER_PUBLIC_URL", "", lambda raw: raw and public_url(raw))
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def load_psycopg():
    """Import psycopg for a PostgreSQL store, or say how to install it; only such a store loads it."""
    try:
        import psycopg
    except ImportError:
        raise ValueError("A PostgreSQL store needs the psycopg package: "
                         "pip install 'psycopg[binary]>=3.1'") from None
    return psycopg


STATE_DIRECTORY = os.environ.get("STATE_DIRECTORY", "").split(":")[0] or "."  # systemd's StateDirectory=
# The store: a SQLite file's path, or a postgresql:// URL (RFC 3986, e.g. postgresql://user:pass@host/db).
DB_PATH = config("TWILIO_EXPORTER_DB", os.path.join(STATE_DIRECTORY, "twilio_exporter.sqlite3"), store_target)
INBOX_DIR = config("TWILIO_EXPORTER_INBOX_DIR", "", lambda raw: raw and os.path.abspath(raw))
HOST = re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname()).strip("-")[:63] or "host"  # in inbox file names
RETENTION_SECONDS = config("TWILIO_EXPORTER_RETENTION", "86400", positive_int)
# How long an item may stay at a status that should move on before it counts as stuck.
STUCK_SECONDS = config("TWILIO_EXPORTER_STUCK_SECONDS", "3600", positive_int)
if STUCK_SECONDS >= RETENTION_SECONDS:
    raise ConfigError(f"Config 'TWILIO_EXPORTER_STUCK_SECONDS' ({STUCK_SECONDS}) must be shorter than "
                      f"'TWILIO_EXPORTER_RETENTION' ({RETENTION_SECONDS}): an item is forgotten at the end "
                      "of the retention, so it could never be seen stuck.")
LOG_LEVEL = config("TWILIO_EXPORTER_LOG_LEVEL", "INFO", log_level)
ACCOUNT_SID = config("TWILIO_ACCOUNT_SID", "", lambda raw: raw and account_sid(raw))
API_KEY = config("TWILIO_API_KEY", "")
API_SECRET = config("TWILIO_API_SECRET", "")
API_URL = config("TWILIO_EXPORTER_API_URL", "https://api.twilio.com", public_url)
POLL_INTERVAL_SECONDS = config("TWILIO_EXPORTER_POLL_INTERVAL", "60", positive_int)
USAGE_CATEGORIES = config("TWILIO_EXPORTER_USAGE_CATEGORIES", "sms,mms,calls,totalprice", category_list)
# gunicorn.conf.py's listeners and workers, read here with the rest. A second listener serves /metrics and
# the full /health; the public one then serves only the webhooks. SERVER_PORT tells them apart.
BIND = config("TWILIO_EXPORTER_BIND", "0.0.0.0:8080")  # as gunicorn takes it: host:port, or unix:PATH
METRICS_BIND = config("TWILIO_EXPORTER_METRICS_BIND", "", lambda raw: raw and listen_address(raw))
METRICS_PORT = METRICS_BIND.rpartition(":")[2]
WORKERS = config("TWILIO_EXPORTER_WORKERS", str(2 * (os.cpu_count() or 1) + 1), positive_int)
if METRICS_BIND and METRICS_PORT == BIND.rpartition(":")[2]:
    raise ConfigError(f"Config 'TWILIO_EXPORTER_METRICS_BIND' has value {METRICS_BIND!r}. It must use "
                      "another port than TWILIO_EXPORTER_BIND: the port tells the private listener from the "
                      "public one.")
# Inbox bytes not yet moved into the store past which webhooks answer 503.
INBOX_LIMIT = config("TWILIO_EXPORTER_INBOX_LIMIT", str(1024 ** 3), positive_int)
LABELS = config("TWILIO_EXPORTER_LABELS", "", label_list)
LABEL_LIMIT = config("TWILIO_EXPORTER_LABEL_LIMIT", "100", positive_int)
if "country" in LABELS:
    try:
        import phonenumbers
    except ImportError:
        raise ConfigError("Config 'TWILIO_EXPORTER_LABELS' includes country, which needs the phonenumbers "
                          "package: pip install 'phonenumbers>=8.13'") from None
if bool(API_KEY) != bool(API_SECRET):
    raise ConfigError("Config 'TWILIO_API_KEY' and 'TWILIO_API_SECRET' go together: set both, or neither.")
if ACCOUNT_SID and not (API_KEY or AUTH_TOKENS):
    raise ConfigError("Config 'TWILIO_ACCOUNT_SID' is set, so polling needs credentials: "
                      "set TWILIO_API_KEY and TWILIO_API_SECRET, or TWILIO_AUTH_TOKEN.")

MAX_BODY_BYTES = 64 * 1024        # a status callback is a small fraction of this
MAX_EVENTS_BODY_BYTES = 4 * 1024 * 1024  # Event Streams documents no batch size: room for thousands of events
MAX_FORM_FIELDS = 100             # several times what a callback carries
MAX_ERROR_CODES = 200             # distinct error_code label values; later ones count as "other"
BUSY_TIMEOUT_SECONDS = 5          # the longest a scrape, /health or a fold waits for the store's lock
API_TIMEOUT_SECONDS = 5           # one REST call of the account poll; scrapes never wait for it
FOLD_INTERVAL_SECONDS = 0.1       # how often one worker of the host moves its inboxes into the counts
FAILURE_RETRY_SECONDS = 1         # the least wait before an upkeep job that failed runs again
FOLD_IDLE_SECONDS = 1             # how often while nothing comes (a scrape moves what is left anyway)
FOLD_BYTES = 1024 * 1024          # the most inbox read in one transaction
INBOX_ROTATE_BYTES = 1024 * 1024  # a worker starts a new inbox file past this size; read ones are removed
INBOX_MEMORY_SECONDS = 7 * 86400  # how long the store remembers an inbox file read to its end and removed
PRUNE_INTERVAL_SECONDS = 60
PRUNE_BATCH = 2000                # rows forgotten (or counted stuck) a transaction: none holds the lock long
STUCK_CHECK_SECONDS = 1           # how often a worker looks for items that became stuck
TIDY_INTERVAL_SECONDS = 1         # SQLite's WAL holds about this long of writes at most before it is emptied
CACHE_KIB = 2048                  # SQLite page cache per connection; a worker has two
FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

if not log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"))
    log.addHandler(_handler)
log.setLevel(LOG_LEVEL)
if "MALLOC_ARENA_MAX" not in os.environ:  # the operator's choice stands
    # glibc gives a thread an arena of its own, up to 8 per core, and memory freed in one stays there, so
    # a worker's threads would each hold some. Python's lock mostly serialises their allocations anyway.
    with suppress(OSError, AttributeError):  # not glibc (musl, macOS): nothing to limit
        ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX: one arena for the process


def private_metrics_dir():
    """Make a metrics folder for this server's workers when none is configured.

    Workers of one gunicorn share a process group, so the folder is named after it (and
    the state file); folders of process groups that are gone are removed.
    """
    base = tempfile.gettempdir()
    prefix = f"twilio_exporter-metrics-{os.getuid()}-"
    for stale in os.listdir(base):
        group = stale[len(prefix):].split("-")[0]
        if stale.startswith(prefix) and group.isdigit() and not process_group_alive(int(group)):
            shutil.rmtree(os.path.join(base, stale), ignore_errors=True)
    state_hash = hashlib.sha1(DB_PATH.encode()).hexdigest()[:8]
    path = os.path.join(base, f"{prefix}{os.getpgrp()}-{state_hash}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    if os.stat(path).st_uid != os.getuid():
        raise ConfigError(f"Metrics folder {path!r} belongs to another user; set PROMETHEUS_MULTIPROC_DIR.")
    return path


def process_group_alive(group):
    """Say whether any process is left in a process group."""
    try:
        os.killpg(group, 0)  # pragma: no mutate (another signal would stop make mutants itself)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


# prometheus_client picks its value class when first imported, so the folder must be set first:
# as configured, else systemd's RuntimeDirectory=, else a private one. Without it (the file copied
# alone and run as `gunicorn --preload -w 4 twilio_exporter:app`), every worker would count on its own.
# gunicorn.conf.py runs this in the master too, so its workers inherit the folder it wipes.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = (os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
                                              or private_metrics_dir())
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)  # its metrics' files are made at once

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app  # noqa: E402
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402
from twilio.base.exceptions import TwilioRestException  # noqa: E402
from twilio.request_validator import (  # noqa: E402
    HMAC_SHA1, HMAC_SHA256, RequestValidator, get_signature_algorithm)


# --- Twilio vocabularies ---

@dataclass(frozen=True)
class Kind:
    """What one kind of status callback (message or call) carries and how its statuses order."""
    name: str                 # the endpoint label and the metric names' middle word
    sid_fields: tuple         # the form fields holding the SID, newest name first
    status_fields: tuple
    lifecycle: tuple          # tiers of statuses, earliest first; a callback never moves back a tier
    histogram: str            # fed once per SID, by the callback of `timed_status`
    histogram_help: str
    timed_status: str
    timing_field: str         # the field holding the seconds; "" means since the first callback
    buckets: tuple
    error_statuses: frozenset = frozenset()
    event_types: tuple = ()   # (Event Streams type, the status it means) of this kind's status events
    label_names: tuple = ()   # the breakdown labels (of LABEL_NAMES) that apply to this kind
    waiting: tuple = ()       # statuses that should move on: an item at one past STUCK_SECONDS is stuck

    @cached_property
    def statuses(self):
        """Every status label value, known ones in lifecycle order, then "unknown"."""
        return tuple(status for tier in self.lifecycle for status in tier) + ("unknown",)

    @cached_property
    def ranks(self):
        """Each status's tier; "unknown" ranks below all, so any known status replaces it ("" lower still)."""
        return ({status: rank for rank, tier in enumerate(self.lifecycle) for status in tier}
                | {"unknown": -1, "": -2})


KINDS = {kind.name: kind for kind in (
    Kind(
        name="message",
        sid_fields=("MessageSid", "SmsSid"),
        status_fields=("MessageStatus", "SmsStatus"),
        lifecycle=(
            ("accepted", "scheduled"),
            ("queued", "receiving"),
            ("sending",),
            ("sent",),
            ("delivered", "undelivered", "failed", "canceled", "partially_delivered", "received"),
            ("read",),
        ),
        histogram="twilio_message_delivery_seconds",
        histogram_help="Seconds from the first callback seen for a message to its delivered callback.",
        timed_status="delivered",
        timing_field="",
        buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
        error_statuses=frozenset({"failed", "undelivered"}),
        label_names=LABEL_NAMES,
        waiting=("accepted", "queued", "sending", "sent"),  # not scheduled, which may wait days by design
        event_types=tuple((f"com.twilio.messaging.message.{status}", status)
                          for status in ("queued", "sent", "delivered", "undelivered", "failed", "read")),
    ),
    Kind(
        name="call",
        sid_fields=("CallSid",),
        status_fields=("CallStatus",),
        lifecycle=(
            ("queued",),
            ("initiated",),
            ("ringing",),
            ("in-progress",),
            ("completed", "busy", "failed", "no-answer", "canceled"),
        ),
        histogram="twilio_call_duration_seconds",
        histogram_help="CallDuration (seconds) of completed calls.",
        timed_status="completed",
        timing_field="CallDuration",  # seconds; "Duration" is billed minutes
        buckets=(5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600),
        label_names=("account", "sender", "country"),
        waiting=("queued", "initiated", "ringing"),  # not in-progress: a call may last hours
        # The "webhook." names are those Twilio used until February 2024, which may still arrive.
        event_types=tuple((f"com.twilio.voice.{infix}status-callback.call.{event}", status)
                          for infix in ("", "webhook.") for event, status in (
                              ("initiated", "initiated"), ("ringing", "ringing"), ("answered", "in-progress"),
                              ("completed", "completed"))),
    ),
)}
WEBHOOKS = {f"/webhooks/{endpoint}": endpoint for endpoint in (*KINDS, "events")}
# An inbound message's event: a message with no status of ours, counted by its facts (below) only.
INBOUND_EVENT_TYPE = "com.twilio.messaging.inbound-message.received"
EVENT_TYPES = {event_type: (kind, status) for kind in KINDS.values()
               for event_type, status in kind.event_types} | {INBOUND_EVENT_TYPE: (KINDS["message"], "")}
TEST_EVENT_TYPE = "com.twilio.eventstreams.test-event"  # what `twilio api:events:v1:sinks:test:create` sends
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "completed", "busy", "no-answer",
                            "canceled"})


class Fact(NamedTuple):
    """What a message or call carries once, counted from the first callback that carries it."""
    kind: str
    metric: str
    help: str
    label: str              # the metric's own label; "" when the fact adds its value (a number of segments)
    pattern: str            # the values it takes
    otherwise: str          # what a value out of that shape counts as ("": not at all)
    form_field: str = ""    # its field in a classic callback, and in a call event's parameters
    event_field: str = ""   # its field in a message event's data
    statuses: frozenset = frozenset()  # taken only from a callback of one of these statuses (any if none)
    vocabulary: tuple = ()  # every value, each shown from the first scrape; () when open (then capped)


ANSWERED_BY = ("human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other",
               "fax", "unknown")
OPT_OUT_TYPES = ("stop", "start", "help")
FACTS = {  # by name; a Callback's facts hold a value for each, in this order
    "segments": Fact(
        "message", "twilio_message_segments_total", "Segments of the messages sent (Twilio bills by "
        "segment), each message's counted once.", "", r"[1-9]\d?|100", "", "NumSegments", "numberOfSegments",
        statuses=frozenset(KINDS["message"].statuses)),  # from a status callback, not an inbound message
    "inbound": Fact(
        "message", "twilio_inbound_messages_total", "Messages received, from Event Streams' inbound-message "
        "events, each counted once.", "", "1", "", statuses=frozenset({""})),
    "opt_out": Fact(
        "message", "twilio_message_opt_outs_total", "Messages received that opted out, back in or asked for "
        "help (Advanced Opt-Out), by type.", "type", "|".join(OPT_OUT_TYPES), "", event_field="optOutType",
        statuses=frozenset({""}), vocabulary=OPT_OUT_TYPES),
    "answered_by": Fact(
        "call", "twilio_call_answered_by_total", "Calls by who answering-machine detection says answered, "
        "each counted once.", "answered_by", "|".join(ANSWERED_BY), "unknown", "AnsweredBy",
        vocabulary=ANSWERED_BY),
    "sip_response": Fact(
        "call", "twilio_call_sip_responses_total", "Calls by the SIP response code of their final status "
        "callback; past 100 codes, \"other\".", "code", r"[1-6]\d\d", "", "SipResponseCode",
        statuses=FINAL_STATUSES),
}
FACT_BITS = tuple(1 << (32 + index) for index in range(len(FACTS)))  # in item.seen, above the statuses'
# Each kind's facts: (position in a Callback's facts, the fact, its pattern compiled).
KIND_FACTS = {kind: tuple((at, fact, re.compile(fact.pattern)) for at, fact in enumerate(FACTS.values())
                          if fact.kind == kind) for kind in KINDS}
# The form fields of each kind's facts, None where it has none (no form has a field of that name).
FORM_FACT_FIELDS = {kind: tuple(fact.kind == kind and fact.form_field or None for fact in FACTS.values())
                    for kind in KINDS}
NO_FACTS = ("",) * len(FACTS)
MAX_SIP_CODES = 100  # distinct code label values; later ones count as "other"
SID_PATTERN = re.compile(r"[A-Za-z0-9]{1,64}")
ERROR_CODE_PATTERN = re.compile(r"\d{1,6}")
SECONDS_PATTERN = re.compile(r"\d{1,9}(\.\d{1,9})?")
# The form fields (a call event's parameters too) that callback_labels takes its values from.
LABEL_FIELDS = ("AccountSid", "MessagingServiceSid", "From", "To", "ToCountry")
EMPTY_FIELDS = ("",) * len(LABEL_FIELDS)  # what form.get gives for a field a form lacks
# printable ASCII: E.164, short codes, sender IDs, SIDs
LABEL_VALUE_PATTERN = re.compile(r"[\x20-\x7e]{1,64}")
# The label values tab-joined, each empty or of LABEL_VALUE_PATTERN: one check where nearly all are good.
# Exactly one field per label: a value holding a tab would split the inbox line it is written to.
LABEL_VALUES_PATTERN = re.compile("\t".join([f"(?:{LABEL_VALUE_PATTERN.pattern})?"] * len(LABEL_NAMES)))
COUNTRY_PATTERN = re.compile(r"[A-Z]{2}")
# The channel label's values, by the address scheme of From or To ("whatsapp:+1…"); none is "sms".
CHANNELS = {scheme: scheme for scheme in ("whatsapp", "messenger", "rcs")}  # any other scheme: "other"


class Callback(NamedTuple):
    """One status change: what every source (a form callback, an event) turns a request into."""
    time: float       # when it happened: the event's own time where the source carries one, else arrival
    kind: Kind
    sid: str
    status: str       # one of kind.statuses
    error_code: str   # digits or "unknown" for an error status, else ""
    seconds: str      # the timed status's seconds (CallDuration), or ""
    labels: tuple     # a value for each of LABEL_NAMES: "" where the label is not chosen or not the kind's
    facts: tuple      # a value for each of FACTS: "" where the callback does not carry it


NO_LABELS = ("",) * len(LABEL_NAMES)


def new_callback(when, kind, sid, status, error_code="", seconds="", labels=NO_LABELS, facts=NO_FACTS):
    """A Callback with its values held to the known shapes; ValueError when the SID or status is missing.

    A callback with no status (an asynchronous AMD result, an inbound message) counts by its facts only.
    """
    if not SID_PATTERN.fullmatch(sid) or not (status or any(facts)) or not math.isfinite(when):
        raise ValueError(f"a {kind.name} SID and status are required (got {sid[:64]!r}, {status[:64]!r})")
    if status and status not in kind.statuses:
        log.warning("unknown %s status %.64r for %s, counted as status=\"unknown\"", kind.name, status, sid)
        status = "unknown"
    if facts is not NO_FACTS:
        facts = held_facts(kind.name, status, facts) if any(facts) else NO_FACTS
        if not (status or any(facts)):
            raise ValueError(f"a {kind.name} callback without a status carries nothing counted ({sid})")
    if status in kind.error_statuses:
        error_code = error_code if ERROR_CODE_PATTERN.fullmatch(error_code) else "unknown"
    else:
        error_code = ""
    seconds = seconds if status == kind.timed_status and SECONDS_PATTERN.fullmatch(seconds) else ""
    if len(labels) != len(LABEL_NAMES):
        raise ValueError(f"{len(labels)} label values, not {len(LABEL_NAMES)}")
    # One check for all, as nearly all are good
    if labels is not NO_LABELS and not LABEL_VALUES_PATTERN.fullmatch("\t".join(labels)):
        labels = tuple(value if not value or LABEL_VALUE_PATTERN.fullmatch(value) else "unknown"
                       for value in labels)
    return Callback(when, kind, sid, status, error_code, seconds, labels, facts)


@lru_cache(maxsize=4096)  # the same few recur; bounded, as a sender may send any values
def held_facts(kind_name, status, facts):  # by the kind's name: a Kind's own hash is slow
    """A value for each of FACTS: the kind's own, of a status it is taken from, held to its shape."""
    if len(facts) != len(FACTS):
        raise ValueError(f"{len(facts)} facts, not {len(FACTS)}")
    held = list(NO_FACTS)
    for at, fact, pattern in KIND_FACTS[kind_name]:
        value = facts[at]
        if value and (not fact.statuses or status in fact.statuses):
            held[at] = value if pattern.fullmatch(value) else fact.otherwise
    return tuple(held)


def callback_labels(kind, account, messaging_service, sender, to, to_country):
    """The label values of a callback from its source's fields: each chosen label that applies to the kind."""
    if not LABELS:
        return NO_LABELS
    account_wanted, service_wanted, sender_wanted, country_wanted, channel_wanted = wanted_labels(
        kind.name, LABELS)
    return ((account or "unknown") if account_wanted else "",
            (messaging_service or "none") if service_wanted else "",
            (sender or "unknown") if sender_wanted else "",
            # The country where Twilio names it (calls do), else from the number.
            (to_country if COUNTRY_PATTERN.fullmatch(to_country)
             else country_of(to) if len(to) <= 40 else "unknown") if country_wanted else "",
            channel_of(sender, to) if channel_wanted else "")


def channel_of(sender, to):
    """The channel of a message: the address scheme of its sender, else of its recipient ("sms" if none)."""
    scheme, colon, _ = (sender if ":" in sender else to).partition(":")
    return CHANNELS.get(scheme.lower(), "other") if colon else "sms"


@lru_cache(maxsize=None)
def wanted_labels(kind_name, labels):
    """Whether each of LABEL_NAMES is both chosen and one that applies to the kind."""
    return tuple(name in labels and name in KINDS[kind_name].label_names for name in LABEL_NAMES)


@lru_cache(maxsize=4096)  # bounded: the numbers a worker sees are not
def country_of(number):
    """The ISO 3166 alpha-2 code of a phone number's country ("+1 416…", "whatsapp:+44…"), or "unknown".

    A number that fits no region's plan goes to its calling code's main country, as phonenumbers says.
    """
    number = number.rpartition(":")[2]
    digits, regions_of = number[1:], calling_codes()
    if number[:1] == "+" and digits.isascii() and digits.isdigit() and len(digits) <= 15 and digits[0] != "0":
        # A calling code of one region is that region, as parsing the number would say; calling codes
        # are prefix-free, so the first prefix that is one is the number's.
        code = next((digits[:size] for size in (1, 2, 3) if digits[:size] in regions_of), "")
        regions = regions_of.get(code, ())
        if len(regions) == 1 and len(digits) - len(code) >= 2:  # parse wants two national digits
            return regions[0] if COUNTRY_PATTERN.fullmatch(regions[0]) else "unknown"
        # A NANP number valid in the region a valid number of its area code was found in is in that
        # region, as parsing it would say; any other number is parsed, so no answer depends on traffic.
        region = AREA_CODE_REGIONS.get(digits[1:4]) if code == "1" and len(digits) == 11 else None
        if region and phonenumbers.is_valid_number_for_region(
                phonenumbers.PhoneNumber(country_code=1, national_number=int(digits[1:])), region):
            return region
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return "unknown"
    region = (phonenumbers.region_code_for_number(parsed)
              or phonenumbers.region_code_for_country_code(parsed.country_code))
    if parsed.country_code == 1 and phonenumbers.is_valid_number_for_region(parsed, region):
        AREA_CODE_REGIONS[str(parsed.national_number)[:3]] = region
    return region if COUNTRY_PATTERN.fullmatch(region) and region != "ZZ" else "unknown"


AREA_CODE_REGIONS = {}  # {NANP area code: the region a valid number of it was found in}: 800 at most


@lru_cache(maxsize=None)
def calling_codes():
    """phonenumbers' regions of each calling code, by its digits: {"44": ("GB", "GG", "IM", "JE"), …}."""
    return {str(code): tuple(regions) for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()}


# --- the store ---
# The counts live in a store: one SQLite file that the workers of a host share (the default), or a
# PostgreSQL database that the workers of several hosts share. Each worker process has one Store,
# which owns its connections, its inbox file, its read positions, its label-set cache and its
# upkeep thread. The SQL is shared; SQLiteStore and PostgresStore hold the few things that differ.

# 1: release 0.1; 2: item.labels; 3: inbox.finished, the version in meta; 4: series; 5: columns;
# 6: item.changed and item.stuck, series.channel
SCHEMA_VERSION = 6
SCHEMA = """
CREATE TABLE IF NOT EXISTS item (           -- one message or call: its latest status and every status seen
    kind TEXT NOT NULL, sid TEXT NOT NULL,
    status TEXT NOT NULL,                   -- '': none yet, known by its facts alone
    seen BIGINT NOT NULL,                   -- bit i set: the kind's status i was recorded (or a fact's)
    first_seen DOUBLE PRECISION NOT NULL,
    series BIGINT NOT NULL,                 -- its label set (series.id, 0: none), fixed by its first status
    changed DOUBLE PRECISION NOT NULL,      -- when its latest status happened (an event's time, else arrival)
    stuck SMALLINT NOT NULL DEFAULT 0,      -- 1: counted in twilio_<kind>_stuck
    PRIMARY KEY (kind, sid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS item_first_seen ON item (first_seen);
CREATE TABLE IF NOT EXISTS counter (        -- every exported value, moved in the same transaction as item
    name TEXT NOT NULL,
    label TEXT NOT NULL,                    -- the metric's own label: status, error code, bucket or endpoint
    series BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (name, label, series)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (         -- each label set counted: a value, or '' where it has none
    id BIGINT PRIMARY KEY, account TEXT NOT NULL, messaging_service TEXT NOT NULL, sender TEXT NOT NULL,
    country TEXT NOT NULL, channel TEXT NOT NULL,
    UNIQUE (account, messaging_service, sender, country, channel)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS label_value (    -- the values each label has had, held to its limit
    name TEXT NOT NULL, value TEXT NOT NULL,  -- value "other": the limit was reached (and logged)
    PRIMARY KEY (name, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (          -- how far each inbox file (by its unique name) is moved in
    name TEXT PRIMARY KEY, "offset" BIGINT NOT NULL,
    finished DOUBLE PRECISION) WITHOUT ROWID;  -- when read to its end and removed; kept INBOX_MEMORY_SECONDS
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS poll (           -- one REST API operation: when it is next due, its last answer
    operation TEXT PRIMARY KEY, due DOUBLE PRECISION NOT NULL, last_success DOUBLE PRECISION,
    errors BIGINT NOT NULL DEFAULT 0, payload TEXT) WITHOUT ROWID;
"""
SERIES_MATCH = " AND ".join(f"{name} = ?" for name in LABEL_NAMES)  # the series columns are LABEL_NAMES
SERIES_INSERT = f"INSERT INTO series (id, {', '.join(LABEL_NAMES)}) VALUES (?{', ?' * len(LABEL_NAMES)})"
# The items at a status that should move on and not yet counted stuck. Its index holds only those, so
# finding the ones that crossed STUCK_SECONDS costs what they number, not what the store tracks.
WAITING = "stuck = 0 AND status IN ({})".format(", ".join(
    f"'{status}'" for status in sorted({status for kind in KINDS.values() for status in kind.waiting})))
WAITING_INDEX = f"CREATE INDEX IF NOT EXISTS item_waiting ON item (changed) WHERE {WAITING}"


class Store:
    """One worker process's side of the shared state; SQLiteStore and PostgresStore say how to reach it."""
    errors = ()  # what the store raises when it fails

    def __init__(self, target, inbox_dir=""):
        self.target, self.name, self.pid = target, hide_password(target), os.getpid()
        self.inbox = Inbox(self.inbox_prefix(inbox_dir))
        # {label values: number} of the label sets read from the series table
        self.series = {}
        self.label_sets = {NO_LABELS: 0}  # {a callback's label values: number}, see series_number
        # the connection for scrapes, /health and polls: one thread at a time
        self.lock = threading.Lock()
        self.conn, self.upkeep, self.closed = None, None, False

    def open(self):
        """A new connection, with the tables made and brought up to SCHEMA_VERSION."""
        conn = self.connect()
        upgrade(self, conn)
        return conn

    @contextmanager
    def connection(self):
        """The shared connection, one thread at a time; opened on first use, and afresh after a failure."""
        # Waiting threads give up as a busy store would, so the caller gets its 503 in time.
        if not self.lock.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            raise self.errors[0]("database is locked (busy in another thread of this worker)")
        try:
            self.start()
            if self.conn is not None and not self.alive(self.conn):
                self.conn = None  # its server restarted since: connect afresh rather than fail this request
            self.conn = self.conn or self.open()
            yield self.conn
        except self.errors:
            self.forget(self.conn)  # connect afresh next time: to a restarted server, or a file put back
            self.conn = None
            raise
        finally:
            self.lock.release()

    def forget(self, conn):
        """Close a connection that failed, if it is open."""
        if conn is not None:
            with suppress(*self.errors):
                conn.close()

    @contextmanager
    def transaction(self, conn):
        """Run a block as one write transaction, taking the store's write lock first."""
        self.begin(conn)
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            with suppress(*self.errors):  # a connection that broke has nothing to roll back
                conn.execute("ROLLBACK")
            raise

    def write(self, lines):
        """Append lines to this worker's inbox file, starting the upkeep that moves them into the store."""
        self.start()
        self.inbox.write(lines)

    def start(self):
        """Start the upkeep thread, once; every webhook and scrape asks, so the usual answer takes no lock."""
        if self.upkeep is not None:
            return
        with making_lock:
            if self.upkeep is None and not self.closed:
                self.upkeep = threading.Thread(target=upkeep_forever, args=(self,), name="upkeep",
                                               daemon=True)
                self.upkeep.start()

    def close(self):
        """Stop the upkeep thread after its job of the moment, and close the connection and the inbox file."""
        self.closed = True
        with self.lock:
            self.forget(self.conn)
            self.conn = None
        self.inbox.close()


making_lock = threading.Lock()  # one thread makes the process's store, or starts its upkeep


class SQLiteStore(Store):
    """A SQLite file that the workers of one host share: the default store."""
    errors = (sqlite3.Error,)

    def inbox_prefix(self, inbox_dir):
        """Inbox files sit beside the state file unless TWILIO_EXPORTER_INBOX_DIR says otherwise."""
        folder = inbox_dir or os.path.dirname(self.target)
        return os.path.join(folder, os.path.basename(self.target) + ".inbox.")

    def connect(self):
        """Open the file, switch it to WAL and make the tables."""
        conn = sqlite3.connect(self.target, timeout=0, isolation_level=None, check_same_thread=False)
        # Each statement is idempotent, so the whole script is retried while another worker holds a lock.
        wait_for_lock(conn.executescript, f"""
            PRAGMA synchronous = NORMAL;             -- safe against crashes under WAL
            PRAGMA wal_autocheckpoint = 0;           -- tidy() does it, see there
            PRAGMA cache_size = -{CACHE_KIB};
            PRAGMA page_size = 1024;                 -- in a new file: a commit writes whole pages
            PRAGMA auto_vacuum = INCREMENTAL;        -- in a new file too: pruning can shrink it
            PRAGMA journal_mode = WAL;
            {SCHEMA}""")
        return conn

    def make_tables(self, conn):
        """Make the tables that are missing, inside a transaction."""
        for statement in filter(str.strip, re.sub(r"--[^\n]*", "", SCHEMA).split(";")):
            conn.execute(statement)

    def begin(self, conn):
        """Take the file's one write lock: a read-then-write upgrade would deadlock two workers."""
        wait_for_lock(conn.execute, "BEGIN IMMEDIATE")

    def has_column(self, conn, table, column):
        """Whether a table has a column (a file from before versions were recorded may have it)."""
        return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))

    def is_lock_timeout(self, error):
        """Whether an error is a wait for the write lock that ran out."""
        return str(error) == "database is locked"

    def alive(self, conn):
        """A file does not go away under an open connection."""
        return True

    def vacuum(self, conn):
        """Give the pages pruning freed back to the disk. Only executescript steps this pragma to the end."""
        wait_for_lock(conn.executescript, "PRAGMA incremental_vacuum")

    def tidy(self, conn):
        """Copy the WAL into the state file and empty it.

        SQLite's own checkpoint after a commit cannot empty a WAL that another worker is writing to,
        so under steady load the WAL would grow without end. PASSIVE copies without holding anyone
        up, then TRUNCATE empties the file, holding new writers back only while it copies what was
        committed in between.
        """
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        conn.execute("PRAGMA busy_timeout = 100")  # TRUNCATE waits out the writer of the moment
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.execute("PRAGMA busy_timeout = 0")


class PostgresStore(Store):
    """A PostgreSQL database that every worker of every host shares."""
    LOCK_KEY = 0x7477696C696F  # pg_advisory_xact_lock's key: one lock serialises every write, cluster-wide

    def __init__(self, target, inbox_dir=""):
        self.psycopg = load_psycopg()
        self.errors = (self.psycopg.Error,)
        super().__init__(target, inbox_dir)

    def inbox_prefix(self, inbox_dir):
        """Inbox files sit in TWILIO_EXPORTER_INBOX_DIR, else in systemd's state folder or the current one."""
        return os.path.join(inbox_dir or STATE_DIRECTORY, "twilio_exporter.inbox.")

    def connect(self):
        """Connect, and make the tables unless there; several hosts starting at once take turns."""
        # A lock or a statement waits as long as a SQLite busy wait would, then fails.
        conn = PostgresConnection(self.psycopg.connect(
            self.target, autocommit=True, connect_timeout=BUSY_TIMEOUT_SECONDS,
            application_name="twilio_exporter",
            options=f"-c lock_timeout={BUSY_TIMEOUT_SECONDS * 1000} "
                    f"-c statement_timeout={BUSY_TIMEOUT_SECONDS * 6000}"))
        if conn.execute("SELECT to_regclass('poll')").fetchone()[0] is None:
            with self.transaction(conn):
                self.make_tables(conn)
        return conn

    def make_tables(self, conn):
        """Make the tables that are missing, inside a transaction."""
        conn.raw.execute(SCHEMA.replace(" WITHOUT ROWID", ""))  # no parameters: one script

    def begin(self, conn):
        """Start a write transaction, taking the cluster's one write lock first (released at its end)."""
        conn.execute("BEGIN")
        conn.execute("SELECT pg_advisory_xact_lock(?)", (self.LOCK_KEY,))

    def has_column(self, conn, table, column):
        """Whether a table has a column."""
        return bool(conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                                 "current_schema() AND table_name = ? AND column_name = ?",
                                 (table, column)).fetchall())

    def is_lock_timeout(self, error):
        """Whether an error is a wait for the write lock that ran out."""
        return isinstance(error, self.psycopg.errors.LockNotAvailable)

    def alive(self, conn):
        """Whether the connection still reaches its server, which may have restarted since its last use."""
        try:
            conn.execute("SELECT 1")
            return True
        except self.psycopg.Error:
            self.forget(conn)
            return False

    def vacuum(self, conn):
        """Nothing to do: PostgreSQL's autovacuum reuses the space."""

    def tidy(self, conn):
        """Analyze the item table once it has twice the pages its statistics last counted.

        The planner goes by the statistics, which autovacuum refreshes only now and then. A table that
        a backlog fills fast still looks empty to it, and the plan it caches for a fold's look-up of
        500 SIDs then compares every item of the kind with each. Analyzing when the table has doubled
        keeps that rare. docs/performance.md has the measures.
        """
        grown = conn.execute("SELECT pg_relation_size(oid) > 2 * current_setting('block_size')::int "
                             "* greatest(relpages, 16) FROM pg_class WHERE oid = 'item'::regclass"
                             ).fetchone()[0]
        if grown:
            conn.execute("ANALYZE (SKIP_LOCKED) item")  # another worker's, or autovacuum's, does as well


class PostgresConnection:
    """A psycopg 3 connection with sqlite3's execute and executemany, so the shared SQL runs on it."""

    def __init__(self, raw):
        self.raw = raw

    def execute(self, sql, parameters=()):
        """Run one statement, in psycopg's placeholders."""
        return self.raw.execute(postgres_sql(sql), parameters)

    def executemany(self, sql, rows):
        """Run one statement for each row."""
        with self.raw.cursor() as cursor:
            cursor.executemany(postgres_sql(sql), rows)

    def close(self):
        """Close the connection."""
        self.raw.close()


@lru_cache(maxsize=None)
def postgres_sql(sql):
    """The shared SQL in psycopg's placeholders: ? becomes %s, and a literal % is doubled."""
    return sql.replace("%", "%%").replace("?", "%s")


def make_store(target, inbox_dir=""):
    """The Store a TWILIO_EXPORTER_DB value names: a postgresql:// URL, else a SQLite file's path."""
    return (PostgresStore if target.startswith(POSTGRES_SCHEMES) else SQLiteStore)(target, inbox_dir)


_store = None  # this process's Store: made on first use, and again in a process forked from one that had it


def store():
    """This process's Store."""
    global _store
    current = _store
    if current is None or current.pid != os.getpid():
        with making_lock:
            if _store is None or _store.pid != os.getpid():
                _store = make_store(DB_PATH, INBOX_DIR)
            current = _store
    return current


def upgrade_to_columns(store, conn):
    """Version 5: item and counter rows hold their label set's number, and series each label, in columns.

    A label set was named by its text ("\\tsender=+1…\\tcountry=US") before version 4, by "\\t#7" (series 7)
    in version 4, and counter rows held it after their own label ("delivered\\t#7").
    """
    texts = {}
    if store.has_column(conn, "series", "labels"):
        texts = {f"\t#{number}": text for number, text in conn.execute("SELECT id, labels FROM series")}
    counters = conn.execute("SELECT name, label, value FROM counter").fetchall()
    item_sets = [labels for (labels,) in conn.execute("SELECT DISTINCT labels FROM item")]

    def values(key):  # the value of each of LABEL_NAMES in an old key, "" where it has none
        pairs = dict(pair.split("=", 1) for pair in texts.get(key, key).split("\t")[1:] if "=" in pair)
        return tuple(pairs.get(name, "") for name in LABEL_NAMES)
    old_keys = set(item_sets) | {label[label.find("\t"):] for _, label, _ in counters if "\t" in label}
    numbers = {NO_LABELS: 0}
    for label_set in sorted({values(key) for key in old_keys} - {NO_LABELS}):
        numbers[label_set] = len(numbers)
    conn.execute("CREATE TABLE item_v4 AS SELECT * FROM item")
    for table in ("item", "counter", "series"):  # a PostgreSQL store of version 3 has no series
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("CREATE TABLE series_v4 (labels TEXT NOT NULL, id BIGINT NOT NULL)")
    conn.executemany("INSERT INTO series_v4 VALUES (?, ?)",
                     [(key, numbers[values(key)]) for key in item_sets])
    store.make_tables(conn)
    conn.execute("INSERT INTO item (kind, sid, status, seen, first_seen, series, changed) "
                 "SELECT kind, sid, status, seen, first_seen, series_v4.id, 0 "
                 "FROM item_v4 JOIN series_v4 ON series_v4.labels = item_v4.labels")
    for table in ("item_v4", "series_v4"):
        conn.execute(f"DROP TABLE {table}")
    store.make_tables(conn)  # the index on item, dropped with the old table
    conn.executemany(SERIES_INSERT,
                     [(number, *label_set) for label_set, number in numbers.items() if number])
    moved = defaultdict(float)
    for name, label, value in counters:
        first, tab, key = label.partition("\t")
        moved[name, first, numbers[values(tab + key)] if tab else 0] += value
    bump(conn, moved)


def add_column(table, column, *statements):
    """An upgrade that adds a column, unless the store has it (one from before versions were recorded may)."""
    def run(store, conn):
        if not store.has_column(conn, table, column):
            for statement in statements:
                conn.execute(statement)
    return run


def add_status_times_and_channel(store, conn):
    """Version 6: when each item's latest status happened, and the channel label of each label set.

    The time, unknown before, is taken as the upgrade's, so an item waits STUCK_SECONDS from it
    before it can count as stuck: none is counted stuck at once for a time the store never knew.
    Label sets had no channel; the series table is made anew, as its unique key gains the column.
    """
    add_column("item", "changed", "ALTER TABLE item ADD COLUMN changed DOUBLE PRECISION NOT NULL DEFAULT 0",
               "ALTER TABLE item ADD COLUMN stuck SMALLINT NOT NULL DEFAULT 0")(store, conn)
    conn.execute("UPDATE item SET changed = ? WHERE changed = 0", (time.time(),))
    if not store.has_column(conn, "series", "channel"):
        conn.execute("CREATE TABLE series_v5 AS SELECT * FROM series")
        conn.execute("DROP TABLE series")
        store.make_tables(conn)
        conn.execute("INSERT INTO series SELECT id, account, messaging_service, sender, country, '' "
                     "FROM series_v5")
        conn.execute("DROP TABLE series_v5")


# What brings a store of a version before up to each version; version 5's reads version 3's label sets too.
UPGRADES = {
    2: add_column("item", "labels", "ALTER TABLE item ADD COLUMN labels TEXT NOT NULL DEFAULT ''",
                  "INSERT INTO label_value SELECT DISTINCT 'error_code', label FROM counter "
                  "WHERE name = 'twilio_message_errors_total' ON CONFLICT DO NOTHING"),
    3: add_column("inbox", "finished", "ALTER TABLE inbox ADD COLUMN finished DOUBLE PRECISION"),
    5: upgrade_to_columns,
    6: add_status_times_and_channel,
}


def upgrade(store, conn):
    """Bring the store's schema up to SCHEMA_VERSION and record the version."""
    def recorded():
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0  # 0: a SQLite file from before versions were recorded
    if recorded() == SCHEMA_VERSION:
        return
    with store.transaction(conn):
        version = recorded()  # another worker's upgrade may have come first
        if version > SCHEMA_VERSION:
            raise store.errors[0](f"the store's schema is version {version}, of a later release than this "
                                  f"one's {SCHEMA_VERSION}")
        fresh = store.has_column(conn, "item", "changed")  # made by this release: nothing to bring up
        for step, run in UPGRADES.items():
            if version < step and not fresh:
                run(store, conn)
        conn.execute(WAITING_INDEX)  # on a column of version 6's, so not in SCHEMA, which an older store runs
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))


def wait_for_lock(run, statement):
    """Run a SQLite statement that needs a lock, retrying while another worker holds it.

    SQLite's own busy handler sleeps a millisecond and more between tries, which under several
    workers costs more than the transactions themselves; switching to WAL ignores it altogether.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            return run(statement)
        except sqlite3.OperationalError as error:
            # The message, not error.sqlite_errorcode: that attribute arrived in Python 3.11.
            if str(error) != "database is locked" or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0, 0.0002))


def bump(conn, bumps):
    """Add to counter rows: {(name, label, series): amount}."""
    conn.executemany("INSERT INTO counter (name, label, series, value) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (name, label, series) DO UPDATE SET value = counter.value + excluded.value",
                     [(*key, amount) for key, amount in bumps.items() if amount])


class LabelValues:
    """The values each label has had, read on first use; past its limit a new value is "other"."""

    def __init__(self, conn):
        self.conn, self.known = conn, None

    def admit(self, name, value, limit):
        """The value to count under: itself if known or under the limit, else "other" (logged once)."""
        if self.known is None:
            self.known = defaultdict(set)
            for known_name, known_value in self.conn.execute("SELECT name, value FROM label_value"):
                self.known[known_name].add(known_value)
        values = self.known[name]
        if value in values:
            return value
        if len(values) - ("other" in values) >= limit:
            if "other" in values:
                return "other"
            value = "other"
            log.warning("label %s has reached its limit of %d values: new ones are counted as %s=\"other\"",
                        name, limit, name)
        values.add(value)
        self.conn.execute("INSERT INTO label_value VALUES (?, ?)", (name, value))
        return value


def series_number(store, conn, labels, label_values, numbered):
    """The number in series of a callback's label set (0 for none), each value past its label's limit "other".

    A number, once committed, never changes, so the store keeps those it has read, and the number of
    each label set whose values were all counted as they are: the same few recur in every fold. Not of
    one holding a value counted as "other": such values are as many as a sender likes, and the
    store's memory is bounded. One this transaction gives out is kept in `numbered` only: a
    rollback would take it back.
    """
    if labels in store.label_sets:
        return store.label_sets[labels]
    counted = tuple(value and label_values.admit(name, value, LABEL_LIMIT)
                    for name, value in zip(LABEL_NAMES, labels))
    number = store.series.get(counted) or numbered.get(counted)
    if number is None:
        row = conn.execute(f"SELECT id FROM series WHERE {SERIES_MATCH}", counted).fetchone()
        if row:
            number = store.series[counted] = row[0]
        else:
            number = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM series").fetchone()[0]
            numbered[counted] = number
            conn.execute(SERIES_INSERT, (number, *counted))
    if counted == labels and counted in store.series:
        store.label_sets[labels] = number
    return number


def apply_callbacks(store, conn, callbacks):
    """Record Callbacks and move their counts, inside the caller's transaction, in order of their time.

    A retry of a (SID, status) already recorded only counts as a duplicate, and a fact counts once per
    item. A message or call keeps the breakdown labels of its first callback with a status, so a later
    one without them moves the same series.
    """
    items = recorded_items(conn, callbacks)
    bumps, changed, label_values, numbered = defaultdict(float), {}, LabelValues(conn), {}
    for now, kind, sid, status, error_code, seconds, labels, facts in callbacks:
        bit = 1 << kind.statuses.index(status) if status else 0
        item = items.get((kind.name, sid))
        if item is None or not item[0] and status:  # new, or so far known by its facts alone
            series = series_number(store, conn, labels, label_values, numbered)
            item = [*item[:3], series, *item[4:]] if item else ["", 0, now, series, now, 0]
            items[kind.name, sid] = item
        fresh = 0 if facts is NO_FACTS else fact_bits(facts) & ~item[1]
        if item[1] & bit or not (bit or fresh):
            bumps["twilio_webhook_duplicates_total", kind.name, 0] += 1
            if not fresh:
                continue  # nothing new: the item stays as it is
        elif bit:
            move_status(bumps, kind, item, status, now, error_code, label_values)
            if status == kind.timed_status:
                time_it(bumps, kind, seconds if kind.timing_field else max(0.0, now - item[2]))
        if fresh:
            count_facts(bumps, fresh, facts, item[3], label_values)
        item[1] |= bit | fresh
        changed[kind.name, sid] = item
    conn.executemany("INSERT INTO item (kind, sid, status, seen, first_seen, series, changed, stuck) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, sid) DO UPDATE SET "
                     "status = excluded.status, seen = excluded.seen, series = excluded.series, "
                     "changed = excluded.changed, stuck = excluded.stuck",
                     [(kind, sid, *item) for (kind, sid), item in changed.items()])
    bump(conn, bumps)


@lru_cache(maxsize=4096)
def fact_bits(facts):
    """The item.seen bits of the facts a callback carries."""
    return sum(bit for bit, value in zip(FACT_BITS, facts) if value)


def count_facts(bumps, fresh, facts, series, label_values):
    """Count the facts of a callback whose bits are in `fresh`: those its item has not carried before."""
    for fact, fact_bit, value in zip(FACTS.values(), FACT_BITS, facts):
        if fresh & fact_bit:
            label = fact.label and (value if fact.vocabulary else
                                    label_values.admit(fact.label, value, MAX_SIP_CODES))
            bumps[fact.metric, label, series] += 1 if fact.label else int(value)


def move_status(bumps, kind, item, status, now, error_code, label_values):
    """Count a status new to its item; move its gauge (and out of stuck) if it ranks above the latest."""
    gauge, series = f"twilio_{kind.name}_status_gauge", item[3]
    if kind.ranks[status] > kind.ranks[item[0]]:
        if item[0]:
            bumps[gauge, item[0], series] -= 1
        if item[5]:
            bumps[f"twilio_{kind.name}_stuck", item[0], series] -= 1
        bumps[gauge, status, series] += 1
        item[0], item[4], item[5] = status, now, 0
    bumps[f"twilio_{kind.name}_callback_total", status, series] += 1
    if status in kind.error_statuses:
        error_code = label_values.admit("error_code", error_code, MAX_ERROR_CODES)
        bumps["twilio_message_errors_total", error_code, series] += 1


def recorded_items(conn, callbacks):
    """{(kind name, SID): [latest status, bits seen, first seen, series, changed, stuck]} of those known."""
    items = {}
    # a Kind's own hash is slow
    for kind in {callback[1].name: callback[1] for callback in callbacks}.values():
        sids = sorted({callback[2] for callback in callbacks if callback[1] is kind})
        for sid, *item in select_in(conn, "SELECT sid, status, seen, first_seen, series, changed, stuck "
                                          "FROM item WHERE kind = ? AND sid IN ({})", sids, kind.name):
            items[kind.name, sid] = item
    return items


def time_it(bumps, kind, seconds):
    """Add a timed status's seconds (if any) to its kind's histogram; buckets are stored non-cumulative."""
    if seconds != "":
        le = next((str(float(bound)) for bound in kind.buckets if float(seconds) <= bound), "+Inf")
        bumps[f"{kind.histogram}_bucket", le, 0] += 1
        bumps[f"{kind.histogram}_sum", "", 0] += float(seconds)


def select_in(conn, query, values, *parameters):
    """The rows of a query whose last condition is `IN ({})`, over any number of values."""
    values = list(values)
    for start in range(0, len(values), 500):  # well under SQLite's limit on parameters
        chunk = values[start:start + 500]
        yield from conn.execute(query.format(",".join("?" * len(chunk))), (*parameters, *chunk))


# --- the inbox ---
# A webhook appends its callbacks to its worker's inbox file and answers 200. Every
# FOLD_INTERVAL_SECONDS one worker's upkeep thread (they take turns, see fold_for_upkeep) moves
# what all its host's inbox files hold into the store, and a scrape moves what is left first.
# The written line survives a crash of the worker; moving it commits the counts, the
# de-duplication record and how far the file has been read in one transaction, so it is
# counted exactly once.

# An inbox line is a format version, the Callback's fields and a CRC32 of all before it, tab-separated.
# The lines of earlier releases are still read, so that an upgrade or a HUP reload counts what the
# release before left in the inboxes: version 1 (release 0.1) had no version field and no labels,
# version 2 no labels, version 3 four labels (no channel) and no facts.
LINE_VERSION = "4"
# How many label values and facts a line of each version holds, after its 7 other fields (version
# 1's counted with one put in).
LABELS_AND_FACTS = {"1": (0, 0), "2": (0, 0), "3": (4, 0), LINE_VERSION: (len(LABEL_NAMES), len(FACTS))}


def inbox_line(callback):
    """One callback as an inbox line."""
    when, kind, *rest, labels, facts = callback
    record = "\t".join((LINE_VERSION, repr(when), kind.name, *rest, *labels, *facts)).encode()
    # Led by a newline: a line a full disk cut short can never run into the next one.
    return b"\n%s\t%08x\n" % (record, zlib.crc32(record))


def parse_inbox_line(line):
    """The Callback an inbox line holds, or the reason it cannot be counted, as (callback, reason)."""
    record, _, checksum = line.rpartition(b"\t")
    if checksum != b"%08x" % zlib.crc32(record):
        return None, "damaged (its checksum does not match)"
    try:
        fields = record.decode().split("\t")
        if len(fields) == 6:  # version 1
            fields.insert(0, "1")
        labels, facts = LABELS_AND_FACTS.get(fields[0], (None, None))
        if labels is None or 7 + labels + facts != len(fields):
            return None, (f"of a format this release does not read (version {fields[0][:8]!r}, "
                          f"{len(fields)} fields)")
        _, when, kind, *rest = fields
        # the labels and the facts as one field each; any an earlier version lacks are ""
        rest = (*rest[:4], (*rest[4:4 + labels], *NO_LABELS[labels:]) if labels else NO_LABELS,
                tuple(rest[4 + labels:]) or NO_FACTS)
        callback = new_callback(float(when), KINDS[kind], *rest)
    except (ValueError, KeyError) as error:  # UnicodeDecodeError is a ValueError
        return None, f"not countable ({type(error).__name__}: {str(error)[:80]})"
    if callback[2:] != rest:  # a value the write side would never have let through
        return None, "not countable (a value out of its known shape)"
    return callback, None


class Unavailable(Exception):
    """The inbox cannot take a callback durably now: a webhook answers 503, and Twilio retries."""


class Inbox:
    """This worker's inbox file, and what it knows of its host's: their read positions and backlog."""

    def __init__(self, prefix):
        self.prefix, self.folder = prefix, os.path.dirname(prefix)
        self.file, self.path, self.size, self.lock = None, None, 0, threading.Lock()
        self.offsets = {}     # {name: read position} of this host's files, as the store last gave them
        self.backlog = 0      # the bytes past them, as the upkeep thread last measured, for INBOX_LIMIT
        self.refused = set()  # files too old for the store to know whether it counted them

    def write(self, lines):
        """Append lines to this worker's inbox file; once written, no crash of the worker can lose them.

        The store need not be up: the inbox keeps what it has not taken in, up to INBOX_LIMIT.
        """
        try:
            if self.file is None or self.size >= INBOX_ROTATE_BYTES:
                self.start_file()
            if self.backlog > INBOX_LIMIT:
                raise Unavailable(f"the inbox holds {self.backlog} bytes the store has not taken in, over "
                                  f"TWILIO_EXPORTER_INBOX_LIMIT={INBOX_LIMIT}")
            written = self.file.write(lines)  # one write(2), O_APPEND: the lines of threads never mix
            if written != len(lines):
                raise OSError(f"disk full: {written} of {len(lines)} bytes written")
        except OSError as error:
            raise Unavailable(f"inbox {self.path or self.prefix}: {error}") from None
        self.size += written

    def start_file(self):
        """Start this worker's next inbox file; the one before is let go once its last writer is done."""
        with self.lock:
            if self.file is not None and self.size < INBOX_ROTATE_BYTES:
                return  # another thread started it meanwhile
            # Unique across every host of a store, which knows each file's read position by its name.
            path = f"{self.prefix}{HOST}.{os.getpid()}.{time.time_ns()}"
            file = open(f"{path}.new", "ab", buffering=0)
            # Held as long as the file is open, even across a crash: a fold knows a file is done
            # when it can take the lock. Taken before the file is named, so no fold sees it unlocked.
            fcntl.flock(file, fcntl.LOCK_EX)
            os.rename(f"{path}.new", path)
            self.file, self.path, self.size = file, path, 0

    def close(self):
        """Let this worker's inbox file go."""
        if self.file is not None:
            self.file.close()

    def files(self):
        """{name: size} of this host's inbox files, but those refused."""
        sizes = {}
        for path in glob.glob(glob.escape(self.prefix) + "*[0-9]"):
            name = os.path.basename(path)
            if name not in self.refused:
                with suppress(FileNotFoundError):  # removed by another worker's fold meanwhile
                    sizes[name] = os.stat(path).st_size
        return sizes

    def refresh(self, conn, files):
        """Read the store's positions of the files named; return the names of those it has finished."""
        offsets, finished = {}, set()
        query = 'SELECT name, "offset", finished FROM inbox WHERE name IN ({})'
        for name, offset, done in select_in(conn, query, sorted(files)):
            offsets[name] = offset
            if done is not None:
                finished.add(name)
        self.offsets = offsets  # whole, at once: another thread may be measuring the backlog from it
        return finished

    def refuse_the_forgotten(self, files):
        """Leave out files the store may have counted and forgotten: it remembers INBOX_MEMORY_SECONDS."""
        for name in sorted(files):
            if name not in self.offsets and file_time(name) < time.time() - INBOX_MEMORY_SECONDS:
                del files[name]
                with self.lock:  # a scrape's fold and the upkeep thread's may meet here: one logs
                    if name in self.refused:
                        continue
                    self.refused.add(name)
                log.error("inbox %s: not read, as it is older than the %d s the store remembers inbox "
                          "files for, and may have been counted already. Remove it if so; if its callbacks "
                          "were never counted, give it a name that ends in the time now "
                          "(mv %s %s%s.recovered.$(date +%%s%%N))",
                          name, INBOX_MEMORY_SECONDS, os.path.join(self.folder, name), self.prefix, HOST)

    def measure(self, age=True):
        """(bytes, seconds) of what this host's inbox files hold past the read positions the store last gave.

        The seconds (unless age is false) are the age of the oldest line among them: its own time
        where it is a form callback's, else the time its file was made, whichever is later (an
        event's time may be older than its arrival).
        """
        total, oldest = 0, time.time()
        for name, size in self.files().items():
            offset = self.offsets.get(name, 0)
            if size <= offset:
                continue
            total += size - offset
            if not age:
                continue
            born = file_time(name)
            with suppress(OSError), open(os.path.join(self.folder, name), "rb") as file:
                lines = iter_lines(os.pread(file.fileno(), 1024, offset), offset)
                line = next((line for _, line in lines), b"")
                callback, _ = parse_inbox_line(line)
                born = max(born, callback.time) if callback else born
            oldest = min(oldest, born)
        return total, time.time() - oldest if total else 0


def file_time(name):
    """When an inbox file was made, from the time.time_ns() it was named with (0 if none)."""
    stamp = name.rpartition(".")[2]
    return int(stamp) / 1e9 if stamp.isdigit() else 0


def fold_inbox(store, conn):
    """Move what this host's inbox files hold into the counts, about FOLD_BYTES at most; return bytes read.

    Every worker's fold reads every inbox file of its host. So a fold that waited the whole
    BUSY_TIMEOUT_SECONDS for the write lock while other workers' folds moved the inboxes on has not
    failed: they moved its worker's lines too, or will next.
    """
    inbox = store.inbox
    files = inbox.files()
    finished = inbox.refresh(conn, files)
    inbox.refuse_the_forgotten(files)
    for name in finished:
        if inbox.offsets[name] == files.get(name):  # moved in whole before: a copy brought back adds nothing
            with suppress(FileNotFoundError):
                os.unlink(os.path.join(inbox.folder, name))
    if all(inbox.offsets.get(name) == size for name, size in files.items()):
        return 0  # nothing new: no write lock needed
    positions = dict(inbox.offsets)
    try:
        return move_inboxes_in(store, conn)
    except store.errors as error:
        if not store.is_lock_timeout(error):
            raise
        inbox.refresh(conn, files)
        if inbox.offsets == positions:
            raise  # held by something that is not moving the inboxes in: a real failure
        log.debug("waited out the lock while other workers moved the inboxes in: %s", error)
        return 0


def move_inboxes_in(store, conn):
    """fold_inbox's one transaction; a file read to its end once its worker let it go is then removed.

    The store keeps its name for INBOX_MEMORY_SECONDS, so a copy of it brought back later adds nothing.
    """
    inbox, callbacks, read, finished = store.inbox, [], 0, []
    with store.transaction(conn):
        files = inbox.files()  # listed under the write lock: no other fold changes them meanwhile
        inbox.refresh(conn, files)
        for name in sorted(files):
            if read >= FOLD_BYTES:
                break
            offset = inbox.offsets.get(name, 0)
            data, let_go, size = read_inbox_file(inbox, name, offset, FOLD_BYTES - read)
            if data is None:  # read to its end, and removed since the listing
                continue
            read += len(data)
            end = whole_lines(name, data, offset, let_go and offset + len(data) == size)
            for at, line in iter_lines(data[:end], offset):
                callback, reason = parse_inbox_line(line)
                if callback is None:  # one bad line must never stop the others being counted
                    log.error("inbox %s: skipped a line at byte %d, %s: %.80r", name, at, reason, line)
                else:
                    callbacks.append(callback)
            conn.execute('INSERT INTO inbox (name, "offset") VALUES (?, ?) '
                         'ON CONFLICT (name) DO UPDATE SET "offset" = excluded."offset"',
                         (name, offset + end))
            if let_go and offset + end == size:
                finished.append(name)
        conn.executemany("UPDATE inbox SET finished = ? WHERE name = ?",
                         [(time.time(), name) for name in finished])
        apply_callbacks(store, conn, sorted(callbacks, key=lambda callback: callback[0]))
    inbox.refresh(conn, files)
    for name in finished:  # its row stays, marked finished, for INBOX_MEMORY_SECONDS
        with suppress(FileNotFoundError):  # another worker's fold may remove it first
            os.unlink(os.path.join(inbox.folder, name))
    return read


def read_inbox_file(inbox, name, offset, most):
    """(at most `most` bytes from offset, whether its worker let it go, its size); (None, …) if gone."""
    try:
        file = open(os.path.join(inbox.folder, name), "rb")
    except FileNotFoundError:
        return None, False, 0
    with file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            let_go = True  # its worker closed it or died: nothing more will come
        except BlockingIOError:
            let_go = False
        size = os.fstat(file.fileno()).st_size
        return os.pread(file.fileno(), max(0, min(most, size - offset)), offset), let_go, size


def whole_lines(name, data, offset, at_a_dead_end):
    """How many bytes of data end in a whole line; an unfinished one is skipped only if it can never end."""
    end = data.rfind(b"\n") + 1
    if at_a_dead_end and end < len(data):
        log.warning("inbox %s: skipped the %d-byte unfinished line a worker was writing as it died "
                    "(never answered 200, so Twilio retries it)", name, len(data) - end)
        return len(data)
    if not end and len(data) == FOLD_BYTES:
        log.error("inbox %s: skipped %d bytes at %d holding no line at all", name, len(data), offset)
        return len(data)
    return end


def iter_lines(data, offset):
    """(byte position, line) of each non-empty line of data read from offset."""
    at = offset
    for line in data.split(b"\n"):
        if line:
            yield at, line
        at += len(line) + 1


# --- upkeep ---

def prune(store, conn, now):
    """Forget one batch of what was first seen before the retention window, keeping gauges exact."""
    oldest = ("SELECT kind, sid, status, series, stuck FROM item WHERE first_seen < ? "
              "ORDER BY first_seen, kind, sid LIMIT ?")  # the same rows twice in one transaction
    window = (now - RETENTION_SECONDS, PRUNE_BATCH)
    with store.transaction(conn):
        expired = conn.execute(f"SELECT kind, status, series, count(*), sum(stuck) FROM ({oldest}) "
                               "AS expired GROUP BY kind, status, series", window).fetchall()
        bump(conn, {(f"twilio_{kind}_{name}", status, series): -count
                    for kind, status, series, total, stuck in expired if status  # "": known by facts alone
                    for name, count in (("status_gauge", total), ("stuck", stuck))})
        conn.execute(f"DELETE FROM item WHERE (kind, sid) IN (SELECT kind, sid FROM ({oldest}) AS expired)",
                     window)
        conn.execute("DELETE FROM inbox WHERE finished < ?", (now - INBOX_MEMORY_SECONDS,))
    if expired:
        store.vacuum(conn)
    return sum(count for *_, count, _ in expired)


def fold_for_upkeep(store, conn):
    """Fold, unless another worker of the host folds now or caught up within FOLD_INTERVAL_SECONDS.

    Return the seconds until the next try: none while a backlog lasts, longer while nothing comes.
    A fold moves every inbox file of its host, so one per interval for the host is enough, and more
    would only queue for the write lock and rewrite the same counter pages. A file beside the inboxes
    paces them: locked while a worker folds, written to when a fold has caught up (empty until then).
    """
    inbox = store.inbox
    try:
        pace = os.fdopen(os.open(f"{inbox.prefix}pace", os.O_RDWR | os.O_CREAT, 0o666), "r+b", buffering=0)
    except FileNotFoundError:  # no inbox folder, so nothing to move in; the webhooks' 503s name it
        return FOLD_IDLE_SECONDS
    with pace:
        try:
            fcntl.flock(pace, fcntl.LOCK_EX | fcntl.LOCK_NB)
            status = os.fstat(pace.fileno())
            since = time.time() - status.st_mtime if status.st_size else FOLD_INTERVAL_SECONDS
        except BlockingIOError:
            since = 0  # another worker folds now, and moves this worker's lines too
        if 0 <= since < FOLD_INTERVAL_SECONDS:
            inbox.refresh(conn, inbox.files())  # kept fresh for the webhooks' limit
            return FOLD_INTERVAL_SECONDS - since
        read = fold_inbox(store, conn)
        if read < FOLD_BYTES:
            os.pwrite(pace.fileno(), b"\n", 0)  # its time is when the host's folds last caught up
    return 0 if read >= FOLD_BYTES else FOLD_INTERVAL_SECONDS if read else FOLD_IDLE_SECONDS


def mark_stuck(store, conn):
    """Count in twilio_<kind>_stuck the items that have waited at a status past STUCK_SECONDS, each once.

    Return the seconds until the next look: none while whole batches cross. A look that finds none
    takes no write lock; a status change, or pruning, takes an item out again.
    """
    crossed = (f"SELECT kind, sid, status, series FROM item WHERE {WAITING} AND changed < ? "
               f"ORDER BY changed LIMIT {PRUNE_BATCH}", (time.time() - STUCK_SECONDS,))
    if not conn.execute(*crossed).fetchone():
        return STUCK_CHECK_SECONDS
    with store.transaction(conn):
        rows = conn.execute(*crossed).fetchall()  # again, under the write lock: another may have counted them
        conn.executemany("UPDATE item SET stuck = 1 WHERE kind = ? AND sid = ?", [row[:2] for row in rows])
        counts = defaultdict(int)
        for kind, _, status, series in rows:
            counts[f"twilio_{kind}_stuck", status, series] += 1
        bump(conn, counts)
    return 0 if len(rows) == PRUNE_BATCH else STUCK_CHECK_SECONDS


def prune_expired(store, conn):
    """Prune one batch and log it; return the seconds until the next, none while a backlog lasts."""
    pruned = prune(store, conn, time.time())
    if pruned:
        log.info("pruned %d messages and calls older than %d s", pruned, RETENTION_SECONDS)
    return 0 if pruned == PRUNE_BATCH else PRUNE_INTERVAL_SECONDS


def tidy(store, conn):
    """Let the store tidy up: SQLite empties its WAL, PostgreSQL refreshes stale statistics."""
    store.tidy(conn)
    return TIDY_INTERVAL_SECONDS


def upkeep_forever(store):
    """Fold the inboxes, prune, count the stuck, tidy and poll, each when it asks, until the store is closed.

    The thread has a connection of its own, so scrapes never wait behind its work. Each job says
    when it wants to run next; a failing one is retried at its interval, at least once a second.
    Each logs its failure once and its recovery, a bug with its traceback. While the store is down,
    callbacks wait in the inboxes and the backlog is measured all the same.
    """
    jobs = {fold_for_upkeep: ("moving the inboxes in", FOLD_INTERVAL_SECONDS),
            prune_expired: ("pruning", PRUNE_INTERVAL_SECONDS),
            mark_stuck: ("counting stuck items", STUCK_CHECK_SECONDS),
            tidy: ("tidying", TIDY_INTERVAL_SECONDS),
            poll_when_due: ("claiming account polls", 1)}
    due, failing, conn = dict.fromkeys(jobs, 0.0), {}, None  # failing: {job: when its failure began}
    while not store.closed:
        time.sleep(max(0.0, min(due.values()) - time.monotonic()))
        store.inbox.backlog = store.inbox.measure(age=False)[0]  # for the webhooks' limit; needs no store
        for run, (job, interval) in jobs.items():
            if time.monotonic() < due[run] or store.closed:
                continue
            try:
                conn = conn or store.open()
                wait = run(store, conn)
            except Exception as error:  # the thread must live on: nothing else folds in this worker
                wait = max(interval, FAILURE_RETRY_SECONDS)
                if run not in failing:  # once, not at every try
                    failing[run] = time.monotonic()
                    log_failure(store, job, wait, error, run is fold_for_upkeep)
                if isinstance(error, store.errors):
                    # the next try connects afresh: to a restarted server, or a file put back
                    store.forget(conn)
                    conn = None
            else:
                if run in failing:
                    log_recovery(store, job, time.monotonic() - failing.pop(run), run is fold_for_upkeep)
            due[run] = time.monotonic() + wait
    store.forget(conn)


def log_failure(store, job, wait, error, moving_in):
    """Log a job's failure (a bug with its traceback); while nothing moves in, what the inbox keeps."""
    meanwhile = f"; callbacks are kept in the inbox meanwhile ({store.inbox.backlog} bytes so far)"
    log.error("store %s: %s failed, retrying every %g s: %s%s", store.name, job, wait, error,
              meanwhile if moving_in else "", exc_info=not isinstance(error, (*store.errors, OSError)))


def log_recovery(store, job, down_seconds, moving_in):
    """Log that a job works again, how long it failed, and what waited in the inbox meanwhile."""
    waited = f"; {store.inbox.backlog} bytes had waited in the inbox, and move in now"
    log.warning("store %s: %s works again after %.0f s%s", store.name, job, down_seconds,
                waited if moving_in else "")


# --- signatures ---

class Reject(Exception):
    """A request refused with a 4xx status and a reason for the log and the client."""

    def __init__(self, code, reason, headers=()):
        super().__init__(reason)
        self.code, self.reason, self.headers = code, reason, list(headers)


def signed_url(environ):
    """Rebuild the URL Twilio called, which is what it signed."""
    if PUBLIC_URL:
        base = PUBLIC_URL
    else:
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        base = f"{environ['wsgi.url_scheme']}://{host}{environ.get('SCRIPT_NAME', '')}"
    query = environ.get("QUERY_STRING", "")
    return base + environ.get("PATH_INFO", "") + (f"?{query}" if query else "")


def signature_is_valid(environ, params):
    """Check X-Twilio-Signature against every configured token (rotation keeps two).

    params are a form's (name, value) pairs, or a JSON body as text: Twilio signs the URL alone for
    JSON, with the body's SHA-256 in the query as bodySHA256, and validate() checks both.
    """
    signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
    settings = environ.get("HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS")
    algorithm = get_signature_algorithm(settings) if settings else HMAC_SHA1
    url = signed_url(environ)
    if isinstance(params, str):
        if "bodySHA256" not in parse_qs(environ.get("QUERY_STRING", "")):
            return False  # nothing would bind the body to the signature
    # Twilio signs the URL it called, which signed_url rebuilds, so one HMAC per token settles a
    # genuine callback; only a mismatch pays for validate(), which also tries the URL with and
    # without its port.
    elif signed_with_a_token(url, params, signature, algorithm):
        return True
    else:
        params = MultiDict(params)
    try:
        return any(RequestValidator(token).validate(url, params, signature, algorithm)
                   for token in AUTH_TOKENS)
    except ValueError:  # a Host that makes no URL ("[", "a:b", a port past 65535): nothing was signed for it
        return False


def signed_with_a_token(url, pairs, signature, algorithm):
    """Twilio's scheme with the standard library: the URL, then each distinct name and value in order.

    It settles only what validate() would settle the same way; the comparison takes constant time
    over the signature, and the first token that matches ends the search.
    """
    digest = SIGNATURE_DIGESTS.get(algorithm.upper())
    if digest is None or not validate_reads(url):
        return False
    signed = (url + "".join(chain.from_iterable(sorted(set(pairs))))).encode()
    sent = signature.encode("utf-8", "surrogatepass")
    for token in AUTH_TOKENS:
        if hmac.compare_digest(base64.b64encode(hmac.digest(token.encode(), signed, digest)), sent):
            return True
    return False


SIGNATURE_DIGESTS = {HMAC_SHA1: "sha1", HMAC_SHA256: "sha256"}  # the hashlib name of each algorithm


@lru_cache(maxsize=256)  # bounded: a client chooses the Host and the query
def validate_reads(url):
    """Whether validate() reads this very URL: it parses it, then puts it together again."""
    try:
        parsed = urlparse(url)
        return parsed.port != "" and parsed.geturl() == url  # .port raises for a port that is no number
    except ValueError:
        return False


class MultiDict(dict):
    """A form's values by name, for RequestValidator.validate: every value of a repeated field."""

    def __init__(self, pairs):
        super().__init__()
        for name, value in pairs:
            self.setdefault(name, []).append(value)

    def getall(self, name):
        """Every value of a field."""
        return self[name]


def check_signature(environ, params):
    """Refuse a request that no configured token signed; without a token nothing is checked."""
    if AUTH_TOKENS and not signature_is_valid(environ, params):
        url = repr(signed_url(environ)[:200])
        raise Reject(403, f"X-Twilio-Signature and bodySHA256 do not match {url} and the body with any "
                          "configured token" if isinstance(params, str) else
                          f"X-Twilio-Signature does not match {url} with any configured token")


# --- account polling ---

def fetch_balance(account):
    """The account balance, from Balance.json."""
    balance = account.balance.fetch()
    return {"balance": float(balance.balance), "currency": balance.currency}


def fetch_usage(account):
    """Today's usage records of the configured categories, from Usage/Records/Today.json."""
    return [{"category": record.category, "count": float(record.count or 0),
             "count_unit": record.count_unit or "", "usage": float(record.usage or 0),
             "usage_unit": record.usage_unit or "",
             "price": float(record.price or 0), "currency": (record.price_unit or "").upper()}
            for record in account.usage.records.today.list()
            if USAGE_CATEGORIES == ("all",) or record.category in USAGE_CATEGORIES]


POLLS = {"balance": fetch_balance, "usage": fetch_usage}


def due_polls(conn, now):
    """The operations whose interval has passed; one never polled is due."""
    next_due = dict(conn.execute("SELECT operation, due FROM poll"))
    return [operation for operation in POLLS if next_due.get(operation, 0) <= now]


def claim_polls(store, conn, now):
    """Take the operations due this interval; across all workers, only one takes each."""
    with store.transaction(conn):
        due = due_polls(conn, now)
        conn.executemany("INSERT INTO poll (operation, due) VALUES (?, ?) "
                         "ON CONFLICT (operation) DO UPDATE SET due = excluded.due",
                         [(operation, now + POLL_INTERVAL_SECONDS) for operation in due])
    return due


def rest_account():
    """The account in twilio's REST client, with the configured credentials, base URL and timeout."""
    from twilio.http.http_client import TwilioHttpClient  # imported only when used: the REST client is large
    from twilio.rest import Client

    client = Client(API_KEY or ACCOUNT_SID, API_SECRET or AUTH_TOKENS[0], ACCOUNT_SID,
                    http_client=TwilioHttpClient(timeout=API_TIMEOUT_SECONDS))
    client.api.base_url = API_URL
    return client.api.v2010.accounts(ACCOUNT_SID)


def poll_account(store, operations):
    """Call the REST API for each operation and keep the answer, or count the failure."""
    for operation in operations:
        try:
            payload = json.dumps(POLLS[operation](rest_account()))
        except Exception as error:  # a background thread: anything uncaught would vanish unlogged
            status, reason = api_error_reason(error)
            hint = (" Check TWILIO_API_KEY and TWILIO_API_SECRET, or TWILIO_AUTH_TOKEN, for "
                    f"{ACCOUNT_SID}." if status in (401, 403) else "")
            log.error("Twilio API %s failed: %s.%s Next try in %d s.", operation, reason, hint,
                      POLL_INTERVAL_SECONDS)
            payload = None
        try:
            with store.connection() as conn, store.transaction(conn):
                if payload is None:
                    conn.execute("UPDATE poll SET errors = errors + 1 WHERE operation = ?", (operation,))
                else:
                    conn.execute("UPDATE poll SET payload = ?, last_success = ? WHERE operation = ?",
                                 (payload, time.time(), operation))
        except store.errors as error:
            log.error("store %s: keeping the answer of Twilio API %s failed: %s", store.name, operation,
                      error)


def api_error_reason(error):
    """The HTTP status (None if Twilio never answered) and a one-line reason with its code and message."""
    if isinstance(error, TwilioRestException):
        status, code, message = error.status, error.code, error.msg
    else:
        response = error.args[1] if len(error.args) > 1 and hasattr(error.args[1], "status_code") else None
        if response is None:  # no answer at all: a timeout, a refused connection, a name not found
            return None, f"{type(error).__name__}: {error}"
        try:
            body = json.loads(response.text)
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        status, code, message = response.status_code, body.get("code"), body.get("message")
    return status, (f"HTTP {status}" + (f", Twilio error {code}" if code else "")
                    + (f": {message}" if message else ""))


def poll_when_due(store, conn):
    """The upkeep's job: start, in the background, the polls whose interval has passed.

    Claimed in the store, so each is polled once per interval across every worker of every host.
    """
    if not ACCOUNT_SID:
        return POLL_INTERVAL_SECONDS
    now = time.time()
    # Read first: the usual check finds nothing due and need not wait for the write lock.
    due = due_polls(conn, now) and claim_polls(store, conn, now)
    if due:
        threading.Thread(target=poll_account, args=(store, due), name="twilio-api-poll", daemon=True).start()
    return 1


def account_metrics(conn):
    """The account metrics from the last polled answers."""
    families = {
        "balance": GaugeMetricFamily("twilio_account_balance", "Account balance, as last polled.",
                                     labels=["currency"]),
        "count": GaugeMetricFamily("twilio_usage_count", "Today's usage count by category, as last polled.",
                                   labels=["category", "count_unit"]),
        "usage": GaugeMetricFamily("twilio_usage_amount", "Today's usage amount by category, as last polled.",
                                   labels=["category", "usage_unit"]),
        "price": GaugeMetricFamily("twilio_usage_price", "Today's spend by category, as last polled.",
                                   labels=["category", "currency"]),
        "errors": CounterMetricFamily("twilio_api_errors_total", "Failed REST API polls.",
                                      labels=["operation"]),
        "success": GaugeMetricFamily("twilio_api_last_success_timestamp_seconds",
                                     "When a REST API poll last succeeded (Unix time).",
                                     labels=["operation"]),
    }
    polled = {operation: (errors, last_success, json.loads(payload) if payload else None)
              for operation, errors, last_success, payload in conn.execute(
                  "SELECT operation, errors, last_success, payload FROM poll")}
    for operation in POLLS:
        errors, last_success, payload = polled.get(operation, (0, None, None))
        families["errors"].add_metric([operation], errors)
        if last_success:
            families["success"].add_metric([operation], last_success)
    balance = polled.get("balance", (0, None, None))[2]
    if balance:
        families["balance"].add_metric([balance["currency"]], balance["balance"])
    for record in polled.get("usage", (0, None, None))[2] or []:
        families["count"].add_metric([record["category"], record["count_unit"]], record["count"])
        families["usage"].add_metric([record["category"], record["usage_unit"]], record["usage"])
        families["price"].add_metric([record["category"], record["currency"]], record["price"])
    return families.values()


# --- metrics ---

ANSWER_CODES = ("200", "400", "403", "405", "413", "415", "500", "503")
WEBHOOK_REQUESTS = Counter("twilio_webhook_requests_total", "Webhook requests, by the HTTP status answered.",
                           ["endpoint", "code"], registry=None)
WEBHOOK_SECONDS = Histogram("twilio_webhook_request_duration_seconds", "Time to handle one webhook request.",
                            ["endpoint"], registry=None,
                            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
# Every child made once, up front: all show from the first scrape, and a request skips labels().
EVENTS = Counter("twilio_events_total", "Event Streams events received, by type (known types, else other).",
                 ["type"], registry=None)
REQUESTS_BY_CODE = {(name, code): WEBHOOK_REQUESTS.labels(name, code) for name in WEBHOOKS.values()
                    for code in ANSWER_CODES}
SECONDS_BY_ENDPOINT = {name: WEBHOOK_SECONDS.labels(name) for name in WEBHOOKS.values()}
EVENTS_BY_TYPE = {label: EVENTS.labels(label) for label in (*EVENT_TYPES, TEST_EVENT_TYPE, "other")}


class StateCollector:
    """Exports the counts kept in the store (a scrape reads one small table), and this host's inbox backlog.

    While the store is down, a scrape still answers: with store_up 0 and the backlog, and without
    the series that live in the store.
    """

    def describe(self):
        """Nothing to describe ahead of a scrape (the registry is built for that)."""
        return []

    def collect(self):
        """Yield the callback metrics, every known label value present from the start."""
        current = store()
        read, _ = read_store(current, read_counts)
        backlog, age = current.inbox.measure()
        yield GaugeMetricFamily("twilio_exporter_store_up", "1 if this scrape read the store, else 0 "
                                "(its series are then left out).", value=int(read is not None))
        yield GaugeMetricFamily("twilio_exporter_inbox_backlog_bytes", "Bytes of this host's inbox files "
                                "not yet moved into the store.", value=backlog)
        yield GaugeMetricFamily("twilio_exporter_inbox_backlog_seconds", "Age of the oldest line of this "
                                "host's inbox files not yet moved into the store; 0 when there is none.",
                                value=age)
        if read is not None:
            rows, series, account = read
            yield from account
            yield from callback_families(rows, series)


def read_counts(conn):
    """A scrape's reading: {(name, label, series): value}, {series: label values}, the account metrics."""
    return ({(name, label, series): value for name, label, series, value in
             wait_for_lock(conn.execute, "SELECT name, label, series, value FROM counter")},
            # Read after the counters: a label set they name was committed before them.
            {number: tuple(values) for number, *values in
             wait_for_lock(conn.execute, f"SELECT id, {', '.join(LABEL_NAMES)} FROM series")},
            list(account_metrics(conn)) if ACCOUNT_SID else [])


def callback_families(rows, series):
    """Each kind's callbacks, status gauge and histogram, then the error codes and the duplicates."""
    duplicates = CounterMetricFamily("twilio_webhook_duplicates_total",
                                     "Callbacks recognised as retries of one already recorded.",
                                     labels=["endpoint"])
    for kind in KINDS.values():
        yield from kind_families(kind, rows, series)
        duplicates.add_metric([kind.name], rows.get(("twilio_webhook_duplicates_total", kind.name, 0), 0))
    names = [name for name in LABELS if name in KINDS["message"].label_names]
    errors = CounterMetricFamily("twilio_message_errors_total",
                                 "Failed and undelivered message callbacks by Twilio ErrorCode.",
                                 labels=["error_code", *names])
    for (_, *label_values), value in sorted(labelled(rows, series, (errors.name + "_total",), names).items()):
        errors.add_metric(label_values, value)
    yield from (errors, duplicates)


def kind_families(kind, rows, series):
    """One kind's callbacks and status gauge, every status of every label set seen, and its histogram."""
    names = [name for name in LABELS if name in kind.label_names]
    callbacks = CounterMetricFamily(f"twilio_{kind.name}_callback_total",
                                    f"Distinct ({kind.name} SID, status) callbacks received.",
                                    labels=["status", *names])
    gauge = GaugeMetricFamily(f"twilio_{kind.name}_status_gauge",
                              f"{kind.name.capitalize()}s whose latest status is `status`, among those first "
                              "seen within the retention window.", labels=["status", *names])
    stuck = GaugeMetricFamily(f"twilio_{kind.name}_stuck", f"{kind.name.capitalize()}s whose latest status, "
                              "one that should move on, has not changed for TWILIO_EXPORTER_STUCK_SECONDS.",
                              labels=["status", *names])
    total = callbacks.name + "_total"  # the family's name lacks it
    facts = [fact for _, fact, _ in KIND_FACTS[kind.name]]
    counts = labelled(rows, series, (total, gauge.name, stuck.name, *(fact.metric for fact in facts)), names)
    # Every status of every label set seen, so that ratios work from a new sender's first callback.
    label_sets = sorted({key[2:] for key in counts if key[0] in (total, gauge.name)}) if names else [()]
    for label_set in label_sets:
        for status in kind.statuses:
            callbacks.add_metric([status, *label_set], counts.get((total, status, *label_set), 0))
            gauge.add_metric([status, *label_set], counts.get((gauge.name, status, *label_set), 0))
        for status in kind.waiting:
            stuck.add_metric([status, *label_set], counts.get((stuck.name, status, *label_set), 0))
    cumulative, buckets = 0, []
    for bound in [str(float(bound)) for bound in kind.buckets] + ["+Inf"]:
        cumulative += rows.get((f"{kind.histogram}_bucket", bound, 0), 0)
        buckets.append((bound, cumulative))
    sum_value = rows.get((f"{kind.histogram}_sum", "", 0), 0)
    yield from (callbacks, gauge, stuck, HistogramMetricFamily(kind.histogram, kind.histogram_help,
                                                               buckets=buckets, sum_value=sum_value))
    for fact in facts:
        yield fact_family(fact, counts, label_sets, names)


def fact_family(fact, counts, label_sets, names):
    """One fact's counter: its counts, and 0 for each value of a known vocabulary in every label set seen."""
    own = [fact.label] if fact.label else []  # a fact without a label of its own is counted under ""
    family = CounterMetricFamily(fact.metric[:-len("_total")], fact.help, labels=[*own, *names])
    counted = {key[1:]: value for key, value in counts.items() if key[0] == fact.metric}
    known = {(value, *label_set) for value in (fact.vocabulary if own else [""]) for label_set in label_sets}
    for key in sorted(counted.keys() | known):
        family.add_metric(list(key[1 - len(own):]), counted.get(key, 0))
    return family


def read_store(store, read):
    """(read(conn), None) on the store's connection once the inboxes are moved in; (None, the error) if not.

    The store down, or a bug moving the inboxes in, leaves a scrape or /health answering all the
    same. The upkeep thread logs a store that is down, once; a bug is logged here with its traceback.
    """
    try:
        with store.connection() as conn:
            fold_inbox(store, conn)
            return read(conn), None
    except Exception as error:
        if not isinstance(error, store.errors):
            log.exception("bug reading the store")
        return None, error


def labelled(rows, series, metric_names, names):
    """{(metric name, its own label's value, *values of `names`): value} of some metrics' counter rows.

    A label the row's label set lacks (counted before the label was chosen) is "unknown", and one no
    longer chosen is summed over.
    """
    positions = [LABEL_NAMES.index(name) for name in names]
    counts = defaultdict(float)
    for (metric_name, label, number), value in rows.items():
        if metric_name in metric_names:
            values = series.get(number, NO_LABELS)
            counts[(metric_name, label, *(values[at] or "unknown" for at in positions))] += value
    return counts


class MetricsFiles(MultiProcessCollector):
    """The multiprocess collector, passing over files too short to read.

    A worker killed while starting can leave an empty file, which would otherwise break
    every later scrape (prometheus/client_python#1199).
    """

    def collect(self):
        """Merge every readable per-process file."""
        files = [path for path in glob.glob(os.path.join(self._path, "*.db")) if os.path.getsize(path) >= 8]
        return self.merge(files, accumulate=True)


METRICS_REGISTRY = CollectorRegistry(support_collectors_without_names=True)
MetricsFiles(METRICS_REGISTRY)
METRICS_REGISTRY.register(StateCollector())
metrics_app = make_wsgi_app(METRICS_REGISTRY)


# --- WSGI ---

def answer(code, payload=None, headers=()):
    """An answer as (status, headers, body): a JSON payload, or an empty body (all Twilio needs)."""
    if payload is None:
        return STATUS_LINES[code], [("Content-Type", "text/plain"), ("Content-Length", "0"), *headers], b""
    body = (json.dumps(payload) + "\n").encode()
    return (STATUS_LINES[code],
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers], body)


STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}


def read_body(environ, media_type, limit):
    """Read a bounded body of one media type as text, or raise Reject; an oversized one is never read."""
    sent_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if sent_type != media_type:
        raise Reject(415, f"content type {sent_type[:64]!r} is not {media_type}")
    try:
        length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        length = 0
    if length > limit:
        raise Reject(413, f"body of {length} bytes is over the {limit}-byte limit")
    try:
        return (environ["wsgi.input"].read(length) if length else b"").decode("utf-8")
    except UnicodeDecodeError:
        raise Reject(400, "body is not valid UTF-8") from None


def read_form(environ):
    """Read a bounded form body and parse it into a dict of str, or raise Reject."""
    body = read_body(environ, FORM_TYPE, MAX_BODY_BYTES)
    try:
        fields = parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body),
                           errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except UnicodeDecodeError:  # a %-escape that is not UTF-8
        raise Reject(400, "body is not valid UTF-8") from None
    except ValueError as error:
        raise Reject(400, f"body is not a form: {str(error)[:80]}") from None
    form = dict(fields)
    if len(form) != len(fields):
        raise Reject(400, "body repeats a form field")
    return form


def first_field(form, names):
    """The value of the first of `names` present in the form, or ""."""
    for name in names:
        if form.get(name):
            return form[name]
    return ""


def form_callback(kind, form):
    """The Callback a form carries; Reject when its SID or status is missing."""
    try:
        return new_callback(time.time(), kind, first_field(form, kind.sid_fields),
                            first_field(form, kind.status_fields), form.get("ErrorCode", ""),
                            form.get(kind.timing_field, "") if kind.timing_field else "",
                            callback_labels(kind, *map(form.get, LABEL_FIELDS, EMPTY_FIELDS)),
                            tuple(map(form.get, FORM_FACT_FIELDS[kind.name], NO_FACTS)))
    except ValueError as error:
        raise Reject(400, f"{kind.sid_fields[0]} and {kind.status_fields[0]}: {error}") from None


def read_events(body):
    """Parse an Event Streams body (a JSON array of CloudEvents, or one) into a list, or raise Reject."""
    try:
        events = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than the parser goes
        raise Reject(400, f"body is not JSON: {str(error)[:80]}") from None
    events = [events] if isinstance(events, dict) else events
    if not isinstance(events, list):
        raise Reject(400, "body is not an array of events, nor one event")
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            event_id = event.get("id") if isinstance(event, dict) else None
            raise Reject(400, f"event {index} (id {text(event_id)[:40]!r}) has no type: "
                              "Twilio drops this batch")
    return events


def text(value):
    """A JSON scalar as the text a form would carry it in ("" for anything else)."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""


def event_time(raw, arrival):
    """An event's own time (ISO 8601) as Unix time; its arrival when it has none that can be true.

    One after the arrival, or from before the retention window (whose message would be pruned at
    once), cannot be: Twilio retries for 4 hours.
    """
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))  # Python before 3.11 does not read "Z"
        if when.tzinfo is None:  # a local time of unknown place
            return arrival
        return when.timestamp() if arrival - RETENTION_SECONDS < when.timestamp() <= arrival else arrival
    except (AttributeError, ValueError, OverflowError):  # not text, not a time, or one out of range
        return arrival


def event_callback(event, arrival):
    """The Callback a status event carries; ValueError when its SID or status is missing."""
    kind, type_status = EVENT_TYPES[event["type"]]
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    when = event_time(data.get("timestamp") or event.get("time"), arrival)
    if kind.name == "message":  # Messaging.MessageStatus (the status in upper case), InboundMessageV1
        account, service, sender, to = (text(data.get(name)) for name in
                                        ("accountSid", "messagingServiceSid", "from", "to"))
        facts = tuple(text(data.get(fact.event_field)).lower() if fact.event_field else ""
                      for fact in FACTS.values())
        if not type_status:  # received: by the number it came in on, and the texter's country
            sender, to = to, sender
            facts = tuple("1" if name == "inbound" else value for name, value in zip(FACTS, facts))
        return new_callback(when, kind, text(data.get("messageSid")), text(data.get("messageStatus")).lower()
                            if type_status else "", text(data.get("errorCode")), "",
                            callback_labels(kind, account, service, sender, to,
                                            "" if type_status else text(data.get("fromCountry"))), facts)
    # Voice.WebhookEvent: the classic callback's fields, when Twilio sends them, in request.parameters
    request = data.get("request") if isinstance(data.get("request"), dict) else {}
    parameters = request.get("parameters") if isinstance(request.get("parameters"), dict) else {}
    return new_callback(when, kind, text(data.get("sid")) or text(parameters.get("CallSid")),
                        text(parameters.get("CallStatus")) or type_status, "",
                        text(parameters.get("CallDuration")),
                        callback_labels(kind, *(text(parameters.get(name)) for name in LABEL_FIELDS)),
                        tuple(text(parameters.get(field)) for field in FORM_FACT_FIELDS[kind.name]))


def event_type_label(event_type):
    """The twilio_events_total label of an event type: a known type, or "other"."""
    return event_type if event_type in EVENTS_BY_TYPE else "other"


def receive(environ, endpoint):
    """One webhook request, from bytes in to lines written: 200 only once they are in the inbox."""
    if endpoint == "events":
        body = read_body(environ, JSON_TYPE, MAX_EVENTS_BODY_BYTES)
        check_signature(environ, body)
        lines, received = event_lines(read_events(body), time.time())
    else:
        form = read_form(environ)
        check_signature(environ, form.items())
        lines, received = inbox_line(form_callback(KINDS[endpoint], form)), {}
    if lines:
        store().write(lines)  # one append: a crash leaves a whole batch of events, or an unanswered part
    for label, count in received.items():
        EVENTS_BY_TYPE[label].inc(count)
    return answer(200)


def event_lines(events, arrival):
    """The inbox lines of a batch's status events, and how many events of each type it held.

    Twilio drops a batch answered with any 4xx but 429, so one bad event is skipped, never refused.
    """
    lines, received = [], defaultdict(int)
    for event in events:
        received[event_type_label(event["type"])] += 1
        if event["type"] in EVENT_TYPES:
            try:
                lines.append(inbox_line(event_callback(event, arrival)))
            except ValueError as error:
                log.warning("skipped event %.40r of type %s: %s", text(event.get("id")), event["type"], error)
        elif event["type"] == TEST_EVENT_TYPE:
            log.info("Event Streams test event %.40r received from sink %.40r", text(event.get("id")),
                     text(event.get("source")))
    return b"".join(lines), received


def health(full):
    """Whether this host takes callbacks durably (503 if not); in full, the store's state and the backlog."""
    current = store()
    try:
        current.write(b"\n")  # proves the inbox takes a line now (an empty line is passed over)
        failure = None
    except Unavailable as error:
        failure = str(error)
    counts, error = read_store(current, lambda conn: store_counts(current, conn))
    code, status = (200, "ok") if failure is None else (503, "unavailable")
    if not full:
        return answer(code, {"status": status})
    backlog, age = current.inbox.measure()
    return answer(code, {
        "status": status,
        "signatures": "checked" if AUTH_TOKENS else "NOT CHECKED: TWILIO_AUTH_TOKEN is not set",
        "store": {"name": current.name, "up": error is None,
                  **({"error": f"{type(error).__name__}: {error}"[:500]} if error else {})},
        "inbox": {"folder": current.inbox.folder, "backlog_bytes": backlog,
                  "backlog_seconds": round(age, 3), "limit_bytes": INBOX_LIMIT,
                  **({"failure": failure} if failure else {}),
                  **({"refused": sorted(current.inbox.refused)} if current.inbox.refused else {})},
        "retention_seconds": RETENTION_SECONDS,
        **(counts or {}),
    })


def store_counts(store, conn):
    """/health's proof that the store takes a write, and what it holds: the tracked items and label values."""
    with store.transaction(conn):
        conn.execute("INSERT INTO meta VALUES ('health_checked_at', ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (repr(time.time()),))
    tracked = dict(conn.execute("SELECT name, sum(value) FROM counter WHERE name LIKE '%_status_gauge' "
                                "GROUP BY name"))
    label_values = {name: (count, other) for name, count, other in conn.execute(
        "SELECT name, count(*) - sum(CASE value WHEN 'other' THEN 1 ELSE 0 END), "
        "sum(CASE value WHEN 'other' THEN 1 ELSE 0 END) FROM label_value GROUP BY name")}
    return {**{f"tracked_{kind}s": int(tracked.get(f"twilio_{kind}_status_gauge", 0)) for kind in KINDS},
            # Each breakdown label's distinct values so far, and whether later ones now count as "other".
            "labels": {name: {"values": label_values.get(name, (0, 0))[0], "limit": LABEL_LIMIT,
                              "over_limit": bool(label_values.get(name, (0, 0))[1])} for name in LABELS}}


def listener(environ):
    """The listener a request came in on: "public", "private", or "only" while there is just one."""
    if not METRICS_BIND:
        return "only"
    return "private" if environ.get("SERVER_PORT") == METRICS_PORT else "public"


def route(environ):
    """Route one request to its handler; return (status, headers, body)."""
    method, path, on = environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), listener(environ)
    if path in WEBHOOKS and on != "private":
        if method != "POST":
            raise Reject(405, f"{method} is not allowed; Twilio POSTs callbacks", [("Allow", "POST")])
        return receive(environ, WEBHOOKS[path])
    elif path == "/health":
        if method not in ("GET", "HEAD"):
            raise Reject(405, f"{method} is not allowed", [("Allow", "GET, HEAD")])
        return health(full=on != "public")
    elif path == "/metrics" and on != "public":
        captured = {}
        body = b"".join(metrics_app(environ, lambda *answered: captured.update(answered=answered)))
        return (*captured["answered"][:2], body)
    raise Reject(404, f"no such path {path[:64]!r} on this listener; see the README for the paths")


def app(environ, start_response):
    """The WSGI callable: one guard, one start_response, and the webhook request metrics."""
    started = time.perf_counter()
    try:
        status, headers, body = route(environ)
    except Reject as reject:
        log.warning("rejected %s %.64r from %s: %d %s", environ["REQUEST_METHOD"],
                    environ.get("PATH_INFO", ""), environ.get("REMOTE_ADDR", "?"), reject.code, reject.reason)
        status, headers, body = answer(reject.code, {"status": "rejected", "reason": reject.reason},
                                       reject.headers)
    except Unavailable as error:
        # Nothing is acknowledged unless it was written: a 503 makes Twilio retry.
        log.error("%s", error)
        reason = str(error) if listener(environ) != "public" else "see the exporter's log"
        status, headers, body = answer(503, {"status": "unavailable", "reason": reason})
    except Exception:  # KeyboardInterrupt and SystemExit are not Exceptions, so they still stop the worker
        log.exception("bug handling %s %.64r", environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        status, headers, body = answer(500, {"status": "error",
                                             "reason": "internal error, see the exporter's log"})
    endpoint = WEBHOOKS.get(environ.get("PATH_INFO", ""))
    if endpoint:
        (REQUESTS_BY_CODE.get((endpoint, status[:3])) or WEBHOOK_REQUESTS.labels(endpoint, status[:3])).inc()
        SECONDS_BY_ENDPOINT[endpoint].observe(time.perf_counter() - started)
    start_response(status, headers)
    return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]


def warn_about_the_settings():
    """Log the warnings that hold for the whole server."""
    if not AUTH_TOKENS:
        log.warning("TWILIO_AUTH_TOKEN is not set: webhooks are accepted WITHOUT signature checks")
    if PUBLIC_URL and not METRICS_BIND:
        log.warning("TWILIO_EXPORTER_PUBLIC_URL is set, so the webhooks face the internet, and /metrics and "
                    "/health are served beside them: set TWILIO_EXPORTER_METRICS_BIND to serve those on a "
                    "private address")


# gunicorn loads the module: under gunicorn.conf.py its master warns once, and its workers, forked from
# it, find its config module (gunicorn names it __config__) and stay quiet; run alone, each worker warns.
# `serve` warns for itself; the other commands speak only of what they do.
if "gunicorn.arbiter" in sys.modules and not hasattr(sys.modules.get("__config__"), "exporter"):
    warn_about_the_settings()


# --- command line ---

def rejected_signatures(metrics_url, kind):
    """How many callbacks the exporter at metrics_url rejected for their signature."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "twilio_webhook_requests_total"
               and sample.labels == {"endpoint": kind.name, "code": "403"})


def send_test(args):
    """Send a test message or call, print each status as the exporter records it, or say what is wrong."""
    kind = KINDS["call" if args.call else "message"]
    if not (ACCOUNT_SID and PUBLIC_URL):
        print("send-test needs TWILIO_ACCOUNT_SID (with TWILIO_API_KEY and TWILIO_API_SECRET, or "
              "TWILIO_AUTH_TOKEN) and TWILIO_EXPORTER_PUBLIC_URL, the URL Twilio calls back.",
              file=sys.stderr)
        return 2
    callback_url = f"{PUBLIC_URL}/webhooks/{kind.name}"
    try:
        rejected_before = rejected_signatures(args.metrics_url, kind)
    except (OSError, ValueError) as error:
        rejected_before = None
        print(f"(cannot read {args.metrics_url}: {error}; signature failures will not be diagnosed)")
    started = time.monotonic()
    try:
        sid = create_test(args, callback_url)
    except Exception as error:  # the command's one guard: say what Twilio answered, never a traceback
        status, reason = api_error_reason(error)
        print(f"Twilio refused the {kind.name}: {reason}" if status else
              f"Could not reach Twilio at {API_URL}: {reason}", file=sys.stderr)
        return 1
    print(f"sent {kind.name} {sid}; status callbacks go to {callback_url}")
    facts = ("answered_by",) if args.machine_detection else ()
    printed = watch_statuses(kind, sid, started, args.timeout, facts)
    if FINAL_STATUSES & printed and printed.issuperset(facts):
        return 0
    print(f"\nNo final status for {sid} within {args.timeout:g} s." if not FINAL_STATUSES & printed else
          f"\nNo answering-machine detection result for {sid} within {args.timeout:g} s.")
    explain_the_silence(args.metrics_url, kind, callback_url, rejected_before, printed)
    return 1


def create_test(args, callback_url):
    """Send the test message, or place the test call (asking for asynchronous AMD if told to); its SID."""
    if not args.call:
        sender = ({"from_": args.from_} if args.from_
                  else {"messaging_service_sid": args.messaging_service_sid})
        return rest_account().messages.create(to=args.to, body="twilio-exporter test message",
                                              status_callback=callback_url, **sender).sid
    # Its result comes to the call webhook too, without a status, as a team's own AMD callback would.
    amd = dict(machine_detection="Enable", async_amd="true", async_amd_status_callback=callback_url,
               async_amd_status_callback_method="POST") if args.machine_detection else {}
    return rest_account().calls.create(
        to=args.to, from_=args.from_, status_callback=callback_url, status_callback_method="POST",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        twiml="<Response><Say>This is a test call from twilio exporter. Goodbye.</Say></Response>", **amd).sid


def watch_statuses(kind, sid, started, timeout, facts=()):
    """Print each status and fact (of FACTS) of a SID as it is recorded, until a final status and those."""
    printed, current = set(), store()
    steps = [*((1 << bit, status) for bit, status in enumerate(kind.statuses)),
             *((FACT_BITS[list(FACTS).index(name)], name) for name in facts)]
    conn = current.open()  # a connection of its own: this command starts no upkeep, so it polls no account
    while time.monotonic() - started < timeout and not (FINAL_STATUSES & printed and printed >= set(facts)):
        fold_inbox(current, conn)  # as a scrape does: what the exporter answered 200 may still be in an inbox
        row = conn.execute("SELECT seen FROM item WHERE kind = ? AND sid = ?", (kind.name, sid)).fetchone()
        for bit, name in steps:
            if row and row[0] & bit and name not in printed:
                print(f"{time.monotonic() - started:6.1f}s {name}", flush=True)
                printed.add(name)
        time.sleep(0.2)
    conn.close()
    return printed


def explain_the_silence(metrics_url, kind, callback_url, rejected_before, printed):
    """Say why no final status came: signatures refused, callbacks still coming, or none at all."""
    try:
        rejected = None
        if rejected_before is not None:
            rejected = rejected_signatures(metrics_url, kind) - rejected_before
    except (OSError, ValueError):
        rejected = None
    if rejected:
        print(f"Callbacks reached the exporter but failed the SIGNATURE check ({rejected:g} answered 403).\n"
              "Twilio signs the exact URL it calls with the account's auth token, so one of these is wrong:\n"
              "  - the exporter's TWILIO_AUTH_TOKEN is not this account's current auth token;\n"
              "  - the URL Twilio calls is not the one the exporter checks: set the exporter's\n"
              "    TWILIO_EXPORTER_PUBLIC_URL to the public base URL, scheme and path prefix included.\n"
              f"The exporter expected the signed URL to be: {callback_url}")
    elif printed:
        print(f"Callbacks arrived ({', '.join(sorted(printed))}) but no final one yet: Twilio may still be "
              "delivering; try a longer --timeout.")
    else:
        print(f"No callback arrived. Twilio was told to call: {callback_url}\n"
              "Check:\n"
              "  - that URL is reachable from the internet over HTTPS (POST to it from outside with curl);\n"
              "  - ngrok or your proxy is running and forwards to the exporter;\n"
              "  - the exporter is running, and this command reads its state file "
              f"(TWILIO_EXPORTER_DB={store().name});\n"
              "  - Twilio's debugger (Console > Monitor > Logs > Errors) for 11200 errors on that URL.")


def serve(address):
    """Serve on one process with wsgiref, for development; production runs gunicorn."""
    from wsgiref.simple_server import make_server

    host, _, port = address.rpartition(":")
    warn_about_the_settings()
    log.info("serving on http://%s:%s (one process; use gunicorn in production)", host, port)
    make_server(host, int(port), app).serve_forever()


def main(argv=None):
    """The command line: `serve`, `send-test` and `--version`; the console script twilio-exporter runs it."""
    parser = argparse.ArgumentParser(prog="twilio-exporter", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve on one process (development)").add_argument(
        "address", nargs="?", default="127.0.0.1:8080", help="host:port (default 127.0.0.1:8080)")
    test = commands.add_parser("send-test", help="send a test message or call and watch its callbacks arrive")
    test.add_argument("--to", required=True, help="the number to send to, e.g. +15551234567")
    sender = test.add_mutually_exclusive_group(required=True)
    sender.add_argument("--from", dest="from_", help="your Twilio number")
    sender.add_argument("--messaging-service-sid", help="a Messaging Service (MG...) to send from")
    test.add_argument("--call", action="store_true",
                      help="place a call instead of sending an SMS (needs --from)")
    test.add_argument("--machine-detection", action="store_true",
                      help="with --call: ask for answering-machine detection, and wait for its result too")
    test.add_argument("--timeout", type=float, default=120, help="seconds to wait for a final status (120)")
    test.add_argument("--metrics-url", default="http://127.0.0.1:8080/metrics",
                      help="the exporter's /metrics, to spot signature failures")
    args = parser.parse_args(argv)
    if args.command == "send-test" and args.call and not args.from_:
        parser.error("--call needs --from")
    if args.command == "send-test" and args.machine_detection and not args.call:
        parser.error("--machine-detection needs --call")
    return send_test(args) if args.command == "send-test" else serve(args.address)


if __name__ == "__main__":
    sys.exit(main())
