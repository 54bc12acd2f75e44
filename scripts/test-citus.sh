#!/usr/bin/env bash
# test-citus.sh: run the HTTP API tests against a Citus cluster.
#
#   CITUS_COORDINATOR_URL=postgres://postgres@127.0.0.1:9700/postgres?sslmode=disable \
#       scripts/test-citus.sh            (or: make test-citus)
#
# CITUS_COORDINATOR_URL  superuser URL of the coordinator, in a database that
#                        has the citus extension with the workers registered
#                        (the `postgres` database, set up as README "Scaling
#                        out" says), so that CREATE ROLE reaches the workers.
# CITUS_TEST_DATABASE    database to (re)create on every node
#                        (default chub_citus_test; dropped first if present).
# CITUS_TEST_PKGS        packages to test (default: every package under
#                        internal/ whose tests use internal/apptest, i.e. go
#                        through the HTTP API).
# CITUS_TEST_FLAGS       go test flags (default: -count=1 -timeout 30m).
# CUSTOMERHUB_BIN        the customerhub binary (default bin/customerhub,
#                        built when missing).
#
# Steps: drop the database on every node; `customerhub db-init` on the
# coordinator (roles, propagated to the workers by Citus; the database);
# CREATE DATABASE on every worker (Citus does not propagate it); CREATE
# EXTENSION citus in it on every node and register the nodes in it;
# `customerhub migrate`; `customerhub citus distribute`; then go test with
# CUSTOMERHUB_TEST_EXISTING_DB, so every package shares that one database
# (tests that need a database of their own are skipped).
#
# Workers are reached at the address they are registered with, as the
# coordinator URL's user; a password or TLS setting comes from the usual
# libpq environment (PGPASSWORD, PGSSLMODE, ...) or the URL's sslmode.
set -euo pipefail

say() { printf 'test-citus: %s\n' "$*"; }
die() {
	printf 'test-citus: error: %s\n' "$*" >&2
	exit 1
}

URL=${CITUS_COORDINATOR_URL:-}
[[ -n $URL ]] || die "set CITUS_COORDINATOR_URL to a superuser URL of the Citus coordinator"
DB=${CITUS_TEST_DATABASE:-chub_citus_test}
[[ $DB =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "CITUS_TEST_DATABASE must be a plain lower-case identifier"
BIN=${CUSTOMERHUB_BIN:-bin/customerhub}
FLAGS=${CITUS_TEST_FLAGS:--count=1 -timeout 30m}
command -v psql >/dev/null || die "psql is needed (apt-get install postgresql-client)"

# with_db URL DB / with_user URL USER: URL with its database or user replaced
# (a password in the URL is dropped with the user).
with_db() { sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\\1/$2#" <<<"$1"; }
with_user() { sed -E "s#^(postgres(ql)?://)([^@/?]*@)?#\\1$2@#" <<<"$1"; }

# NOTICEs (Citus's "CREATE DATABASE is not propagated", ...) are expected.
export PGOPTIONS='-c client_min_messages=warning'
coord() { psql -X -q -v ON_ERROR_STOP=1 "$URL" "$@"; }
coord_db() { psql -X -q -v ON_ERROR_STOP=1 "$(with_db "$URL" "$DB")" "$@"; }
SSLMODE=$(sed -nE 's/.*[?&]sslmode=([^&]*).*/\1/p' <<<"$URL")
worker() { # worker HOST PORT DBNAME psql-args...
	local conn="host=$1 port=$2 user=$ADMIN_USER dbname=$3"
	[[ -n $SSLMODE ]] && conn+=" sslmode=$SSLMODE"
	shift 3
	psql -X -q -v ON_ERROR_STOP=1 "$conn" "$@"
}

ADMIN_USER=$(coord -Atc 'SELECT current_user')
[[ $(coord -Atc 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user') == t ]] ||
	die "CITUS_COORDINATOR_URL must name a superuser (it creates databases, extensions and roles)"
coord -Atc "SELECT 1 FROM pg_extension WHERE extname = 'citus'" | grep -q 1 ||
	die "no citus extension in the coordinator URL's database: CREATE EXTENSION citus there and register the workers (citus_add_node)"
mapfile -t WORKERS < <(coord -Atc "SELECT node_name || ' ' || node_port FROM citus_get_active_worker_nodes() ORDER BY 1")
((${#WORKERS[@]} > 0)) || die "no active worker registered in the coordinator URL's database (citus_add_node)"
# The coordinator as the workers know it: its own pg_dist_node entry when
# set (citus_set_coordinator_host), else the address the URL reached.
COORD=$(coord -Atc "SELECT nodename || ' ' || nodeport FROM pg_dist_node WHERE groupid = 0 LIMIT 1")
[[ -n $COORD ]] || COORD=$(coord -Atc "SELECT host(inet_server_addr()) || ' ' || inet_server_port()")
say "coordinator ${COORD/ /:}, workers: ${WORKERS[*]/ /:}; database $DB"

if [[ ! -x $BIN ]]; then
	say "building $BIN"
	go build -o "$BIN" ./cmd/customerhub
fi

say "dropping $DB on every node"
coord -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
for w in "${WORKERS[@]}"; do
	read -r host port <<<"$w"
	worker "$host" "$port" postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
done

OWNER_URL=$(with_user "$(with_db "$URL" "$DB")" customerhub_owner)
APP_URL=$(with_user "$(with_db "$URL" "$DB")" customerhub_app)
export ADMIN_DATABASE_URL=$URL MIGRATE_DATABASE_URL=$OWNER_URL DATABASE_URL=$APP_URL

say "db-init (roles and the coordinator's database)"
"$BIN" db-init

for w in "${WORKERS[@]}"; do
	read -r host port <<<"$w"
	missing=$(worker "$host" "$port" postgres -Atc "SELECT string_agg(r, ', ') FROM unnest(ARRAY['customerhub_owner', 'customerhub_app', 'customerhub_search']) r WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)")
	[[ -z $missing ]] || die "roles $missing missing on worker $host:$port: CREATE ROLE did not propagate; the coordinator URL's database needs the citus extension with this worker registered"
	say "creating $DB on worker $host:$port"
	worker "$host" "$port" postgres -c "CREATE DATABASE $DB OWNER customerhub_owner"
	worker "$host" "$port" "$DB" -c "CREATE EXTENSION citus"
done
coord_db -c "CREATE EXTENSION citus"
read -r chost cport <<<"$COORD"
echo "SELECT citus_set_coordinator_host(:'host', :'port'::int)" | coord_db -At -v host="$chost" -v port="$cport" >/dev/null
for w in "${WORKERS[@]}"; do
	read -r host port <<<"$w"
	echo "SELECT citus_add_node(:'host', :'port'::int)" | coord_db -At -v host="$host" -v port="$port" >/dev/null
done
say "nodes registered in $DB: $(coord_db -Atc "SELECT string_agg(node_name || ':' || node_port, ', ') FROM citus_get_active_worker_nodes()")"

say "migrate"
"$BIN" migrate
say "citus distribute"
"$BIN" citus distribute --database-url "$(with_db "$URL" "$DB")"

if [[ -z ${CITUS_TEST_PKGS:-} ]]; then
	module=$(go list -m)
	CITUS_TEST_PKGS=$(go list -f '{{.ImportPath}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' ./internal/... |
		awk -v want="$module/internal/apptest" '{ for (i = 2; i <= NF; i++) if ($i == want) { print $1; next } }' | tr '\n' ' ')
fi
say "go test $FLAGS $CITUS_TEST_PKGS"
unset PGOPTIONS
# shellcheck disable=SC2086 # flag and package lists are word lists
TEST_ADMIN_DATABASE_URL=$URL CUSTOMERHUB_TEST_EXISTING_DB=$DB REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0} \
	go test $FLAGS $CITUS_TEST_PKGS
