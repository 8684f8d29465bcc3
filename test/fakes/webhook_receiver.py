#!/usr/bin/env python3
"""A local stand-in for webhook and Slack incoming-webhook receivers.

Listens on 127.0.0.1:PORT (HTTP/1.1, keep-alive), records every request as a
JSON line in --log, and behaves by path so that one receiver serves every
scenario of a test:

  /ok                 200 "ok"
  /flaky/N            503 for the first N attempts of each idempotency key, then 200
  /429                429 with Retry-After: 1 on the first attempt of each key, then 200
  /status/CODE        always CODE (e.g. 500 for dead letters, 400 for permanent errors)
  /slow/MS            wait MS milliseconds, then 200
  /close              close the connection without answering on the first attempt of a key
  /slack...           like Slack: 200 "ok" for {"text": ...}; 400 "invalid_payload" otherwise

--secret S: verify X-Stratum-Signature (v1= hex HMAC-SHA256 of timestamp "." body) on
every path but /slack...; a request with a wrong or missing signature, or a timestamp more
than 5 minutes off, gets 401 "bad signature".
--fail-share F answers 503 to a random share F of the requests (on any path).
Every log line: {"t": receipt time (s), "path", "key", "sig_ok", "status", "body"}.
"""
import argparse
import hashlib
import hmac
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

attempts = {}
lock = threading.Lock()
log_file = None
args = None


def count_attempt(path, key):
    with lock:
        n = attempts.get((path, key), 0) + 1
        attempts[(path, key)] = n
        return n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def answer(self, status, text, extra=None):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def record(self, status, key, sig_ok, raw):
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        line = json.dumps({"t": self.t, "path": self.path, "key": key, "sig_ok": sig_ok,
                           "status": status, "body": body}, separators=(",", ":"))
        with lock:
            log_file.write(line + "\n")
            log_file.flush()

    def do_POST(self):
        self.t = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        key = self.headers.get("Idempotency-Key")
        sig_ok = None
        if args.secret and not self.path.startswith("/slack"):
            ts = self.headers.get("X-Stratum-Timestamp", "")
            sig = self.headers.get("X-Stratum-Signature", "")
            want = "v1=" + hmac.new(args.secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
            sig_ok = hmac.compare_digest(sig, want) and ts.isdigit() and abs(time.time() - int(ts)) < 300
        path = self.path
        n = count_attempt(path, key)
        status, text, extra = 200, "ok", None
        if sig_ok is False:
            status, text = 401, "bad signature"
        elif args.fail_share and random.random() < args.fail_share:
            status, text = 503, "unavailable"
        elif path.startswith("/flaky/"):
            if n <= int(path.split("/")[2]):
                status, text = 503, "try again"
        elif path == "/429":
            if n == 1:
                status, text, extra = 429, "rate_limited", {"Retry-After": "1"}
        elif path.startswith("/status/"):
            status, text = int(path.split("/")[2]), "status %s" % path.split("/")[2]
        elif path.startswith("/slow/"):
            time.sleep(int(path.split("/")[2]) / 1000.0)
        elif path == "/close":
            if n == 1:
                self.record(0, key, sig_ok, raw)
                self.close_connection = True
                self.connection.shutdown(2)
                return
        elif path.startswith("/slack"):
            try:
                ok = isinstance(json.loads(raw).get("text"), str)
            except Exception:
                ok = False
            if not ok:
                status, text = 400, "invalid_payload"
        if args.slow_ms:
            time.sleep(args.slow_ms / 1000.0)
        self.record(status, key, sig_ok, raw)
        self.answer(status, text, extra)


def main():
    global log_file, args
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--secret")
    p.add_argument("--fail-share", type=float, default=0.0)
    p.add_argument("--slow-ms", type=int, default=0)
    args = p.parse_args()
    log_file = open(args.log, "a")
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 1024
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("listening on 127.0.0.1:%d" % args.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
