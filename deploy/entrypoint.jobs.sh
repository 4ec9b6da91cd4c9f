#!/usr/bin/env bash
# Start a worker or scheduler container (docker-compose.prod.yml): wait for the database,
# then become the command (celery worker / celery beat). Migrations and static files are
# the web containers' (deploy/entrypoint.prod.sh); these start once web is healthy.
set -euo pipefail
cd "$(dirname "$0")/.."

python manage.py wait_for_db --tries "${DB_WAIT_TRIES:-30}" --delay "${DB_WAIT_DELAY:-1}"

exec "$@"
