"""Prometheus metrics (prometheus-client). Under `idp serve` every worker writes to the folder named
by PROMETHEUS_MULTIPROC_DIR and /metrics adds them up (multi-process mode); in a single process the
default registry is used."""

from __future__ import annotations

import os

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # must exist before the first metric is created
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (  # noqa: E402
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REQUESTS = Counter("idp_http_requests", "HTTP requests by endpoint, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("idp_http_request_duration_seconds", "Time to answer a request, by endpoint", ["endpoint"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
TOKENS = Counter("idp_tokens_issued", "Token responses by grant type", ["grant_type"])
EVENTS = Counter("idp_audit_events", "Audit events by event and outcome (sign-ins are login.*)",
                 ["event", "outcome"])
THROTTLED = Counter("idp_throttled_requests", "Requests refused with 429 Too Many Requests, by endpoint",
                    ["endpoint"])
KEY_SINCE = Gauge("idp_signing_key_activated_timestamp_seconds",
                  "When the signing key in use began signing (age = time() - this)", multiprocess_mode="max")


def audit_event(event: str, outcome: str) -> None:
    EVENTS.labels(event, outcome).inc()


def exposition() -> tuple[bytes, str]:
    """The text exposition of every worker's metrics (or this process's)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
