"""A fault-injecting HTTP proxy in front of the emulator, for the apply tests: it forwards every
request to the emulator, but first, at random (seeded, so a failure can be replayed):

- answers with a throttling error in the format of the service's protocol (JSON protocols such as
  KMS and Secrets Manager: HTTP 400 with `__type` ThrottlingException; EC2: HTTP 503 with
  `RequestLimitExceeded`; IAM and STS: HTTP 400 with `Throttling`), as AWS does;
- answers 500 InternalError or 503 ServiceUnavailable;
- resets the connection without answering;
- adds latency.

Faults are injected before the request reaches the emulator, so a failed call has no effect,
exactly like a throttled or rejected AWS call. (A connection cut *after* AWS acted is a crash of
another kind; the SIGKILL tests cover losing a response.)

`--fail SERVICE@REGION` makes every call to that service in that region fail permanently with
HTTP 403 UnauthorizedOperation (EC2) / AccessDeniedException (JSON protocols) / AccessDenied.

Explicit control instead of timing, for tests that must interfere with a running apply at a
known point:

- `--hold "METHOD REGEX N"` holds the N-th request whose method matches and whose path (with its
  query) or `X-Amz-Target` header (JSON protocols, where the path is `/`) the regex finds, before
  forwarding it, until the test releases it. `GET /__proxy/held` answers
  `{"held": K, "seen": {...}}` (how many requests wait now, and how many matched each rule so far),
  `POST /__proxy/release` lets every held request go on. So "after the first state write and
  before the next" is a fact the test waits for, not a latency it hopes is long enough.
- `--lose "SERVICE:ACTION N"` forwards the N-th call of that operation (the `Action` parameter or
  the `X-Amz-Target` operation), so AWS acts, and then cuts the connection without answering:
  the response is lost, as when a network drops after AWS did the work. For the APIs without a
  client token (VPC, subnet, KMS key, security group) this is the case that can leave an orphan.

    python fault_proxy.py UPSTREAM [--seed N] [--throttle P] [--error P] [--reset P]
                          [--latency-ms MS] [--fail SERVICE@REGION]...
                          [--hold "METHOD REGEX N"]... [--lose "SERVICE:ACTION N"]...

Prints `http://127.0.0.1:PORT` on stdout once it listens, then a count of injected faults per
kind on stderr when it is stopped (SIGTERM).
"""
import argparse
import json
import random
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("upstream")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--throttle", type=float, default=0.0)
    ap.add_argument("--error", type=float, default=0.0)
    ap.add_argument("--reset", type=float, default=0.0)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--fail", action="append", default=[])
    ap.add_argument("--hold", action="append", default=[])
    ap.add_argument("--lose", action="append", default=[])
    args = ap.parse_args()
    holds = []
    for rule in args.hold:
        method, pattern, nth = rule.rsplit(" ", 2) if rule.count(" ") >= 2 else (rule, ".*", "1")
        holds.append({"rule": rule, "method": method.upper(), "re": re.compile(pattern), "nth": int(nth), "seen": 0})
    loses = []
    for rule in args.lose:
        op, nth = rule.split(" ", 1)
        service, action = op.split(":", 1)
        loses.append({"rule": rule, "service": service, "action": action, "nth": int(nth), "seen": 0})
    released = threading.Event()
    held = [0]
    rng = random.Random(args.seed)
    lock = threading.Lock()
    counts = {"forwarded": 0, "throttle": 0, "error": 0, "reset": 0, "failed": 0, "held": 0, "lost": 0}
    upstream = args.upstream.rstrip("/")

    def draw():
        with lock:
            return rng.random(), rng.random()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _reply(self, status, body, ctype):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "fault-proxy")
            self.end_headers()
            self.wfile.write(data)

        def _error(self, service, json_protocol, status, code, message):
            if json_protocol:
                self._reply(status, json.dumps({"__type": code, "message": message}), "application/x-amz-json-1.1")
            elif service == "ec2":
                self._reply(
                    status,
                    f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                    "<RequestID>fault-proxy</RequestID></Response>",
                    "text/xml",
                )
            else:
                self._reply(
                    status,
                    f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                    "<RequestId>fault-proxy</RequestId></ErrorResponse>",
                    "text/xml",
                )

        def _control(self):
            if self.path.startswith("/__proxy/release"):
                released.set()
            with lock:
                state = {"held": held[0], "seen": {h["rule"]: h["seen"] for h in holds + loses}}
            return self._reply(200, json.dumps(state), "application/json")

        def _should_hold(self):
            with lock:
                for h in holds:
                    target = self.headers.get("X-Amz-Target", "")
                    if h["method"] == self.command and (h["re"].search(self.path) or h["re"].search(target)):
                        h["seen"] += 1
                        if h["seen"] == h["nth"]:
                            return True
            return False

        def _should_lose(self, service, body):
            action = ""
            target = self.headers.get("X-Amz-Target", "")
            if target:
                action = target.rsplit(".", 1)[-1]
            else:
                m = re.search(r"(?:^|&)Action=([A-Za-z0-9]+)", body.decode("utf-8", "replace") + "&" + self.path.partition("?")[2])
                action = m.group(1) if m else ""
            with lock:
                for r in loses:
                    if r["service"] == service and r["action"] == action:
                        r["seen"] += 1
                        if r["seen"] == r["nth"]:
                            counts["lost"] += 1
                            return True
            return False

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/__proxy/"):
                return self._control()
            if holds and self._should_hold():
                with lock:
                    held[0] += 1
                    counts["held"] += 1
                released.wait()
                with lock:
                    held[0] -= 1
            m = SCOPE.search(self.headers.get("Authorization", ""))
            region, service = (m.group(1), m.group(2)) if m else ("", "")
            json_protocol = "X-Amz-Target" in self.headers
            if f"{service}@{region}" in args.fail:
                with lock:
                    counts["failed"] += 1
                code = "UnauthorizedOperation" if service == "ec2" else (
                    "AccessDeniedException" if json_protocol else "AccessDenied")
                return self._error(service, json_protocol, 403, code,
                                   f"fault proxy: {service} in {region} refuses every call")
            if args.latency_ms:
                time.sleep(args.latency_ms / 1000.0)
            a, b = draw()
            if a < args.reset:
                with lock:
                    counts["reset"] += 1
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                self.connection.close()
                return
            a -= args.reset
            if a < args.throttle:
                with lock:
                    counts["throttle"] += 1
                if json_protocol:
                    return self._error(service, True, 400, "ThrottlingException", "Rate exceeded")
                if service == "ec2":
                    return self._error(service, False, 503, "RequestLimitExceeded", "Request limit exceeded.")
                return self._error(service, False, 400, "Throttling", "Rate exceeded")
            a -= args.throttle
            if a < args.error:
                with lock:
                    counts["error"] += 1
                if b < 0.5:
                    return self._error(service, json_protocol, 500, "InternalError", "An internal error has occurred")
                return self._error(service, json_protocol, 503, "ServiceUnavailable", "Service is unavailable")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
            req = urllib.request.Request(upstream + self.path, data=body if body or self.command != "GET" else None,
                                         headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    status, data, rh = resp.status, resp.read(), resp.headers
            except urllib.error.HTTPError as e:
                status, data, rh = e.code, e.read(), e.headers
            with lock:
                counts["forwarded"] += 1
            if loses and self._should_lose(service, body):
                # AWS acted; the answer never arrives.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(status)
            for k, v in rh.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True

    def stop(*_):
        print(json.dumps(counts), file=sys.stderr, flush=True)
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
