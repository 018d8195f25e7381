"""Turns ArkiveError (from this process or from a service over the bus) into a gRPC status."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable

import grpc
from arkive_core.errors import ArkiveError

from arkive_common.rpc import failure

# A client still sending when the call is rejected can see grpc core's bare "Internal error from Core"
# instead of our status; reading (and dropping) the rest of its stream first avoids that race. Bounded:
# a rejected multi-gigabyte upload is cut off instead.
DRAIN_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 10.0
MAX_MESSAGE_CHARS = 2000  # percent-encoded, non-ASCII triples: still far below the 16 KiB trailer limit


async def _drain(requests: AsyncIterator) -> None:
    seen = 0
    with contextlib.suppress(Exception):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for msg in requests:
                seen += msg.ByteSize()
                if seen > DRAIN_BYTES:
                    return


async def _abort_unexpected(exc: Exception, method: str, context: grpc.aio.ServicerContext) -> None:
    """Not an ArkiveError: the client gets a code and a generic message, the details go to the log."""
    code, message = failure(exc, f"gateway.{method}")
    await context.abort(getattr(grpc.StatusCode, code.value), message)


def client_message(exc: ArkiveError) -> str:
    """The message as sent: gRPC carries it in a trailer a client refuses beyond 16 KiB (it would see
    RESOURCE_EXHAUSTED instead of our status), so a message that echoes a long value is cut."""
    text = exc.message
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "... (cut)"


def status_of(exc: ArkiveError) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, exc.code.value, grpc.StatusCode.INTERNAL)


def unary(fn: Callable):
    @functools.wraps(fn)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            return await fn(self, request, context)
        except ArkiveError as exc:
            if hasattr(request, "__aiter__"):  # a client stream (uploads): let the client finish sending
                await _drain(request)
            await context.abort(status_of(exc), client_message(exc))
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort_unexpected(exc, fn.__name__, context)

    return wrapper


def streaming(fn: Callable):
    @functools.wraps(fn)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            async for item in fn(self, request, context):
                yield item
        except ArkiveError as exc:
            await context.abort(status_of(exc), client_message(exc))
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort_unexpected(exc, fn.__name__, context)

    return wrapper
