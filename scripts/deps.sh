#!/usr/bin/env bash
# Install the Debian packages mod_sslorders needs, if any is missing.
#   scripts/deps.sh build     what building and running need
#   scripts/deps.sh test      plus what the test suites need
#   scripts/deps.sh browser   plus Chromium and playwright-core (browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(make gcc pkg-config apache2 apache2-dev libaprutil1-dbd-sqlite3
            libaprutil1-dbd-pgsql libjansson-dev libssl-dev libcurl4-openssl-dev libzip-dev
            libpsl-dev libsqlite3-dev libpq-dev libunbound-dev libqrencode-dev publicsuffix sqlite3 openssl ca-certificates curl)
test_pkgs=(check postgresql python3 python3-pytest python3-requests python3-jsonschema wrk
           dnsmasq clang unzip procps iproute2 python3-cryptography libxml2-dev
           certbot lego dehydrated pebble unbound ldnsutils knot nsd
           python3-prometheus-client python3-dnspython debhelper lintian fakeroot
           python3-yaml zbar-tools librsvg2-bin)
browser_pkgs=(chromium nodejs npm)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test_pkgs[@]}") ;;
  browser) want+=("${test_pkgs[@]}" "${browser_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|browser" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # nodejs/npm may come from elsewhere than Debian: a working binary is enough
  if [[ $p == nodejs ]] && command -v node >/dev/null; then continue; fi
  if [[ $p == npm ]] && command -v npm >/dev/null; then continue; fi
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these services on install; our tests run their own instances
  for svc in apache2 dnsmasq postgresql unbound knot nsd; do
    if [[ " ${missing[*]} " == *" $svc "* ]] && command -v service >/dev/null; then
      service "$svc" stop >/dev/null 2>&1 || true
    fi
  done
fi

if [[ ${1:-build} == browser ]]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if ((node_major < 18)); then
    echo "the browser tests need Node.js 18 or newer (found $(node --version 2>/dev/null || echo none))" >&2
    exit 1
  fi
  # playwright-core, axe-core, standardwebhooks (never `playwright install`: the tests
  # drive Debian's /usr/bin/chromium); reinstalled from the lock file when it changed
  want=$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)
  have=$(cat tests/browser/node_modules/.lock-sha256 2>/dev/null || true)
  if [[ $want != "$have" ]]; then
    echo "installing the browser test packages (npm ci)"
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent >/dev/null)
    echo "$want" > tests/browser/node_modules/.lock-sha256
  fi
fi
