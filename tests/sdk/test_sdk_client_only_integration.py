"""The SDK and its CLI log and get a version against the real stack in an interpreter where every server-side
library (asyncpg, nats, aiobotocore, aiohttp, arkive_common, ...) fails to import."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from test_sdk_client_only import run_blocked


def test_log_and_get_with_server_libraries_blocked(stack: Any, tmp_path: Path) -> None:
    src = tmp_path / "data"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.bin").write_bytes(os.urandom(100_000))
    project = "t" + uuid.uuid4().hex[:12]
    out = tmp_path / "restored"
    code = (
        "import sys\n"
        "from arkive.cli import main\n"
        f"code = main(['log', {str(src)!r}, '--name', 'blocked', '-p', {project!r}, '--json'])\n"
        "assert code == 0, code\n"
        f"code = main(['get', 'blocked:latest', '-p', {project!r}, '--out', {str(out)!r}, '--json'])\n"
        "assert code == 0, code\n"
        "import arkive\n"
        f"with arkive.Client(project={project!r}) as client:\n"
        "    print(json.dumps({'versions': len(client.versions('blocked'))}))\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('asyncpg', 'nats', 'arkive_common')]\n"
        "assert not loaded, loaded\n"
    )
    p = run_blocked("import json\n" + code, ARKIVE_GATEWAY_ADDR=stack.gateway_addr)
    assert p.returncode == 0, p.stderr
    docs = p.stdout.replace("}\n{", "}\x00{").split("\x00")
    logged, got, listed = (json.loads(d) for d in docs)
    assert logged["created"] and logged["file_count"] == 2 and logged["project"] == project
    assert got["files_written"] == 2 and listed == {"versions": 1}
    assert (out / "a.txt").read_text() == "alpha"
    assert (out / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
