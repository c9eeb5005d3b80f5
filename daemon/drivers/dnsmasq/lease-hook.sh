#!/bin/sh
# dnsmasq's dhcp-script for pvc: a fixed file of the repository, never a string built by pvcd.
# dnsmasq runs it (one call at a time) as `lease-hook.sh add|old|del MAC IP [HOSTNAME]`, with
# the lease's end in DNSMASQ_LEASE_EXPIRES and the spool folder in PVC_DHCP_SPOOL (set by pvcd
# in dnsmasq's environment). Each event becomes one file, written under a temporary name and
# renamed into place, so the reader never sees half an event; pvcd's dhcp runnable writes it to
# ZooKeeper and only then deletes the file, so an event survives a failed write or a pvcd crash.
# File names are the time in nanoseconds (fixed width until 2286) and the PID: sorted by name,
# events come in the order dnsmasq reported them.
set -u
case "${1:-}" in
  add|old|del) ;;
  *) exit 0 ;; # tftp, arp, init...: nothing pvc records
esac
spool="${PVC_DHCP_SPOOL:?PVC_DHCP_SPOOL is not set}"
# dnsmasq runs with dhcp-ignore-names, so the client's name comes in DNSMASQ_SUPPLIED_HOSTNAME
# (as the client sent it: only its first label is kept, and only if it is a valid one).
name="${DNSMASQ_SUPPLIED_HOSTNAME:-${4:-}}"
name="${name%%.*}"
case "$name" in
  *[!A-Za-z0-9-]*) name="" ;;
esac
tmp="$spool/.tmp.$$"
printf '%s %s %s %s %s\n' "$1" "${2:-}" "${3:-}" "${DNSMASQ_LEASE_EXPIRES:-0}" "$name" > "$tmp" || exit 1
exec mv -f "$tmp" "$spool/$(date +%s%N).$$"
