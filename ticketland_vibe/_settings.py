"""Publisher settings: connection, topics, format, delivery and retry policy."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from ticketland_vibe._version import __version__
from ticketland_vibe.errors import ConfigurationError

ENV_PREFIX = "TICKETLAND_VIBE_"

KafkaConfigValue = str | int | float | bool

MessageFormat = Literal["json", "protobuf"]


class PublisherSettings(BaseModel):
    """Everything a publisher needs to know; nothing about Vibeapp's clusters is hard-coded.

    Build it with keywords, or with :meth:`from_env` from ``TICKETLAND_VIBE_*`` variables.
    Invalid settings raise :class:`~ticketland_vibe.errors.ConfigurationError`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    bootstrap_servers: str = Field(
        min_length=1, description="Comma-separated host:port list of the Kafka brokers."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Vibeapp's clusters use SASL_SSL."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="Used with the SASL protocols; Vibeapp uses SCRAM-SHA-512."
    )
    sasl_username: str | None = Field(None, description="SASL user name issued by Vibeapp.")
    sasl_password: SecretStr | None = Field(
        None, description="SASL password; a secret, never shown in repr, logs or errors."
    )
    ssl_ca_location: str | None = Field(
        None, description="Path of the CA certificate file the cloud provider publishes."
    )
    events_topic: str = Field("events", min_length=1, description="Topic of events.")
    orders_topic: str = Field("orders", min_length=1, description="Topic of orders.")
    refunds_topic: str = Field("refunds", min_length=1, description="Topic of refunds.")
    message_format: MessageFormat = Field(
        "json", description="Payload encoding: json (application/json) or protobuf."
    )
    application_id: str = Field(
        "ticketland", min_length=1, description="Default application-id header value."
    )
    schema_version: str = Field("1.0", min_length=1, description="schema-version header value.")
    delivery_timeout: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Seconds librdkafka may spend delivering one message, its own retries "
        "included (message.timeout.ms).",
    )
    retry_attempts: int = Field(
        4, ge=1, le=100, description="Attempts per message for retriable failures, first included."
    )
    retry_initial_backoff: float = Field(
        0.5, gt=0, description="Seconds before the first library-level retry."
    )
    retry_max_backoff: float = Field(10.0, gt=0, description="Upper bound of one backoff, s.")
    retry_total_timeout: float = Field(
        180.0, gt=0, description="Upper bound, s, of one publish or send_many call with retries."
    )
    queue_full_timeout: float = Field(
        5.0,
        ge=0,
        description="Seconds to wait for room when the local queue is full before failing.",
    )
    max_message_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Largest message accepted (key + value + headers); checked before sending.",
    )
    unknown_events: Literal["reject", "send"] = Field(
        "reject",
        description="What to do with an order whose events were never delivered: reject it "
        "with EventNotPublished (default), or send it with a WARNING.",
    )
    kafka_config: dict[str, KafkaConfigValue] = Field(
        default_factory=dict,
        description="Extra librdkafka properties, passed verbatim and applied last.",
    )

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigurationError(_describe(exc)) from None

    @model_validator(mode="after")
    def _check_sasl(self) -> PublisherSettings:
        if self.security_protocol.startswith("SASL_") and not (
            self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs sasl_username and sasl_password"
            )
        return self

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> PublisherSettings:
        """Read every setting from ``TICKETLAND_VIBE_<FIELD NAME IN CAPITALS>`` variables.

        ``TICKETLAND_VIBE_KAFKA_CONFIG`` holds a JSON object. Keyword overrides win.
        """
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None or raw == "":
                continue
            if name == "kafka_config":
                try:
                    data[name] = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise ConfigurationError(
                        f"{ENV_PREFIX}KAFKA_CONFIG is not a JSON object: {exc.msg} "
                        f"at position {exc.pos}"
                    ) from None
            else:
                data[name] = raw
        data.update(overrides)
        if "bootstrap_servers" not in data:
            raise ConfigurationError(
                f"{ENV_PREFIX}BOOTSTRAP_SERVERS is not set (the Kafka brokers to publish to)"
            )
        return cls(**data)

    def topic_for(self, entity: str) -> str:
        """The topic that carries ``entity`` ("event", "order" or "refund")."""
        topics = {
            "event": self.events_topic,
            "order": self.orders_topic,
            "refund": self.refunds_topic,
        }
        return topics[entity]

    def producer_config(self) -> dict[str, KafkaConfigValue]:
        """The librdkafka configuration: the library's defaults, then ``kafka_config``."""
        config: dict[str, KafkaConfigValue] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            # No duplicates or reordering from librdkafka's own retries; implies acks=all.
            "enable.idempotence": True,
            # An acknowledgement means every in-sync replica has the message.
            "acks": "all",
            # Vibeapp's reference consumer (aiokafka[lz4]) reads lz4; other codecs need agreement.
            "compression.type": "lz4",
            # The same key lands on the same partition as with the Java clients.
            "partitioner": "murmur2_random",
            # A few milliseconds of batching: throughput without a noticeable delay.
            "linger.ms": 5,
            "message.timeout.ms": int(self.delivery_timeout * 1000),
            # The producer's own limit matches the one checked before sending.
            "message.max.bytes": self.max_message_bytes + 4096,
            # Memory stays bounded while the broker is away: at most 64 MiB queued locally.
            "queue.buffering.max.kbytes": 65536,
            "client.id": f"ticketland-vibe/{__version__}",
        }
        if self.security_protocol.startswith("SASL_"):
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username or ""
            password = self.sasl_password
            config["sasl.password"] = password.get_secret_value() if password else ""
        if self.ssl_ca_location:
            config["ssl.ca.location"] = self.ssl_ca_location
        config.update(self.kafka_config)
        return config


def _describe(exc: ValidationError) -> str:
    """The settings' problems, by field, without any of the given values (secrets)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "<settings>"
        parts.append(f"{location}: {error['msg']}")
    return "invalid publisher settings: " + "; ".join(parts)
