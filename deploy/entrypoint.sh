#!/usr/bin/env bash
# Start the development container: wait for the database, migrate, collect the static
# files, seed the demo contests, then become the command (runserver, by default).
set -euo pipefail
cd "$(dirname "$0")/.."

python manage.py wait_for_db --tries "${DB_WAIT_TRIES:-30}" --delay "${DB_WAIT_DELAY:-1}"
# The checkout's translations (bind-mounted over the image's), as bin/install compiles them.
python manage.py compilemessages --ignore .venv --verbosity 0
python manage.py migrate --no-input
python manage.py collectstatic --no-input --verbosity 0
# The demo contest C0001, running from today: what `docker compose up` promises to show.
python manage.py seed_demo

exec "$@"
