/**
 * `quakectl status` on the local stack: JSON of the snapshot; plain text once when not interactive (even with
 * --watch); and the live dashboard in a real pseudo-terminal (util-linux `script`), quitting on q.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptVersion } from '../../shared/events/store.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { tableDefinition } from '../../shared/infra/tables.ts';
import type { StatusSnapshot } from '../../shared/ops/status/snapshot.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { localClients, uniqueName } from '../helpers/stack.ts';
import { profileArgs, runCli, runJson } from './ops-cli.ts';

const clients = localClients();
const prefix = uniqueName('opsst');
const names = resourceNames(prefix);
const P = profileArgs(prefix);
let dlqUrl: string;
const now = Date.now();
const ESC = String.fromCharCode(27);

beforeAll(async () => {
  await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, 'events')));
  await waitUntilTableExists(
    { client: clients.dynamodb, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 },
    { TableName: names.table('events') },
  );
  const put = (Item: Record<string, unknown>) =>
    clients.ddb.send(new PutCommand({ TableName: names.table('events'), Item }));
  await put({
    eventId: 'ev-running',
    state: 'running',
    total: 20,
    doneCount: 7,
    delivered: 900,
    failed: 0,
    acceptedAt: now - 3000,
    quake: { magnitude: 6.6, place: 'Vrancea', drill: true },
  });
  await put({
    eventId: 'ev-drill',
    state: 'complete',
    total: 5,
    doneCount: 5,
    delivered: 120,
    failed: 0,
    acceptedAt: now - 60_000,
    firstDeliveryAt: now - 60_000 + 2500,
    lastDeliveryAt: now - 60_000 + 9000,
    completedAt: now - 50_000,
    quake: { magnitude: 7.1, place: 'Drill place', drill: true },
  });
  await put({
    eventId: 'ev-real-old',
    state: 'complete',
    completedAt: now - 40_000,
    quake: { magnitude: 5, drill: false },
  });
  // Accepted by the producer's own store function, never marked published (its produce failed).
  await acceptVersion(
    { ddb: clients.ddb, table: names.table('events') },
    {
      id: 'ev-unpublished',
      source: 'us',
      sourceIds: ['us:ev-unpublished'],
      originTime: now - 20_000,
      lat: 45.7,
      lon: 26.6,
      depthKm: 90,
      magnitude: 5.4,
      magType: 'mww',
      place: 'Vrancea',
      updatedAt: now - 15_000,
      status: 'automatic',
      kind: 'earthquake',
      drill: false,
    } as Quake,
    now - 14_000,
  );
  dlqUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: names.dlq('delivery') }))).QueueUrl ?? '';
  await clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: '{"kind":"delivery"}' }));
});

afterAll(async () => {
  await clients.dynamodb.send(new DeleteTableCommand({ TableName: names.table('events') })).catch(() => {});
  await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
  clients.destroy();
});

describe('quakectl status', () => {
  it('-o json: services, functions, DLQ depths, events in progress with segments done, recent drills with latencies', async () => {
    const s = await runJson<StatusSnapshot>([...P, 'status']);
    expect(s.services.map((x) => [x.service, x.healthy])).toEqual([
      ['kafka', true],
      ['sqs', true],
      ['dynamodb', true],
      ['lambda', true],
    ]);
    expect(s.functions.map((f) => [f.role, f.deployed])).toEqual([
      ['producer', false],
      ['consumer', false],
      ['segment-worker', false],
      ['autoscaler', false],
    ]);
    expect(s.dlqs).toContainEqual({ queue: names.dlq('delivery'), kind: 'delivery', depth: 1, exists: true });
    expect(s.dlqs).toContainEqual({ queue: names.dlq('worker'), kind: 'worker', depth: 0, exists: false });
    expect(s.events).toEqual([
      expect.objectContaining({
        eventId: 'ev-running',
        state: 'running',
        done: 7,
        total: 20,
        pending: 13,
        delivered: 900,
      }),
    ]);
    expect(s.drills).toEqual([
      expect.objectContaining({ eventId: 'ev-drill', delivered: 120, firstLatencyMs: 2500, lastLatencyMs: 9000 }),
    ]);
    expect(s.lag).toBeUndefined();
    expect(s.notes.join(' ')).toMatch(/lag: .*no Kafka event source mapping/);
  });

  it('names what deploy would create and is missing, with the fix, and lists unpublished events by id', async () => {
    const s = await runJson<StatusSnapshot>([...P, 'status']);
    expect(s.fix).toBe('quakectl deploy');
    expect(s.missing).toEqual(
      expect.arrayContaining([
        { kind: 'table', name: names.table('subscribers') },
        { kind: 'table', name: names.table('locks') },
        { kind: 'queue', name: names.dlq('worker') },
        { kind: 'function', name: names.function('producer') },
      ]),
    );
    expect(s.missing).not.toContainEqual({ kind: 'table', name: names.table('events') });
    // Optional (autoscaler.enabled): deploy does not create it by default, so it is not "missing".
    expect(s.missing).not.toContainEqual({ kind: 'function', name: names.function('autoscaler') });
    expect(s.unpublished).toEqual([
      expect.objectContaining({
        eventId: 'ev-unpublished',
        magnitude: 5.4,
        place: 'Vrancea',
        acceptedAt: now - 14_000,
      }),
    ]);
    const text = await runCli([...P, 'status']);
    expect(text.stdout).toMatch(/not deployed \(\d+; fix: quakectl deploy\):/);
    expect(text.stdout).toContain('ev-unpublished M5.4 Vrancea, accepted');
    expect(text.stdout).not.toMatch(/Requested resource not found|does not host this topic-partition/);
  });

  it('--watch without a terminal prints plain text once and exits', async () => {
    const r = await runCli([...P, 'status', '--watch']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^quakectl status \(profile t, /);
    expect(r.stdout).toContain('ev-running M6.6 Vrancea DRILL: running, segments 7/20, delivered 900');
    expect(r.stdout).toContain('ev-drill M7.1 Drill place: delivered 120, first alert 2.5 s, last 9.0 s');
    expect(r.stdout.includes(ESC)).toBe(false);
  });

  it('--watch in a real pseudo-terminal draws the live dashboard and quits on q', async () => {
    const bin = fileURLToPath(new URL('../../bin/quakectl', import.meta.url));
    const cmd = [process.execPath, bin, ...P, 'status', '--watch', '--interval', '1'].map((a) => `'${a}'`).join(' ');
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', COLUMNS: '160', LINES: '60' };
    delete env.NO_COLOR;
    delete env.CI;
    // script(1) runs the command on a new pty; our pipe is its keyboard.
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const deadline = Date.now() + 60_000;
    // Two refreshes: the header's clock moves.
    while (!((out.match(/segments 7\/20/g) ?? []).length >= 2 && out.includes('q or Ctrl-C quits'))) {
      if (Date.now() > deadline) throw new Error(`no dashboard in the pty; got:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out.includes(ESC)).toBe(true); // drawn with terminal control sequences, not plain lines
    child.stdin.write('q');
    const code = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(-99), 15_000))]);
    if (code === -99) child.kill('SIGKILL');
    expect(code).toBe(0);
  });
});
