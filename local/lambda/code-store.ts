/**
 * Deployment packages. AWS reports `CodeSha256` as the base64 SHA-256 of the zip and `CodeSize` as its byte length;
 * a package is unpacked once per distinct hash into `<state>/lambda/code/<hex>/task` (the LAMBDA_TASK_ROOT).
 *
 * Like the nodejs runtimes, functions may import the AWS SDK v3 without bundling it: `<hex>/node_modules` is a symlink
 * to the project's node_modules, one level above the task root, so Node's resolution (ESM and CommonJS) finds the
 * package's own node_modules first and the SDK second.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { InvalidParameterValueError } from './errors.ts';

export interface StoredCode {
  sha256: string;
  size: number;
  /** Directory holding the unpacked package (LAMBDA_TASK_ROOT). */
  taskRoot: string;
}

/** The node_modules the emulator itself resolves @aws-sdk/* from. */
export function projectNodeModules(): string {
  const pkg = createRequire(import.meta.url).resolve('@aws-sdk/client-lambda/package.json');
  return pkg.slice(0, pkg.lastIndexOf(`${sep}node_modules${sep}`) + `${sep}node_modules`.length);
}

export function codeSha256(zip: Uint8Array): string {
  return createHash('sha256').update(zip).digest('base64');
}

export class CodeStore {
  readonly #dir: string;
  constructor(stateDir: string) {
    this.#dir = join(stateDir, 'lambda', 'code');
  }

  #hex(sha256: string): string {
    return Buffer.from(sha256, 'base64').toString('hex');
  }

  /** Stores and unpacks a zip (once per hash). Invalid zips are refused as AWS refuses them. */
  put(zip: Buffer): StoredCode {
    const sha256 = codeSha256(zip);
    const base = join(this.#dir, this.#hex(sha256));
    const taskRoot = join(base, 'task');
    if (!existsSync(taskRoot)) {
      let files: Record<string, Uint8Array>;
      try {
        files = unzipSync(new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength));
      } catch (err) {
        throw new InvalidParameterValueError(
          `Could not unzip uploaded file. Please check your file, then try to upload again. (${(err as Error).message})`,
        );
      }
      const staging = `${taskRoot}.${process.pid}.tmp`;
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      for (const [name, data] of Object.entries(files)) {
        const target = normalize(join(staging, name));
        if (!target.startsWith(staging + sep)) continue; // zip-slip: ignore entries escaping the task root
        if (name.endsWith('/')) {
          mkdirSync(target, { recursive: true });
          continue;
        }
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, data);
      }
      writeFileSync(join(base, 'code.zip'), zip);
      renameSync(staging, taskRoot);
      const link = join(base, 'node_modules');
      if (!existsSync(link)) symlinkSync(projectNodeModules(), link, 'dir');
    }
    return { sha256, size: zip.length, taskRoot };
  }

  taskRoot(sha256: string): string {
    return join(this.#dir, this.#hex(sha256), 'task');
  }

  zipPath(sha256: string): string {
    return join(this.#dir, this.#hex(sha256), 'code.zip');
  }
}
