#!/bin/sh
# The image's entry point. No arguments (a plain `docker run -p 8000:8000 IMAGE`): migrate the
# database (by default SQLite on the /data volume) and serve API + gRPC + embedded jobs. With
# arguments: that edgeloop command (`api`, `grpc`, `worker`, `migrate`, `--help`, ...).
set -e
if [ "$#" -eq 0 ]; then
  edgeloop migrate
  exec edgeloop serve
fi
exec edgeloop "$@"
