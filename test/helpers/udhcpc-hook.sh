#!/bin/sh
# busybox udhcpc's script for test "VMs": configures the lease on the interface (never touching
# /etc/resolv.conf, which every network namespace shares with the host) and prints
# `PVC-LEASE <ip> <router> <dns> <domain>` so the test reads what it got.
case "$1" in
  bound|renew)
    ip addr flush dev "$interface" scope global
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "${router:-}" ] && ip route replace default via "${router%% *}" dev "$interface"
    echo "PVC-LEASE $ip ${router:-} ${dns:-} ${domain:-}" ;;
  deconfig)
    ip addr flush dev "$interface" scope global ;;
esac
exit 0
