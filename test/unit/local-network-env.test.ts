// The local cluster's network settings, without building anything: PVC_LOCAL_NETWORK (the
// documented switch that skips it), namespace names that never meet the tests' or another local
// cluster's, and pvcd configs with the network sections that pvcd itself accepts.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../daemon/config.ts';
import { LOCAL_NETWORK_RUNNABLES, localFabric, localNamespaces, localNetworkSections, localNetworkWanted, netnsPrefix } from '../../scripts/lib/local-network.ts';
import { pvcdConfigDoc } from '../../scripts/lib/pvcd-process.ts';
import { REPO_ROOT } from '../../common/templates.ts';

describe('PVC_LOCAL_NETWORK', () => {
  it('builds the network unless told otherwise, skips it for 0/false/no/off, refuses anything else', () => {
    for (const value of [undefined, '', '1', 'true', 'YES', ' on ']) expect(localNetworkWanted({ PVC_LOCAL_NETWORK: value })).toBe(true);
    for (const value of ['0', 'false', 'No', 'off']) expect(localNetworkWanted({ PVC_LOCAL_NETWORK: value })).toBe(false);
    expect(() => localNetworkWanted({ PVC_LOCAL_NETWORK: 'maybe' })).toThrow('invalid PVC_LOCAL_NETWORK "maybe": use 0 to skip the network, or 1 (the default)');
  });
});

describe('the local network', () => {
  it('names its namespaces pvcl-* for the default folder and pvcl<hash>-* for another', () => {
    expect(netnsPrefix(path.join(REPO_ROOT, '.state', 'cluster'))).toBe('pvcl-');
    const other = netnsPrefix('/tmp/pvc-lc-abc/cluster');
    expect(other).toMatch(/^pvcl[0-9a-f]{6}-$/);
    expect(netnsPrefix('/tmp/pvc-lc-abd/cluster')).not.toBe(other);
    // The tests' namespaces are `pvc<letters and digits>`: a `-` never occurs in them.
    for (const ns of localNamespaces()) expect(ns).toMatch(/^pvcl[0-9a-f]*-[a-z0-9]+$/);
  });

  it('gives each pvcd network and services sections that pvcd accepts', () => {
    const fabric = localFabric();
    for (const node of fabric.nodes) {
      const doc = pvcdConfigDoc({
        dir: '/tmp/x', cluster: 'local', node: node.node, role: 'coordinator', hosts: '127.0.0.1:2181', user: 'pvc', password: 'pw',
        runnables: ['placement', ...LOCAL_NETWORK_RUNNABLES], sections: localNetworkSections(fabric, node.node), detached: true,
      });
      const config = validateConfig(doc, 'test');
      expect(config.network).toMatchObject({ driver: 'real', netns: node.netns, underlayDevice: 'eth0', vtepAddress: node.underlayAddress, frr: { stateDir: node.frrDir } });
      expect(config.services.netns).toBeUndefined(); // the node's namespace, from network.netns
    }
    expect(new Set(fabric.nodes.map((n) => n.underlayAddress)).size).toBe(fabric.nodes.length);
  });
});
