"""The three headers every message carries, per the contract."""

from __future__ import annotations

from ticketland_vibe._message import Header

CONTENT_TYPE = "content-type"
SCHEMA_VERSION = "schema-version"
APPLICATION_ID = "application-id"

JSON_CONTENT_TYPE = "application/json"
PROTOBUF_CONTENT_TYPE = "application/x-protobuf"

CONTENT_TYPES = {"json": JSON_CONTENT_TYPE, "protobuf": PROTOBUF_CONTENT_TYPE}


class HeaderFactory:
    """Builds header tuples, encoding each distinct value to UTF-8 once."""

    def __init__(self, *, content_type: str, schema_version: str) -> None:
        self._fixed: tuple[Header, Header] = (
            (CONTENT_TYPE, content_type.encode()),
            (SCHEMA_VERSION, schema_version.encode()),
        )
        self._cache: dict[str, tuple[tuple[Header, ...], int]] = {}

    def headers(self, application_id: str) -> tuple[tuple[Header, ...], int]:
        """The headers of a message from ``application_id``, and the bytes they add to it."""
        cached = self._cache.get(application_id)
        if cached is None:
            if not isinstance(application_id, str) or not application_id.strip():
                raise ValueError("application_id must be a non-blank string")
            headers = (*self._fixed, (APPLICATION_ID, application_id.encode()))
            cached = (headers, sum(len(name) + len(value) for name, value in headers))
            if len(self._cache) < 1024:
                self._cache[application_id] = cached
        return cached
