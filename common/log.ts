// Structured logs (pino) for pvcd and the tools; the CLI writes to the terminal through
// cli/output.ts instead.
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

export function createLogger(name: string, level: Level = 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({ name, level, base: { pid: process.pid, ...bindings } });
}
