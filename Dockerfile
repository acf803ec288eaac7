# One image for every role. Default (no arguments): migrate the SQLite database on the /data volume and
# `edgeloop serve` (API + gRPC + embedded jobs), so `docker run -p 8000:8000 IMAGE` works. With arguments:
# that command, e.g. `api`, `grpc`, `worker`, `migrate` (docker-compose.yml runs the production shape).
# One stage: every dependency is a wheel (nothing to compile, no build tools to leave behind), and the
# layers stay ordered by how often they change: a code change rebuilds only the last few, in seconds.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 edgeloop && mkdir /data && chown edgeloop /data
WORKDIR /src
# Dependencies: pyproject's list pinned by constraints.txt; rebuilt only when those two files change.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > requirements.txt \
 && python -m venv /opt/edgeloop \
 && /opt/edgeloop/bin/pip install --no-cache-dir --disable-pip-version-check -c constraints.txt -r requirements.txt
COPY docker/entrypoint.sh /usr/local/bin/edgeloop-entrypoint
COPY docker/healthcheck.py /opt/edgeloop/healthcheck.py
RUN printf '#!/bin/sh\nexec /opt/edgeloop/bin/python /opt/edgeloop/healthcheck.py "$@"\n' > /usr/local/bin/edgeloop-healthcheck \
 && chmod 755 /usr/local/bin/edgeloop-entrypoint /usr/local/bin/edgeloop-healthcheck
COPY README.md ./
COPY api ./api
COPY core ./core
COPY workers ./workers
COPY proto ./proto
COPY migrations ./migrations
RUN /opt/edgeloop/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps . && rm -rf /src/build
ENV PATH=/opt/edgeloop/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    EDGELOOP_HOST=0.0.0.0 \
    EDGELOOP_GRPC_HOST=0.0.0.0 \
    EDGELOOP_DATABASE_URL=sqlite+aiosqlite:////data/edgeloop.db
USER edgeloop
WORKDIR /home/edgeloop
VOLUME ["/data"]
EXPOSE 8000 50051
# Role-aware: serve/api check GET /healthz on EDGELOOP_PORT, grpc the gRPC health service on
# EDGELOOP_GRPC_PORT, a worker has no port (docker/healthcheck.py).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["edgeloop-healthcheck"]
ENTRYPOINT ["edgeloop-entrypoint"]
CMD []
