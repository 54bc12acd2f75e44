#!/usr/bin/env bash
# ensure-services.sh: make sure the PostgreSQL (and, if asked, Redis) that
# customerhub will use answer, starting local ones when they do not.
#
#   scripts/ensure-services.sh [--require-redis]
#
# PostgreSQL: the target is the host/port of ADMIN_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). If nothing
# answers there and the host is local, the Debian/Ubuntu PostgreSQL packages
# are installed when missing and a cluster on that port is started (created
# first when none exists). A cluster this script creates, or that the package
# install created, trusts TCP connections from 127.0.0.1 and ::1 (development
# set-up only).
#
# Redis: the target is REDIS_URL. With --require-redis (make test) an unset
# REDIS_URL means redis://127.0.0.1:6379/0 and a Redis that cannot be reached
# or started is an error. Without it Redis is optional: an unset REDIS_URL
# is left alone, and problems are only warnings (make run sets REDIS_URL to
# the local default unless it is set, so a local Redis is started).
#
# Safe to run repeatedly: services that already answer are left untouched.
set -euo pipefail

readonly DEFAULT_ADMIN_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
readonly DEFAULT_REDIS_URL='redis://127.0.0.1:6379/0'
readonly PG_WAIT_SECONDS=30
readonly REDIS_WAIT_SECONDS=15
readonly MIN_PG_VERSION=15

require_redis=0
redis_tls=0
apt_updated=0

say() { printf 'ensure-services: %s\n' "$*"; }
warn() { printf 'ensure-services: warning: %s\n' "$*" >&2; }
die() {
	printf 'ensure-services: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while (($# > 0)); do
	case $1 in
	--require-redis) require_redis=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
	shift
done

# ---------------------------------------------------------------- helpers

# as_root runs a command as root: directly when we are root, else via sudo.
as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# apt_install installs Debian packages; returns 1 when apt-get is missing.
apt_install() {
	command -v apt-get >/dev/null 2>&1 || return 1
	if ((apt_updated == 0)); then
		say "running apt-get update"
		as_root apt-get update -qq
		apt_updated=1
	fi
	say "installing $* with apt-get"
	# A UTF-8 locale so that a cluster created by the package's postinst
	# gets UTF8 encoding rather than SQL_ASCII.
	as_root env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 \
		apt-get install -y -qq "$@"
}

# parse_url URL DEFAULT_PORT sets url_user, url_host and url_port.
# Handles scheme://[user[:pass]@]host[:port][/path][?query], IPv6 in [].
parse_url() {
	local url=$1 default_port=$2 rest userinfo=""
	rest=${url#*://}
	rest=${rest%%[/?#]*}
	if [[ $rest == *@* ]]; then
		userinfo=${rest%@*}
		rest=${rest##*@}
	fi
	url_user=${userinfo%%:*}
	if [[ $rest == \[* ]]; then
		url_host=${rest#\[}
		url_host=${url_host%%]*}
		url_port=${rest#*]}
		url_port=${url_port#:}
	else
		url_host=${rest%%:*}
		url_port=""
		[[ $rest == *:* ]] && url_port=${rest#*:}
	fi
	[[ -n $url_host ]] || url_host=127.0.0.1
	[[ -n $url_port ]] || url_port=$default_port
	[[ $url_port =~ ^[0-9]+$ ]] || die "cannot read a port from URL (got '$url_port')"
}

is_local_host() {
	case $1 in
	localhost | 127.* | ::1) return 0 ;;
	*) return 1 ;;
	esac
}

# tcp_open HOST PORT: does anything accept a TCP connection there?
tcp_open() {
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# --------------------------------------------------------------- PostgreSQL

# pg_state HOST PORT USER prints ready, starting or down.
pg_state() {
	local rc=0
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$1" -p "$2" -U "${3:-postgres}" -d postgres -t 3 || rc=$?
		case $rc in
		0) echo ready ;;
		1) echo starting ;; # answers, but rejects connections (start-up)
		*) echo down ;;
		esac
	elif tcp_open "$1" "$2"; then
		echo ready
	else
		echo down
	fi
}

pg_wait() {
	local host=$1 port=$2 user=$3 i
	for ((i = 0; i < PG_WAIT_SECONDS * 2; i++)); do
		[[ $(pg_state "$host" "$port" "$user") == ready ]] && return 0
		sleep 0.5
	done
	return 1
}

# pg_newest_version prints the newest installed server major version.
pg_newest_version() {
	local d best=""
	for d in /usr/lib/postgresql/*/bin/postgres; do
		[[ -x $d ]] || continue
		d=${d#/usr/lib/postgresql/}
		d=${d%%/*}
		if [[ -z $best ]] || ((d > best)); then best=$d; fi
	done
	[[ -n $best ]] && echo "$best"
}

# pg_ensure_trust HBA_FILE puts dev-only trust lines for 127.0.0.1 and ::1
# at the top of pg_hba.conf (the first matching line wins).
pg_ensure_trust() {
	local hba=$1 tmp
	local -a priv=()
	[[ -r $hba && -w $hba ]] || priv=(as_root)
	if "${priv[@]}" grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba" &&
		"${priv[@]}" grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+::1/128[[:space:]]+trust' "$hba"; then
		return 0
	fi
	say "note: adding 'trust' for 127.0.0.1 and ::1 to $hba (development only; never in production)"
	tmp=$(mktemp)
	{
		echo '# Added by customerhub scripts/ensure-services.sh: development only.'
		echo 'host    all             all             127.0.0.1/32            trust'
		echo 'host    all             all             ::1/128                 trust'
		"${priv[@]}" cat "$hba"
	} >"$tmp"
	# Write into the existing file so that its owner and mode stay.
	"${priv[@]}" tee "$hba" <"$tmp" >/dev/null
	rm -f "$tmp"
}

# pg_start_debian PORT: start (creating if needed) a postgresql-common
# cluster listening on PORT. $1 = port, $2 = 1 when the packages were just
# installed (their postinst created the cluster, so it is ours to configure).
pg_start_debian() {
	local port=$1 fresh=$2 ver name status line hba
	local -a fields
	ver="" name="" status=""
	while read -r line; do
		read -r -a fields <<<"$line"
		if [[ ${fields[2]:-} == "$port" ]]; then
			ver=${fields[0]} name=${fields[1]} status=${fields[3]}
			break
		fi
	done < <(pg_lsclusters -h 2>/dev/null || true)

	if [[ -z $ver ]]; then
		ver=$(pg_newest_version) || die "no PostgreSQL server binaries under /usr/lib/postgresql"
		((ver >= MIN_PG_VERSION)) || die "PostgreSQL $ver is installed; customerhub needs $MIN_PG_VERSION or newer"
		name=main
		[[ -e /etc/postgresql/$ver/main ]] && name=customerhub
		say "creating PostgreSQL $ver cluster '$name' on port $port"
		as_root pg_createcluster --port "$port" --encoding UTF8 --locale C.UTF-8 "$ver" "$name" >/dev/null
		fresh=1
		status=down
	fi
	((ver >= MIN_PG_VERSION)) || die "cluster $ver/$name on port $port is PostgreSQL $ver; customerhub needs $MIN_PG_VERSION or newer"

	hba=/etc/postgresql/$ver/$name/pg_hba.conf
	if ((fresh)) && [[ -e $hba ]]; then
		pg_ensure_trust "$hba"
	fi

	# /var/run is often a fresh tmpfs in containers.
	if [[ ! -d /var/run/postgresql ]]; then
		as_root install -d -m 2775 -o postgres -g postgres /var/run/postgresql
	fi

	if [[ $status == online* ]]; then
		if ((fresh)); then
			say "reloading PostgreSQL cluster $ver/$name"
			as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
		else
			say "PostgreSQL cluster $ver/$name is online but not answering on port $port yet; waiting"
		fi
	else
		say "starting PostgreSQL cluster $ver/$name (port $port)"
		# As root, pg_ctlcluster switches to the cluster owner (postgres).
		as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start
	fi
	pg_log_hint="/var/log/postgresql/postgresql-$ver-$name.log"
}

# pg_start_plain PORT: without postgresql-common, run initdb/pg_ctl
# directly. PostgreSQL refuses to run as root, so root runs them as postgres.
pg_start_plain() {
	local port=$1 ver bindir datadir
	local -a run_as=()
	if ver=$(pg_newest_version); then
		bindir=/usr/lib/postgresql/$ver/bin
	elif command -v pg_ctl >/dev/null 2>&1; then
		bindir=$(dirname "$(command -v pg_ctl)")
	else
		die "no PostgreSQL server binaries found; install PostgreSQL $MIN_PG_VERSION+ or set ADMIN_DATABASE_URL"
	fi
	if ((EUID == 0)); then
		id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run PostgreSQL as"
		if command -v runuser >/dev/null 2>&1; then
			run_as=(runuser -u postgres --)
		else
			run_as=(su postgres -s /bin/bash -c '"$0" "$@"')
		fi
		datadir=/var/lib/postgresql/customerhub-data
		install -d -m 700 -o postgres -g postgres "$datadir"
	else
		datadir=${XDG_DATA_HOME:-$HOME/.local/share}/customerhub/pgdata
		mkdir -p "$datadir"
		chmod 700 "$datadir"
	fi
	if [[ ! -s $datadir/PG_VERSION ]]; then
		say "initialising a PostgreSQL data directory in $datadir"
		"${run_as[@]}" "$bindir/initdb" -D "$datadir" -U postgres -E UTF8 --locale=C.UTF-8 \
			--auth-local=trust --auth-host=scram-sha-256 >/dev/null
		pg_ensure_trust "$datadir/pg_hba.conf"
	fi
	say "starting PostgreSQL from $datadir (port $port)"
	"${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t "$PG_WAIT_SECONDS" \
		-o "-p $port -k /tmp -c listen_addresses=localhost" start >/dev/null
	pg_log_hint=$datadir/server.log
}

ensure_postgres() {
	local admin_url=${ADMIN_DATABASE_URL:-$DEFAULT_ADMIN_URL} state fresh=0
	local url_user url_host url_port
	parse_url "$admin_url" 5432
	local host=$url_host port=$url_port user=${url_user:-postgres}
	pg_log_hint=""

	state=$(pg_state "$host" "$port" "$user")
	if [[ $state == ready ]]; then
		say "PostgreSQL reachable at $host:$port"
		pg_check_login "$admin_url" "$host" "$port"
		return 0
	fi
	if [[ $state == down ]]; then
		is_local_host "$host" ||
			die "PostgreSQL at $host:$port (ADMIN_DATABASE_URL) does not answer, and it is not local so it cannot be started here"
		say "PostgreSQL not answering at $host:$port; starting a local server"
		if ! pg_newest_version >/dev/null && ! command -v pg_ctl >/dev/null 2>&1; then
			apt_install postgresql ||
				die "PostgreSQL server binaries are missing and apt-get is not available; install PostgreSQL $MIN_PG_VERSION+ yourself"
			fresh=1
			# The package's postinst may have started its cluster already.
			if [[ $(pg_state "$host" "$port" "$user") == ready ]]; then
				if command -v pg_lsclusters >/dev/null 2>&1; then
					pg_start_debian "$port" "$fresh"
				fi
			fi
		fi
		if [[ $(pg_state "$host" "$port" "$user") != ready ]]; then
			if command -v pg_lsclusters >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1; then
				pg_start_debian "$port" "$fresh"
			else
				pg_start_plain "$port"
			fi
		fi
	else
		say "PostgreSQL at $host:$port is starting up; waiting"
	fi

	if ! pg_wait "$host" "$port" "$user"; then
		die "PostgreSQL did not become ready at $host:$port within ${PG_WAIT_SECONDS}s${pg_log_hint:+ (see $pg_log_hint)}"
	fi
	say "PostgreSQL ready at $host:$port"
	pg_check_login "$admin_url" "$host" "$port"
}

# pg_check_login warns (only) when the admin URL cannot log in; db-init and
# the tests would fail later with a less helpful message.
pg_check_login() {
	command -v psql >/dev/null 2>&1 || return 0
	if ! PGCONNECT_TIMEOUT=5 psql -w -X -q -At -d "$1" -c 'select 1' >/dev/null 2>&1; then
		warn "PostgreSQL at $2:$3 answers, but logging in with ADMIN_DATABASE_URL failed: it needs a superuser that can log in from here (e.g. a 'host all all 127.0.0.1/32 trust' line in pg_hba.conf on a development machine, or a password in the URL)"
	fi
}

# -------------------------------------------------------------------- Redis

# redis_problem reports a problem: an error with --require-redis, else a warning.
redis_problem() {
	if ((require_redis)); then
		die "$*"
	fi
	warn "$* (continuing: Redis is optional here)"
	return 1
}

# redis_answers HOST PORT: does a Redis answer there? A bare TCP connect is
# not enough (proxies and other servers accept too), so send PING and accept
# any Redis reply line ("+PONG", or an error such as "-NOAUTH"). Over TLS
# (rediss://) only the TCP connect is checked.
redis_answers() {
	if ((redis_tls)); then
		tcp_open "$1" "$2"
		return
	fi
	timeout 3 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "PING\r\n" >&3
		IFS= read -r -t 2 line <&3 || exit 1
		[[ $line == [+-]* ]]' _ "$1" "$2" >/dev/null 2>&1
}

redis_wait() {
	local i
	for ((i = 0; i < REDIS_WAIT_SECONDS * 2; i++)); do
		redis_answers "$1" "$2" && return 0
		sleep 0.5
	done
	return 1
}

ensure_redis() {
	local url=${REDIS_URL:-} url_user url_host url_port dir logfile
	if [[ -z $url ]]; then
		if ((!require_redis)); then
			if redis_answers 127.0.0.1 6379; then
				say "REDIS_URL is unset: the server will use in-process memory (a Redis answers on 127.0.0.1:6379; export REDIS_URL=$DEFAULT_REDIS_URL to use it)"
			else
				say "REDIS_URL is unset: skipping Redis (rate limits and caches use in-process memory)"
			fi
			return 0
		fi
		url=$DEFAULT_REDIS_URL
	fi
	case $url in
	redis://* | rediss://*) ;;
	*)
		say "REDIS_URL is not a redis:// URL; not checking it"
		return 0
		;;
	esac
	[[ $url == rediss://* ]] && redis_tls=1
	parse_url "$url" 6379
	local host=$url_host port=$url_port

	if redis_answers "$host" "$port"; then
		say "Redis reachable at $host:$port"
		return 0
	fi
	is_local_host "$host" ||
		{ redis_problem "Redis at $host:$port (REDIS_URL) does not answer, and it is not local so it cannot be started here" || return 0; }

	say "Redis not answering at $host:$port; starting a local redis-server"
	if ! command -v redis-server >/dev/null 2>&1; then
		apt_install redis-server ||
			{ redis_problem "redis-server is missing and apt-get is not available; install Redis yourself" || return 0; }
		# The package may have started its own server on 6379.
		if redis_answers "$host" "$port"; then
			say "Redis ready at $host:$port"
			return 0
		fi
	fi

	if [[ -d /var/lib/redis && -w /var/lib/redis && -d /var/log/redis && -w /var/log/redis ]]; then
		dir=/var/lib/redis
		logfile=/var/log/redis/customerhub-$port.log
	else
		dir=${TMPDIR:-/tmp}/customerhub-redis-$(id -u)
		mkdir -p "$dir"
		logfile=$dir/redis-$port.log
	fi
	# No persistence: this is a cache and rate-limit store for development.
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" \
		--save "" --appendonly no --dir "$dir" --logfile "$logfile" ||
		{ redis_problem "redis-server failed to start (see $logfile)" || return 0; }
	if redis_wait "$host" "$port"; then
		say "Redis ready at $host:$port"
	else
		redis_problem "Redis did not answer at $host:$port within ${REDIS_WAIT_SECONDS}s (see $logfile)" || return 0
	fi
}

ensure_postgres
ensure_redis
