"""What arkive's clients and services share and a client needs: errors, validation, refs, limits, manifests,
content-defined chunking, tokens and credentials. Standard library and numpy only: installing the SDK
installs no server library (asyncpg, nats-py, aiobotocore live in arkive_common)."""
