"""The bus contracts (arkive_common.contracts): one definition per method, and registration that
refuses a handler whose types or service do not match its contract."""

from __future__ import annotations

import msgspec
import pytest

from arkive_common import api
from arkive_common.contract import Handlers, Rpc
from arkive_common.contracts import ALL, CONTRACTS, HASHING, INGEST


def test_each_method_is_defined_once_by_its_own_service() -> None:
    for contract in ALL:
        rpcs = list(contract.rpcs())
        assert rpcs and all(r.service == contract.service for r in rpcs), contract.service
        names = [r.name for r in rpcs]
        assert len(names) == len(set(names)), contract.service
        for r in rpcs:
            assert issubclass(r.request, msgspec.Struct) and issubclass(r.response, msgspec.Struct), r


def test_resendable_methods_are_the_idempotent_ones() -> None:
    resendable = {str(r) for c in ALL for r in c.rpcs() if r.resend}
    assert "ingest.get_version" in resendable and "hashing.lease" in resendable
    assert "ingest.abort_draft" not in resendable and "hashing.gc_sweep" not in resendable
    assert {f"{s}.ping" for s in CONTRACTS} <= resendable


async def get_version(q: api.GetVersion) -> api.VersionView:
    raise NotImplementedError


async def wrong_request(q: api.StatBlobs) -> api.VersionView:
    raise NotImplementedError


async def wrong_reply(q: api.GetVersion) -> api.Empty:
    raise NotImplementedError


def test_a_handler_is_checked_against_its_contract_at_registration() -> None:
    handlers = Handlers("ingest")
    handlers.handle(INGEST.get_version, get_version)
    with pytest.raises(ValueError, match="twice"):
        handlers.handle(INGEST.get_version, get_version)
    with pytest.raises(TypeError, match="takes"):
        handlers.handle(INGEST.find_by_manifest, wrong_request)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="returns"):
        Handlers("ingest").handle(INGEST.get_version, wrong_reply)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="belongs to hashing"):
        handlers.handle(HASHING.stat, lambda q: None)  # type: ignore[arg-type,return-value]
    assert list(handlers.by_name) == ["get_version"]


def test_an_rpc_names_its_subject_parts() -> None:
    rpc = Rpc("svc", "echo", api.Empty, api.Pong)
    assert str(rpc) == "svc.echo" and rpc.timeout == 30.0 and not rpc.resend
