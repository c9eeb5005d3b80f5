// pvcd's entry point: read the config, start, and on SIGTERM/SIGINT shut down cleanly
// (handing over the primary role first when this node holds it).
import { PvcError, errorMessage, exitCodeFor } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import { loadConfig, PVCD_USAGE } from './config.ts';
import { Pvcd } from './runtime/pvcd.ts';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`pvcd: ${errorMessage(error)}\n`);
    return exitCodeFor(error);
  }
  if (config === 'help') {
    process.stdout.write(`${PVCD_USAGE}\n`);
    return 0;
  }
  const log = createLogger('pvcd', config.logLevel, { cluster: config.cluster, node: config.node });
  const pvcd = new Pvcd(config, log);

  let signalled = false;
  const stopOn = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    // When ZooKeeper cannot be reached the handover cannot happen either; the primary lease has
    // stopped the runnables by then, and the session's end releases the rest.
    setTimeout(() => {
      log.error({ shutdownTimeoutMs: config.timeouts.shutdownTimeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.timeouts.shutdownTimeoutMs).unref();
    pvcd.shutdown(`received ${signal}`).then(
      () => process.exit(0),
      (error) => {
        log.error({ err: errorMessage(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stopOn);
  process.on('SIGINT', stopOn);

  try {
    await pvcd.start();
  } catch (error) {
    const message = errorMessage(error);
    log.fatal({ err: message, code: error instanceof PvcError ? error.code : undefined }, 'pvcd could not start');
    process.stderr.write(`pvcd: ${message}\n`);
    await pvcd.shutdown('start failed').catch(() => undefined);
    return exitCodeFor(error);
  }
  return -1; // keep running until a signal
}

const code = await main();
if (code >= 0) process.exit(code);
