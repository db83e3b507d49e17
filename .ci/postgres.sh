#!/usr/bin/env bash
# Throwaway PostgreSQL server on 127.0.0.1 for the ``@pytest.mark.postgres`` tests.
#
#   source .ci/postgres.sh        # starts (or reuses) the server, exports SKLSTM_TEST_POSTGRES_URL
#   bash .ci/postgres.sh          # same, prints the ``export ...`` line for eval
#   bash .ci/postgres.sh stop     # stops the server and deletes its data directory
#
# * Idempotent: the server lives in $SKLSTM_PG_DIR (default: $TMPDIR/sklstm-postgres); a second
#   call finds it running and only prints the URL again, a stopped one is restarted.
# * Loopback only: listen_addresses=127.0.0.1, unix socket inside the state directory, trust
#   authentication (nothing here is reachable from outside the machine). Nothing ever connects
#   to another host, whatever SKLSTM_TEST_POSTGRES_URL already says.
# * Root-safe: initdb/postgres refuse to run as root, so as root every server command runs as
#   the ``postgres`` system user (created by the Debian package). Without PostgreSQL binaries
#   and as root with apt-get, ``apt-get install -y postgresql`` installs them first.
# * Safe to source: all work happens in a subshell with ``set -euo pipefail``, so the calling
#   shell's options are untouched; only SKLSTM_TEST_POSTGRES_URL is exported.

_sklstm_pg() (
    set -euo pipefail
    state_dir=${SKLSTM_PG_DIR:-${TMPDIR:-/tmp}/sklstm-postgres}
    data_dir=$state_dir/data
    db_name=${SKLSTM_PG_DB:-sklstm_test}
    log() { echo "[postgres.sh] $*" >&2; }

    find_bindir() {
        local d
        d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
        if [[ -n $d && -x $d/initdb ]]; then echo "$d"; return; fi
        if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
        if command -v pg_config >/dev/null 2>&1 && [[ -x $(pg_config --bindir)/initdb ]]; then
            pg_config --bindir; return
        fi
    }

    bindir=$(find_bindir)
    if [[ -z $bindir ]]; then
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
            log "installing postgresql with apt-get"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
            bindir=$(find_bindir)
        fi
        [[ -n $bindir ]] || { log "no PostgreSQL server binaries (initdb) found"; exit 1; }
    fi

    # Server commands run as an unprivileged user: initdb and postgres refuse root.
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        owner=postgres
        as_owner() { runuser -u postgres -- "$@"; }
    else
        owner=$(id -un)
        as_owner() { "$@"; }
    fi

    pg_ctl() { as_owner "$bindir/pg_ctl" -D "$data_dir" "$@"; }
    port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

    if [[ ${1:-start} == stop ]]; then
        if [[ -d $data_dir ]]; then pg_ctl stop -m fast >&2 || true; fi
        rm -rf "$state_dir"
        log "stopped and removed $state_dir"
        return 0
    fi

    mkdir -p "$state_dir"
    chown "$owner" "$state_dir"
    if [[ ! -s $data_dir/PG_VERSION ]]; then
        log "initdb in $data_dir"
        rm -rf "$data_dir"
        as_owner "$bindir/initdb" -D "$data_dir" -U postgres --auth=trust \
            --encoding=UTF8 --no-instructions >"$state_dir/initdb.log" 2>&1 \
            || { cat "$state_dir/initdb.log" >&2; exit 1; }
    fi

    port=$(cat "$state_dir/port" 2>/dev/null || true)
    if ! pg_ctl status >/dev/null 2>&1; then
        # Reuse the previous port if it is still free, else look for a free one.
        if [[ -z $port ]] || ! port_free "$port"; then
            port=""
            for candidate in $(seq 55432 55531); do
                if port_free "$candidate"; then port=$candidate; break; fi
            done
            [[ -n $port ]] || { log "no free port in 55432-55531"; exit 1; }
        fi
        echo "$port" >"$state_dir/port"
        log "starting server on 127.0.0.1:$port"
        # fsync off: the data is disposable and the tests write many small transactions.
        pg_ctl -w -t 60 -l "$state_dir/server.log" \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $state_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
            start >&2 || { cat "$state_dir/server.log" >&2; exit 1; }
    fi

    psql_local() { "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
    if [[ $(psql_local -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'") != 1 ]]; then
        psql_local -c "CREATE DATABASE $db_name" >&2
    fi
    echo "postgresql://postgres@127.0.0.1:$port/$db_name"
)

# When sourced, "$@" are the caller's arguments: ignore them, sourcing always means "start".
if [[ ${BASH_SOURCE[0]} != "$0" ]]; then _sklstm_pg_cmd=start; else _sklstm_pg_cmd=${1:-start}; fi
if _sklstm_pg_out=$(_sklstm_pg "$_sklstm_pg_cmd"); then
    if [[ $_sklstm_pg_cmd != stop ]]; then
        export SKLSTM_TEST_POSTGRES_URL=$_sklstm_pg_out
        echo "export SKLSTM_TEST_POSTGRES_URL=$SKLSTM_TEST_POSTGRES_URL"
    fi
    unset _sklstm_pg_out _sklstm_pg_cmd
else
    echo "[postgres.sh] failed; postgres tests will be skipped" >&2
    unset _sklstm_pg_out _sklstm_pg_cmd
    # ``return`` when sourced, ``exit`` when executed.
    return 1 2>/dev/null || exit 1
fi
