import { type ChildProcess, spawn } from 'node:child_process';
import { CreateTableCommand, DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../shared/infra/names.ts';
import { tableDefinition } from '../../shared/infra/tables.ts';
import { acquire, get, heartbeat, LeaseLostError } from '../../shared/locks/index.ts';
import type { LockRow } from '../../shared/ops/locks/view.ts';
import { localClients, localServiceConfig, uniqueName } from '../helpers/stack.ts';
import { profileArgs, runCli, runJson } from './ops-cli.ts';

const clients = localClients();
const prefix = uniqueName('opslk');
const names = resourceNames(prefix);
const store = { ddb: clients.ddb, table: names.table('locks') };
const P = profileArgs(prefix);
const eventId = uniqueName('ev');
const children: ChildProcess[] = [];

/** A worker in its own process: acquires the segment with a short lease, checkpoints a cursor, then hangs. */
function startWorker(segment: string, leaseMs: number): Promise<ChildProcess> {
  const cfg = localServiceConfig();
  const script = `
    const { createClients } = await import(${JSON.stringify(new URL('../../shared/infra/clients.ts', import.meta.url).pathname)});
    const locks = await import(${JSON.stringify(new URL('../../shared/locks/index.ts', import.meta.url).pathname)});
    const clients = createClients(JSON.parse(process.env.CFG));
    const store = { ddb: clients.ddb, table: ${JSON.stringify(store.table)} };
    const lease = await locks.acquire(store, { eventId: ${JSON.stringify(eventId)}, segment: ${JSON.stringify(segment)}, owner: 'worker-' + process.pid, leaseMs: ${leaseMs} });
    await locks.checkpoint(store, lease, { segment: ${JSON.stringify(segment)}, subscriberId: 's42' }, { delivered: 42 }, ${leaseMs});
    console.log('acquired');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, CFG: JSON.stringify(cfg) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d) => String(d).includes('acquired') && resolve(child));
    child.on('exit', (code) => reject(new Error(`worker exited ${code}`)));
  });
}

beforeAll(async () => {
  await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, 'locks')));
  await waitUntilTableExists(
    { client: clients.dynamodb, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 },
    { TableName: store.table },
  );
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await clients.dynamodb.send(new DeleteTableCommand({ TableName: store.table })).catch(() => {});
  clients.destroy();
});

describe('quakectl locks', () => {
  it('list --stale shows a killed worker’s lease and release frees it, keeping the cursor', async () => {
    const segment = '851e8053fffffff#0';
    const worker = await startWorker(segment, 8000);
    worker.kill('SIGKILL');
    // While the lease runs it is listed, but not as stale.
    const all = await runJson<LockRow[]>([...P, 'locks', 'list', '--event', eventId]);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ segment, state: 'running', stale: false, version: 1, delivered: 42 });
    expect(all[0].owner).toMatch(/^worker-\d+$/);
    const leaseUntil = (await get(store, eventId, segment))?.leaseUntil ?? 0;
    await new Promise((r) => setTimeout(r, Math.max(0, leaseUntil - Date.now() + 100)));

    const stale = await runJson<LockRow[]>([...P, 'locks', 'list', '--stale']);
    expect(stale.map((r) => [r.eventId, r.segment, r.stale])).toEqual([[eventId, segment, true]]);
    expect(stale[0].leaseRemainingMs).toBeLessThan(0);
    expect(JSON.parse(stale[0].cursor ?? '{}')).toEqual({ segment, subscriberId: 's42' });

    const dry = await runCli([...P, 'locks', 'release', '--event', eventId, '--segment', segment, '--dry-run']);
    expect(dry.stderr).toMatch(/would release .* expired \d+ s ago, version 1, cursor kept/);
    expect((await get(store, eventId, segment))?.version).toBe(1);

    const r = await runCli([...P, 'locks', 'release', '--event', eventId, '--segment', segment, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const after = await get(store, eventId, segment);
    expect(after).toMatchObject({ version: 2, leaseUntil: 0, state: 'running' });
    expect(after?.owner).toBeUndefined();
    // The next worker takes it over at once and resumes from the dead worker's cursor.
    const next = await acquire(store, { eventId, segment, owner: 'next', leaseMs: 60_000 });
    expect(next.cursor).toEqual({ segment, subscriberId: 's42' });
    expect(await runJson<LockRow[]>([...P, 'locks', 'list', '--stale'])).toEqual([]);
  });

  it('a live lease is refused without --force; forced, the live worker loses it at its next write', async () => {
    const segment = '851e8057fffffff#1';
    const lease = await acquire(store, { eventId, segment, owner: 'live-worker', leaseMs: 120_000 });
    const refused = await runCli([...P, 'locks', 'release', '--event', eventId, '--segment', segment, '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/lease of live-worker .* is live .* pass --force/);
    // Forcing a live lease is asked even locally: without a TTY it needs --yes.
    const noTty = await runCli([...P, 'locks', 'release', '--event', eventId, '--segment', segment, '--force']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toMatch(/stdin is not a TTY \(pass --yes\)/);
    const forced = await runCli([
      ...P,
      'locks',
      'release',
      '--event',
      eventId,
      '--segment',
      segment,
      '--force',
      '--yes',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    await expect(heartbeat(store, lease, 120_000)).rejects.toBeInstanceOf(LeaseLostError);
    const done = await runCli([...P, 'locks', 'release', '--event', eventId, '--segment', 'nope#0', '--yes']);
    expect(done.code).toBe(2);
  });
});
