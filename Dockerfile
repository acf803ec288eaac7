# One image for every role: `edgeloop api` (default), `edgeloop grpc`, `edgeloop worker`, `edgeloop migrate`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY api ./api
COPY core ./core
COPY workers ./workers
COPY proto ./proto
COPY migrations ./migrations
RUN python -m venv /opt/edgeloop \
 && /opt/edgeloop/bin/pip install --no-cache-dir --disable-pip-version-check -c constraints.txt .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 edgeloop
COPY --from=build /opt/edgeloop /opt/edgeloop
ENV PATH=/opt/edgeloop/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    EDGELOOP_HOST=0.0.0.0 \
    EDGELOOP_GRPC_HOST=0.0.0.0 \
    EDGELOOP_DATABASE_URL=sqlite+aiosqlite:////home/edgeloop/edgeloop.db
USER edgeloop
WORKDIR /home/edgeloop
EXPOSE 8000 50051
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
ENTRYPOINT ["edgeloop"]
CMD ["api"]
