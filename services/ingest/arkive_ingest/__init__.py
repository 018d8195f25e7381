"""The ingest service: owns drafts and collections (versions, aliases, tags, labels, manifests)."""
