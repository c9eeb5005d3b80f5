#!/bin/sh
# Installs what the build and the tests need, and only what is missing: the npm packages
# (npm ci when node_modules is absent or older than package-lock.json) and Debian's zookeeper
# package with Java (the test setup runs QuorumPeerMain from /usr/share/java). Fast and silent
# when everything is present; one line for each thing it installs.
# Needs root for apt-get (CI runs as root on Debian 12).
set -eu

cd "$(dirname "$0")/.."

say() { printf 'ensure-deps: %s\n' "$*"; }

# --- npm packages -----------------------------------------------------------------------------
# npm ci writes node_modules/.package-lock.json; a package-lock.json newer than it means the
# dependencies changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ -n "$(find package-lock.json -newer node_modules/.package-lock.json)" ]; then
  say 'installing npm packages (npm ci)'
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# --- ZooKeeper and Java -----------------------------------------------------------------------
ZK_FILES='/usr/share/java/zookeeper.jar /usr/share/java/slf4j-log4j12.jar /usr/share/java/log4j-1.2.jar /etc/zookeeper/conf/log4j.properties'

zk_missing() {
  command -v java >/dev/null 2>&1 || return 0
  for f in $ZK_FILES; do
    [ -e "$f" ] || return 0
  done
  return 1
}

if zk_missing; then
  if [ "$(id -u)" -ne 0 ]; then
    say 'zookeeper or java is missing and installing it needs root: run apt-get install zookeeper as root' >&2
    exit 1
  fi
  say 'installing zookeeper and java (apt-get install zookeeper)'
  # Another apt/dpkg run may hold the lock on a shared machine: wait for it rather than fail.
  apt-get -q -o DPkg::Lock::Timeout=900 update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=900 zookeeper >/dev/null
  if zk_missing; then
    say "still missing after installing zookeeper: java or one of $ZK_FILES" >&2
    exit 1
  fi
fi
