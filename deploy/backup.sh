#!/bin/sh
# The backup service (docker-compose.prod.yml): pg_dump -Fc of the portal's database into
# BACKUP_DIR, nightly at BACKUP_TIME (UTC), keeping BACKUP_KEEP_DAYS days. docs/backups.md.
#
#   backup.sh run     dump now if there is no dump of the last day, then nightly (the service)
#   backup.sh once    dump now and prune
#   backup.sh check   the health check: a dump of the last 25 hours exists
#
# The database comes from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE), which default to the POSTGRES_* ones of .env.prod: no password on a command
# line. POSIX sh: the postgres image (Alpine) has no bash.
set -eu

BACKUP_DIR=${BACKUP_DIR:-/backups}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
BACKUP_TIME=${BACKUP_TIME:-02:30}
PGUSER=${PGUSER:-${POSTGRES_USER:-postgres}}
PGDATABASE=${PGDATABASE:-${POSTGRES_DB:-$PGUSER}}
export PGUSER PGDATABASE
if [ -n "${POSTGRES_PASSWORD:-}" ] && [ -z "${PGPASSWORD:-}" ]; then
  PGPASSWORD=$POSTGRES_PASSWORD
  export PGPASSWORD
fi

say() {
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) backup: $*"
}

dump() {
  mkdir -p "$BACKUP_DIR"
  name="$BACKUP_DIR/$PGDATABASE-$(date -u +%Y%m%dT%H%M%SZ).dump"
  # Written under a temporary name and renamed once complete: a dump that is there is whole.
  pg_dump --format=custom --no-owner --file="$name.partial"
  mv "$name.partial" "$name"
  say "wrote $name ($(wc -c < "$name") bytes)"
}

prune() {
  # Dumps older than BACKUP_KEEP_DAYS days, and partial files a crash left behind.
  find "$BACKUP_DIR" -maxdepth 1 -type f \( -name '*.dump' -o -name '*.dump.partial' \) \
    -mtime +"$((BACKUP_KEEP_DAYS - 1))" -print -exec rm -f {} \; | while read -r old; do
    say "removed $old (older than $BACKUP_KEEP_DAYS days)"
  done
}

recent() {
  # A dump written in the last $1 minutes?
  [ -n "$(find "$BACKUP_DIR" -maxdepth 1 -type f -name '*.dump' -mmin -"$1" 2>/dev/null)" ]
}

seconds_until() {
  # Seconds from now until the next $1 (HH:MM, UTC).
  hours=$(echo "$1" | cut -d: -f1 | sed 's/^0*//')
  minutes=$(echo "$1" | cut -d: -f2 | sed 's/^0*//')
  target=$(( ${hours:-0} * 3600 + ${minutes:-0} * 60 ))
  now=$(( $(date -u +%s) % 86400 ))
  wait=$(( (target - now + 86400) % 86400 ))
  [ "$wait" -eq 0 ] && wait=86400
  echo "$wait"
}

case "${1:-run}" in
  once)
    dump
    prune
    ;;
  check)
    recent 1500
    ;;
  run)
    if ! recent 1440; then
      dump
      prune
    fi
    while true; do
      wait=$(seconds_until "$BACKUP_TIME")
      say "next dump at $BACKUP_TIME UTC, in $wait s"
      sleep "$wait"
      # A failed dump is logged and tried again the next night; the health check sees it.
      if dump; then prune; else say "pg_dump failed"; fi
    done
    ;;
  *)
    echo "usage: backup.sh [run|once|check]" >&2
    exit 2
    ;;
esac
