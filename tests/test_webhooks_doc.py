"""docs/webhooks.md: the catalogue lists every event type, and the JavaScript verifier works.

The JavaScript block runs under Node against requests signed by the app's own signer: a
good one passes, a tampered body and an old timestamp fail.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from jobs.webhooks import sign_headers
from purplecross_desktop.domain.webhooks import CATALOGUE, new_secret

DOC = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"


def test_every_event_type_is_in_the_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert [name for name in CATALOGUE if f"`{name}`" not in text] == []


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_javascript_verifier_accepts_good_requests_and_refuses_bad_ones() -> None:
    code = re.search(r"```javascript\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert code is not None
    secret, other = new_secret(), new_secret()
    body = '{"data":{"id":12},"timestamp":"2026-03-01T09:15:00+00:00","type":"client.created"}'
    now = int(time.time())
    cases = [
        (body, sign_headers("msg_1", now, body, [secret])),
        (body.replace("12", "13"), sign_headers("msg_1", now, body, [secret])),
        (body, sign_headers("msg_1", now - 600, body, [secret])),
        (body, sign_headers("msg_1", now, body, [other, secret])),  # during a rotation
        (body, sign_headers("msg_1", now, body, [other])),
    ]
    script = code.group(1) + "\nconst cases = " + json.dumps(cases) + ";\n"
    script += (
        f"console.log(JSON.stringify(cases.map(([b, h]) => verifyWebhook({secret!r}, b, h))));"
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [True, False, False, True, False]
