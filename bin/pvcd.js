#!/usr/bin/env node
// Runs pvcd from its TypeScript source through tsx's loader, in this one process (so that
// signals sent to this PID reach pvcd itself).
import { register } from 'tsx/esm/api';

register();
await import('../daemon/main.ts');
