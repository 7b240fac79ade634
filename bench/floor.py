"""The floor for `make bench`: the ceiling's work plus the least this contract adds to a callback.

On top of reading and parsing the form (all the ceiling does), a callback cannot cost less than:
- one HMAC-SHA1 over the string Twilio signs (the URL, then each name and value in order), compared
  in constant time, with the standard library;
- one write(2) of an inbox line to an O_APPEND file, so that the 200 comes after the callback is kept;
- one increment of a prometheus_client multiprocess counter.
It leaves out what a real exporter must also do: check the fields, make the record, time the
request, and everything that would let a wrong request be told apart.
"""
import base64
import hmac
import os
from urllib.parse import parse_qsl

from prometheus_client import Counter

KEY = os.environ.get("TWILIO_AUTH_TOKEN", "").encode()
URL = "http://" + os.environ.get("TWILIO_EXPORTER_BIND", "127.0.0.1:8080") + "/webhooks/message"
FOLDER = os.environ.get("PROMETHEUS_MULTIPROC_DIR", ".")
REQUESTS = Counter("floor_requests_total", "Requests answered.", registry=None)
inbox = {}  # {pid: file descriptor}: each worker appends to a file of its own


def app(environ, start_response):
    """Parse, check the signature, append a line, count, and answer 200 with no body (403 when unsigned)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    pairs = parse_qsl(environ["wsgi.input"].read(length).decode("utf-8"), keep_blank_values=True)
    form = dict(pairs)
    signed = (URL + "".join(name + value for name, value in sorted(pairs))).encode()
    valid = hmac.compare_digest(base64.b64encode(hmac.digest(KEY, signed, "sha1")),
                                environ.get("HTTP_X_TWILIO_SIGNATURE", "").encode())
    pid = os.getpid()
    if pid not in inbox:
        inbox[pid] = os.open(os.path.join(FOLDER, f"floor-inbox.{pid}"),
                             os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(inbox[pid], f"{form.get('MessageSid')}\t{form.get('MessageStatus')}\n".encode())
    REQUESTS.inc()
    start_response("200 OK" if valid else "403 Forbidden",
                   [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]
