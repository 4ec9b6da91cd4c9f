#!/usr/bin/env bash
# Start a production web container: refuse to start on placeholder or weak settings, wait
# for the database, migrate as its owner and give the portal's own role its grants,
# collect the static files, publish them for Nginx, check the role the portal will run
# as, then become the command (gunicorn, by default) without the owner's password.
#
# Replicas (`docker compose up --scale web=3`) start together and share the static volume,
# so they take turns through a lock on that volume: one migrates while the others wait and
# then find nothing to do (two `migrate` at once can both try to create the same table).
set -euo pipefail
cd "$(dirname "$0")/.."

# .env.prod.example's placeholders, a short secret, no REDIS_URL: stop here, before the
# database is touched (portal/checks.py and Django's own deploy checks).
python manage.py check --deploy --fail-level WARNING

# DATABASE_URL is the portal's role, which may not exist before the first grant: the
# owner's URL waits for the database and migrates (docs/security.md).
app_url=$DATABASE_URL
owner_url=${DATABASE_MIGRATE_URL:-$DATABASE_URL}
DATABASE_URL=$owner_url python manage.py wait_for_db \
  --tries "${DB_WAIT_TRIES:-30}" --delay "${DB_WAIT_DELAY:-1}"

prepare() {
  DATABASE_URL=$owner_url python manage.py migrate --no-input
  if [ -n "${DATABASE_MIGRATE_URL:-}" ]; then
    APP_DATABASE_URL=$app_url DATABASE_URL=$owner_url python manage.py grant_app_role
  fi
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

# As the portal's role now: it must not be able to rewrite the record (portal.E004).
python manage.py check --deploy --tag database --database default --fail-level WARNING

# The portal never needs the owner's password: it does not reach gunicorn.
unset DATABASE_MIGRATE_URL owner_url app_url
exec "$@"
