"""Prometheus metrics shared by every door (the process-wide default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from core.store.db import DB_QUERIES

__all__ = ["DB_QUERIES"]  # declared beside the engine it counts; listed here with the others

HTTP_REQUESTS = Counter(
    "edgeloop_http_requests_total", "HTTP requests by route and status.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "edgeloop_http_request_duration_seconds",
    "HTTP request latency by route.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRPC_REQUESTS = Counter("edgeloop_grpc_requests_total", "gRPC calls by method and code.", ["method", "code"])
EVENTS_INGESTED = Counter("edgeloop_events_ingested_total", "Events stored, by type.", ["type"])
EVENTS_DUPLICATE = Counter("edgeloop_events_duplicate_total", "Events skipped as duplicates, by type.", ["type"])
EVENTS_REJECTED = Counter("edgeloop_events_rejected_total", "Batches rejected, by reason code.", ["code"])
CYCLES = Counter("edgeloop_cycles_total", "Learning cycles finished, by kind and status.", ["kind", "status"])
CYCLE_DURATION = Histogram(
    "edgeloop_cycle_duration_seconds",
    "Wall time of a cycle attempt, claim to record, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
PARAMS_CACHE = Counter(
    "edgeloop_params_cache_total",
    "Current-params lookups answered from the process cache (hit) or the DB (miss).",
    ["result"],
)
NOTIFICATIONS = Counter(
    "edgeloop_notifications_received_total", "Cross-process notifications received, by kind.", ["kind"]
)
QUEUE_DEPTH = Gauge("edgeloop_queue_depth", "Cycles waiting to run (queued), as of the last /metrics scrape.")
