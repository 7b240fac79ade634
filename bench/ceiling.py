"""The ceiling for `make bench`: the least a WSGI app can do with a callback under gunicorn."""
from urllib.parse import parse_qsl


def app(environ, start_response):
    """Read and parse the form body, then answer 200 with no body."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    dict(parse_qsl(environ["wsgi.input"].read(length).decode("utf-8"), keep_blank_values=True))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]
