// The names of the primary's network-service runnables, apart from their builder so that the
// config module can list them without importing the drivers.
export const NETWORK_SERVICE_RUNNABLES = ['gateways', 'dns', 'dhcp'] as const;
export type NetworkServiceRunnable = (typeof NETWORK_SERVICE_RUNNABLES)[number];
