#!/usr/bin/env python3
"""A small HTTP server for the deploy-gate tests, with a latency and a failure rate set by env.

    timed_server.py PORT

GET /health answers 200 at once (not counted). GET /answer waits LATENCY_MS milliseconds
(default 0), then answers 200 "ok", except every FAIL_EVERY-th request (0: never), which gets
a 500. Requests are numbered in COUNTER_FILE when it is set, so that the count goes on across
restarts of the server (one per run of a suite); otherwise in memory.
"""

import fcntl
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LATENCY = int(os.environ.get("LATENCY_MS", "0")) / 1000.0
FAIL_EVERY = int(os.environ.get("FAIL_EVERY", "0"))
COUNTER_FILE = os.environ.get("COUNTER_FILE")
_lock = threading.Lock()
_count = 0


def next_number():
    """The number of this request, from 1."""
    global _count
    with _lock:
        if not COUNTER_FILE:
            _count += 1
            return _count
        with open(COUNTER_FILE, "a+") as counter:
            fcntl.flock(counter, fcntl.LOCK_EX)
            counter.seek(0)
            text = counter.read().strip()
            number = (int(text) if text else 0) + 1
            counter.seek(0)
            counter.truncate()
            counter.write(str(number))
            return number


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, b"ok\n")
        if self.path != "/answer":
            return self.reply(404, b"not found\n")
        number = next_number()
        time.sleep(LATENCY)
        if FAIL_EVERY and number % FAIL_EVERY == 0:
            return self.reply(500, b"failing on purpose\n")
        self.reply(200, b"ok\n")

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stderr.write("%s\n" % (format % args))


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()
