// The version of this pvc build, as package.json states it.
import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const PVC_VERSION: string = packageJson.version;
