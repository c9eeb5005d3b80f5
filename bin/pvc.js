#!/usr/bin/env node
// The pvc launcher. The CLI is TypeScript run as it is written; what differs is how it loads:
//
// 1. Fast path: a JavaScript build of the CLI and the packages it uses, kept in
//    node_modules/.cache/pvc-cli and used only while every file it was built from (ours and
//    those in node_modules) still has the size and mtime it had (one stat per file, ~2 ms).
//    Node loads it natively, a few files instead of ~200 (zod and yaml are many small modules).
// 2. Otherwise the build is redone with esbuild (already installed as tsx's transformer) into
//    a fresh folder, and the manifest is swapped in with a rename, so concurrent runs never see
//    half a build.
// 3. When that is not possible (read-only install, esbuild missing, a syntax error) or
//    PVC_NO_BUILD_CACHE=1: tsx's loader is registered in this process and cli/main.ts is
//    imported as TypeScript.
//
// Why: tsx's loader costs ~140 ms before the first line of the CLI runs (a hooks worker thread
// plus esbuild), and resolving ~200 module files another ~100 ms: together most of the 300 ms
// budget for `pvc node list` on a 2-core machine.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ENTRY = 'cli/main.ts';
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'pvc-cli');
const MANIFEST = path.join(CACHE_DIR, 'manifest.json');
/** Bumped whenever the build options below change, so older builds are not reused. */
const BUILD_FORMAT = 3;
/** Builds older than this that the manifest no longer names are removed (a running pvc may still load chunks of one). */
const STALE_BUILD_AGE_MS = 60 * 60 * 1000;

/** The entry file of a build whose inputs are all unchanged, or null. */
function freshBuild() {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
  } catch {
    return null;
  }
  if (manifest?.format !== BUILD_FORMAT || typeof manifest.entry !== 'string' || typeof manifest.inputs !== 'object') return null;
  for (const [file, stamp] of Object.entries(manifest.inputs)) {
    let stat;
    try {
      stat = fs.statSync(path.join(ROOT, file));
    } catch {
      return null;
    }
    if (stamp !== stampOf(stat)) return null;
  }
  return path.join(CACHE_DIR, manifest.entry);
}

function stampOf(stat) {
  return `${stat.size}:${stat.mtimeMs}`;
}

/** Builds cli/ into a new folder and points the manifest at it; returns the entry file. */
async function rebuild() {
  const esbuild = await import('esbuild');
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const buildName = `build-${Date.now()}-${process.pid}`;
  const outdir = path.join(CACHE_DIR, buildName);
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    bundle: true,
    splitting: true, // keeps the CLI's lazy imports lazy: each command loads only its chunks
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Bundled CommonJS packages (node-zookeeper-client) call require() for node's built-ins.
    banner: { js: "import { createRequire as pvcCreateRequire } from 'node:module'; const require = pvcCreateRequire(import.meta.url);" },
    plugins: [sourceUrlPlugin()],
    outdir,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) inputs[file] = stampOf(fs.statSync(path.join(ROOT, file)));
  const entry = path.join(buildName, `${path.basename(ENTRY, '.ts')}.js`);
  const temp = `${MANIFEST}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify({ format: BUILD_FORMAT, entry, inputs }));
  fs.renameSync(temp, MANIFEST);
  removeStaleBuilds(buildName);
  return path.join(CACHE_DIR, entry);
}

/**
 * Keeps `import.meta.url` of the project's own files pointing at the source file, not at the
 * bundle chunk: modules that find files next to them (templates/, package.json) must find the
 * same ones in the build as when run as TypeScript.
 */
function sourceUrlPlugin() {
  return {
    name: 'pvc-source-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const source = fs.readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
      });
    },
  };
}

function removeStaleBuilds(keep) {
  const now = Date.now();
  for (const name of fs.readdirSync(CACHE_DIR)) {
    if (!name.startsWith('build-') || name === keep) continue;
    const dir = path.join(CACHE_DIR, name);
    try {
      if (now - fs.statSync(dir).mtimeMs > STALE_BUILD_AGE_MS) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // another pvc removed it first
    }
  }
}

async function loadCli() {
  if (process.env.PVC_NO_BUILD_CACHE !== '1') {
    try {
      const entry = freshBuild() ?? (await rebuild());
      return await import(pathToFileURL(entry).href);
    } catch {
      // fall through to running the TypeScript directly, which reports any real error itself
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('../cli/main.ts');
}

const { main } = await loadCli();
process.exitCode = await main(process.argv.slice(2));
