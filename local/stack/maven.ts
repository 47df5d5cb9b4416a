/**
 * Jars for the JVM services, resolved by Maven from the poms in local/maven/ into the cache
 * (`<cacheDir>/<name>-<version>/lib`). A filled cache directory has a `.complete` marker: later starts read it
 * offline and never call Maven.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { PrerequisiteError } from '../../shared/infra/errors.ts';
import { requireMaven } from './prereqs.ts';

export const POM_DIR = fileURLToPath(new URL('../maven/', import.meta.url));

export interface Artifact {
  /** Cache directory name, e.g. `kafka-3.9.1`. */
  name: string;
  pom: string;
  /** `-D` properties for the pom (the version to resolve). */
  properties: Record<string, string>;
}

export function libDir(cache: string, artifact: Artifact): string {
  return join(cache, artifact.name, 'lib');
}

export function isCached(cache: string, artifact: Artifact): boolean {
  return existsSync(join(cache, artifact.name, '.complete'));
}

/** Returns the lib directory, downloading into the cache first if needed. */
export async function ensureArtifact(
  cache: string,
  artifact: Artifact,
  onFetch?: (a: Artifact) => void,
): Promise<string> {
  const lib = libDir(cache, artifact);
  if (isCached(cache, artifact)) return lib;
  const mvn = requireMaven();
  onFetch?.(artifact);
  const dir = join(cache, artifact.name);
  mkdirSync(dir, { recursive: true });
  // Download into a private directory and rename: two concurrent first starts cannot see a half-filled lib/.
  const tmp = join(dir, `lib.tmp-${process.pid}-${Date.now()}`);
  const args = [
    '-q',
    '-B',
    '-f',
    join(POM_DIR, artifact.pom),
    ...Object.entries(artifact.properties).map(([k, v]) => `-D${k}=${v}`),
    'dependency:copy-dependencies',
    `-DoutputDirectory=${tmp}`,
  ];
  const { code, output } = await run(mvn, args);
  if (code !== 0 || !existsSync(tmp) || readdirSync(tmp).length === 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new PrerequisiteError(
      `Maven could not resolve ${artifact.name} (mvn ${args.join(' ')}): ${tail(output)}. ` +
        'Check the version exists on Maven Central and that Maven can reach it.',
    );
  }
  if (isCached(cache, artifact)) {
    rmSync(tmp, { recursive: true, force: true });
  } else {
    rmSync(lib, { recursive: true, force: true });
    renameSync(tmp, lib);
    writeFileSync(join(dir, '.complete'), `${new Date().toISOString()}\n`);
  }
  return lib;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.once('error', (err) => resolve({ code: 127, output: String(err) }));
    child.once('close', (code) => resolve({ code, output }));
  });
}

function tail(text: string): string {
  const lines = stripVTControlCharacters(text)
    .split('\n')
    .filter((l) => l.trim());
  return lines.slice(-5).join(' | ') || 'no output';
}
