"""Python side of the measurements: run the C harness, parse it, write data/ with provenance."""
