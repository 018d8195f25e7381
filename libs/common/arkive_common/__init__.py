"""Shared building blocks of arkive. A library: imported by services and the SDK, never run."""
