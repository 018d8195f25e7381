"""`make bench`: arkive's SDK against the raw limits of the same machine, measured in the same run.

It starts a throw-away stack (NATS, PostgreSQL, SeaweedFS and the five services on free ports in a
temp dir), writes seeded datasets next to it, and for each dataset measures with the SDK: the first
log, an unchanged re-log, a log after adding ~10 % new files, a 1 MiB edit, and a download of the
whole version (`python -m benchmarks.memory_bench`: peak RSS of a 1 GiB upload and download).
Each is compared with a raw limit measured in the same run on the same SeaweedFS: aiobotocore PUTs
or GETs of the same bytes as the same number of objects (separate bucket), or sha256 of the bytes.

    python -m benchmarks [--quick] [--json out.json] [--profile DIR]

Exit status: 0 when every correctness check held (targets are reported, never enforced), 1 when a
check failed (an unchanged re-log made a version or sent bytes, a download differs, ...).
"""
