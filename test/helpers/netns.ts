// Network namespaces for real network tests: created by the test, named uniquely per test file
// (a tag plus this process's PID), and deleted by the test even when it fails. The namespace
// operations themselves are scripts/lib/netns.ts (the local cluster's network uses them too).
export { NETNS_COMMAND_TIMEOUT_MS, addNetns, deleteNetns, execIn, ipIn, netnsExists, succeedsIn } from '../../scripts/lib/netns.ts';

/** A namespace name unique to this test process: `pvc<tag><pid>`; tags keep files apart. */
export function netnsName(tag: string): string {
  if (!/^[a-z][a-z0-9]{0,11}$/.test(tag)) throw new Error(`netns tag ${JSON.stringify(tag)}: use 1-12 lowercase letters and digits`);
  return `pvc${tag}${process.pid}`;
}
