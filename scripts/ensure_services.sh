#!/usr/bin/env bash
# Start PostgreSQL and Redis if they are not up (the tests use both as real services).
set -u
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" || true
  sleep 1
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not available at 127.0.0.1:5432" >&2; exit 1; }
