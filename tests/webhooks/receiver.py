"""A webhook receiver for the end-to-end tests, verifying every message with the
`standardwebhooks` package (PyPI), an implementation independent of the project's own code.

Listens on 127.0.0.1 (an ephemeral port, printed as the first line of stdout) and serves:
- POST /_subscribe/<name>  {"secret": "whsec_...", "failFirst": bool, "down": bool,
                           "delaySeconds": n} (again to change it: a receiver goes down, comes up)
- POST /hooks/<name>       a webhook message: verified, recorded, answered 200 (500 on the
                           first attempt of each webhook-id when failFirst, 503 while down,
                           401 if unverified)
- GET  /_log               {"items": [{name, id, timestamp, verified, status, body}, ...]}
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
ENDPOINTS = {}
LOG = []
SEEN = set()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status, value=None):
        body = json.dumps(value if value is not None else {}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                return self._answer(200, {"items": list(LOG)})
        self._answer(404)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length)
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "_subscribe":
            with LOCK:
                ENDPOINTS[parts[1]] = json.loads(raw)
            return self._answer(200)
        if len(parts) != 2 or parts[0] != "hooks":
            return self._answer(404)
        name = parts[1]
        with LOCK:
            endpoint = ENDPOINTS.get(name)
        if endpoint is None:
            return self._answer(410)
        if endpoint.get("delaySeconds"):
            time.sleep(float(endpoint["delaySeconds"]))
        headers = {k: v for k, v in self.headers.items()}
        try:
            Webhook(endpoint["secret"]).verify(raw, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        msg_id = self.headers.get("webhook-id", "")
        with LOCK:
            first = (name, msg_id) not in SEEN
            SEEN.add((name, msg_id))
            if not verified:
                status = 401
            elif endpoint.get("down"):
                status = 503
            elif first and endpoint.get("failFirst"):
                status = 500
            else:
                status = 200
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            LOG.append({
                "name": name,
                "id": msg_id,
                "timestamp": self.headers.get("webhook-timestamp"),
                "verified": verified,
                "status": status,
                "receivedAt": time.time(),
                "body": body,
            })
        self._answer(status)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
