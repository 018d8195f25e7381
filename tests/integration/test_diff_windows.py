"""The windowed manifest join of DiffFiles (ingest diff.py) against a diff computed in Python, with
tiny windows so that every page spans many of them."""

from __future__ import annotations

import random
import uuid

from arkive_common.db import create_pool
from arkive_ingest import diff


async def test_windowed_pages_equal_a_plain_diff(stack, monkeypatch):
    monkeypatch.setattr(diff, "MIN_WINDOW", 3)
    monkeypatch.setattr(diff, "MAX_WINDOW", 40)
    rnd = random.Random(7)
    a, b = (f"sha256:windows-{side}-{uuid.uuid4().hex}" for side in "ab")
    files_a = {f"d{rnd.randrange(30)}/f{i:04d}": (f"sha256:{i:064x}", i) for i in range(600)}
    files_b = {}
    for path, (digest, size) in files_a.items():
        roll = rnd.random()
        if roll < 0.05:
            continue  # removed
        files_b[path] = (f"sha256:{'e' * 64}", size + 1) if roll < 0.1 else (digest, size)
    files_b.update({f"new/{i:03d}": (f"sha256:{'a' * 64}", i) for i in range(25)})
    refs_b = {"d1/ref": ("s3://bucket/key", "etag-1")}  # a reference only in b
    expected = sorted(
        [(p, "removed") for p in files_a if p not in files_b]
        + [(p, "added") for p in [*files_b, *refs_b] if p not in files_a]
        + [(p, "changed") for p in files_a if p in files_b and files_b[p] != files_a[p]]
    )
    pool = await create_pool(stack.database_url)
    try:
        for m, files in ((a, files_a), (b, files_b)):
            await pool.copy_records_to_table(
                "ingest_manifest_entries",
                records=[(m, p, d, s) for p, (d, s) in files.items()],
                columns=["manifest_digest", "path", "digest", "size"],
            )
        await pool.execute(
            "INSERT INTO ingest_manifest_references"
            " (manifest_digest, path, uri, etag, version_id, checksum, digest, size)"
            " VALUES ($1, 'd1/ref', 's3://bucket/key', 'etag-1', '', true, '', 5)",
            b,
        )
        got, after = [], ""
        async with pool.acquire() as conn:
            while True:
                rows = await diff._changes(conn, a, b, after, 8)
                page = [diff._change(r) for r in rows[:7]]
                got += [(c.path, c.change) for c in page]
                if len(rows) <= 7:
                    break
                after = page[-1].path
        # Every difference exactly once, in the database's path order (its collation, not Python's).
        assert sorted(got) == expected and len(set(got)) == len(got) and len(expected) > 60
        order = await pool.fetch("SELECT p FROM unnest($1::text[]) p ORDER BY p", [p for p, _ in got])
        assert [r["p"] for r in order] == [p for p, _ in got]
    finally:
        await pool.execute("DELETE FROM ingest_manifest_entries WHERE manifest_digest = ANY($1::text[])", [a, b])
        await pool.execute("DELETE FROM ingest_manifest_references WHERE manifest_digest = $1", b)
        await pool.close()
