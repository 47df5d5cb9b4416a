import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, deterministicZip, PROJECT_ROOT } from '../../shared/bundle/index.ts';

// The fixture lives inside the checkout (under the git-ignored .quakectl/) so its imports resolve from node_modules.
const dir = join(PROJECT_ROOT, '.quakectl', `test-bundle-${process.pid}-${Date.now()}`);
const entry = join(dir, 'index.ts');

const source = (greeting: string) => `
import { SQSClient } from '@aws-sdk/client-sqs';
import WebSocket from 'ws';
import { shout } from './shout.ts';
export const handler = async (event: { name: string }) => ({
  text: shout('${greeting}', event.name),
  ws: typeof WebSocket,
  sdk: typeof SQSClient,
});
`;

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'shout.ts'),
    "export const shout = (g: string, n: string): string => g + ', ' + n + '!';\n",
  );
  await writeFile(entry, source('hello'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('bundleFunction', () => {
  it('gives the same zip and CodeSha256 for the same code', async () => {
    const a = await bundleFunction('fixture', { entry });
    const b = await bundleFunction('fixture', { entry });
    expect(Buffer.from(a.zip).equals(Buffer.from(b.zip))).toBe(true);
    expect(a.codeSha256).toBe(b.codeSha256);
    expect(a.codeSha256).toBe(createHash('sha256').update(a.zip).digest('base64'));
  });

  it('changes CodeSha256 when the code changes', async () => {
    const before = await bundleFunction('fixture', { entry });
    await writeFile(entry, source('hi'));
    const after = await bundleFunction('fixture', { entry });
    await writeFile(entry, source('hello'));
    expect(after.codeSha256).not.toBe(before.codeSha256);
  });

  it('writes a minified ESM index.mjs with a source map that runs, CJS deps included and the AWS SDK external', async () => {
    const out = join(dir, 'out');
    const b = await bundleFunction('fixture', { entry, outDir: out });
    const files = unzipSync(b.zip);
    expect(Object.keys(files)).toEqual(['index.mjs', 'index.mjs.map']);
    const code = new TextDecoder().decode(files['index.mjs']);
    expect(code).toMatch(/from\s*"@aws-sdk\/client-sqs"/);
    expect(code).toContain('sourceMappingURL=index.mjs.map');
    const map = JSON.parse(new TextDecoder().decode(files['index.mjs.map']));
    expect(map.sources.some((s: string) => s.endsWith('shout.ts'))).toBe(true);
    const mod = await import(pathToFileURL(join(out, 'fixture', 'index.mjs')).href);
    await expect(mod.handler({ name: 'Ana' })).resolves.toEqual({
      text: 'hello, Ana!',
      ws: 'function',
      sdk: 'function',
    });
  });
});

describe('deterministicZip', () => {
  it('sorts entries and stamps every entry 1980-01-01 00:00', () => {
    const zip = deterministicZip({ 'b.txt': new Uint8Array([2]), 'a.txt': new Uint8Array([1]) });
    expect(Object.keys(unzipSync(zip))).toEqual(['a.txt', 'b.txt']);
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    expect(view.getUint32(0, true)).toBe(0x04034b50); // first local file header
    expect(view.getUint16(10, true)).toBe(0); // DOS time 00:00:00
    expect(view.getUint16(12, true)).toBe((0 << 9) | (1 << 5) | 1); // DOS date 1980-01-01
  });
});
