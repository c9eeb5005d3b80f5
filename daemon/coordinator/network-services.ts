// Builds the primary's network-service runnables (`gateways`, `dns`, `dhcp`) with their real
// drivers from pvcd's config. List them in that order: the gateway address exists before dnsmasq
// binds to it, PowerDNS answers before dnsmasq forwards to it; they stop in reverse.
import { readFileSync } from 'node:fs';
import { PvcError, errorMessage } from '../../common/errors.ts';
import type { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { PvcdConfig } from '../config.ts';
import { DnsmasqDriver } from '../drivers/dnsmasq/dnsmasq.ts';
import { IprouteGateway } from '../drivers/gateway/iproute.ts';
import { PdnsDriver } from '../drivers/pdns/pdns.ts';
import type { ServicesConfig } from '../services-config.ts';
import { DhcpRunnable } from './dhcp-runnable.ts';
import { DnsRunnable } from './dns-runnable.ts';
import { GatewaysRunnable } from './gateways-runnable.ts';
import { NETWORK_SERVICE_RUNNABLES, type NetworkServiceRunnable } from './network-service-names.ts';
import type { Runnable } from './runnables.ts';

export { NETWORK_SERVICE_RUNNABLES, type NetworkServiceRunnable };

/** Address lifetimes are whole seconds, and the kernel removes an expired one up to ~0.5 s late. */
const MIN_GATEWAY_LIFETIME_S = 2;
const GATEWAY_RENEWALS_PER_LIFETIME = 4;

export interface ServiceDeps {
  store: ZkStore;
  layout: ZkLayout;
  resyncIntervalMs: number;
}

function readApiKey(services: ServicesConfig): string | null {
  const file = services.dns.apiKeyFile;
  if (file === undefined) return null;
  try {
    const key = readFileSync(file, 'utf8').trim();
    if (key && !/[\r\n]/.test(key)) return key;
  } catch (error) {
    throw new PvcError('bad-input', `cannot read services.dns.apiKeyFile ${file}: ${errorMessage(error)}`);
  }
  throw new PvcError('bad-input', `services.dns.apiKeyFile ${file} must hold one non-empty line`);
}

export function buildNetworkServiceRunnable(name: NetworkServiceRunnable, config: PvcdConfig, deps: ServiceDeps): Runnable {
  const services = config.services;
  // Unset, the services live where the node's networks do.
  const netns = services.netns === undefined ? config.network.netns : services.netns;
  const floatingIpDevice = services.floatingIpDevice === undefined ? config.network.underlayDevice : services.floatingIpDevice;
  // Stopping the processes is immediate; this share of the per-runnable stop timeout is for
  // work in flight and the last lease events.
  const stopWaitMs = Math.max(10, Math.floor(config.timeouts.runnableStopTimeoutMs / 4));
  switch (name) {
    case 'gateways': {
      // About one session timeout: a dead primary's addresses are gone by the time another can take over.
      const addressLifetimeS = Math.max(MIN_GATEWAY_LIFETIME_S, Math.ceil(config.timeouts.sessionTimeoutMs / 1_000));
      return new GatewaysRunnable({
        ...deps,
        gateway: new IprouteGateway(netns),
        addressLifetimeS,
        renewIntervalMs: Math.floor((addressLifetimeS * 1_000) / GATEWAY_RENEWALS_PER_LIFETIME),
        floatingIpDevice,
        stopWaitMs,
      });
    }
    case 'dns':
      return new DnsRunnable({
        ...deps,
        driver: new PdnsDriver({
          stateDir: services.stateDir,
          netns,
          dnsAddresses: services.dns.dnsAddresses,
          dnsPort: services.dns.dnsPort,
          apiAddress: services.dns.apiAddress,
          apiPort: services.dns.apiPort,
          apiKey: readApiKey(services),
          backend: services.dns.backend ?? null,
          apiTimeoutMs: services.dns.apiTimeoutMs,
        }),
        recordTtlS: services.dns.recordTtlS,
        stopWaitMs,
      });
    case 'dhcp':
      return new DhcpRunnable({
        ...deps,
        driver: new DnsmasqDriver({ stateDir: services.stateDir, netns }),
        settings: {
          leaseTimeS: services.dhcp.leaseTimeS,
          logDhcp: services.dhcp.logDhcp,
          pdns: { address: services.dns.dnsAddresses[0] ?? '127.0.0.1', port: services.dns.dnsPort },
        },
        finalDrainMs: stopWaitMs,
      });
    default: {
      const unknown: never = name;
      throw new Error(`unknown network service runnable ${String(unknown)}`);
    }
  }
}
