"""The bus contract of the hashing service: the blob index (content-addressed, deduplicated),
composites, leases, garbage collection and scrubs."""

from __future__ import annotations

from .. import api
from .. import api_gc as ag
from .. import api_retention as ra
from .. import api_scrub as sc
from ..contract import Contract, Rpc
from . import admin

SERVICE = "hashing"
S = SERVICE
GC_TIMEOUT = 3600.0  # the staging sweep and repack of a large store
GC_STEP_TIMEOUT = 600.0  # one page: its locks, index rows and objects
SCRUB_TIMEOUT = 600.0  # one page reads up to max_bytes from S3 (and at least one whole object)


class HashingContract(Contract):
    service = SERVICE
    calls = ()

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
    # garbage collection in steps, run by the gateway (arkive_gateway/gc.py), which asks ingest in between
    gc_begin = Rpc(S, "gc_begin", ra.CollectGarbage, ag.GcStarted, timeout=GC_STEP_TIMEOUT)
    gc_candidates = Rpc(S, "gc_candidates", ag.GcCandidates, ag.GcPage, resend=True)
    gc_flush = Rpc(S, "gc_flush", ag.GcFlush, api.Empty, resend=True, timeout=GC_STEP_TIMEOUT)
    gc_sweep = Rpc(S, "gc_sweep", ag.GcSweep, ag.GcSwept, timeout=GC_STEP_TIMEOUT)
    gc_finish = Rpc(S, "gc_finish", ag.GcFinish, ra.GcResult, timeout=GC_TIMEOUT)
    scrub = Rpc(S, "scrub", sc.ScrubPage, sc.ScrubReport, timeout=SCRUB_TIMEOUT)
    verify_blobs = Rpc(S, "verify_blobs", sc.VerifyBlobs, sc.ScrubReport, timeout=SCRUB_TIMEOUT)


HASHING = HashingContract()
