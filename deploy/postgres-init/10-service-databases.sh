#!/usr/bin/env bash
# One role and one database per service, owned by that role. The official postgres image
# runs this once, when it initialises an empty data volume (docker-entrypoint-initdb.d);
# it is idempotent, so running it again by hand is safe.
#
#   SERVICE_DATABASES    names, space-separated (deploy/compose.yaml lists the five services)
#   SERVICE_DB_PASSWORD  the services' password (one for all: this is the one-machine setup)
set -euo pipefail

: "${SERVICE_DATABASES:?list the service databases in SERVICE_DATABASES}"
: "${SERVICE_DB_PASSWORD:?set SERVICE_DB_PASSWORD}"

for name in ${SERVICE_DATABASES}; do
  echo "postgres-init: role and database ${name}"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
       --set=name="${name}" --set=password="${SERVICE_DB_PASSWORD}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'name', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name') \gexec
SQL
done
