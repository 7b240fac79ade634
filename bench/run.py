"""make bench: the exporter beside a bare WSGI ceiling under identical gunicorn settings.

wrk replays pre-signed status callbacks (a realistic mix of sent, delivered, undelivered with
an ErrorCode, and Twilio's retries) at both apps in alternating rounds, then the exporter alone
is measured at a fixed offered load, with Event Streams batches, and with 1,000 and 1,000,000
tracked messages.
This is a benchmark, not a test: it prints numbers and asserts nothing.
"""
import argparse
import collections
import importlib.metadata
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="twilio_exporter-bench-"))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(WORK / "bench-metrics"))
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
sys.path.insert(0, str(ROOT))
import twilio_exporter as te  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

TOKEN = "bench-token"
with socket.socket() as _probe:  # a free loopback port, fixed for the run: the callbacks are signed for it
    _probe.bind(("127.0.0.1", 0))
    PORT = _probe.getsockname()[1]
ERROR_CODES = ("30003", "30005", "30006", "30007", "30008")
# Destinations in ten countries, a new number for each message, so the country lookup seldom hits its
# cache; each a valid number of its country (phonenumbers' is_valid_number), as Twilio's would be.
DESTINATIONS = ("+14157{:06d}", "+14167{:06d}", "+447400{:06d}", "+336{:08d}", "+49151{:08d}", "+614{:08d}",
                "+81901{:07d}", "+5255{:08d}", "+346{:08d}", "+919{:09d}")
ALL_LABELS = ",".join(te.LABEL_NAMES)
NO_COUNTRY = ",".join(name for name in te.LABEL_NAMES if name != "country")


def ensure_wrk():
    """Find wrk, installing Debian's package when root; otherwise say how."""
    if not shutil.which("wrk"):
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            sys.exit("make bench needs wrk: sudo apt-get install wrk")
        print("installing Debian's wrk package", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)


def callback_forms(messages, first, segments=True):
    """Each message's status callbacks as Twilio posts them, sent then delivered or undelivered: (number, form).

    Without segments, NumSegments, which the exporter counts once per message, comes under a name it
    does not read, of the same length: parsing and signing cost the same, and counting it is the difference.
    """
    for number in range(first, first + messages):
        message_sid = f"SM{number:032x}"
        final = {"MessageStatus": "undelivered", "ErrorCode": ERROR_CODES[number % 5]} if number % 7 == 0 \
            else {"MessageStatus": "delivered", "RawDlrDoneDate": "2611281200"}
        for fields in ({"MessageStatus": "sent"}, final):
            yield number, {"MessageSid": message_sid, "SmsSid": message_sid, "AccountSid": "AC" + "1" * 32,
                           "MessagingServiceSid": f"MG{number % 3:032x}", "From": f"+1555765{number % 100:04d}",
                           "To": DESTINATIONS[number % 10].format(number % 10 ** 6), "ApiVersion": "2010-04-01",
                           "SmsStatus": fields["MessageStatus"], **fields,
                           ("NumSegments" if segments else "IgnoredSegs"): str(1 + number % 3)}


def callbacks(messages, first, segments=True):
    """Signed raw HTTP requests: each message sent then delivered or undelivered, 10% retried."""
    validator = RequestValidator(TOKEN)
    url = f"http://127.0.0.1:{PORT}/webhooks/message"
    requests = []
    for number, params in callback_forms(messages, first, segments):
        body = urllib.parse.urlencode(params)
        request = (f"POST /webhooks/message HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n"
                   f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                   f"X-Twilio-Signature: {validator.compute_signature(url, params)}\r\n"
                   f"I-Twilio-Idempotency-Token: {params['MessageSid']}-{params['MessageStatus']}\r\n\r\n{body}")
        requests.append(request)
        if number % 10 == 3:
            requests.append(request)  # Twilio's retry of the same callback
    return requests


def event_batches(messages, first, size):
    """Signed raw HTTP requests of Event Streams batches: each message's sent and delivered events."""
    validator = RequestValidator(TOKEN)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    events = [{"specversion": "1.0", "type": f"com.twilio.messaging.message.{status}", "source": "bench",
               "id": f"EZ{number:030x}{index:02x}", "datacontenttype": "application/json", "time": stamp,
               "dataschema": "https://events-schemas.twilio.com/Messaging.MessageStatus/7",
               "data": {"messageSid": f"SM{number:032x}", "timestamp": stamp, "accountSid": "AC" + "1" * 32,
                        "eventName": f"com.twilio.messaging.message.{status}", "apiVersion": "2010-04-01",
                        "from": "+15557654321", "to": "+15551234567", "messageStatus": status.upper()}}
              for number in range(first, first + messages) for index, status in enumerate(("sent", "delivered"))]
    requests = []
    for start in range(0, len(events), size):
        body = json.dumps(events[start:start + size])
        target = f"/webhooks/events?bodySHA256={validator.compute_hash(body)}"
        signature = validator.compute_signature(f"http://127.0.0.1:{PORT}{target}", {})
        requests.append(f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body.encode())}\r\nX-Twilio-Signature: {signature}\r\n\r\n{body}")
    return requests


def batch_ms(requests):
    """Each raw request's time from send to answer, over one connection at a time, in ms; all must be 200."""
    times = []
    for request in requests:
        with socket.create_connection(("127.0.0.1", PORT), timeout=10) as client:
            started = time.perf_counter()
            client.sendall(request.encode())
            status = client.makefile("rb").readline()
            times.append((time.perf_counter() - started) * 1000)
        if b" 200 " not in status:
            raise SystemExit(f"a batch was answered {status!r}")
    return times


def lua_script(requests, path, delay_ms=0):
    """Write a wrk script that replays the requests, each wrk thread its own slice, in order."""
    def lua_string(text):
        """A Lua string literal; long brackets would turn CRLF into LF."""
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n") + '"'

    lines = ["local requests = {"] + [lua_string(request) + "," for request in requests] + ["}", f"""
local threads, next_id = {{}}, 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
function init(args)
  index = id + 1
  step = tonumber(args[1]) or 1
end
function request()
  local r = requests[index]
  index = index + step
  if index > #requests then index = (index - 1) % #requests + 1 end
  return r
end
{"function delay() return " + str(delay_ms) + " end" if delay_ms else ""}
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d errors=%d p50_us=%d p99_us=%d\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""]
    path.write_text("\n".join(lines))
    return path


class Gunicorn:
    """gunicorn with the production config, serving one app on PORT."""

    def __init__(self, app, workers, db, labels=""):
        inbox = WORK / f"inbox-{time.time_ns()}"  # a PostgreSQL store's inbox folder
        inbox.mkdir()
        env = {**os.environ, "TWILIO_EXPORTER_LABELS": labels, "TWILIO_AUTH_TOKEN": TOKEN,
               "TWILIO_EXPORTER_INBOX_DIR": str(inbox) if str(db).startswith("postgresql://") else "",
               "TWILIO_EXPORTER_BIND": f"127.0.0.1:{PORT}",
               "TWILIO_EXPORTER_WORKERS": str(workers), "TWILIO_EXPORTER_DB": str(db),
               "TWILIO_EXPORTER_LOG_LEVEL": "WARNING", "PROMETHEUS_MULTIPROC_DIR": str(WORK / "metrics"),
               "HOME": str(WORK), "PYTHONPATH": str(ROOT)}
        self.log = open(WORK / "gunicorn.log", "ab")
        self.process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c",
                                         str(ROOT / "gunicorn.conf.py"), app], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # the ceiling answers whatever it answers: it is up
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"gunicorn did not start; see {WORK / 'gunicorn.log'}")

    def workers(self):
        """Worker pids."""
        pid = self.process.pid
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def stop(self):
        """Stop and wait."""
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def wrk(script, seconds, connections, threads=2):
    """Run wrk once; return its RESULT fields."""
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                             f"http://127.0.0.1:{PORT}", "--", str(threads)],
                            capture_output=True, text=True, check=True).stdout
    fields = dict(re.findall(r"(\w+)=(\d+)", output.split("RESULT", 1)[1]))
    result = {key: int(val) for key, val in fields.items()}
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def largest_size_during(path, run, *args):
    """Call run(*args); return its result and the largest size of the file at `path` meanwhile."""
    def size():
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0
    return largest_during(size, 0.01, run, *args)


def backlog_seconds():
    """twilio_exporter_inbox_backlog_seconds of the exporter on PORT (a scrape, served by any worker)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10).read().decode()
    return float(re.search(r"^twilio_exporter_inbox_backlog_seconds (\S+)$", body, re.M).group(1))


def largest_during(measure, every, run, *args):
    """Call run(*args); return its result and the largest value of measure() taken every `every` s meanwhile."""
    largest, done = [0], threading.Event()

    def sample():
        """Measure until run returns."""
        while not done.wait(every):
            largest[0] = max(largest[0], measure())
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = run(*args)
    finally:
        done.set()
        sampler.join()
    return result, largest[0]


def throughput(args, main_lua, warm_lua, postgres, scripts):
    """Alternate ceiling and exporter rounds; return req/s lists, non-2xx counts, the largest WAL and PostgreSQL lag."""
    runs = {"ceiling": ("bench.ceiling:app", ""), "floor": ("bench.floor:app", ""),
            "exporter": ("twilio_exporter:app", ""),
            "labelled": ("twilio_exporter:app", ALL_LABELS),  # the exporter with all five labels
            "no country": ("twilio_exporter:app", NO_COUNTRY),  # and with the four that need no phonenumbers
            "no segments": ("twilio_exporter:app", ""),  # NumSegments under a name not read: what a fact costs
            "postgresql": ("twilio_exporter:app", "")}  # over PostgreSQL on this machine
    rates, bad = {name: [] for name in runs}, dict.fromkeys(runs, 0)
    wal_bytes, lag = 0, 0
    for round_number in range(args.rounds):
        # Reversed every other round: a machine slowing down or speeding up meanwhile favours none.
        for name, (app, labels) in list(runs.items())[::1 if round_number % 2 == 0 else -1]:
            db = postgres.database() if name == "postgresql" else WORK / f"throughput-{name}-{round_number}.sqlite3"
            server = Gunicorn(app, args.workers, db, labels)
            try:
                script = scripts.get(name, main_lua)
                wrk(warm_lua, 1, args.connections)
                if name == "postgresql":  # the backlog's age under full load, from a scrape every 0.5 s
                    result, largest = largest_during(backlog_seconds, 0.5, wrk, script, args.seconds,
                                                     args.connections)
                    lag = max(lag, largest)
                else:
                    result, largest = largest_size_during(Path(f"{db}-wal"), wrk, script, args.seconds,
                                                          args.connections)
                    wal_bytes = max(wal_bytes, largest)
            finally:
                server.stop()
            rates[name].append(result["rps"])
            bad[name] += result["non2xx"] + result["errors"]
            print(f"  round {round_number + 1} {name:10} {result['rps']:8.0f} req/s", flush=True)
    return rates, bad, wal_bytes, lag


class Postgres:
    """A PostgreSQL server of this machine's (Debian's postgresql package), as configured out of the box, in WORK."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            raise SystemExit("make bench needs PostgreSQL's programs: sudo apt-get install postgresql")
        self.bin, self.folder, self.count = bins[-1], WORK / "postgres", 0
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder.mkdir()
        self.owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root
        if self.owner:
            shutil.chown(WORK, "postgres")
            shutil.chown(self.folder, "postgres")
        self.run("initdb", "-D", self.folder / "data", "-U", "postgres", "--auth=trust")
        self.run("pg_ctl", "-D", self.folder / "data", "-l", self.folder / "log", "-w", "-o",
                 f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def run(self, program, *args):
        subprocess.run([*self.owner, self.bin / program, *map(str, args)], check=True, stdout=subprocess.DEVNULL,
                       cwd="/")  # the postgres user may not enter the current folder

    def database(self):
        """A new database's URL."""
        import psycopg
        self.count += 1
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE bench_{self.count}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/bench_{self.count}"

    def stop(self):
        self.run("pg_ctl", "-D", self.folder / "data", "-m", "fast", "-w", "stop")


def fold_rate(target, callbacks):
    """Callbacks a second one host's fold moves into a store from a backlog of inbox files (in this process)."""
    inbox = WORK / f"fold-{time.time_ns()}"
    inbox.mkdir()
    store = te.make_store(target, str(inbox))
    prefix, made = store.inbox.prefix, time.time_ns()
    statuses = ("sent", "delivered")
    lines = [te.inbox_line(te.new_callback(time.time(), te.KINDS["message"], f"SM{number // 2:032x}",
                                           statuses[number % 2])) for number in range(callbacks)]
    per_file = te.INBOX_ROTATE_BYTES // len(lines[0])
    for start in range(0, callbacks, per_file):  # as workers that have rotated or exited leave them
        Path(f"{prefix}bench.1.{made + start}").write_bytes(b"".join(lines[start:start + per_file]))
    conn = store.open()
    started = tidied = time.perf_counter()
    while te.fold_inbox(store, conn):
        if time.perf_counter() - tidied >= te.TIDY_INTERVAL_SECONDS:  # as the upkeep thread does
            store.tidy(conn)
            tidied = time.perf_counter()
    seconds = time.perf_counter() - started
    counted = conn.execute("SELECT sum(value) FROM counter WHERE name = 'twilio_message_callback_total'").fetchone()[0]
    conn.close()
    if counted != callbacks:
        raise SystemExit(f"the fold into {store.name} counted {counted} of {callbacks} callbacks")
    return callbacks / seconds


def label_sets(count):
    """Breakdown label sets (a value for each of LABEL_NAMES), each label at its cap of 100 values but channel."""
    return [(f"AC{n % 100:032x}", f"MG{n // 10 % 100:032x}", f"+1555765{n % 100:04d}",
             f"{chr(65 + n // 10 % 100 // 26)}{chr(65 + n // 10 % 26)}", ("sms", "whatsapp")[n % 2])
            for n in range(count)]


def populate(db, messages, labels=(te.NO_LABELS,)):
    """Fill a state file with tracked messages spread over label sets, as apply_callbacks would leave them."""
    store = te.make_store(str(db))
    conn = store.open()
    now = time.time()
    statuses = ("delivered",) * 17 + ("undelivered", "undelivered", "sent")
    with store.transaction(conn):
        label_values, numbered = te.LabelValues(conn), {}
        numbers = [te.series_number(store, conn, label_set, label_values, numbered) for label_set in labels]
        conn.executemany("INSERT INTO item (kind, sid, status, seen, first_seen, series, changed) "
                         "VALUES ('message', ?, ?, ?, ?, ?, ?)", (
                             (f"SM{n:032x}", statuses[n % 20], 0b1001, now - n * 0.05, numbers[n % len(numbers)],
                              now - n * 0.05) for n in range(messages)))
        bumps = collections.Counter((statuses[n % 20], numbers[n % len(numbers)]) for n in range(messages))
        te.bump(conn, {(name, status, number): count for (status, number), count in bumps.items()
                       for name in ("twilio_message_status_gauge", "twilio_message_callback_total")})
    conn.close()


def stuck_looks_us(db, looks):
    """Count the stuck items of a populated state file as the upkeep does; then µs per look that finds none."""
    store = te.make_store(str(db))
    conn = store.open()
    while not te.mark_stuck(store, conn):  # whole batches crossed: the upkeep would look again at once
        pass
    times = []
    for _ in range(looks):
        started = time.perf_counter()
        te.mark_stuck(store, conn)
        times.append((time.perf_counter() - started) * 1e6)
    stuck = conn.execute("SELECT sum(value) FROM counter WHERE name = 'twilio_message_stuck'").fetchone()[0]
    conn.close()
    return statistics.median(times), stuck or 0


def scrape_ms(samples):
    """Median time of a /metrics scrape over HTTP, in ms."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10).read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def rss_mb(server):
    """The largest worker RSS, in MB."""
    return max(int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))
               for pid in server.workers()) / 1024


def machine():
    """The date, the CPU, the Python and the package versions a table was measured with."""
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    packages = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in (
        "gunicorn", "prometheus-client", "twilio", "psycopg", "phonenumbers"))
    return (f"twilio-exporter {te.__version__}, {time.strftime('%Y-%m-%d')}: {cpu.group(1) if cpu else '?'} "
            f"x{os.cpu_count()}, Python {platform.python_version()}, {packages}")


def main():
    """Run every measurement and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run that only proves the bench works")
    parser.add_argument("--results", type=Path, help="the Markdown file to write the table to (not on --smoke)")
    args = parser.parse_args()
    smoke = args.smoke
    args.messages = 2_000 if smoke else 40_000
    args.rounds, args.seconds, args.workers, args.connections = (1, 1, 2, 8) if smoke else (9, 8, 4, 32)
    args.tracked = (1_000, 20_000) if smoke else (1_000, 1_000_000)
    ensure_wrk()

    print(f"generating {args.messages} signed message callbacks", flush=True)
    requests = callbacks(args.messages, 0)
    main_lua = lua_script(requests, WORK / "main.lua")
    warm_lua = lua_script(callbacks(500, 10 ** 9), WORK / "warm.lua")
    print(f"{len(requests)} requests ({len(set(requests))} distinct); throughput rounds:", flush=True)
    postgres = Postgres()
    try:
        scripts = {"no segments": lua_script(callbacks(args.messages, 0, segments=False), WORK / "no-segments.lua")}
        rates, bad, wal_bytes, lag = throughput(args, main_lua, warm_lua, postgres, scripts)
        backlog = 5_000 if smoke else 300_000
        print(f"moving a backlog of {backlog:,} callbacks in, into SQLite and into PostgreSQL", flush=True)
        folds = {"SQLite": fold_rate(str(WORK / "fold.sqlite3"), backlog), "PostgreSQL": fold_rate(postgres.database(),
                                                                                                backlog)}
    finally:
        postgres.stop()

    print("Event Streams: batches of 20 events, and single batches of 100", flush=True)
    server = Gunicorn("twilio_exporter:app", args.workers, WORK / "events.sqlite3")
    try:
        events_lua = lua_script(event_batches(args.messages // 2, 2 * 10 ** 9, 20), WORK / "events.lua")
        wrk(events_lua, 1, args.connections)
        events = wrk(events_lua, args.seconds, args.connections)
        hundreds = batch_ms(event_batches(50 * 50 if not smoke else 250, 3 * 10 ** 9, 100))
    finally:
        server.stop()

    print("latency at a fixed offered load of 1,000 req/s", flush=True)
    server = Gunicorn("twilio_exporter:app", args.workers, WORK / "latency.sqlite3")
    try:
        # Each connection waits `delay` after each answer, so 50 connections offer about 1,000 req/s.
        connections = 50
        fixed = wrk(lua_script(requests, WORK / "fixed.lua", delay_ms=connections * 1000 // 1000), 2 if smoke else 15,
                    connections)
    finally:
        server.stop()

    scrapes, rss, sizes, looks = {}, None, {}, {}
    for tracked in args.tracked:
        print(f"scrapes with {tracked:,} tracked messages, with and without all five labels at their cap", flush=True)
        db = WORK / f"tracked-labelled-{tracked}.sqlite3"
        populate(db, tracked, label_sets(1000))
        server = Gunicorn("twilio_exporter:app", args.workers, db, ALL_LABELS)
        try:
            scrape_ms(10)
            scrapes["labelled", tracked] = scrape_ms(20 if smoke else 100)
            body = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10).read().decode()
            series = sum(1 for line in body.splitlines() if line.startswith("twilio_message_"))
        finally:
            server.stop()
        db = WORK / f"tracked-{tracked}.sqlite3"
        populate(db, tracked)
        looks[tracked] = stuck_looks_us(db, 200)
        server = Gunicorn("twilio_exporter:app", args.workers, db)
        try:
            scrape_ms(10)
            scrapes[tracked] = scrape_ms(20 if smoke else 200)
            wrk(main_lua, 1 if smoke else 5, args.connections)  # callbacks on top of the tracked messages
            rss = rss_mb(server)
        finally:
            server.stop()
        sizes["before"] = db.stat().st_size
    store = te.make_store(str(db))
    conn = store.open()
    pruned, started, batches = 0, time.perf_counter(), []
    while True:  # a day later, all of them expired: prune batch by batch, as the workers would
        batch_started = time.perf_counter()
        count = te.prune(store, conn, time.time() + te.RETENTION_SECONDS)
        batches.append(time.perf_counter() - batch_started)
        pruned += count
        if count < te.PRUNE_BATCH:
            break
    prune_seconds = time.perf_counter() - started
    conn.close()
    sizes["after"] = db.stat().st_size

    ceiling, exporter = statistics.median(rates["ceiling"]), statistics.median(rates["exporter"])
    # Each round's runs were back to back, under the same load from the rest of the machine.
    ratios = [mine / theirs for mine, theirs in zip(rates["exporter"], rates["ceiling"])]
    floor_ratios = [mine / theirs for mine, theirs in zip(rates["floor"], rates["ceiling"])]
    to_floor = [mine / theirs for mine, theirs in zip(rates["exporter"], rates["floor"])]
    labelled_ratios = [mine / theirs for mine, theirs in zip(rates["labelled"], rates["ceiling"])]
    drops = [plain - labelled for plain, labelled in zip(ratios, labelled_ratios)]
    no_country_drops = [plain - mine / theirs for plain, mine, theirs in zip(ratios, rates["no country"], rates["ceiling"])]
    postgres_ratios = [mine / theirs for mine, theirs in zip(rates["postgresql"], rates["ceiling"])]
    segments_drops = [mine / theirs - plain
                      for plain, mine, theirs in zip(ratios, rates["no segments"], rates["ceiling"])]
    small, large = args.tracked
    rows = [
        ("throughput: ceiling (bare WSGI)", f"{ceiling:,.0f} req/s", f"non-2xx or errors: {bad['ceiling']}"),
        ("throughput: floor (the ceiling plus the least the contract adds)",
         f"{statistics.median(rates['floor']):,.0f} req/s", "floor/ceiling rounds: "
         + ", ".join(f"{ratio:.2f}" for ratio in floor_ratios) + f"; non-2xx or errors: {bad['floor']}"),
        ("throughput: exporter", f"{exporter:,.0f} req/s", f"non-2xx or errors: {bad['exporter']}"),
        ("throughput ratio exporter/ceiling", f"{statistics.median(ratios):.2f}",
         "median of the rounds' ratios: " + ", ".join(f"{ratio:.2f}" for ratio in ratios) + "; target >= 0.80"),
        ("throughput ratio exporter/floor", f"{statistics.median(to_floor):.2f}",
         "rounds: " + ", ".join(f"{ratio:.2f}" for ratio in to_floor)),
        ("throughput ratio, all five labels on", f"{statistics.median(labelled_ratios):.2f}",
         "rounds: " + ", ".join(f"{ratio:.2f}" for ratio in labelled_ratios)
         + f"; target >= 0.75; non-2xx or errors: {bad['labelled']}"),
        ("ratio lost to the labels", f"{statistics.median(drops):.2f}",
         "median of the rounds' differences: " + ", ".join(f"{drop:.2f}" for drop in drops) + "; target <= 0.05"),
        ("ratio lost to account, messaging_service, sender", f"{statistics.median(no_country_drops):.2f}",
         "rounds: " + ", ".join(f"{drop:.2f}" for drop in no_country_drops)
         + f"; non-2xx or errors: {bad['no country']}"),
        ("ratio lost to counting segments (NumSegments)", f"{statistics.median(segments_drops):.2f}",
         "rounds, against the same callbacks with the field under a name not read: "
         + ", ".join(f"{drop:.2f}" for drop in segments_drops)
         + f"; target <= 0.02; non-2xx or errors: {bad['no segments']}"),
        ("throughput ratio, PostgreSQL store on this machine", f"{statistics.median(postgres_ratios):.2f}",
         "rounds: " + ", ".join(f"{ratio:.2f}" for ratio in postgres_ratios)
         + f"; target >= 0.70; non-2xx or errors: {bad['postgresql']}"),
        ("inbox backlog age under full load, PostgreSQL", f"{lag:.2f} s",
         "the largest twilio_exporter_inbox_backlog_seconds of a scrape every 0.5 s in any round"),
        ("one host moving a backlog into PostgreSQL", f"{folds['PostgreSQL']:,.0f} callbacks/s",
         f"{backlog:,} callbacks, one connection, about 1 MiB a transaction; target >= 20,000/s"),
        ("one host moving a backlog into SQLite", f"{folds['SQLite']:,.0f} callbacks/s", "the same, for comparison"),
        ("Event Streams, batches of 20 events", f"{events['rps'] * 20:,.0f} events/s",
         f"{events['rps']:,.0f} req/s; non-2xx or errors: {events['non2xx'] + events['errors']}"),
        ("Event Streams, one batch of 100 events", f"{statistics.median(hundreds):.1f} ms",
         f"median of {len(hundreds)}, slowest {max(hundreds):.1f} ms; Twilio allows a sink 5 s"),
        ("latency p50 at 1,000 req/s offered", f"{fixed['p50_us'] / 1000:.2f} ms",
         f"achieved {fixed['rps']:,.0f} req/s"),
        ("latency p99 at 1,000 req/s offered", f"{fixed['p99_us'] / 1000:.2f} ms", "target <= 10 ms"),
        (f"/metrics scrape, {small:,} tracked messages", f"{scrapes[small]:.2f} ms", "median"),
        (f"/metrics scrape, {large:,} tracked messages", f"{scrapes[large]:.2f} ms",
         f"{scrapes[large] / scrapes[small]:.2f}x the small one; target <= 2x"),
        (f"/metrics scrape, {small:,} tracked, all five labels at their cap", f"{scrapes['labelled', small]:.2f} ms",
         f"median; 1,000 label sets, {series:,} twilio_message_* samples"),
        (f"/metrics scrape, {large:,} tracked, all five labels at their cap", f"{scrapes['labelled', large]:.2f} ms",
         f"{scrapes['labelled', large] / scrapes['labelled', small]:.2f}x the small one; target <= 2x"),
        (f"a look for newly stuck items, {small:,} tracked", f"{looks[small][0]:.0f} µs",
         f"median of 200 that found none, once the {looks[small][1]:,.0f} stuck were counted"),
        (f"a look for newly stuck items, {large:,} tracked", f"{looks[large][0]:.0f} µs",
         f"{looks[large][0] / looks[small][0]:.2f}x the small one, once the {looks[large][1]:,.0f} stuck were "
         "counted; bounded by the items crossing, not by those tracked"),
        (f"RSS per worker after {large:,} tracked", f"{rss:.1f} MB", "largest worker; target <= 40 MB"),
        ("WAL under full load", f"{wal_bytes / 1e6:.2f} MB",
         f"largest seen in any round; emptied every {te.TIDY_INTERVAL_SECONDS} s"),
        (f"state file with {large:,} tracked", f"{sizes['before'] / 1e6:.1f} MB", ""),
        ("state file after pruning them", f"{sizes['after'] / 1e6:.2f} MB",
         f"{pruned:,} pruned in {prune_seconds:.1f} s, {te.PRUNE_BATCH:,} a batch, "
         f"longest batch {max(batches) * 1000:.0f} ms"),
    ]
    report = "\n".join([
        f"{machine()}; gunicorn gthread x{args.workers} workers, {args.connections} connections, "
        f"{args.rounds} rounds of {args.seconds} s{' (SMOKE RUN: numbers mean nothing)' if smoke else ''}", "",
        "| measure | value | note |", "|---|---|---|", *("| " + " | ".join(row) + " |" for row in rows)])
    print("\n" + report)
    if args.results and not smoke:
        args.results.write_text(f"<!-- written by make bench: {len(rows)} measures, rerun it to renew them -->\n"
                                + report + "\n")
        print(f"\nwritten to {args.results}")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
