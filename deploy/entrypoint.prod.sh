#!/usr/bin/env bash
# Start a production web container: wait for the database, migrate, collect the static
# files, publish them for Nginx, then become the command (gunicorn, by default).
#
# Replicas (`docker compose up --scale web=3`) start together and share the static volume,
# so they take turns through a lock on that volume: one migrates while the others wait and
# then find nothing to do (two `migrate` at once can both try to create the same table).
set -euo pipefail
cd "$(dirname "$0")/.."

python manage.py wait_for_db --tries "${DB_WAIT_TRIES:-30}" --delay "${DB_WAIT_DELAY:-1}"

prepare() {
  python manage.py migrate --no-input
  # Collected inside the container: Django reads its manifest from here, so another
  # replica's collectstatic can never rewrite it under a running process.
  python manage.py collectstatic --no-input --verbosity 0
  if [ -n "${STATIC_PUBLISH_ROOT:-}" ]; then
    # Nginx serves the shared volume. rsync writes each file under a temporary name and
    # renames it, so Nginx never sends a half-written file (which browsers would cache for
    # a year: hashed names are immutable). Nothing is deleted: pages rendered by the
    # previous release still link to its files.
    rsync --recursive --times "${DJANGO_STATIC_ROOT:-staticfiles}/" "$STATIC_PUBLISH_ROOT/"
  fi
}

if [ -n "${STATIC_PUBLISH_ROOT:-}" ]; then
  mkdir -p "$STATIC_PUBLISH_ROOT"
  # Released when the subshell ends, also when a step fails.
  (
    flock 9
    prepare
  ) 9>"$STATIC_PUBLISH_ROOT/.release.lock"
else
  prepare
fi

exec "$@"
