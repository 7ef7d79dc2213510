#!/usr/bin/env bash
# Services the serving tests need (README "Serving the marts"), installed from Debian packages and
# started on this machine. Idempotent: run it as often as you like (CI runs it before tests).
#   - PostgreSQL: installed if missing, started on loopback only (127.0.0.1), with
#       role  $PGUSER ($PGPASSWORD)  owning databases $PGDATABASE (dbt's postgres target)
#             and $DTC_PG_TEST_DATABASE (tests/test_postgres.py)
#       role  $DTC_PG_BI_ROLE ($DTC_PG_BI_PASSWORD)  read-only BI login (marts only, granted
#             by dbt's on-run-end hook grant_bi_read_access)
#     The defaults are throwaway local credentials for CI and laptops; set the variables to
#     use others. Nothing listens beyond loopback.
#   - Chromium: Debian's /usr/bin/chromium for the report's browser test.
#   - Java 17 (openjdk-17-jre-headless) when no `java` is on PATH: the Spark target's JVM.
# Needs root (CI runs as root) or passwordless sudo for the installs and the cluster start.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-dtc}
PGPASSWORD=${PGPASSWORD:-dtc}
PGDATABASE=${PGDATABASE:-dtc}
DTC_PG_TEST_DATABASE=${DTC_PG_TEST_DATABASE:-dtc_test}  # tests/test_postgres.py builds here
DTC_PG_BI_ROLE=${DTC_PG_BI_ROLE:-dtc_bi}
DTC_PG_BI_PASSWORD=${DTC_PG_BI_PASSWORD:-dtc_bi}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# --- 1. packages ------------------------------------------------------------------------------
missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)  # the Spark target's JVM
if [ "${#missing[@]}" -gt 0 ]; then
    echo "ci_services: installing ${missing[*]} from Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- 2. a PostgreSQL cluster, started, listening on loopback only -----------------------------
version=$(pg_lsclusters -h 2>/dev/null | awk 'NR == 1 {print $1}')
if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    as_root pg_createcluster "$version" main --port "$PGPORT" -- --auth-local=peer \
        --auth-host=scram-sha-256
fi
cluster=$(pg_lsclusters -h | awk -v v="$version" '$1 == v {print $2; exit}')
conf_dir="/etc/postgresql/$version/$cluster"
# Loopback only, on the expected port (Debian's default is localhost:5432 already).
as_root sed -i -E "s/^#?listen_addresses = .*/listen_addresses = '127.0.0.1'/" \
    "$conf_dir/postgresql.conf"
as_root sed -i -E "s/^port = .*/port = $PGPORT/" "$conf_dir/postgresql.conf"
if ! as_root pg_ctlcluster "$version" "$cluster" status >/dev/null 2>&1; then
    as_root pg_ctlcluster "$version" "$cluster" start
else
    as_root pg_ctlcluster "$version" "$cluster" reload
fi
for _ in $(seq 1 30); do
    pg_isready -q -h "$PGHOST" -p "$PGPORT" && break
    sleep 1
done
pg_isready -h "$PGHOST" -p "$PGPORT"

# --- 3. roles and database (as the postgres superuser, over the local socket) ---------------
psql_admin() {
    as_root runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PGPORT" "$@"
}
psql_admin -d postgres \
    -v builder="$PGUSER" -v builder_pw="$PGPASSWORD" \
    -v bi="$DTC_PG_BI_ROLE" -v bi_pw="$DTC_PG_BI_PASSWORD" <<'SQL'
select format('create role %I login', :'builder')
where not exists (select from pg_roles where rolname = :'builder') \gexec
select format('create role %I login', :'bi')
where not exists (select from pg_roles where rolname = :'bi') \gexec
alter role :"builder" with login nosuperuser nocreaterole nocreatedb password :'builder_pw';
alter role :"bi" with login nosuperuser nocreaterole nocreatedb password :'bi_pw';
SQL
for db in "$PGDATABASE" "$DTC_PG_TEST_DATABASE"; do
    if ! psql_admin -d postgres -tAc "select 1 from pg_database where datname = '$db'" \
        | grep -q 1; then
        psql_admin -d postgres -c "create database \"$db\" owner \"$PGUSER\""
    fi
    # The BI role may connect and read what dbt grants it (marts only); it may not create
    # anything: no CREATE on the database or on public, no temporary tables.
    psql_admin -d "$db" -v db="$db" -v builder="$PGUSER" -v bi="$DTC_PG_BI_ROLE" <<'SQL'
revoke all on database :"db" from public;
grant connect, temporary, create on database :"db" to :"builder";
grant connect on database :"db" to :"bi";
revoke create on schema public from public;
SQL
done
echo "ci_services: PostgreSQL $version on $PGHOST:$PGPORT, databases $PGDATABASE," \
    "$DTC_PG_TEST_DATABASE (builder $PGUSER, read-only BI role $DTC_PG_BI_ROLE);" \
    "chromium: $(command -v chromium)"
