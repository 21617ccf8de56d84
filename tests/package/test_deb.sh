#!/usr/bin/env bash
# The postern .deb, end to end, on this machine: builds it with
# dpkg-buildpackage, checks its contents and lintian (errors fail), installs
# it with dpkg -i, checks the installed configuration, unit, man pages, user
# and sendmail alternative, removes it with dpkg -r and purges it, and then
# proves the machine is exactly as before (docs/testing.md, "The package").
#
#   tests/package/test_deb.sh                    build, then install and remove
#   tests/package/test_deb.sh --deb FILE.deb     install and remove a built one
#
# The build is a full -O2 build (36 to 47 minutes on two busy cores); the
# rest takes about 20 seconds. So it is not part of CI: CTest has it as
# `package.deb` and skips it (exit 77) unless POSTERN_PACKAGE_TEST=1.
# Skips too when not root, without Debian's build tools, or when a postern
# package is installed already (it would be replaced).
#
# What it changes and puts back:
# - the package, its conffile, /etc/postern and /var/lib/postern: purged;
# - the postern system user and group: deleted again if they did not exist
#   before (the package keeps them on purge, as Debian does);
# - an MTA's /usr/sbin/sendmail and /usr/lib/sendmail (Postfix here): left
#   alone by the package; to test the alternative anyway they are moved
#   aside for a few seconds with `dpkg-divert --local --rename` and put back
#   with `dpkg-divert --remove --rename`, also when the test fails.
# Then a snapshot of all of that (paths, modes, owners, checksums, links,
# passwd/group files, diversions, `dpkg --verify` of the MTA) must equal the
# one taken before, and no /usr/sbin/postern process may be running.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
skip() { echo "SKIP: $*"; exit 77; }

deb=""
from_ctest=""
while (($#)); do
  case $1 in
    --deb) deb=$(realpath "$2"); shift 2 ;;
    --ctest) from_ctest=1; shift ;;
    *) echo "usage: $0 [--deb FILE.deb]" >&2; exit 2 ;;
  esac
done
if [[ -n $from_ctest && ${POSTERN_PACKAGE_TEST:-} != 1 ]]; then
  skip "the package test builds the .deb (a full -O2 build) and installs it as root;" \
       "not in CI: POSTERN_PACKAGE_TEST=1 ctest -R package.deb, or run tests/package/test_deb.sh"
fi
[[ $(id -u) -eq 0 ]] || skip "needs root for dpkg -i"
tools=(dpkg-deb dpkg-divert update-alternatives adduser deluser lintian man)
[[ -n $deb ]] || tools+=(dpkg-buildpackage dh pandoc)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || skip "$tool missing (scripts/install-deps.sh --test)"
done
if dpkg-query -W -f='${Status}' postern 2>/dev/null | grep -q "install ok installed"; then
  skip "a postern package is installed already; this test would replace it"
fi

# One run at a time: it installs a package system-wide.
exec 9>/run/lock/postern-package-test.lock
flock -n 9 || skip "another package test is running"

# A fixed place (POSTERN_PACKAGE_WORKDIR), so that ccache can find the
# objects of an earlier run: the compiler's command line holds the path.
work=${POSTERN_PACKAGE_WORKDIR:-${TMPDIR:-/tmp}/postern-deb-test}
step() { echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }

user_existed=""; getent passwd postern >/dev/null && user_existed=1
group_existed=""; getent group postern >/dev/null && group_existed=1
diverted=()

# Everything the package touches, as text: two equal snapshots mean the
# machine is as it was.
snapshot() {
  local p
  for p in /usr/sbin/postern /usr/sbin/sendmail /usr/lib/sendmail /etc/postern /var/lib/postern \
           /lib/systemd/system/postern.service /etc/systemd/system \
           /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
           /etc/alternatives/sendmail /etc/alternatives/lib.sendmail /var/lib/dpkg/alternatives/sendmail \
           /usr/share/doc/postern /usr/share/man/man8/postern.8.gz /usr/share/man/man5/postern.toml.5.gz \
           /usr/share/lintian/overrides/postern; do
    if [[ -e $p || -L $p ]]; then
      find "$p" -printf '%p %y %m %u:%g %s %l\n' | sort
      find "$p" -type f -exec sha256sum {} + | sort
    else
      echo "$p absent"
    fi
  done
  find /var/lib/dpkg/info -name 'postern.*' | sort
  getent passwd postern || echo "no user postern"
  getent group postern || echo "no group postern"
  sha256sum /etc/passwd /etc/group /etc/shadow /etc/gshadow
  dpkg-divert --list '*sendmail*'
  update-alternatives --query sendmail 2>&1 || true
  if [[ -n $mta ]]; then dpkg --verify "$mta" || true; fi
}

# The processes of the installed binary (also once it is deleted), by id.
postern_pids() {
  local exe pid
  for exe in /proc/[0-9]*/exe; do
    pid=${exe#/proc/}; pid=${pid%/exe}
    [[ $(readlink "$exe" 2>/dev/null) == /usr/sbin/postern* ]] && echo "$pid"
  done
  return 0
}

undivert() {
  local path
  for path in "${diverted[@]}"; do
    # The alternative's link, if the package left it, is not the MTA's file.
    [[ -L $path && $(readlink "$path") == /etc/alternatives/* ]] && rm -f "$path"
    dpkg-divert --quiet --local --rename --remove "$path"
  done
  diverted=()
}

cleanup() {
  local status=$?
  set +e
  if dpkg-query -W -f='${Status}' postern 2>/dev/null | grep -q installed; then
    echo "cleanup: purging postern"
    dpkg --purge postern >/dev/null
  fi
  update-alternatives --remove sendmail /usr/sbin/postern >/dev/null 2>&1
  undivert
  local pid
  for pid in $(postern_pids); do echo "cleanup: stopping postern pid $pid"; kill "$pid"; done
  if [[ -z $user_existed ]] && getent passwd postern >/dev/null; then deluser --quiet --system postern; fi
  if [[ -z $group_existed ]] && getent group postern >/dev/null; then delgroup --quiet --system postern; fi
  exit "$status"
}
trap cleanup EXIT

mta=$(dpkg-query -S /usr/sbin/sendmail 2>/dev/null | cut -d: -f1 || true)
snapshot > "$work.before" 2>&1 || true

if [[ -z $deb ]]; then
  step "copy the source tree to $work (tracked and new files, no build trees)"
  rm -rf "$work" && mkdir -p "$work/postern"
  (cd "$repo" && git ls-files -co --exclude-standard -z | grep -zv '^build' |
     xargs -0 cp --parents -t "$work/postern")
  step "dpkg-buildpackage -us -uc -b (log: $work/build.log)"
  start=$SECONDS
  launcher=""; command -v ccache >/dev/null && launcher=ccache
  (cd "$work/postern" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
     CMAKE_CXX_COMPILER_LAUNCHER=$launcher dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) ||
     { tail -40 "$work/build.log"; fail "dpkg-buildpackage"; }
  deb=$(ls "$work"/postern_*.deb)
  echo "built in $((SECONDS - start)) s"
fi
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"

step "contents"
tmp=$(mktemp -d)
dpkg-deb -c "$deb" | awk '{print $6}' > "$tmp/contents"
for f in ./usr/sbin/postern ./etc/postern/postern.toml ./lib/systemd/system/postern.service \
         ./usr/share/man/man8/postern.8.gz ./usr/share/man/man5/postern.toml.5.gz \
         ./usr/share/doc/postern/copyright; do
  grep -qx "$f" "$tmp/contents" || fail "$f not in the package"
done
dpkg-deb -e "$deb" "$tmp/control"
grep -qx /etc/postern/postern.toml "$tmp/control/conffiles" || fail "postern.toml is not a conffile"

step "man --warnings (groff is silent on both pages)"
dpkg-deb -x "$deb" "$tmp/root"
for page in "$tmp"/root/usr/share/man/man*/*.gz; do
  out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || fail "man -l $page"
  [[ -z $out ]] || { echo "$out"; fail "groff warnings in $(basename "$page")"; }
done
rm -rf "$tmp"

step "lintian (errors fail; warnings and notes listed)"
lintian -I --show-overrides --fail-on error --tag-display-limit 0 "$deb" | tee "$work.lintian" || fail "lintian errors"
echo "lintian: $(grep -c '^E:' "$work.lintian" || true) errors," \
     "$(grep -c '^W:' "$work.lintian" || true) warnings, $(grep -c '^I:' "$work.lintian" || true) notes," \
     "$(grep -c '^O:' "$work.lintian" || true) overridden"

step "dpkg -i"
dpkg -i "$deb" 2>&1 | tee "$work.install" || fail "dpkg -i"
[[ -x /usr/sbin/postern ]] || fail "no /usr/sbin/postern"
getent passwd postern >/dev/null || fail "no postern user"
[[ $(getent passwd postern | cut -d: -f7) == /usr/sbin/nologin ]] || fail "postern user has a login shell"
[[ $(stat -c %U:%G:%a /var/lib/postern) == postern:postern:750 ]] || fail "/var/lib/postern not postern:postern 0750"
[[ $(stat -c %U:%G:%a /etc/postern/tls/key.pem) == root:postern:640 ]] || fail "key not 0640 root:postern"
[[ $(stat -c %U:%G:%a /etc/postern/users) == postern:postern:640 ]] || fail "users file not 0640 postern:postern"
postern check --config /etc/postern/postern.toml || fail "postern check on the installed configuration"
{ man -w postern && man -w 5 postern.toml; } >/dev/null || fail "man pages not found by man"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/postern.service || fail "systemd-analyze verify"
  echo "systemd-analyze verify postern.service: clean"
else
  echo "note: no systemd-analyze (Debian package systemd): the unit is not verified"
fi
if [[ -d /run/systemd/system ]]; then
  # A booted systemd: the package enables and starts the service.
  systemctl is-active --quiet postern || fail "postern.service is not running after dpkg -i"
fi

step "the sendmail alternative"
if [[ -n $mta ]]; then
  # Another MTA owns /usr/sbin/sendmail: the package must leave it alone.
  grep -q "belongs to another mail server" "$work.install" || fail "postinst did not say why no alternative"
  update-alternatives --query sendmail 2>/dev/null | grep -q "^Alternative: /usr/sbin/postern" &&
    fail "registered as the sendmail alternative next to $mta"
  diff <(grep -E '^/usr/(sbin|lib)/sendmail ' "$work.before") \
       <(snapshot 2>&1 | grep -E '^/usr/(sbin|lib)/sendmail ') || fail "$mta's sendmail was changed"
  step "the sendmail alternative, with $mta's sendmail moved aside for a moment"
  for path in /usr/sbin/sendmail /usr/lib/sendmail; do
    if [[ -e $path || -L $path ]]; then
      dpkg-divert --quiet --local --rename --divert "$path.postern-test" --add "$path"
      diverted+=("$path")
    fi
  done
  DEBIAN_FRONTEND=noninteractive dpkg-reconfigure postern || fail "dpkg-reconfigure postern"
fi
update-alternatives --query sendmail | grep -q "^Alternative: /usr/sbin/postern" ||
  fail "postern is not a sendmail alternative"
[[ $(readlink -f /usr/sbin/sendmail) == /usr/sbin/postern ]] || fail "/usr/sbin/sendmail is not postern"
[[ $(readlink -f /usr/lib/sendmail) == /usr/sbin/postern ]] || fail "/usr/lib/sendmail is not postern"

step "dpkg -r"
dpkg -r postern || fail "dpkg -r"
[[ ! -e /usr/sbin/postern ]] || fail "/usr/sbin/postern left behind"
[[ ! -e /lib/systemd/system/postern.service ]] || fail "unit left behind"
if update-alternatives --query sendmail 2>/dev/null | grep -q "^Alternative: /usr/sbin/postern"; then
  fail "sendmail alternative left behind"
fi
[[ ! -e /usr/sbin/sendmail && ! -L /usr/sbin/sendmail ]] || fail "the /usr/sbin/sendmail link left behind"
[[ ! -e /usr/lib/sendmail && ! -L /usr/lib/sendmail ]] || fail "the /usr/lib/sendmail link left behind"
undivert
[[ -e /etc/postern/postern.toml ]] || fail "conffile removed by dpkg -r (only purge removes it)"
[[ -d /var/lib/postern ]] || fail "/var/lib/postern removed by dpkg -r (only purge may)"
[[ -z $(postern_pids) ]] || fail "a postern process is still running after dpkg -r"

step "dpkg --purge"
dpkg --purge postern || fail "dpkg --purge"
for p in /etc/postern /var/lib/postern; do [[ ! -e $p ]] || fail "$p left after purge"; done

step "dpkg --purge with mail in /var/lib/postern keeps it"
dpkg -i "$deb" >/dev/null 2>&1 || fail "dpkg -i (second time)"
message=/var/lib/postern/mail/localhost/postmaster/new/1.test
install -d -o postern -g postern "$(dirname "$message")"
echo "Subject: kept" | install -o postern -g postern -m 0600 /dev/stdin "$message"
dpkg --purge postern 2>&1 | tee "$work.purge" || fail "dpkg --purge with mail"
[[ -f $message ]] || fail "purge removed mail"
grep -q "/var/lib/postern kept" "$work.purge" || fail "purge did not say that it kept /var/lib/postern"
[[ ! -e /etc/postern ]] || fail "/etc/postern left after purge"
rm -rf /var/lib/postern  # the test's own message

step "the machine is as before"
[[ -n $user_existed ]] || deluser --quiet --system postern
if [[ -z $group_existed ]] && getent group postern >/dev/null; then delgroup --quiet --system postern; fi
snapshot > "$work.after" 2>&1 || true
diff "$work.before" "$work.after" || fail "the machine differs from before (above: < before, > after)"
echo "PASS: $(basename "$deb"): lintian clean of errors, installed, checked, removed, purged; machine as before"
