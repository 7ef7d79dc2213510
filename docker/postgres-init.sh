#!/usr/bin/env bash
# First start of the docker-compose PostgreSQL (docker-entrypoint-initdb.d): the read-only BI
# role, Metabase's application database, and the same privileges as scripts/ci_services.sh.
# dbt's on-run-end hook (macro grant_bi_read_access) grants the BI role the marts schema.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" -v builder="$POSTGRES_USER" \
    -v bi="$DTC_PG_BI_ROLE" -v bi_pw="$DTC_PG_BI_PASSWORD" -v mb_pw="$MB_DB_PASS" <<'SQL'
create role :"bi" login nosuperuser nocreaterole nocreatedb password :'bi_pw';
create role metabase login nosuperuser nocreaterole nocreatedb password :'mb_pw';
create database metabase owner metabase;
revoke all on database :"db" from public;
grant connect, temporary, create on database :"db" to :"builder";
grant connect on database :"db" to :"bi";
revoke create on schema public from public;
SQL
