"""A backend service that knows only HTTP: it uses ``requests`` and the standard library, never
ctworkflow.

    backend_client.py --base URL --project ID --context MODULE --token T --other-token T2
                      --other-project ID2

It runs a webhook receiver on a free loopback port, registers it, starts a session with an
idempotency key (twice), waits for the signed ``session.complete`` webhook, verifies its
signature as docs/webhooks.md says, reads the session, then tries everything again with the token of
another account. It prints one JSON document of what it saw; the test judges it.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time
import uuid
from typing import Any, ClassVar

import requests


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """The check of docs/webhooks.md: HMAC-SHA256 over ``"<t>." + body``, constant-time, fresh."""
    fields = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = int(fields.get("t", "0"))
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


class Inbox(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Inbox.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    for flag in ("--base", "--project", "--context", "--token", "--other-token", "--other-project"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    mine = requests.Session()
    mine.headers["Authorization"] = f"Bearer {args.token}"
    theirs = requests.Session()
    theirs.headers["Authorization"] = f"Bearer {args.other_token}"
    project = f"{args.base}/v1/projects/{args.project}"
    seen: dict[str, Any] = {}

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Inbox)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/ctw"

    created = mine.post(f"{project}/webhooks", json={"url": hook_url})
    seen["webhook_status"] = created.status_code
    secret = created.json()["secret"]

    key = f"deploy-{uuid.uuid4()}"
    first = mine.post(
        f"{project}/sessions", json={"context": args.context}, headers={"Idempotency-Key": key}
    )
    again = mine.post(
        f"{project}/sessions", json={"context": args.context}, headers={"Idempotency-Key": key}
    )
    session_id = first.json()["id"]
    seen["start_status"] = first.status_code
    seen["same_session_again"] = again.json()["id"] == session_id

    deadline = time.monotonic() + 150
    while not any(json.loads(b)["event"] == "session.complete" for _, b in Inbox.received):
        if time.monotonic() > deadline:
            seen["timeout"] = "no session.complete webhook within 150 s"
            sys.stdout.write(json.dumps(seen) + "\n")
            return 1
        time.sleep(0.2)
    headers, body = next(
        (h, b) for h, b in Inbox.received if json.loads(b)["event"] == "session.complete"
    )
    event = json.loads(body)
    seen["webhook_events"] = [json.loads(b)["event"] for _, b in Inbox.received]
    seen["signature_valid"] = verify(secret, headers["CTW-Signature"], body)
    seen["tampered_signature_valid"] = verify(secret, headers["CTW-Signature"], body + b" ")
    seen["webhook_session"] = event["session"]
    seen["webhook_delivery_id"] = headers["CTW-Webhook-Id"]

    shown = mine.get(f"{project}/sessions/{session_id}")
    seen["show_status"] = shown.status_code
    seen["session"] = shown.json()

    # Another account's token: all of it answers like missing things.
    missing_session = str(uuid.uuid4())
    other_project = f"{args.base}/v1/projects/{args.other_project}"
    probes = {
        "project": theirs.get(project),
        "project_sessions": theirs.get(f"{project}/sessions"),
        "session": theirs.get(f"{project}/sessions/{session_id}"),
        "session_in_own_project": theirs.get(f"{other_project}/sessions/{session_id}"),
        "cancel": theirs.post(f"{other_project}/sessions/{session_id}/cancel"),
        "retry": theirs.post(f"{project}/sessions/{session_id}/retry"),
        "start": theirs.post(f"{project}/sessions", json={"context": args.context}),
        "webhooks": theirs.get(f"{project}/webhooks"),
        "output": theirs.get(f"{other_project}/sessions/{session_id}/output"),
    }
    seen["other_tenant"] = {name: [r.status_code, r.json()] for name, r in probes.items()}
    seen["missing"] = {
        "project": (lambda r: [r.status_code, r.json()])(
            theirs.get(f"{args.base}/v1/projects/{uuid.uuid4()}")
        ),
        "session": (lambda r: [r.status_code, r.json()])(
            theirs.get(f"{other_project}/sessions/{missing_session}")
        ),
    }
    seen["other_projects"] = [p["id"] for p in theirs.get(f"{args.base}/v1/projects").json()]
    seen["imports_ctworkflow"] = any(name.split(".")[0] == "ctworkflow" for name in sys.modules)
    receiver.shutdown()
    sys.stdout.write(json.dumps(seen) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
