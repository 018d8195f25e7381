"""Where a client goes when nothing says otherwise (no imports: the CLI's parser reads these)."""

DEFAULT_GATEWAY = "127.0.0.1:50051"
DEFAULT_PROJECT = "default"
