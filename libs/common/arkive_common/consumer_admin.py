"""The bus methods an operator reaches through the gateway for a service's bus consumers: list the
dead letters, re-drive one, and run the reconciler now (`arkive admin dead-letters`, `check`)."""

from __future__ import annotations

import asyncpg
import msgspec
from arkive_core.errors import FailedPrecondition, NotFound

from . import api, deadletters
from . import api_consumers as ac
from .consumer import NotYet, describe
from .contract import Handlers
from .contracts import admin
from .events import decode_envelope
from .reconcile import Reconciler


def _view(d: deadletters.DeadLetter) -> ac.DeadLetterView:
    try:
        event_type = decode_envelope(d.data).type
    except msgspec.DecodeError:
        event_type = ""
    return ac.DeadLetterView(
        id=d.id,
        consumer=d.consumer,
        event_id=d.event_id or "",
        event_type=event_type,
        subject=d.subject,
        stream_seq=d.stream_seq or 0,
        data_size=len(d.data),
        error=d.error,
        deliveries=d.deliveries,
        first_failure=d.first_failure.timestamp(),
        last_failure=d.last_failure.timestamp(),
    )


def serve_consumer_admin(handlers: Handlers, pool: asyncpg.Pool, reconcilers: list[Reconciler]) -> None:
    by_name = {r.consumer.name: r for r in reconcilers}

    async def list_letters(_: api.Empty) -> ac.DeadLetterList:
        letters = [_view(d) for name in by_name for d in await deadletters.list_for(pool, name)]
        return ac.DeadLetterList(letters=letters)

    async def retry(q: ac.RetryDeadLetter) -> ac.RetryResult:
        """Applies the parked event again through its consumer (exactly once: processed_events);
        the dead letter goes on success and stays, with the new error, on failure."""
        for name, reconciler in by_name.items():
            letter = await deadletters.get(pool, name, q.id)
            if letter is not None:
                return await _retry(pool, reconciler, letter)
        raise NotFound(f"no dead letter {q.id} here")

    async def check(_: api.Empty) -> ac.CheckResult:
        results = [await r.check(wait=True) for r in reconcilers]
        return ac.CheckResult(consumers=[c for c in results if c is not None])

    handlers.handle(admin.dead_letters(handlers.service), list_letters)
    handlers.handle(admin.retry_dead_letter(handlers.service), retry)
    handlers.handle(admin.check_consumers(handlers.service), check)


async def _retry(pool: asyncpg.Pool, reconciler: Reconciler, letter: deadletters.DeadLetter) -> ac.RetryResult:
    try:
        env = decode_envelope(letter.data)
    except msgspec.DecodeError as exc:
        raise FailedPrecondition(f"dead letter {letter.id} cannot be decoded, so it cannot be retried: {exc}") from None
    try:
        applied = await reconciler.consumer.handle(env)
    except NotYet as exc:
        error = f"still waiting for an earlier event: {exc}"
    except Exception as exc:
        error = f"still fails: {describe(exc)}"
    else:
        await deadletters.remove(pool, letter.id)
        return ac.RetryResult(id=letter.id, consumer=letter.consumer, event_id=env.id, applied=applied)
    await deadletters.record_retry_failure(pool, letter.id, error)
    raise FailedPrecondition(f"dead letter {letter.id} ({env.type} {env.id}): {error}")
