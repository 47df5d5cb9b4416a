/**
 * Fan-out benchmark: the `geo` strategy (footprint cells, nearest first) against the `scan` baseline (whole-table
 * parallel Scan, filter by intensity) on the same subscribers in the same run, for 10k, 100k and 1M subscribers and
 * two layouts:
 *   inside  — everyone within 150 km of the Vrancea 1977 hypocentre (M7.4, 94 km): the whole population is in the
 *             footprint, the case where geo can only win by ordering;
 *   country — a Romania-sized disk (330 km around 45.9N 24.97E, placed by city population) and a regional shallow
 *             M5.5 near Făgăraș: the footprint holds a few percent of the table, the case geo exists for.
 * The pipeline runs in-process with the production domain code: planFanout + savePlan (what the consumer does), then
 * P segment-worker chains (runSegmentWorker; a hand-off continues in-process, as the next Lambda would), delivering
 * signed webhook batches through the real Deliverer to the loopback sink, which records arrival times. Subscribers
 * live in a dynalite started for this run (so a million items neither slow nor bloat the shared stack); the delivery
 * DLQ is the shared stack's ElasticMQ. Times are from acceptance (just before planning).
 *
 *   node bench/fanout.ts [--sizes 10000,100000,1000000] [--skip-1m] [--layouts inside,country] [--parallelism 8]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { dynaliteArgs } from '../local/stack/node-services.ts';
import { startWebhookSink } from '../local/webhook-sink.ts';
import { sArrivalAt } from '../shared/drill/report.ts';
import { generateSubscribers } from '../shared/drill/seed.ts';
import { savePlan } from '../shared/events/index.ts';
import { planFanout, runSegmentWorker, type WorkerPayload } from '../shared/fanout/index.ts';
import { createClients, serviceConfigFromProfile } from '../shared/infra/clients.ts';
import { loadProfile } from '../shared/infra/config.ts';
import { resourceNames, TABLES } from '../shared/infra/names.ts';
import { tableDefinition } from '../shared/infra/tables.ts';
import { Deliverer } from '../shared/notify/deliverer.ts';
import type { Quake } from '../shared/quake/types.ts';
import { coveringCells, SubscriberStore } from '../shared/segments/index.ts';
import { intensityModelFor } from '../shared/seismo/index.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    'skip-1m': { type: 'boolean', default: false },
    layouts: { type: 'string', default: 'inside,country' },
    parallelism: { type: 'string', default: '8' },
    'page-size': { type: 'string', default: '500' },
    'scan-segments': { type: 'string', default: '32' },
    /** Count DynamoDB calls (and their time) per operation and table, printed per strategy run. */
    'count-calls': { type: 'boolean', default: false },
  },
});
const sizes = args.sizes
  .split(',')
  .map(Number)
  .filter((n) => !(args['skip-1m'] && n >= 1_000_000));
const layouts = args.layouts.split(',') as ('inside' | 'country')[];
const P = Number(args.parallelism);
const PAGE = Number(args['page-size']);
const SCAN_SEGMENTS = Number(args['scan-segments']);
const SECRET = 'bench-secret';

interface Layout {
  center: { lat: number; lon: number };
  radiusKm: number;
  quake: (id: string, now: number) => Quake;
}

const drill = (id: string, now: number, e: Pick<Quake, 'lat' | 'lon' | 'depthKm' | 'magnitude' | 'place'>): Quake => ({
  id,
  source: 'drill',
  sourceIds: [id],
  originTime: now - 5000,
  magType: 'mw',
  updatedAt: now,
  status: 'reviewed',
  kind: 'earthquake',
  drill: true,
  ...e,
});

const LAYOUTS: Record<'inside' | 'country', Layout> = {
  inside: {
    center: { lat: 45.77, lon: 26.76 },
    radiusKm: 150,
    quake: (id, now) => drill(id, now, { lat: 45.77, lon: 26.76, depthKm: 94, magnitude: 7.4, place: 'Vrancea' }),
  },
  country: {
    center: { lat: 45.9, lon: 24.97 },
    radiusKm: 330,
    quake: (id, now) => drill(id, now, { lat: 45.8, lon: 24.8, depthKm: 10, magnitude: 5.5, place: 'Făgăraș' }),
  },
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startDynalite(): Promise<{ endpoint: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, dynaliteArgs({ port }), { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(endpoint, { method: 'POST' });
      return { endpoint, proc };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('dynalite did not start');
}

function memorySampler() {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return () => {
    clearInterval(t);
    return Math.max(peak, process.memoryUsage().rss);
  };
}

interface Row {
  size: number;
  layout: string;
  strategy: 'geo' | 'scan';
  segments: number;
  eligible: number;
  delivered: number;
  duplicates: number;
  firstMs: number;
  lastMs: number;
  perS: number;
  beforeSPct: number;
  peakMb: number;
}

const dynamo = await startDynalite();
const base = serviceConfigFromProfile(loadProfile({ profile: 'local' }));
const sink = await startWebhookSink({ port: 0, secrets: SECRET });
const rows: Row[] = [];
const loads: { size: number; layout: string; seconds: number }[] = [];
const log = (m: string) => process.stderr.write(`${m}\n`);
const started = Date.now();

try {
  for (const size of sizes) {
    for (const layoutName of layouts) {
      const layout = LAYOUTS[layoutName];
      const names = resourceNames(`bench-${randomBytes(3).toString('hex')}`);
      const clients = createClients({ ...base, names, endpoints: { ...base.endpoints, dynamodb: dynamo.endpoint } });
      for (const role of TABLES) await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, role)));
      for (const role of TABLES) {
        while (
          (await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table(role) }))).Table
            ?.TableStatus !== 'ACTIVE'
        ) {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const dlq = await clients.sqs.send(new CreateQueueCommand({ QueueName: names.dlq('delivery') }));
      const calls = new Map<string, { n: number; ms: number }>();
      if (args['count-calls']) {
        clients.ddb.middlewareStack.add(
          (next, context) => async (a) => {
            const input = a.input as { TableName?: string };
            const key = `${context.commandName} ${(input.TableName ?? '').replace(/^.*-/, '')}`;
            const t = performance.now();
            try {
              return await next(a);
            } finally {
              const c = calls.get(key) ?? { n: 0, ms: 0 };
              c.n++;
              c.ms += performance.now() - t;
              calls.set(key, c);
            }
          },
          { step: 'initialize', name: 'benchCallCounter' },
        );
      }
      const store = new SubscriberStore(clients.ddb, names, { maxSegmentSize: 2000, concurrency: 16 });
      const seedOpts = {
        count: size,
        center: layout.center,
        radiusKm: layout.radiusKm,
        seed: 7,
        webhook: `${sink.url}/bench`,
        secret: SECRET,
        idPrefix: 'b',
      };
      // Locations by index for the before-S-wave check, without keeping a million objects around.
      const lat = new Float64Array(size);
      const lon = new Float64Array(size);
      const minMmi = new Float32Array(size);
      const t0 = Date.now();
      let batch = [];
      let i = 0;
      for (const s of generateSubscribers(seedOpts)) {
        lat[i] = s.lat;
        lon[i] = s.lon;
        minMmi[i] = s.minMmi ?? 3;
        i++;
        batch.push(s);
        if (batch.length === 50_000) {
          await store.importAll(batch, { assumeNew: true });
          batch = [];
        }
      }
      if (batch.length) await store.importAll(batch, { assumeNew: true });
      const loadS = (Date.now() - t0) / 1000;
      loads.push({ size, layout: layoutName, seconds: loadS });
      log(`${size} ${layoutName}: loaded in ${loadS.toFixed(1)} s`);

      for (const strategy of ['geo', 'scan'] as const) {
        sink.reset();
        calls.clear();
        const id = `bench-${strategy}-${randomBytes(3).toString('hex')}`;
        // The census of eligible subscribers is the benchmark's bookkeeping: done before acceptance (it took ~0.2 s
        // at 1M and used to be counted into the first notification). The intensity model does not depend on time.
        const model = intensityModelFor(layout.quake(id, Date.now()));
        let eligible = 0;
        for (let k = 0; k < size; k++) if (model.predict(lat[k], lon[k]) >= minMmi[k]) eligible++;
        const acceptedAt = Date.now();
        const quake = layout.quake(id, acceptedAt);
        const peak = memorySampler();
        const start = Date.now();
        const plan = await planFanout(quake, {
          strategy,
          scanSegments: SCAN_SEGMENTS,
          coveringCells,
          segmentsForCells: (cells) => store.segmentsForCells(cells),
          allSegments: () => store.allSegments(),
          chains: P,
        });
        const plannedMs = Date.now() - acceptedAt;
        await savePlan({ ddb: clients.ddb, table: names.table('events') }, quake, { ...plan, chains: P });
        const savedMs = Date.now() - acceptedAt;
        const deliverer = new Deliverer({ sqs: clients.sqs, names, allowPrivateTargets: true, batchSize: 100 });
        const chain = async (c: number) => {
          let payload: WorkerPayload | undefined = { eventId: quake.id, chain: c, hop: 0 };
          while (payload) {
            let next: WorkerPayload | undefined;
            const deadline = Date.now() + 900_000;
            await runSegmentWorker(
              {
                events: { ddb: clients.ddb, table: names.table('events') },
                locks: { ddb: clients.ddb, table: names.table('locks') },
                subscribers: store,
                deliver: (items) => deliverer.deliver(items),
                invokeSuccessor: async (p) => {
                  next = p;
                },
                remainingMs: () => deadline - Date.now(),
                owner: `bench-${c}-${payload.hop}`,
                leaseMs: 30_000,
                pageSize: PAGE,
                reserveMs: 10_000,
              },
              payload,
            );
            payload = next;
          }
        };
        await Promise.all(Array.from({ length: P }, (_, c) => chain(c)));
        const peakMb = Math.round(peak() / 1e6);
        const receipts = sink.receipts().filter((r) => r.notification.eventId === quake.id);
        const times = receipts.map((r) => r.receivedAt - acceptedAt).sort((a, b) => a - b);
        let before = 0;
        for (const r of receipts) {
          const k = Number(r.notification.subscriberId.slice(r.notification.subscriberId.lastIndexOf('-') + 1));
          if (r.receivedAt < sArrivalAt(quake, { lat: lat[k], lon: lon[k] })) before++;
        }
        const firstMs = times[0] ?? 0;
        const lastMs = times.at(-1) ?? Date.now() - start;
        const row: Row = {
          size,
          layout: layoutName,
          strategy,
          segments: plan.segments.length,
          eligible,
          delivered: receipts.length,
          duplicates: sink.duplicates(),
          firstMs,
          lastMs,
          perS: Math.round(receipts.length / (Math.max(lastMs - firstMs, 1) / 1000)),
          beforeSPct: eligible ? Math.round((1000 * before) / eligible) / 10 : 0,
          peakMb,
        };
        rows.push(row);
        log(
          `  ${strategy}: ${row.delivered}/${row.eligible} delivered, first ${firstMs} ms, last ${lastMs} ms, ` +
            `${row.perS}/s, before S ${row.beforeSPct}%, peak ${peakMb} MB`,
        );
        if (args['count-calls']) {
          log(`    planned at ${plannedMs} ms (${plan.units.length} units), saved at ${savedMs} ms`);
          for (const [k, c] of [...calls].sort((a, b) => b[1].n - a[1].n)) {
            log(`    ${k}: ${c.n} calls, ${(c.ms / c.n).toFixed(1)} ms mean, ${Math.round(c.ms)} ms total`);
          }
        }
        if (row.delivered !== eligible) log(`  WARNING: delivered ${row.delivered} of ${eligible} eligible`);
      }
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlq.QueueUrl })).catch(() => {});
      clients.destroy();
    }
  }
} finally {
  await sink.close();
  dynamo.proc.kill();
}

const fmt = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`);
const lines = [
  '| subscribers | layout | strategy | segments | eligible | delivered | dup | first | last | notifications/s | before S | peak RSS | geo speed-up (last) |',
  '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  const scan = rows.find((x) => x.size === r.size && x.layout === r.layout && x.strategy === 'scan');
  const ratio = r.strategy === 'geo' && scan ? `${(scan.lastMs / Math.max(r.lastMs, 1)).toFixed(1)}x` : '';
  lines.push(
    `| ${r.size.toLocaleString('en')} | ${r.layout} | ${r.strategy} | ${r.segments} | ${r.eligible} | ${r.delivered} | ` +
      `${r.duplicates} | ${fmt(r.firstMs)} | ${fmt(r.lastMs)} | ${r.perS} | ${r.beforeSPct}% | ${r.peakMb} MB | ${ratio} |`,
  );
}
lines.push(
  '',
  `Loading (BatchWrite into dynalite): ${loads.map((l) => `${l.size} ${l.layout} ${l.seconds.toFixed(1)} s`).join('; ')}`,
);
lines.push(
  `Total run: ${((Date.now() - started) / 1000).toFixed(0)} s; P = ${P} chains, page ${PAGE}, ${SCAN_SEGMENTS} scan segments.`,
);
process.stdout.write(`${lines.join('\n')}\n`);
