"""The hashing/dedup service: owns the content index (which verified blobs exist, their size, where)."""
