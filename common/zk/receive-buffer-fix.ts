// A fix to node-zookeeper-client 1.1.3's reply parsing, loaded once by store.ts (the one door to
// ZooKeeper; test/unit/tidy.test.ts allows this file beside it).
//
// When one socket read holds many replies (a burst of 2,000 getData answers for `pvc vm list`),
// the library parses one reply, keeps the rest as `pendingBuffer`, and calls itself with an
// empty buffer; that call concatenates pendingBuffer with the empty buffer, copying the whole
// rest. Each reply so copies everything after it: quadratic in the burst, and garbage the GC
// then has to sweep. Handing the pending bytes over as the new buffer (with nothing pending, so
// nothing is concatenated) parses the same bytes in the same order without the copies.
// A static import (not createRequire) so that the CLI's esbuild bundle patches the very copy of
// the library it bundles.
import ConnectionManagerModule from 'node-zookeeper-client/lib/ConnectionManager.js';

interface ConnectionManagerInternals {
  pendingBuffer: Buffer | null;
  onSocketData(buffer: Buffer): void;
}

const ConnectionManager = ConnectionManagerModule as { prototype: ConnectionManagerInternals & { pvcReceiveFix?: true } };

const proto = ConnectionManager.prototype;
if (!proto.pvcReceiveFix) {
  const original = proto.onSocketData;
  proto.onSocketData = function onSocketData(this: ConnectionManagerInternals, buffer: Buffer): void {
    if (buffer.length === 0 && this.pendingBuffer) {
      const pending = this.pendingBuffer;
      this.pendingBuffer = null;
      original.call(this, pending);
      return;
    }
    original.call(this, buffer);
  };
  proto.pvcReceiveFix = true;
}
