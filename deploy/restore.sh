#!/bin/sh
# Restore a dump of deploy/backup.sh into an empty database: docs/backups.md.
#
#   restore.sh DUMP DATABASE
#
# DATABASE is created if it does not exist, and refused if it already has tables: a restore
# never mixes into live data. The server and credentials come from libpq's variables
# (PGHOST, PGUSER, PGPASSWORD), defaulting to the POSTGRES_* ones as in backup.sh.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: restore.sh DUMP DATABASE" >&2
  exit 2
fi
dump=$1
target=$2
PGUSER=${PGUSER:-${POSTGRES_USER:-postgres}}
export PGUSER
if [ -n "${POSTGRES_PASSWORD:-}" ] && [ -z "${PGPASSWORD:-}" ]; then
  PGPASSWORD=$POSTGRES_PASSWORD
  export PGPASSWORD
fi

if [ ! -r "$dump" ]; then
  echo "restore.sh: cannot read $dump" >&2
  exit 1
fi
# Lists its contents, or fails on anything that is not a custom-format dump.
pg_restore --list "$dump" > /dev/null

exists=$(psql --dbname=postgres --tuples-only --no-align \
  --command="SELECT 1 FROM pg_database WHERE datname = '$(echo "$target" | sed "s/'/''/g")'")
if [ "$exists" != "1" ]; then
  createdb "$target"
fi
tables=$(psql --dbname="$target" --tuples-only --no-align \
  --command="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "restore.sh: database $target already has $tables table(s); restore into an empty one" >&2
  exit 1
fi

# One transaction: either the whole dump is restored, or nothing is.
pg_restore --dbname="$target" --no-owner --exit-on-error --single-transaction "$dump"
echo "restore.sh: restored $dump into $target"
