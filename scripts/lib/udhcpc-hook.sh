#!/bin/sh
# busybox udhcpc's script for the local cluster's "VMs" (scripts/lib/local-network-vms.ts): puts
# the lease on the interface and the default route through the router, and logs one line. It
# never touches /etc/resolv.conf: every network namespace shares that file with the host.
case "$1" in
  bound|renew)
    ip addr flush dev "$interface" scope global
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "${router:-}" ] && ip route replace default via "${router%% *}" dev "$interface"
    echo "lease $1: $ip/$mask router ${router:-none} dns ${dns:-none} domain ${domain:-none} for ${lease:-?} s" ;;
  deconfig)
    ip addr flush dev "$interface" scope global ;;
esac
exit 0
