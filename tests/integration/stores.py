"""The stack's blob store as a test opens it (`async with stack_store(stack) as store:`)."""

from __future__ import annotations

from arkive_common.blobstore import BlobStore


def stack_store(stack) -> BlobStore:
    """A BlobStore on the stack's bucket, not yet open."""
    env = stack.env
    return BlobStore(
        env["ARKIVE_S3_ENDPOINT"],
        env["ARKIVE_S3_ACCESS_KEY"],
        env["ARKIVE_S3_SECRET_KEY"],
        env["ARKIVE_S3_BUCKET"],
        env["ARKIVE_S3_REGION"],
    )
