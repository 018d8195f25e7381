"""One worker process of the distributed scale test (run as a script by test_distributed_scale.py).

    python scale_worker.py --address H:P --project P --name N --distributed-id D --src DIR
                           --mode once|twice|split|lossy --ready FILE --go FILE

Builds its Artifact from --src, warms its channel up, touches --ready, waits for --go to exist,
then upserts with the public SDK the way --mode says:

- once:  one upsert_artifact of every file.
- twice: the same upsert twice (a duplicate send, as a retried job would do).
- split: three upserts of overlapping thirds, with pauses in between (keeps the run going while
         the test kills a replica).
- lossy: one upsert through a channel that loses the answer of the first UpsertFiles (the server
         applied it; the client sees DEADLINE_EXCEEDED), fails the second with UNAVAILABLE before
         sending, and fails the first UploadBlob(s) stream with UNAVAILABLE: the SDK's own retries recover.

Prints one JSON document on stdout: {worker, mode, results: [UpsertResult.to_dict()], injected,
upsert_answers: {status code: count of UpsertFiles answers from the server}, seconds}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import grpc

import arkive


class Faults:
    """Injects the failures of --mode lossy, on the SDK's real channel (grpc.aio files an interceptor
    under one call type only, hence one interceptor object per type)."""

    def __init__(self) -> None:
        self.upserts = 0
        self.uploads = 0
        self.injected = 0

    def error(self, code: grpc.StatusCode, what: str) -> grpc.aio.AioRpcError:
        self.injected += 1
        return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=f"{what} (injected)")


def _method(details: grpc.aio.ClientCallDetails) -> str:
    m = details.method
    return m.decode() if isinstance(m, bytes) else m


class LoseUpserts(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    async def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        f = self.faults
        if _method(details).endswith("/UpsertFiles") and f.upserts < 2:
            f.upserts += 1
            if f.upserts == 1:
                call = await continuation(details, request)
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await call  # applied by the server (unless it failed on its own)...
                raise f.error(grpc.StatusCode.DEADLINE_EXCEEDED, "answer lost")  # ...but the answer is lost
            raise f.error(grpc.StatusCode.UNAVAILABLE, "connection refused")
        return await continuation(details, request)


class DropFirstUpload(grpc.aio.StreamUnaryClientInterceptor):
    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    async def intercept_stream_unary(self, continuation, details, request_iterator):  # type: ignore[no-untyped-def]
        f = self.faults
        if _method(details).endswith(("/UploadBlob", "/UploadBlobs")) and f.uploads < 1:
            f.uploads += 1
            raise f.error(grpc.StatusCode.UNAVAILABLE, "connection reset")
        return await continuation(details, request_iterator)


class Observe(grpc.aio.UnaryUnaryClientInterceptor):
    """Counts the status codes the server really answered to UpsertFiles (innermost: injected
    failures never reach it)."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    async def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        call = await continuation(details, request)
        if _method(details).endswith("/UpsertFiles"):
            name = (await call.code()).name
            self.codes[name] = self.codes.get(name, 0) + 1
        return call


def install(faults: Faults | None, observe: Observe) -> None:
    """Every grpc.aio channel of this process (the SDK's included) gets the interceptors; the first
    in the list is the outermost."""
    real = grpc.aio.insecure_channel
    extra = [*((LoseUpserts(faults), DropFirstUpload(faults)) if faults else ()), observe]

    def insecure_channel(target, options=None, compression=None, interceptors=None):  # type: ignore[no-untyped-def]
        return real(target, options=options, compression=compression, interceptors=[*(interceptors or []), *extra])

    grpc.aio.insecure_channel = insecure_channel  # type: ignore[assignment]


def artifact(name: str, src: Path, paths: list[str]) -> arkive.Artifact:
    art = arkive.Artifact(name)
    for p in paths:
        art.add_file(src / p, name=p)
    return art


def main() -> int:
    ap = argparse.ArgumentParser()
    for opt in ("--address", "--project", "--name", "--distributed-id", "--src", "--mode", "--ready", "--go"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--worker", type=int, required=True)
    args = ap.parse_args()

    faults, observe = Faults(), Observe()
    install(faults if args.mode == "lossy" else None, observe)
    src = Path(args.src)
    paths = sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    if args.mode == "split":
        third = len(paths) // 3
        overlap = 30
        parts = [paths[: third + overlap], paths[third - overlap : 2 * third + overlap], paths[2 * third - overlap :]]
    elif args.mode == "twice":
        parts = [paths, paths]
    else:
        parts = [paths]
    arts = [artifact(args.name, src, part) for part in parts]

    with arkive.Client(args.address, project=args.project, progress=False) as client:
        client.drafts()  # connect before the start signal
        Path(args.ready).touch()
        deadline = time.monotonic() + 60
        while not Path(args.go).exists():
            if time.monotonic() > deadline:
                sys.stderr.write("no start signal within 60 s\n")
                return 3
            time.sleep(0.01)
        started = time.monotonic()
        results = []
        for i, art in enumerate(arts):
            if i and args.mode == "split":
                time.sleep(0.5)
            results.append(client.upsert_artifact(art, distributed_id=args.distributed_id).to_dict())
    doc = {
        "worker": args.worker,
        "mode": args.mode,
        "results": results,
        "injected": faults.injected,
        "upsert_answers": observe.codes,
        "seconds": round(time.monotonic() - started, 3),
    }
    sys.stdout.write(json.dumps(doc) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
