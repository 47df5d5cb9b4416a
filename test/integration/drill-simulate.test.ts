/**
 * simulate end to end on the local stack: the real functions deployed under this run's own prefix and events topic,
 * subscribers seeded at a loopback receiver, a historical scenario sent through the producer Lambda, and the report
 * checked against what the receiver got. Also the CLI (`simulate --wait -o json`) and its exit code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { PROJECT_ROOT } from '../../shared/bundle/index.ts';
import { deploy, destroy } from '../../shared/deploy/index.ts';
import { drillPassed, sArrivalAt } from '../../shared/drill/report.ts';
import { runSimulation } from '../../shared/drill/run.ts';
import { findScenario, scenarioQuake } from '../../shared/drill/scenarios.ts';
import { seedSubscribers } from '../../shared/drill/seed.ts';
import { getEvent } from '../../shared/events/index.ts';
import { loadProfile, type Profile } from '../../shared/infra/config.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { DRILL_BANNER } from '../../shared/notify/text.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import { localClients, localStack, uniqueName } from '../helpers/stack.ts';

const clients = localClients();
const prefix = uniqueName('sim');
const names = { ...resourceNames(prefix), eventsTopic: `${prefix}.events`, notificationsTopic: `${prefix}.notif` };
const profile: Profile = { ...loadProfile({ profile: 'local' }), prefix, eventsPartitions: 2 };
const store = new SubscriberStore(clients.ddb, names, { maxSegmentSize: 50 });
const scenario = findScenario('vrancea-1990');
const secret = 'sim-test-secret';
const dir = mkdtempSync(join(tmpdir(), 'quakectl-sim-'));
let sink: WebhookSink;
let port: number;

beforeAll(async () => {
  sink = await startWebhookSink({ port: 0, secrets: { '*': secret } });
  port = sink.port;
  await deploy({ profile, clients }, { names });
  const subs = seedSubscribers({
    count: 400,
    center: scenario,
    radiusKm: 60,
    seed: 42,
    webhook: `http://127.0.0.1:${port}/drill`,
    secret,
  });
  await store.importAll(subs, { assumeNew: true });
}, 240_000);

afterAll(async () => {
  await sink?.close().catch(() => {});
  await destroy({ profile, clients }, { names, yes: true }).catch(() => {});
  clients.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('simulate (local stack, real functions)', () => {
  it('notifies every eligible subscriber and reports it as measured at the receiver', async () => {
    const quake = scenarioQuake(scenario, { now: Date.now(), detectionDelayS: 5 });
    const { sent, reports } = await runSimulation({
      clients,
      names,
      store,
      payload: { quakes: [quake], drill: true },
      wait: true,
      timeoutMs: 180_000,
      receiver: sink,
    });
    expect(sent.accepted).toEqual([quake.id]);
    expect(reports).toHaveLength(1);
    const r = reports[0];
    expect(r).toMatchObject({
      eventId: quake.id,
      drill: true,
      state: 'complete',
      strategy: 'geo',
      measuredAt: 'receiver',
    });
    expect(r.segments.done).toBe(r.segments.total);
    expect(r.segments.total).toBeGreaterThan(1);
    expect(r.eligible).toBeGreaterThan(0);
    expect(r.subscribersInFootprint).toBe(400);
    expect(r.delivered).toBe(r.eligible);
    expect(r.missing).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.failed).toBe(0);
    expect(sink.badSignatures()).toBe(0);
    expect(r.firstDeliveryMs!).toBeGreaterThan(0);
    expect(r.firstDeliveryMs!).toBeLessThanOrEqual(r.p50DeliveryMs!);
    expect(r.p50DeliveryMs!).toBeLessThanOrEqual(r.p99DeliveryMs!);
    expect(r.p99DeliveryMs!).toBeLessThanOrEqual(r.lastDeliveryMs!);
    expect(drillPassed(r)).toBe(true);

    // every notification is a drill and came from this event; the before-shaking share matches the receipts
    const mine = sink.receipts().filter((x) => x.notification.eventId === quake.id);
    expect(mine).toHaveLength(r.delivered);
    expect(
      mine.every(
        (x) => x.notification.drill && x.notification.text.startsWith(DRILL_BANNER[x.notification.locale as 'en']),
      ),
    ).toBe(true);
    const all = seedSubscribers({ count: 400, center: scenario, radiusKm: 60, seed: 42 });
    const byId = new Map(all.map((s) => [s.id, s]));
    const stored = { ...quake, originTime: quake.originTime };
    const before = mine.filter((x) => x.receivedAt < sArrivalAt(stored, byId.get(x.notification.subscriberId)!));
    expect(r.notifiedBeforeShakingPct).toBeCloseTo((100 * before.length) / r.eligible, 1);
  });

  it('fails the drill when the receiver did not get the notifications', async () => {
    const quake = scenarioQuake(scenario, { now: Date.now(), detectionDelayS: 5, suffix: 'deaf' });
    const deaf = { receipts: () => [], duplicates: () => 0 };
    const { reports } = await runSimulation({
      clients,
      names,
      store,
      payload: { quakes: [quake], drill: true },
      wait: true,
      timeoutMs: 180_000,
      receiver: deaf,
    });
    const r = reports[0];
    expect(r.complete).toBe(true);
    expect(r.delivered).toBe(0);
    expect(r.missing).toBe(r.eligible);
    expect(drillPassed(r)).toBe(false);
  });

  it('quakectl simulate --wait -o json prints the report and exits 0', async () => {
    await sink.close();
    const configFile = join(dir, 'quakectl.config.yaml');
    writeFileSync(configFile, `profiles:\n  local:\n    type: local\n    prefix: ${prefix}\n`);
    const r = spawnSync(
      process.execPath,
      [
        join(PROJECT_ROOT, 'bin', 'quakectl'),
        'simulate',
        '--scenario',
        'vrancea-1990',
        '--wait',
        '--sink-port',
        String(port),
        '--secret',
        secret,
        '-o',
        'json',
      ],
      {
        cwd: dir,
        env: { ...process.env, QUAKECTL_CONFIG: configFile, QUAKECTL_STATE_DIR: localStack().stateDir, CI: '1' },
        encoding: 'utf8',
        timeout: 200_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    for (const key of [
      'eventId',
      'drill',
      'subscribersInFootprint',
      'eligible',
      'delivered',
      'failed',
      'duplicates',
      'segments',
      'firstDeliveryMs',
      'lastDeliveryMs',
      'p50DeliveryMs',
      'p99DeliveryMs',
      'notifiedBeforeShakingPct',
      'strategy',
    ]) {
      expect(report).toHaveProperty(key);
    }
    expect(report).toMatchObject({ drill: true, measuredAt: 'receiver', missing: 0, duplicates: 0 });
    expect(report.delivered).toBe(report.eligible);
    expect(r.stderr).toMatch(/complete: segments/);
  });

  it('quakectl replay FILE --drill sends through the producer and prints its answer; exit 1 when it fails', async () => {
    const feed = join(PROJECT_ROOT, 'test', 'fixtures', 'quake', 'fdsn-usgs-13col.txt');
    const replay = (cfgPrefix: string) => {
      const configFile = join(dir, `replay-${cfgPrefix}.yaml`);
      writeFileSync(configFile, `profiles:\n  local:\n    type: local\n    prefix: ${cfgPrefix}\n`);
      return spawnSync(
        process.execPath,
        [join(PROJECT_ROOT, 'bin', 'quakectl'), 'replay', feed, '--drill', '-o', 'json'],
        {
          cwd: dir,
          env: { ...process.env, QUAKECTL_CONFIG: configFile, QUAKECTL_STATE_DIR: localStack().stateDir, CI: '1' },
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    };
    const r = replay(prefix);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // 4 valid rows, 2 rejected by the parser (no magnitude, latitude 95) before anything was sent
    expect(out).toMatchObject({ sent: 4, drill: true, superseded: 0, rejected: [] });
    expect(out.parsed.rejected).toHaveLength(2);
    expect([...out.accepted].sort()).toEqual(['ak0234gpdcgp', 'us6000k25r', 'us6000k2kk', 'us6000k2m4']);
    // the producer recorded them as drills in this system's events table
    const record = await getEvent({ ddb: clients.ddb, table: names.table('events') }, 'us6000k2kk');
    expect(record?.quake).toMatchObject({ id: 'us6000k2kk', drill: true, magnitude: 5.8 });
    // the same file again: every version is already known, so the producer drops them as superseded
    const again = JSON.parse(replay(prefix).stdout);
    expect(again.accepted).toEqual([]);
    expect(again.superseded).toBe(4);

    const missing = replay(uniqueName('none'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/producer:live is not deployed: run quakectl deploy first/);
  });

  it('refuses --live on the local profile with a usage error', () => {
    const r = spawnSync(
      process.execPath,
      [join(PROJECT_ROOT, 'bin', 'quakectl'), 'simulate', '--scenario', 'vrancea-1977', '--live'],
      {
        env: { ...process.env, QUAKECTL_STATE_DIR: localStack().stateDir },
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--live is refused on the local profile/);
  });
});
