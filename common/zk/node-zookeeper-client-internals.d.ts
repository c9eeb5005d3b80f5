// The one internal module of node-zookeeper-client that pvc reaches into (receive-buffer-fix.ts).
declare module 'node-zookeeper-client/lib/ConnectionManager.js' {
  const ConnectionManager: { prototype: object };
  export default ConnectionManager;
}
