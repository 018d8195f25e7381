"""The content-defined chunker: deterministic, bounded, resynchronising, block-size independent."""

from __future__ import annotations

import hashlib
import itertools
import random

import numpy as np
from arkive_core import cdc


def _data(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def _cuts(data: bytes, block: int) -> list[tuple[int, int]]:
    chunker = cdc.Chunker()
    out: list[tuple[int, int]] = []
    for i in range(0, len(data), block):
        out += chunker.feed(data[i : i + block])
    return out + chunker.finish()


def test_gear_hash_matches_the_byte_loop():
    data = _data(5000)
    hashes = cdc._hash_block(np.zeros(cdc.WINDOW - 1, dtype=np.uint32), data)
    h = 0
    for i, b in enumerate(data):
        h = ((h << 1) + int(cdc.GEAR[b])) & 0xFFFFFFFF
        assert int(hashes[i]) == h


def test_deterministic_and_covers_the_input_within_bounds():
    data = _data(6 << 20)
    cuts = _cuts(data, 1 << 20)
    assert cuts == _cuts(data, 1 << 20)
    assert cuts[0][0] == 0 and sum(n for _, n in cuts) == len(data)
    assert all(o1 + n1 == o2 for (o1, n1), (o2, _) in itertools.pairwise(cuts))
    assert all(cdc.MIN_SIZE <= n <= cdc.MAX_SIZE for _, n in cuts[:-1])
    assert 0 < cuts[-1][1] <= cdc.MAX_SIZE
    mean = len(data) / len(cuts)
    assert cdc.AVG_SIZE * 0.75 < mean < cdc.AVG_SIZE * 1.5


def test_block_boundaries_do_not_move_cuts():
    data = _data(3 << 20, seed=3)
    expected = _cuts(data, 1 << 20)
    for block in (4097, 65536, 300_001, 5 << 20):
        assert _cuts(data, block) == expected, block
    head = data[:300_000]  # tiny blocks (shorter than the hash window) on a shorter input
    for block in (7, 31, 32):
        assert _cuts(head, block) == _cuts(head, 1 << 20), block


def test_uniform_bytes_cut_at_max_size():
    cuts = _cuts(bytes(1 << 20), 1 << 16)
    assert [n for _, n in cuts] == [cdc.MAX_SIZE] * 4


def test_insertion_at_the_start_resyncs():
    data = _data(4 << 20, seed=11)
    edited = b"inserted bytes!" * 100 + data
    before = {d for d, _, _ in cdc.digest_chunks([data])}
    after = [d for d, _, _ in cdc.digest_chunks([edited])]
    new = [d for d in after if d not in before]
    assert len(new) <= 2 and len(after) > 40


def test_edit_in_the_middle_changes_few_chunks():
    data = bytearray(_data(4 << 20, seed=5))
    before = {d for d, _, _ in cdc.digest_chunks([bytes(data)])}
    data[2 << 20 : (2 << 20) + 1000] = bytes(1000)
    after = [d for d, _, _ in cdc.digest_chunks([bytes(data)])]
    assert 1 <= len([d for d in after if d not in before]) <= 3


def test_chunk_stream_yields_the_bytes_with_their_digests():
    data = _data(2 << 20, seed=9)
    parts = list(cdc.chunk_stream(data[i : i + 100_000] for i in range(0, len(data), 100_000)))
    assert b"".join(p for _, p in parts) == data
    digests = list(cdc.digest_chunks([data]))
    assert [(o, len(p)) for o, p in parts] == [(o, s) for _, s, o in digests]
    assert digests[0][0] == "sha256:" + hashlib.sha256(parts[0][1]).hexdigest()


def test_streaming_state_stays_bounded():
    """Whatever the total size, the digester holds at most one block plus one open chunk."""
    digester = cdc.ChunkDigester()
    block = 1 << 20
    rng = random.Random(13)
    total = 0
    for _ in range(48):
        total += sum(s for _, s, _ in digester.feed(rng.randbytes(block)))
        assert len(digester._buf) <= block + cdc.MAX_SIZE
        assert len(digester._chunker._easy) <= (block + cdc.MAX_SIZE) // 1000
    total += sum(s for _, s, _ in digester.finish())
    assert total == 48 * block
