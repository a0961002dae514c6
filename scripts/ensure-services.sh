#!/usr/bin/env bash
# Make PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379) available for the tests.
# Uses what is installed; installs Debian's packages only where they are missing.
set -u
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -n "$ver" ]; then
    conf=/etc/postgresql/$ver/main/pg_hba.conf
    # trust auth on loopback for the test user, as on the project's machines
    if [ -f "$conf" ] && ! grep -q "govaudit-trust" "$conf"; then
      $SUDO sed -i '1i host all all 127.0.0.1/32 trust # govaudit-trust\nhost all all ::1/128 trust # govaudit-trust' "$conf"
    fi
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || $SUDO pg_ctlcluster "$ver" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! redis_up; then
  command -v redis-server >/dev/null 2>&1 || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null; }
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
fi
pg_up && echo "postgresql: up" || echo "postgresql: NOT available"
redis_up && echo "redis: up" || echo "redis: NOT available"
