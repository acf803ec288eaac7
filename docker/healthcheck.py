"""The image's HEALTHCHECK: each role is checked on its own port.

    edgeloop-healthcheck [serve|api|grpc|worker]

Without an argument the role is read from the container's main process (PID 1's command line), so
one image-level HEALTHCHECK fits every role: serve and api answer GET /healthz on EDGELOOP_PORT,
grpc answers grpc.health.v1 Check on EDGELOOP_GRPC_PORT, and a worker serves no port (its liveness
is its heartbeat in the database, shown by /v1/status): nothing to check here. Exit 0 = healthy.
"""

from __future__ import annotations

import os
import sys
import urllib.request

ROLES = ("serve", "api", "grpc", "worker", "migrate")


def role_of_pid1() -> str:
    try:
        with open("/proc/1/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "serve"
    return next((a for a in argv if a in ROLES), "serve")  # the entry point's default is serve


def http_ok() -> bool:
    port = os.environ.get("EDGELOOP_PORT", "8000")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        return bool(response.status == 200)


def grpc_ok() -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    port = os.environ.get("EDGELOOP_GRPC_PORT", "50051")
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def main() -> int:
    role = sys.argv[1] if len(sys.argv) > 1 else role_of_pid1()
    try:
        if role in ("serve", "api"):
            return 0 if http_ok() else 1
        if role == "grpc":
            return 0 if grpc_ok() else 1
    except Exception as exc:  # refused, timed out, NOT_SERVING: unhealthy, one line for `docker inspect`
        print(f"{role}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0  # worker (and a one-shot migrate): no port to check


if __name__ == "__main__":
    sys.exit(main())
