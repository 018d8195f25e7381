"""Turns ArkiveError (from this process or from a service over the bus) into a gRPC status."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import grpc

from arkive_common.errors import ArkiveError

log = logging.getLogger(__name__)


def status_of(exc: ArkiveError) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, exc.code.value, grpc.StatusCode.INTERNAL)


def unary(fn: Callable):
    @functools.wraps(fn)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            return await fn(self, request, context)
        except ArkiveError as exc:
            await context.abort(status_of(exc), exc.message)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            log.exception("%s failed", fn.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {exc}")

    return wrapper


def streaming(fn: Callable):
    @functools.wraps(fn)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            async for item in fn(self, request, context):
                yield item
        except ArkiveError as exc:
            await context.abort(status_of(exc), exc.message)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            log.exception("%s failed", fn.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {exc}")

    return wrapper
