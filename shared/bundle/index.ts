/**
 * `bundleFunction(role)`: functions/<role>/index.ts → index.mjs (+ map) → deterministic zip, with its CodeSha256.
 * Handler `index.handler`; the function env sets NODE_OPTIONS=--enable-source-maps so stack traces use the map.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { esbuildFunction } from './esbuild.ts';
import { codeSha256, deterministicZip } from './zip.ts';

export { BundleError } from './errors.ts';
export { codeSha256, deterministicZip } from './zip.ts';

export const HANDLER = 'index.handler';
export const SOURCE_MAP_ENV = { NODE_OPTIONS: '--enable-source-maps' } as const;

/** The repository root (two levels above shared/bundle). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

export interface BundleOptions {
  /** Also write `<outDir>/<role>.zip` (and the unzipped files under `<outDir>/<role>/`) for inspection. */
  outDir?: string;
  /** Entry file; default `<root>/functions/<role>/index.ts`. */
  entry?: string;
  /** Repository root; default the checkout this module lives in. */
  root?: string;
}

export interface Bundle {
  role: string;
  zip: Uint8Array;
  /** Base64 SHA-256 of `zip`, comparable with Lambda's `CodeSha256`. */
  codeSha256: string;
  /** Size of index.mjs in bytes. */
  codeBytes: number;
}

export async function bundleFunction(role: string, opts: BundleOptions = {}): Promise<Bundle> {
  const root = opts.root ?? PROJECT_ROOT;
  const entry = opts.entry ?? join(root, 'functions', role, 'index.ts');
  // A fixed virtual outfile location inside the tree keeps source-map paths identical across runs and machines.
  const outfile = join(root, '.quakectl', 'bundle', role, 'index.mjs');
  const { files } = await esbuildFunction(entry, outfile);
  const zip = deterministicZip(files);
  if (opts.outDir) {
    const dir = join(opts.outDir, role);
    await mkdir(dir, { recursive: true });
    await Promise.all(Object.entries(files).map(([name, data]) => writeFile(join(dir, name), data)));
    await writeFile(join(opts.outDir, `${role}.zip`), zip);
  }
  return { role, zip, codeSha256: codeSha256(zip), codeBytes: files['index.mjs']?.byteLength ?? 0 };
}
