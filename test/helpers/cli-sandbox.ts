// Running the CLI in-process without a cluster: a temporary PVC_CONFIG_DIR (optionally holding
// a connections file), no PVC_CONNECTION, and the terminal recorded. Registers its own
// beforeEach/afterEach; read `dir`, `out` and `err` from the returned object inside tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';
import { setTerminal } from '../../cli/output.ts';

export interface CliSandbox {
  dir: string;
  out: string;
  err: string;
}

export function useCliSandbox(prefix: string, connectionsYaml?: string): CliSandbox {
  const sandbox: CliSandbox = { dir: '', out: '', err: '' };
  let restore: () => void = () => undefined;
  beforeEach(() => {
    sandbox.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    if (connectionsYaml !== undefined) fs.writeFileSync(path.join(sandbox.dir, 'connections.yaml'), connectionsYaml, { mode: 0o600 });
    vi.stubEnv('PVC_CONFIG_DIR', sandbox.dir);
    vi.stubEnv('PVC_CONNECTION', '');
    sandbox.out = '';
    sandbox.err = '';
    restore = setTerminal({ out: (t) => void (sandbox.out += t), err: (t) => void (sandbox.err += t) });
  });
  afterEach(() => {
    restore();
    vi.unstubAllEnvs();
    fs.rmSync(sandbox.dir, { recursive: true, force: true });
  });
  return sandbox;
}
