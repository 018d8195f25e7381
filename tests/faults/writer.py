"""A writer process of the fault suite: logs small artifacts in a loop until told to stop.

    python writer.py GATEWAY PROJECT NAME ACK_FILE STOP_FILE

Each acknowledged log (log_artifact returned) appends one JSON line to ACK_FILE, flushed and
fsynced before the next log starts: {"version": N, "version_id": ..., "files": {path: sha256}, "took": s}.
A log that raised appends {"error": ...} and the loop goes on. It stops once STOP_FILE exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import arkive


def main() -> int:
    gateway, project, name, ack_path, stop_path = sys.argv[1:6]
    stop = Path(stop_path)
    with (
        open(ack_path, "a", encoding="utf-8") as acks,
        arkive.Client(gateway, project, progress=False) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        n = 0
        while not stop.exists():
            folder = Path(tmp) / f"v{n}"
            folder.mkdir()
            files = {f"part-{i}.bin": os.urandom(2000 + 700 * i) for i in range(3)}
            for rel, data in files.items():
                (folder / rel).write_bytes(data)
            art = arkive.Artifact(name, "dataset")
            art.add_dir(folder)
            started = time.monotonic()
            try:
                v = client.log_artifact(art)
            except arkive.ArkiveError as exc:
                line = {"error": f"{exc.code.value}: {exc.message}", "took": time.monotonic() - started}
            else:
                line = {
                    "version": v.version,
                    "version_id": v.version_id,
                    "created": v.created,
                    "files": {k: "sha256:" + hashlib.sha256(d).hexdigest() for k, d in files.items()},
                    "took": time.monotonic() - started,
                    "at": time.time(),
                }
            acks.write(json.dumps(line) + "\n")
            acks.flush()
            os.fsync(acks.fileno())
            n += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
