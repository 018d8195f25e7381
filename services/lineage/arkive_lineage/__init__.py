"""The lineage service: owns the graph of runs and artifact versions, built only from events."""
