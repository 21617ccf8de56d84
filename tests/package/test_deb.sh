#!/usr/bin/env bash
# Builds the postern .deb with dpkg-buildpackage, checks it with lintian,
# installs it with dpkg -i, checks the installed configuration and unit,
# and removes it again. Takes minutes (a full build), so it is not part of
# the default ctest run: `ctest -R package.deb` or run this script.
# Skips (exit 0, "SKIP") when not root or without Debian's build tools.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
if [[ $(id -u) -ne 0 ]]; then echo "SKIP: needs root for dpkg -i"; exit 0; fi
for tool in dpkg-buildpackage dh lintian pandoc; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (scripts/install-deps.sh --test)"; exit 0; }
done
if dpkg-query -W -f='${Status}' postern 2>/dev/null | grep -q "install ok installed"; then
  echo "SKIP: a postern package is installed already; this test would replace it"; exit 0
fi

work=$(mktemp -d /tmp/postern-deb.XXXXXX)
cleanup() {
  dpkg --purge postern >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }

step "copy the source tree (tracked and new files, no build trees)"
mkdir "$work/postern"
(cd "$repo" && git ls-files -co --exclude-standard -z | grep -zv '^build' |
   xargs -0 cp --parents -t "$work/postern")

step "dpkg-buildpackage"
(cd "$work/postern" && CMAKE_CXX_COMPILER_LAUNCHER=$(command -v ccache || true) \
   dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) ||
   { tail -40 "$work/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$work"/postern_*.deb)
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

step "contents"
dpkg-deb -c "$deb" | awk '{print $6}' > "$work/contents"
for f in ./usr/sbin/postern ./etc/postern/postern.toml ./lib/systemd/system/postern.service \
         ./usr/share/man/man8/postern.8.gz ./usr/share/man/man5/postern.toml.5.gz; do
  grep -qx "$f" "$work/contents" || fail "$f not in the package"
done
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/postern/postern.toml "$work/control/conffiles" || fail "postern.toml is not a conffile"

step "lintian (errors fail)"
lintian --fail-on error --no-tag-display-limit "$deb" | tee "$work/lintian.txt" || fail "lintian errors"

step "dpkg -i"
dpkg -i "$deb" || fail "dpkg -i"
getent passwd postern >/dev/null || fail "no postern user"
[[ $(stat -c %U "/var/lib/postern") == postern ]] || fail "/var/lib/postern not owned by postern"
[[ $(stat -c %a:%G /etc/postern/tls/key.pem) == 640:postern ]] || fail "key not 0640 root:postern"
postern check --config /etc/postern/postern.toml || fail "postern check on the installed configuration"
update-alternatives --query sendmail | grep -q "^Alternative: /usr/sbin/postern" ||
  fail "postern is not a sendmail alternative"
man -w postern >/dev/null && man -w 5 postern.toml >/dev/null || fail "man pages not found"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/postern.service || fail "systemd-analyze verify"
fi

step "dpkg -r"
dpkg -r postern || fail "dpkg -r"
[[ ! -e /usr/sbin/postern ]] || fail "/usr/sbin/postern left behind"
[[ ! -e /lib/systemd/system/postern.service ]] || fail "unit left behind"
if update-alternatives --query sendmail 2>/dev/null | grep -q "^Alternative: /usr/sbin/postern"; then
  fail "sendmail alternative left behind"
fi
[[ -e /etc/postern/postern.toml ]] || fail "conffile removed by dpkg -r (only purge removes it)"
dpkg --purge postern || fail "dpkg --purge"
[[ ! -e /etc/postern/postern.toml ]] || fail "conffile left after purge"
echo "PASS: package built, lintian clean of errors, installed, checked, removed"
