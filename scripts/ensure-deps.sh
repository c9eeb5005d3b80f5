#!/bin/sh
# Installs what the build and the tests need, and only what is missing: the npm packages
# (npm ci when node_modules is absent or older than package-lock.json), Debian's zookeeper
# package with Java (the test setup runs QuorumPeerMain from /usr/share/java), and QEMU, libvirt
# and cpio for the VM tests and the local cluster's hypervisors, Ceph for storage, FRR, dnsmasq,
# PowerDNS and nftables for networks, and ipmi_sim with ipmitool for fencing. Fast and silent
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

# True when any of the named files is missing.
any_missing() {
  for f in "$@"; do
    [ -e "$f" ] || return 0
  done
  return 1
}

# apt_install WHAT CHECK PACKAGE...: installs the packages when CHECK (a function) says something
# is missing, then checks again. Another apt/dpkg run may hold the lock on a shared machine:
# wait for it rather than fail.
apt_install() {
  what=$1; check=$2; shift 2
  $check || return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "$what is missing and installing it needs root: run scripts/ensure-deps.sh as root" >&2
    exit 1
  fi
  say "installing $what (apt-get install $*)"
  apt-get -q -o DPkg::Lock::Timeout=900 update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=900 "$@" >/dev/null
  if $check; then
    say "still missing after installing $what" >&2
    exit 1
  fi
}

# --- ZooKeeper and Java -----------------------------------------------------------------------
ZK_FILES='/usr/share/java/zookeeper.jar /usr/share/java/slf4j-log4j12.jar /usr/share/java/log4j-1.2.jar /etc/zookeeper/conf/log4j.properties'
# shellcheck disable=SC2086 # the file lists are split on purpose
zk_missing() { ! command -v java >/dev/null 2>&1 || any_missing $ZK_FILES; }
apt_install 'zookeeper and java' zk_missing zookeeper

# --- libvirt + QEMU (TCG) and the guest-build tools -------------------------------------------
# The hypervisor tests run private libvirtd "nodes" (scripts/lib/libvirt-node.ts) and QEMU
# guests under TCG; cpio packs the test guest's initrd (scripts/lib/test-guest.ts).
# --no-install-recommends keeps the install to what these need (about 70 packages).
VIRT_FILES='/usr/bin/qemu-system-x86_64 /usr/bin/qemu-img /usr/sbin/libvirtd /usr/sbin/virtlogd /usr/bin/virsh /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so /usr/sbin/dnsmasq /usr/bin/cpio'
# shellcheck disable=SC2086
virt_missing() { any_missing $VIRT_FILES; }
apt_install 'qemu, libvirt and cpio' virt_missing --no-install-recommends \
  qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu dnsmasq-base cpio

# --- Ceph (storage) ------------------------------------------------------------------------------
# A single-host Ceph (scripts/lib/ceph-cluster.ts) for the storage tests and the local cluster;
# qemu-block-extra is QEMU's librbd driver (no kernel rbd here); uuidgen names OSDs and the fsid.
CEPH_FILES='/usr/bin/ceph /usr/bin/rbd /usr/bin/ceph-mon /usr/bin/ceph-mgr /usr/bin/ceph-osd /usr/bin/ceph-authtool /usr/bin/monmaptool /usr/bin/uuidgen /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so'
# shellcheck disable=SC2086
ceph_missing() { any_missing $CEPH_FILES; }
apt_install 'ceph' ceph_missing --no-install-recommends \
  ceph ceph-mon ceph-mgr ceph-osd ceph-common qemu-block-extra uuid-runtime

# --- Networks: FRR, dnsmasq, PowerDNS, nftables and the test clients ---------------------------
# Tests run these in network namespaces they create; udhcpc (busybox) and dig are the "VM" side.
# Never busybox-static here: it conflicts with busybox (the test guest downloads it instead).
NET_FILES='/usr/lib/frr/zebra /usr/lib/frr/bgpd /usr/bin/vtysh /usr/sbin/nft /usr/sbin/dnsmasq /usr/sbin/pdns_server /usr/bin/pdnsutil /usr/lib/x86_64-linux-gnu/pdns/libgsqlite3backend.so /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql /usr/bin/sqlite3 /bin/busybox /usr/bin/dig /bin/ping'
# shellcheck disable=SC2086
net_missing() { any_missing $NET_FILES; }
apt_install 'frr, nftables, dnsmasq, powerdns and network test clients' net_missing --no-install-recommends \
  frr nftables dnsmasq-base pdns-server pdns-backend-sqlite3 sqlite3 busybox bind9-dnsutils iputils-ping iproute2

# --- IPMI: a simulated BMC per test node and the real client -----------------------------------
IPMI_FILES='/usr/bin/ipmi_sim /usr/bin/ipmitool'
# shellcheck disable=SC2086
ipmi_missing() { any_missing $IPMI_FILES; }
apt_install 'ipmi_sim and ipmitool' ipmi_missing --no-install-recommends openipmi ipmitool

# libvirt's default network is marked autostart: the first libvirtd would create virbr0
# (192.168.122.1) and a dnsmasq in the host's network namespace. Only the autostart link goes;
# the network's definition stays. Each test node copies /etc/libvirt, so this also keeps the
# link out of the copies.
DEFAULT_NET_AUTOSTART=/etc/libvirt/qemu/networks/autostart/default.xml
if [ -e "$DEFAULT_NET_AUTOSTART" ] || [ -L "$DEFAULT_NET_AUTOSTART" ]; then
  say "removing $DEFAULT_NET_AUTOSTART (no libvirt default network on the host)"
  rm -f "$DEFAULT_NET_AUTOSTART"
fi
