"""Requests and replies larger than one NATS message (the server's max_payload, 1 MiB by default),
split into parts and put together again: the only place that knows the bus has a message size.

A large request: the caller sends the first part to the method's subject with `Arkive-Parts: n`;
the replica that takes it (queue group) answers with `Arkive-Transfer: <subject>`, a subject of its
own under `<prefix>.rpc.<service>._transfer.<replica>.<id>`, and the caller sends the other parts
there one by one (each acknowledged; the last one's answer is the reply). A large reply: the first
part goes to the caller's reply inbox with `Arkive-Parts` and `Arkive-Transfer`, and the caller
fetches the others from that subject. So a transfer uses only the reply inbox and the service's
own rpc subjects (which its NATS permissions allow), and each part is flow-controlled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import msgspec
from arkive_core import limits
from arkive_core.errors import Code, error_from
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.nuid import NUID

from .bus import rpc_subject

PARTS = "Arkive-Parts"  # on a first part: how many parts the whole message has
PART = "Arkive-Part"  # on a later part (or the request for one): its index
TRANSFER = "Arkive-Transfer"  # on an answer: the subject where the other parts go or come from
FAILED = "Arkive-Failed"  # on an answer from a transfer subject: the body is an error Reply
HEADROOM = 8 * 1024  # of max_payload, for the headers (NATS counts them in the message size)
IDLE_SECONDS = 60.0  # a transfer not continued for this long is dropped (its caller gave up)


class Reply(msgspec.Struct, frozen=True, omit_defaults=True):
    ok: bool
    result: msgspec.Raw = msgspec.Raw(b"\xc0")  # msgpack nil
    code: str = ""
    message: str = ""


reply_decoder = msgspec.msgpack.Decoder(Reply)
encoder = msgspec.msgpack.Encoder()


def part_size(nc: NATS) -> int:
    return nc.max_payload - HEADROOM


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def too_large(what: str, size: int) -> Reply:
    limit = limits.MAX_BUS_TRANSFER_BYTES
    message = f"{what} is {size} bytes, more than the {limit} bytes the bus takes: ask for less per call"
    return Reply(ok=False, code=Code.RESOURCE_EXHAUSTED.value, message=message)


def raise_failed(msg: Msg) -> None:
    """An answer from a transfer subject that reports an error (an expired transfer, say)."""
    if msg.headers and FAILED in msg.headers:
        reply = reply_decoder.decode(msg.data)
        raise error_from(reply.code, reply.message)


@dataclass
class Upload:
    name: str  # the method
    parts: int
    headers: dict[str, str] | None
    received: list[bytes] = field(default_factory=list)
    touched: float = field(default_factory=time.monotonic)


@dataclass
class Download:
    parts: list[bytes]
    touched: float = field(default_factory=time.monotonic)


class Transfers:
    """The server side: transfers in progress at one replica, by id."""

    def __init__(self, prefix: str, service: str) -> None:
        self.base = f"{rpc_subject(prefix, service, '_transfer')}.{NUID().next().decode()}"
        self._ids = NUID()
        self.uploads: dict[str, Upload] = {}
        self.downloads: dict[str, Download] = {}

    @property
    def wildcard(self) -> str:
        return f"{self.base}.*"

    def _new_subject(self) -> tuple[str, str]:
        self._expire()
        tid = self._ids.next().decode()
        return tid, f"{self.base}.{tid}"

    def _expire(self) -> None:
        cutoff = time.monotonic() - IDLE_SECONDS
        for store in (self.uploads, self.downloads):
            for tid in [t for t, x in store.items() if x.touched < cutoff]:
                del store[tid]

    def open_upload(self, name: str, parts: int, first: bytes, headers: dict[str, str] | None, size: int) -> str:
        """The subject where the caller sends parts 1..parts-1. Refuses a message over the limit."""
        if parts * size > limits.MAX_BUS_TRANSFER_BYTES + size:
            raise error_from(Code.RESOURCE_EXHAUSTED.value, too_large("the request", parts * size).message)
        tid, subject = self._new_subject()
        self.uploads[tid] = Upload(name, parts, headers, [first])
        return subject

    def open_download(self, parts: list[bytes]) -> str:
        tid, subject = self._new_subject()
        self.downloads[tid] = Download(parts)
        return subject

    def tid(self, subject: str) -> str:
        return subject.rsplit(".", 1)[-1]


def failed(code: Code, message: str) -> tuple[bytes, dict[str, str]]:
    return encoder.encode(Reply(ok=False, code=code.value, message=message)), {FAILED: "1"}
