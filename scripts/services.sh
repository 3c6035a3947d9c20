#!/usr/bin/env bash
# Start the loopback services the tests use (PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379)
# when they are down. Uses the machine's Debian packages; starts nothing that is already up.
set -uo pipefail

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "services: starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting Redis" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for _ in $(seq 1 30); do
  pg_ok=1; redis_ok=1
  command -v pg_isready >/dev/null 2>&1 && { pg_isready -q -h 127.0.0.1 -p 5432 || pg_ok=0; }
  command -v redis-cli >/dev/null 2>&1 && { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis_ok=0; }
  [ "$pg_ok" = 1 ] && [ "$redis_ok" = 1 ] && exit 0
  sleep 1
done
echo "services: PostgreSQL or Redis did not come up on loopback" >&2
exit 1
