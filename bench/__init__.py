"""Benchmarks (`make bench`). Results go to docs/performance.md."""
