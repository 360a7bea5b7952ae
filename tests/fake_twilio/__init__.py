"""A local fake of Twilio's Messages REST resource, for tests and benchmarks (see server.py)."""

from .server import Action, FakeTwilio, drop, error, server_error, slow, too_many

__all__ = ["Action", "FakeTwilio", "drop", "error", "server_error", "slow", "too_many"]
