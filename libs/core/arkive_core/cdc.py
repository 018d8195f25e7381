"""Content-defined chunking (a gear hash with FastCDC's normalized chunking), shared by the SDK and
the hashing service: both must cut the same bytes at the same places, or chunk dedup finds nothing.

The rolling hash at byte i is h_i = sum_{k<32} G[b_{i-k}] << k (mod 2^32), the value the classic
gear loop `h = (h << 1) + G[b]` holds after byte i. It depends only on the last 32 bytes, so a
block is hashed with numpy by doubling (h_2w(i) = h_w(i) + h_w(i - w) << w; five steps) instead of
a byte loop, and a cut point depends only on content: after an insertion the cuts resync within a
chunk or two. The high bits are tested (the low bits of h see only the last few bytes).

Cuts: a chunk is at least MIN_SIZE; below AVG_SIZE a candidate must pass the harder mask (18 high
bits zero), from AVG_SIZE on the easier one (14 bits); at MAX_SIZE it is cut regardless. Bytes
before the start of the stream count as absent, so cuts do not depend on how the input is split
into blocks (a test checks this).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

import numpy as np

MIN_SIZE = 16 * 1024
AVG_SIZE = 64 * 1024
MAX_SIZE = 256 * 1024
# Blobs from this size on are chunked (by the hashing service) and may be sent as chunks (by the SDK).
CHUNKED_FROM = 4 * 1024 * 1024
WINDOW = 32
_HARD_BITS = 18
_EASY_BITS = 14
# "The top N bits are zero" is "h < 2^(32 - N)"; every hard candidate is also an easy one.
_HARD_BELOW = 1 << (32 - _HARD_BITS)
_EASY_BELOW = 1 << (32 - _EASY_BITS)
# Blocks are hashed in pieces this big: the temporaries (4 bytes a byte) stay in the CPU cache,
# which measured ~2x faster than hashing 4 MiB at once.
_PIECE = 256 * 1024

# Fixed forever (changing it would change every cut): derived from sha256, not from an RNG whose
# stream could differ between numpy versions.
GEAR = np.array(
    [int.from_bytes(hashlib.sha256(b"arkive-cdc-gear-%d" % i).digest()[:4], "little") for i in range(256)],
    dtype=np.uint32,
)


def _hash_block(tail: np.ndarray, block: bytes) -> np.ndarray:
    """Gear hashes of every byte of `block`, given the gear values of the 31 bytes before it."""
    t = len(tail)
    g = np.empty(t + len(block), dtype=np.uint32)
    g[:t] = tail
    np.take(GEAR, np.frombuffer(block, dtype=np.uint8), out=g[t:])
    tmp = np.empty_like(g)
    w = 1
    while w < WINDOW:
        # After this step g[i] covers the 2w bytes ending at i (exact for every i >= t).
        np.left_shift(g[:-w], w, out=tmp[w:])
        np.add(g[w:], tmp[w:], out=g[w:])
        w *= 2
    return g[t:]


class Chunker:
    """Streaming chunker: feed() blocks of any size, get (offset, length) of each finished chunk;
    finish() returns the last one. Holds at most one open chunk plus one block."""

    def __init__(self) -> None:
        self._tail = np.zeros(WINDOW - 1, dtype=np.uint32)  # gear values of the last 31 bytes
        self._start = 0  # offset of the open chunk
        self._end = 0  # bytes seen
        self._hard = np.empty(0, dtype=np.int64)  # candidate cut positions (last byte of a chunk)
        self._easy = np.empty(0, dtype=np.int64)

    def feed(self, block: bytes) -> list[tuple[int, int]]:
        if not block:
            return []
        hard, easy = [self._hard], [self._easy]
        for at in range(0, len(block), _PIECE):
            piece = block[at : at + _PIECE]
            h = _hash_block(self._tail, piece)
            g = GEAR[np.frombuffer(piece[-(WINDOW - 1) :], dtype=np.uint8)]
            self._tail = np.concatenate((self._tail, g))[-(WINDOW - 1) :]
            e = np.flatnonzero(h < _EASY_BELOW)
            easy.append(e + self._end)
            hard.append(e[h[e] < _HARD_BELOW] + self._end)
            self._end += len(piece)
        self._hard, self._easy = np.concatenate(hard), np.concatenate(easy)
        cuts: list[tuple[int, int]] = []
        while (length := self._next_cut()) is not None:
            cuts.append((self._start, length))
            self._start += length
        # Candidates before the open chunk can never matter again.
        self._hard = self._hard[np.searchsorted(self._hard, self._start) :]
        self._easy = self._easy[np.searchsorted(self._easy, self._start) :]
        return cuts

    def _next_cut(self) -> int | None:
        """Length of the open chunk if its end is decided by the bytes seen so far."""
        s = self._start
        lo, mid, hi = s + MIN_SIZE - 1, s + AVG_SIZE - 1, s + MAX_SIZE - 1
        i = np.searchsorted(self._hard, lo)
        if i < len(self._hard) and self._hard[i] < mid:
            return int(self._hard[i]) - s + 1
        if self._end <= mid:
            return None  # a hard candidate may still come
        j = np.searchsorted(self._easy, mid)
        if j < len(self._easy) and self._easy[j] < hi:
            return int(self._easy[j]) - s + 1
        if self._end <= hi:
            return None
        return MAX_SIZE

    def finish(self) -> list[tuple[int, int]]:
        if self._end > self._start:
            last = [(self._start, self._end - self._start)]
            self._start = self._end
            return last
        return []


class ChunkDigester:
    """Chunker plus the bytes of the open chunk: feed() blocks, get (digest, size, offset) of each
    finished chunk. Memory: about one block plus one chunk, whatever the total size."""

    def __init__(self) -> None:
        self._chunker = Chunker()
        self._buf = b""
        self._buf_start = 0

    def _emit(self, cuts: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
        out = []
        for offset, length in cuts:
            at = offset - self._buf_start
            digest = "sha256:" + hashlib.sha256(memoryview(self._buf)[at : at + length]).hexdigest()
            out.append((digest, length, offset))
        return out

    def feed(self, block: bytes) -> list[tuple[str, int, int]]:
        self._buf = self._buf + block if self._buf else block
        out = self._emit(self._chunker.feed(block))
        keep = self._chunker._start - self._buf_start  # drop all but the open chunk
        if keep:
            self._buf = self._buf[keep:]
            self._buf_start = self._chunker._start
        return out

    def finish(self) -> list[tuple[str, int, int]]:
        return self._emit(self._chunker.finish())


def chunk_stream(blocks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of each chunk of the concatenated blocks, in bounded memory."""
    chunker = Chunker()
    buf = b""
    buf_start = 0
    for block in blocks:
        buf = buf + block if buf else block
        for offset, length in chunker.feed(block):
            at = offset - buf_start
            yield offset, buf[at : at + length]
        keep = chunker._start - buf_start
        if keep:
            buf = buf[keep:]
            buf_start = chunker._start
    for offset, length in chunker.finish():
        yield offset, buf[offset - buf_start : offset - buf_start + length]


def digest_chunks(blocks: Iterable[bytes]) -> Iterator[tuple[str, int, int]]:
    """(sha256 digest, size, offset) of each chunk."""
    d = ChunkDigester()
    for block in blocks:
        yield from d.feed(block)
    yield from d.finish()


def read_blocks(f, block_size: int = 4 * 1024 * 1024) -> Iterator[bytes]:
    while block := f.read(block_size):
        yield block
