"""A tiny HTTP GET for tests of the health endpoints, and a Prometheus text parser on top."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families


async def http_get(port: int, path: str, host: str = "127.0.0.1", method: str = "GET") -> tuple[int, str]:
    """(status, body) of one request; raises ConnectionError when nothing listens."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode()


async def metric_samples(port: int, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of `name` (e.g. "grpc_server_handled_total"), keyed by its sorted labels."""
    status, text = await http_get(port, "/metrics")
    assert status == 200, text
    samples: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                samples[tuple(sorted(s.labels.items()))] = s.value
    return samples


def value(samples: dict[tuple[tuple[str, str], ...], float], **labels: str) -> float:
    """The sum over the samples whose labels include `labels` (0 when none)."""
    want = set(labels.items())
    return sum(v for k, v in samples.items() if want <= set(k))
