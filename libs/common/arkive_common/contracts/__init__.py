"""Every service's bus contract (see arkive_common.contract). `CONTRACTS` by service name; the
call graph they declare (`calls`) is checked against the code by tests/unit/test_call_graph.py."""

from __future__ import annotations

from ..contract import Contract
from .hashing import HASHING, HashingContract
from .ingest import INGEST, IngestContract
from .lineage import LINEAGE, LineageContract
from .retention import RETENTION, RetentionContract

ALL: tuple[IngestContract | HashingContract | LineageContract | RetentionContract, ...] = (
    INGEST,
    HASHING,
    LINEAGE,
    RETENTION,
)
CONTRACTS: dict[str, Contract] = {c.service: c for c in ALL}
# the services with bus consumers (dead letters, consumer checks)
CONSUMING: tuple[HashingContract | LineageContract | RetentionContract, ...] = (HASHING, LINEAGE, RETENTION)

__all__ = ["ALL", "CONSUMING", "CONTRACTS", "HASHING", "INGEST", "LINEAGE", "RETENTION"]
