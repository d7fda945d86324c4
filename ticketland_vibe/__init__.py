"""Publish Ticketland's events, orders and refunds to Vibeapp over Kafka, by contract."""

from __future__ import annotations

from ticketland_vibe._version import __version__

__all__ = ["__version__"]
