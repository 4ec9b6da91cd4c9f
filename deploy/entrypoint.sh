#!/usr/bin/env bash
# Start the development container: wait for the database, migrate, collect the static
# files, seed the demo contests, then become the command (runserver, by default).
# With DATABASE_MIGRATE_URL set, as in production, migrations run as that owner and the
# role of DATABASE_URL gets the portal's grants (docs/security.md).
set -euo pipefail
cd "$(dirname "$0")/.."

app_url=$DATABASE_URL
owner_url=${DATABASE_MIGRATE_URL:-$DATABASE_URL}
DATABASE_URL=$owner_url python manage.py wait_for_db \
  --tries "${DB_WAIT_TRIES:-30}" --delay "${DB_WAIT_DELAY:-1}"
# The checkout's translations (bind-mounted over the image's), as bin/install compiles them.
python manage.py compilemessages --ignore .venv --verbosity 0
DATABASE_URL=$owner_url python manage.py migrate --no-input
if [ -n "${DATABASE_MIGRATE_URL:-}" ]; then
  APP_DATABASE_URL=$app_url DATABASE_URL=$owner_url python manage.py grant_app_role
fi
unset DATABASE_MIGRATE_URL owner_url app_url
python manage.py collectstatic --no-input --verbosity 0
# The demo contest C0001, running from today: what `docker compose up` promises to show.
python manage.py seed_demo

exec "$@"
