"""make steps: what each step of a webhook request costs in a loaded worker, by the thread's CPU clock.

The module runs in this process as a gunicorn worker runs it, with bench/run.py's settings (a token,
a SQLite store and its upkeep thread) and its signed message callbacks. A step timed alone, in a
tight loop, looks two or three times cheaper than it is on the path, where each step finds the
caches as the one before left them. So the path is run whole and cut short after each step in turn,
and a step's cost is what it adds to the path before it; app() whole adds routing and guards. The
rounds of all the cuts take turns, and each keeps its least. Then the parts of the floor that
bench/floor.py adds to the ceiling, the same way. This is a measurement, not a test: it prints a
table and writes it to --results.
"""
import argparse
import base64
import hmac
import io
import os
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

WORK = tempfile.mkdtemp(prefix="twilio_exporter-steps-")
os.environ.update(TWILIO_AUTH_TOKEN="bench-token", TWILIO_EXPORTER_DB=f"{WORK}/steps.sqlite3",
                  TWILIO_EXPORTER_LOG_LEVEL="WARNING", PROMETHEUS_MULTIPROC_DIR=f"{WORK}/metrics",
                  TWILIO_EXPORTER_LABELS="account,messaging_service,sender,country,channel")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"])
import run  # noqa: E402  (bench/run.py: the callbacks, and the module imported with these settings)

te = run.te
ROUNDS = 9


def cpu_us(runs, inputs, prepare=lambda: None):
    """The least over ROUNDS of each run's thread CPU time per input, in µs; the runs take turns."""
    best = [float("inf")] * len(runs)
    for _ in range(ROUNDS):
        for index, run_one in enumerate(runs):
            prepare()
            started = time.thread_time_ns()
            for item in inputs:
                run_one(item)
            best[index] = min(best[index], (time.thread_time_ns() - started) / len(inputs) / 1000)
    return best


def environs(count):
    """WSGI environs of signed message callbacks, as gunicorn hands them to app()."""
    host, path = "127.0.0.1:8080", "/webhooks/message"
    validator = run.RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    made = []
    for _, params in run.callback_forms(count // 2, 0):
        body = urlencode(params).encode()
        made.append({"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "",
                     "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "HTTP_HOST": host,
                     "wsgi.url_scheme": "http", "CONTENT_TYPE": te.FORM_TYPE, "CONTENT_LENGTH": str(len(body)),
                     "HTTP_X_TWILIO_SIGNATURE": validator.compute_signature(f"http://{host}{path}", params),
                     "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body)})
    return made


def rewind(requests):
    """Put each request's body back to its start, as a new request would have it."""
    def prepare():
        for environ in requests:
            environ["wsgi.input"].seek(0)
    return prepare


STEPS = ("read the body: read_body", "parse the form: the rest of read_form (parse_qsl, a dict)",
         "check the signature: check_signature", "make the record: form_callback",
         "the inbox line: inbox_line", "append it: store().write",
         "count the request: a counter inc, a histogram observe", "the answer: answer(200)")


def path(steps):
    """The request path as receive() and app() run it, cut short after `steps` steps."""
    kind, seconds = te.KINDS["message"], te.SECONDS_BY_ENDPOINT["message"]
    counter = te.REQUESTS_BY_CODE["message", "200"]

    def run_path(environ):
        if steps == 1:
            return te.read_body(environ, te.FORM_TYPE, te.MAX_BODY_BYTES)
        form = te.read_form(environ)
        if steps > 2:
            te.check_signature(environ, form.items())
        if steps > 3:
            record = te.form_callback(kind, form)
        if steps > 4:
            line = te.inbox_line(record)
        if steps > 5:
            te.store().write(line)
        if steps > 6:
            counter.inc()
            seconds.observe(0.0004)
        if steps > 7:
            te.answer(200)
    return run_path


def steps(requests):
    """[(step, µs)] for the request path in the order it runs, then app() whole."""
    runs = [path(steps) for steps in range(1, len(STEPS) + 1)]
    runs.append(lambda environ: te.app(environ, lambda status, headers: None))
    costs = cpu_us(runs, requests, rewind(requests))
    added = [cost - before for cost, before in zip(costs, [0] + costs)]
    return [*zip(STEPS, added), ("app(): routing, guards, the clock, on top of the steps", added[-1]),
            ("**app(), whole**", costs[-1])]


def floor_parts(requests):
    """[(part, µs)] of what bench/floor.py adds to the ceiling, timed the same way."""
    key, url = os.environ["TWILIO_AUTH_TOKEN"].encode(), "http://127.0.0.1:8080/webhooks/message"
    signed = [(url + "".join(name + value for name, value in sorted(te.read_form(e).items()))).encode()
              for e in rewind(requests)() or requests]
    inbox = os.open(f"{WORK}/floor-inbox", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    line = b"SM00000000000000000000000000000001\tdelivered\n"
    return list(zip(FLOOR, cpu_us([
        lambda message: hmac.compare_digest(base64.b64encode(hmac.digest(key, message, "sha1")), b"x"),
        lambda _: os.write(inbox, line), lambda _: te.REQUESTS_BY_CODE["message", "200"].inc()], signed)))


FLOOR = ("HMAC-SHA1 of the signed string, base64, compare_digest", "one write(2) of an inbox line (O_APPEND)",
         "one multiprocess counter inc")


def main():
    """Time the steps without labels and with all five, print the table, and write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="callbacks per round")
    parser.add_argument("--results", type=Path, help="the Markdown file to write the table to")
    args = parser.parse_args()
    requests, labels = environs(args.count), te.LABELS
    te.LABELS = ()  # none, as when TWILIO_EXPORTER_LABELS is unset
    plain = steps(requests)
    te.LABELS = labels  # all five
    labelled = steps(environs(args.count))
    rows = [f"| {step} | {mine:.1f} | {theirs:.1f} |" for (step, mine), (_, theirs) in zip(plain, labelled)]
    floor = [f"| {part} | {cost:.1f} |" for part, cost in floor_parts(requests)]
    report = "\n".join([
        f"{run.machine()}", "", f"µs of thread CPU time per callback, the least of {ROUNDS} rounds of "
        f"{len(requests):,} signed message callbacks", "",
        "| step, in the order app() runs it: what it adds | no labels | all five labels |", "|---|---|---|",
        *rows, "",
        "What bench/floor.py adds to the ceiling, each part timed alone:", "",
        "| part of the floor | µs |", "|---|---|", *floor])
    print(report)
    if args.results:
        args.results.write_text(f"<!-- written by make steps: rerun it to renew the figures -->\n{report}\n")
        print(f"\nwritten to {args.results}")
    te.store().close()
    for folder in (WORK, run.WORK):
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
