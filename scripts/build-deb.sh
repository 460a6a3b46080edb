#!/usr/bin/env bash
# make deb: build libapache2-mod-sslorders_<version>_<arch>.deb with debhelper and
# dh-apache2 from a clean copy of the source tree (the files git knows, committed or
# not), then check it with lintian (errors fail the build).
#   scripts/build-deb.sh [OUTDIR]   default build/deb
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/deb}")
version=$(cat VERSION)
stage="$out/stage/libapache2-mod-sslorders-$version"

# the package's version is the project's (VERSION) and debian/changelog's top entry
changelog=$(dpkg-parsechangelog -S Version)
if [[ $changelog != "$version" ]]; then
  echo "VERSION says $version, debian/changelog says $changelog" >&2
  exit 1
fi
rm -rf "$out/stage"
mkdir -p "$stage"
# the source as git sees it (tracked and untracked but not ignored files)
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$stage"

(cd "$stage" && dpkg-buildpackage -b -us -uc --no-sign >"$out/dpkg-buildpackage.log" 2>&1) || {
  tail -40 "$out/dpkg-buildpackage.log" >&2
  exit 1
}
arch=$(dpkg --print-architecture)
deb="libapache2-mod-sslorders_${version}_${arch}.deb"
mv -f "$out/stage/$deb" "$out/"
rm -rf "$out/stage"

# lintian: errors fail; warnings are shown
if command -v lintian >/dev/null; then
  lintian --fail-on error --tag-display-limit 0 "$out/$deb" | tee "$out/lintian.txt"
fi
echo "$out/$deb"
