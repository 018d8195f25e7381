"""The bus contract of the hashing service: the blob index (content-addressed, deduplicated),
composites, leases, garbage collection and scrubs."""

from __future__ import annotations

from .. import api
from .. import api_retention as ra
from .. import api_scrub as sc
from ..contract import Contract, Rpc
from . import admin

SERVICE = "hashing"
S = SERVICE
GC_TIMEOUT = 3600.0  # a sweep of a large store
SCRUB_TIMEOUT = 600.0  # one page reads up to max_bytes from S3 (and at least one whole object)


class HashingContract(Contract):
    service = SERVICE
    calls = ("ingest",)

    ping = admin.ping(S)
    rebuild = admin.rebuild(S)
    dead_letters = admin.dead_letters(S)
    retry_dead_letter = admin.retry_dead_letter(S)
    check_consumers = admin.check_consumers(S)
    # blobs are keyed by digest: registering one twice indexes it once
    stat = Rpc(S, "stat", api.StatBlobs, api.BlobInfos, resend=True)
    lease = Rpc(S, "lease", api.StatBlobs, api.BlobInfos, resend=True)  # stat + keep from GC for the grace period
    register = Rpc(S, "register", api.RegisterBlob, api.Registered, resend=True)
    register_object = Rpc(S, "register_object", api.RegisterBlob, api.Registered)  # a digest at an existing key
    register_pack = Rpc(S, "register_pack", api.RegisterPack, api.PackRegistered, resend=True)
    compose = Rpc(S, "compose", api.ComposeBlob, api.Composed)
    recipe = Rpc(S, "recipe", api.RecipeQuery, api.RecipePage, resend=True)
    count_received = Rpc(S, "count_received", api.CountReceived, api.Empty)
    blob_stats = Rpc(S, "blob_stats", api.Empty, api.BlobStats, resend=True)
    collect_garbage = Rpc(S, "collect_garbage", ra.CollectGarbage, ra.GcResult, timeout=GC_TIMEOUT)
    scrub = Rpc(S, "scrub", sc.ScrubPage, sc.ScrubReport, timeout=SCRUB_TIMEOUT)
    verify_blobs = Rpc(S, "verify_blobs", sc.VerifyBlobs, sc.ScrubReport, timeout=SCRUB_TIMEOUT)


HASHING = HashingContract()
