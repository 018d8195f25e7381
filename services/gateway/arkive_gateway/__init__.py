"""The gRPC gateway: the only public entry point. Validates requests, moves blob bytes (hashing
them on the way), and forwards commands and queries to the owning services over the bus."""
