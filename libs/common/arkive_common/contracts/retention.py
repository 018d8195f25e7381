"""The bus contract of the retention service: TTLs, policies, and plan/apply of deletions."""

from __future__ import annotations

from .. import api
from .. import api_retention as ra
from ..contract import Contract, Rpc, Timeout
from . import admin

SERVICE = "retention"
S = SERVICE


class RetentionContract(Contract):
    service = SERVICE
    calls = ("ingest",)

    ping = admin.ping(S)
    rebuild = admin.rebuild(S)
    dead_letters = admin.dead_letters(S)
    retry_dead_letter = admin.retry_dead_letter(S)
    check_consumers = admin.check_consumers(S)
    set_version_ttl = Rpc(S, "set_version_ttl", ra.SetVersionTtl, api.Empty)
    set_default_ttl = Rpc(S, "set_default_ttl", ra.SetDefaultTtl, api.Empty)
    put_policy = Rpc(S, "put_policy", ra.Policy, ra.Policy)
    remove_policy = Rpc(S, "remove_policy", ra.PolicyRef, api.Empty)
    list_policies = Rpc(S, "list_policies", ra.ProjectQuery, ra.PolicyList)
    plan = Rpc(S, "plan", ra.PlanRequest, ra.Plan, timeout=Timeout.BULK)
    apply = Rpc(S, "apply", ra.PlanRequest, ra.ApplyResult, timeout=Timeout.BULK)
    get_version_ttl = Rpc(S, "get_version_ttl", api.GetVersion, ra.VersionTtl)


RETENTION = RetentionContract()
