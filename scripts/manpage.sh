#!/usr/bin/env bash
# Write the sslordersctl(8) man page from the command's own help, so that the page lists
# exactly the commands the binary has:  scripts/manpage.sh build/sslordersctl VERSION > FILE
set -euo pipefail
ctl=${1:?usage: $0 SSLORDERSCTL [VERSION]}
version=${2:-$(cat "$(dirname "$0")/../VERSION")}

esc() { sed -e 's/\\/\\\\/g' -e 's/^\([.'"'"']\)/\\\&\1/' -e 's/-/\\-/g'; }

cat <<HEAD
.TH SSLORDERSCTL 8 "" "mod_sslorders $version" "mod_sslorders"
.SH NAME
sslordersctl \- administration command line of mod_sslorders
.SH SYNOPSIS
.B sslordersctl
.RB [ \-\-driver " sqlite3|pgsql" ]
.RB [ \-\-params " PARAMS" ]
.I COMMAND
.RI [ ARGUMENTS ...]
.SH DESCRIPTION
.B sslordersctl
works on the database of mod_sslorders (the certificate order system module of Apache
httpd) through the same code as the module: users, teams, members, API tokens, balances,
the product catalogue, the built-in CA and staff actions.
Every command brings the database schema up to date first.
.PP
Run it as root or as the user httpd runs as; with SQLite it acts as the owner of the
database file, so that the files SQLite creates beside it stay usable by httpd.
.SH OPTIONS
.TP
.BR \-\-driver " sqlite3|pgsql"
The database driver, as
.B DBDriver
of mod_dbd (default sqlite3; also taken from the environment variable
.BR SSLORDERS_DRIVER ).
.TP
.BI \-\-params " PARAMS"
SQLite: the database file; PostgreSQL: a libpq connection string such as
"host=/run/postgresql dbname=sslorders", as
.B DBDParams
of mod_dbd (also taken from
.BR SSLORDERS_PARAMS ).
.SH COMMANDS
HEAD

# the command table of `sslordersctl help`: "  NAME ARGS   description"
"$ctl" help | sed -n '/^Commands:/,$p' | tail -n +2 | while IFS= read -r line; do
  [[ -z ${line// } ]] && continue
  body=${line#  }
  # the description starts after the widest command column (two or more spaces)
  cmd=$(printf '%s\n' "$body" | sed -E 's/ {2,}.*$//')
  desc=$(printf '%s\n' "$body" | sed -E 's/^.*[^ ] {2,}//')
  [[ $cmd == "$body" ]] && desc=""
  printf '.TP\n.B %s\n%s\n' "$(printf '%s' "$cmd" | esc)" "$(printf '%s' "$desc" | esc)"
done

cat <<'TAIL'
.SH FILES
.TP
.I /var/lib/sslorders/sslorders.db
The default SQLite database of the Debian package.
.TP
.I /etc/apache2/mods-available/sslorders.conf
The module's configuration (DBDriver, DBDParams and the SSLOrders directives).
.SH EXIT STATUS
0 on success, 1 when the command failed (the reason is printed on standard error),
2 for a usage error.
.SH EXAMPLES
.nf
printf '%s\en' "$PASSWORD" | sslordersctl user add alice
sslordersctl team add acme \-\-name "ACME Hosting"
sslordersctl member add acme alice owner
sslordersctl balance credit acme 500
sslordersctl token create acme alice
.fi
.SH SEE ALSO
.BR mod_sslorders (8),
.BR a2enmod (8),
.BR apache2ctl (8)
TAIL
