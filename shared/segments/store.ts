/**
 * SubscriberStore: subscribers by segment over the DynamoDB document client (system.md section 5).
 *
 * Layout: subscribers {segment = `<cell>#<shard>`, subscriberId, lat, lon, minMmi, channel, locale}, GSI bySubscriber
 * (subscriberId → segment); segments {cell, shard, count, updatedAt}.
 *
 * Shard capacity is reserved before items are written, with a conditional atomic ADD
 * (`ADD count :n` if `attribute_not_exists(count) OR count <= :max - :n`), so concurrent importers never overfill a
 * shard. A crash between reservation and write leaves a count too high (the shard looks fuller than it is: never
 * overfull); `resegment` recounts exactly.
 *
 * Layout: shards are compact in space, because the planner orders them by where their subscribers are and a chain
 * delivers a shard's subscribers in no spatial order. A cell's new subscribers are sorted along the space-filling order
 * of their res-9 cells (cells.ts `layoutKey`) and granted to shards in runs of that order; the same reservation
 * records the res-7 cells the run occupies (`ADD area :cells`, a string set: the union is atomic, like the count).
 * A few subscribers added later go to the shard with room whose area is nearest them. `resegment` lays a cell out
 * again when its shards' areas overlap (or were never recorded) and writes each area exactly.
 */

import { isIP } from 'node:net';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../infra/errors.ts';
import type { ResourceNames } from '../infra/names.ts';
import { SUBSCRIBER_INDEX } from '../infra/tables.ts';
import { privateAddressReason } from '../notify/address.ts';
import { parsePushSubscription } from '../notify/targets.ts';
import { batchWriteAll, type WriteRequest } from './batch-write.ts';
import { areaCellFor, areaDistanceKm, cellFor, layoutKey, parseSegmentKey, segmentKey } from './cells.ts';
import { mapLimit } from './concurrency.ts';
import { InvalidCursorError, SegmentStoreError } from './errors.ts';
import {
  type Channel,
  type ReadPageOptions,
  type ResegmentResult,
  type ScanPageOptions,
  type SegmentPage,
  type SegmentRef,
  type SegmentStats,
  type Subscriber,
  type SubscriberInput,
  subscriberSchema,
  type UpsertOptions,
  type UpsertResult,
} from './types.ts';

export const DEFAULT_MAX_SEGMENT_SIZE = 2000;

/**
 * How many index keys a Scan reads for the cost of one Query request (a 1 MB Scan page holds tens of thousands of
 * keys-only items; HTTP + request overhead dominates a single-item Query). Conservative.
 */
const INDEX_KEYS_PER_QUERY_COST = 200;

/** Cells above which `segmentsForCells` scans the segments table instead of querying each cell. */
const SCAN_SEGMENTS_ABOVE = 100;

export interface SubscriberStoreOptions {
  maxSegmentSize?: number;
  /**
   * The profile's planning threshold (fanout.minSubscriberMmi): the fan-out reads only the footprint where the
   * predicted MMI reaches it, so a subscriber asking for less would never be read. `upsert` refuses such rows.
   */
  minMmiFloor?: number;
  /**
   * The profile's `allowUnsignedWebhooks`: false (the default) makes `upsert` refuse webhook channels without a
   * secret, whose POSTs a receiver could neither authenticate nor protect from replays (`unsignedWebhookRefusal`).
   */
  allowUnsignedWebhooks?: boolean;
  /**
   * The profile's `allowPrivateTargets` (config.ts `allowPrivateTargets`): false makes `upsert` refuse webhook URLs and
   * push endpoints whose host is a private IP literal (`privateTargetRefusal`), which delivery would refuse anyway.
   * Unset: not checked here (delivery still judges every connection).
   */
  allowPrivateTargets?: boolean;
  /** DynamoDB calls in flight per operation (BatchWrite chunks, GSI lookups, per-cell queries). */
  concurrency?: number;
  now?: () => number;
}

type Item = Record<string, unknown>;

/**
 * Where ids live now. `strays`: further segments holding the same id, left by a move interrupted between its put and
 * its delete; the next upsert or remove of that id deletes them.
 */
export type Locations = Map<string, string> & { strays?: Map<string, string[]> };

function addStray(found: Locations, id: string, segment: string): void {
  found.strays ??= new Map();
  const list = found.strays.get(id) ?? [];
  list.push(segment);
  found.strays.set(id, list);
}

function toItem(s: Subscriber, segment: string): Item {
  return {
    segment,
    subscriberId: s.id,
    lat: s.lat,
    lon: s.lon,
    minMmi: s.minMmi,
    channel: s.channel,
    locale: s.locale,
  };
}

export function subscriberFromItem(item: Item): Subscriber {
  return {
    id: item.subscriberId as string,
    lat: item.lat as number,
    lon: item.lon as number,
    minMmi: (item.minMmi as number | undefined) ?? 3,
    channel: item.channel as Subscriber['channel'],
    locale: (item.locale as string | undefined) ?? 'en',
  };
}

/**
 * Why a subscriber's channel is refused for lack of a signing secret, or undefined. A webhook channel without a
 * secret gets no Standard Webhooks signature (shared/notify/signature.ts): anyone who learns the URL could post false
 * alerts to it and a captured request could be replayed. Such channels need the profile's explicit
 * `allowUnsignedWebhooks: true` (default false in every profile, local included: the drill seeds with a secret).
 */
export function unsignedWebhookRefusal(channel: Channel, allowUnsigned: boolean | undefined): string | undefined {
  if (channel.type !== 'webhook' || channel.secret !== undefined || allowUnsigned === true) return undefined;
  return 'channel.secret: a webhook channel needs a secret to sign its requests (Standard Webhooks); add one, or set allowUnsignedWebhooks: true in the profile to allow unsigned targets';
}

/**
 * Why a channel's URL is refused at import for pointing at a private address, or undefined: a webhook URL or push
 * endpoint whose host is an IP literal in a special-purpose range (shared/notify/address.ts `privateAddressReason`:
 * loopback, RFC 1918, link-local, the IPv4-carrying IPv6 forms…) when the profile does not allow private targets.
 * Delivery would refuse it at every attempt and park each alert; refusing at import tells the operator now. A push
 * endpoint must be https (RFC 8030 section 8) unless it is a local push service on a private address and the profile
 * allows private targets. `allowPrivate` undefined: not checked. Host names other than `localhost` are not resolved
 * here (their answer can change): delivery judges the address of each connection.
 */
export function privateTargetRefusal(channel: Channel, allowPrivate: boolean | undefined): string | undefined {
  if (allowPrivate === undefined) return undefined;
  let url: string;
  if (channel.type === 'webhook') url = channel.target;
  else if (channel.type === 'push') {
    try {
      url = parsePushSubscription(channel.target).endpoint;
    } catch {
      return undefined; // the schema reports it
    }
  } else return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const why = isIP(host) ? privateAddressReason(host) : host === 'localhost' ? 'localhost' : undefined;
  // RFC 8030 section 8: a push service is reached over HTTPS. Plain http only for a local push service on a private
  // address, where the profile allows private targets (the local stack's).
  if (channel.type === 'push' && u.protocol !== 'https:' && !(allowPrivate && why)) {
    return 'channel.target: a push endpoint must be https (RFC 8030 section 8)';
  }
  if (allowPrivate || !why) return undefined;
  return `channel.target: ${why}: the profile does not allow private targets (allowPrivateTargets: false)`;
}

/**
 * Why a subscriber's `minMmi` cannot be served by a profile whose fan-out plans for `floor` (fanout.minSubscriberMmi),
 * or undefined. The fan-out never reads subscribers outside the footprint of `floor`; planning for the lowest
 * threshold anyone holds instead would widen every footprint to where shaking is barely felt (MMI 1–2 reaches
 * thousands of km for a large quake) for a handful of rows, so such rows are refused at import, naming both numbers.
 */
export function belowPlanningThreshold(minMmi: number, floor: number | undefined): string | undefined {
  if (floor === undefined || !(minMmi < floor)) return undefined;
  return `minMmi: ${minMmi} is below the profile's planning threshold fanout.minSubscriberMmi ${floor}: the fan-out never reads subscribers below it (raise minMmi to ${floor}, or lower fanout.minSubscriberMmi)`;
}

function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? JSON.stringify(key) : undefined;
}

/**
 * The subscriberId a segment page cursor stops at (`readSegmentPage`'s cursor: the JSON of DynamoDB's LastEvaluatedKey
 * of a Query on one shard), or undefined when it names none or is not such a cursor. DynamoDB returns a shard's items
 * in subscriberId byte order, so everyone at or before this id in that order was read.
 */
export function pageCursorSubscriberId(cursor: string): string | undefined {
  try {
    const k = JSON.parse(cursor) as { subscriberId?: unknown };
    return typeof k?.subscriberId === 'string' ? k.subscriberId : undefined;
  } catch {
    return undefined;
  }
}

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(cursor) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (err) {
    throw new InvalidCursorError(`invalid cursor: ${cursor.slice(0, 80)}`, { cause: err });
  }
  throw new InvalidCursorError(`invalid cursor: ${cursor.slice(0, 80)}`);
}

export class SubscriberStore {
  private readonly minMmiFloor?: number;
  private readonly allowUnsignedWebhooks: boolean;
  private readonly allowPrivateTargets?: boolean;
  readonly ddb: DynamoDBDocumentClient;
  readonly names: ResourceNames;
  readonly maxSegmentSize: number;
  readonly concurrency: number;
  readonly now: () => number;
  /** Per cell, the shard that last accepted a reservation: where the next one is tried first. */
  private readonly roomHint = new Map<string, number>();

  constructor(ddb: DynamoDBDocumentClient, names: ResourceNames, opts: SubscriberStoreOptions = {}) {
    this.minMmiFloor = opts.minMmiFloor;
    this.allowUnsignedWebhooks = opts.allowUnsignedWebhooks ?? false;
    this.allowPrivateTargets = opts.allowPrivateTargets;
    this.ddb = ddb;
    this.names = names;
    this.maxSegmentSize = opts.maxSegmentSize ?? DEFAULT_MAX_SEGMENT_SIZE;
    this.concurrency = opts.concurrency ?? 16;
    this.now = opts.now ?? Date.now;
  }

  private get subscribersTable() {
    return this.names.table('subscribers');
  }

  private get segmentsTable() {
    return this.names.table('segments');
  }

  /**
   * Inserts or updates subscribers. Idempotent: the same id is rewritten in place, or moved (old item deleted, counts
   * moved) when its new location falls in another cell. Invalid inputs are reported in `rejected`, the rest written.
   */
  async upsert(inputs: readonly SubscriberInput[], opts: UpsertOptions = {}): Promise<UpsertResult> {
    const rejected: UpsertResult['rejected'] = [];
    const byId = new Map<string, Subscriber>();
    inputs.forEach((input, index) => {
      const parsed = subscriberSchema.safeParse(input);
      const floor = parsed.success
        ? (belowPlanningThreshold(parsed.data.minMmi, this.minMmiFloor) ??
          unsignedWebhookRefusal(parsed.data.channel, this.allowUnsignedWebhooks) ??
          privateTargetRefusal(parsed.data.channel, this.allowPrivateTargets))
        : undefined;
      if (floor) {
        rejected.push({ index, id: parsed.data?.id, reason: floor });
      } else if (parsed.success) {
        byId.set(parsed.data.id, parsed.data); // last one wins within a call
      } else {
        const reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        const id = typeof (input as { id?: unknown })?.id === 'string' ? (input as { id: string }).id : undefined;
        rejected.push({ index, id, reason });
      }
    });
    const subs = [...byId.values()];
    const existing: Locations = opts.assumeNew
      ? new Map()
      : ((opts.locations as Locations | undefined) ?? (await this.locate(subs.map((s) => s.id))));

    const puts: WriteRequest[] = [];
    const deletes: WriteRequest[] = [];
    const decrements = new Map<string, number>();
    const toAssign = new Map<string, Subscriber[]>();
    /** Res-7 cells of subscribers rewritten in place, by segment: their shard's area must keep holding them. */
    const keptAreas = new Map<string, Set<string>>();
    let inserted = 0;
    let updated = 0;
    let moved = 0;
    for (const s of subs) {
      const cell = cellFor(s.lat, s.lon);
      // Every segment holding this id now (normally one). One in the target cell is rewritten in place; all others
      // are deleted, so an id never stays in two segments and a put never collides with a delete of the same key.
      const primary = existing.get(s.id);
      const held = primary === undefined ? [] : [primary, ...(existing.strays?.get(s.id) ?? [])];
      const keep = held.find((seg) => parseSegmentKey(seg).cell === cell);
      for (const seg of held) {
        if (seg === keep) continue;
        deletes.push({ DeleteRequest: { Key: { segment: seg, subscriberId: s.id } } });
        decrements.set(seg, (decrements.get(seg) ?? 0) + 1);
      }
      if (keep !== undefined) {
        puts.push({ PutRequest: { Item: toItem(s, keep) } });
        const cells = keptAreas.get(keep) ?? new Set<string>();
        cells.add(areaCellFor(s.lat, s.lon));
        keptAreas.set(keep, cells);
        updated++;
        continue;
      }
      if (primary !== undefined) moved++;
      else inserted++;
      const list = toAssign.get(cell) ?? [];
      list.push(s);
      toAssign.set(cell, list);
    }

    await mapLimit([...toAssign.entries()], this.concurrency, async ([cell, unsorted]) => {
      const list = sortByLayout(unsorted);
      const grants = await this.reserve(cell, list);
      let i = 0;
      for (const g of grants) {
        const key = segmentKey(cell, g.shard);
        for (let k = 0; k < g.n; k++) puts.push({ PutRequest: { Item: toItem(list[i++], key) } });
      }
    });

    // A subscriber rewritten in place may have moved within its res-5 cell: its shard's area grows before the item
    // moves, so the area always holds every member (the planner's distances stay bounds).
    await mapLimit([...keptAreas.entries()], this.concurrency, ([key, cells]) => this.addArea(key, cells));
    // Puts before deletes: a moved subscriber is briefly in two segments, never in none (notifications are
    // idempotent by id, a missed alert is not recoverable).
    await batchWriteAll(this.ddb, this.subscribersTable, puts, { concurrency: this.concurrency });
    await batchWriteAll(this.ddb, this.subscribersTable, deletes, { concurrency: this.concurrency });
    await mapLimit([...decrements.entries()], this.concurrency, ([key, n]) => {
      const { cell, shard } = parseSegmentKey(key);
      return this.addCount(cell, shard, -n);
    });
    return { inserted, updated, moved, rejected };
  }

  /**
   * Current segment of each id that exists, from the bySubscriber GSI (eventually consistent on AWS). A Query per id
   * costs one request each; for large sets a parallel Scan of the (keys-only, so small) index costs about one request
   * per few thousand subscribers in the table. Picks the cheaper from the segments table's total count.
   */
  async locate(ids: readonly string[], how: 'auto' | 'query' | 'scan' = 'auto'): Promise<Locations> {
    if (ids.length === 0) return new Map();
    let strategy = how;
    if (strategy === 'auto') {
      if (ids.length <= 64) {
        strategy = 'query';
      } else {
        // Counts only ever over-estimate (reserved before written): 0 means no subscriber exists at all.
        const total = (await this.allSegments()).reduce((a, seg) => a + Math.max(0, seg.count), 0);
        if (total === 0) return new Map();
        strategy = total <= ids.length * INDEX_KEYS_PER_QUERY_COST ? 'scan' : 'query';
      }
    }
    return strategy === 'scan' ? this.scanIndex(new Set(ids)) : this.queryIndex(ids);
  }

  /** Deletes subscribers by id (and any strays), moving the counts down. Returns how many existed. */
  async remove(ids: readonly string[]): Promise<number> {
    const found = await this.locate([...new Set(ids)]);
    const deletes: WriteRequest[] = [];
    const decrements = new Map<string, number>();
    const drop = (id: string, segment: string) => {
      deletes.push({ DeleteRequest: { Key: { segment, subscriberId: id } } });
      decrements.set(segment, (decrements.get(segment) ?? 0) + 1);
    };
    for (const [id, segment] of found) drop(id, segment);
    for (const [id, list] of found.strays ?? []) for (const segment of list) drop(id, segment);
    await batchWriteAll(this.ddb, this.subscribersTable, deletes, { concurrency: this.concurrency });
    await mapLimit([...decrements.entries()], this.concurrency, ([key, n]) => {
      const { cell, shard } = parseSegmentKey(key);
      return this.addCount(cell, shard, -n);
    });
    return found.size;
  }

  private async queryIndex(ids: readonly string[]): Promise<Locations> {
    const found: Locations = new Map<string, string>();
    await mapLimit(ids, this.concurrency * 2, async (id) => {
      const res = await this.ddb.send(
        new QueryCommand({
          TableName: this.subscribersTable,
          IndexName: SUBSCRIBER_INDEX,
          KeyConditionExpression: 'subscriberId = :id',
          ExpressionAttributeValues: { ':id': id },
        }),
      );
      // More than one item only mid-move (puts land before deletes) or after a move was interrupted: keep one.
      for (const it of res.Items ?? []) {
        const seg = it.segment as string;
        if (!found.has(id)) found.set(id, seg);
        else addStray(found, id, seg);
      }
    });
    return found;
  }

  /** The whole bySubscriber index, parallel Scan, keeping the ids asked for (all when `ids` is undefined). */
  async scanIndex(ids?: ReadonlySet<string>, totalSegments = 4): Promise<Locations> {
    const found: Locations = new Map<string, string>();
    await mapLimit(
      Array.from({ length: totalSegments }, (_, i) => i),
      totalSegments,
      async (segment) => {
        let start: Record<string, unknown> | undefined;
        do {
          const res = await this.ddb.send(
            new ScanCommand({
              TableName: this.subscribersTable,
              IndexName: SUBSCRIBER_INDEX,
              Segment: segment,
              TotalSegments: totalSegments,
              ExclusiveStartKey: start,
            }),
          );
          for (const it of res.Items ?? []) {
            const id = it.subscriberId as string;
            if (ids && !ids.has(id)) continue;
            if (!found.has(id)) found.set(id, it.segment as string);
            else addStray(found, id, it.segment as string);
          }
          start = res.LastEvaluatedKey;
        } while (start);
      },
    );
    return found;
  }

  /**
   * Bulk import: looks every id up once (one index Scan for the whole set when that is cheaper), then upserts in
   * chunks ordered by cell, and within a cell by `layoutKey`, so each chunk reserves shards in few cells and a cell
   * split across chunks continues its shards along the same space-filling order. Idempotent like `upsert`.
   */
  async importAll(
    inputs: readonly SubscriberInput[],
    opts: UpsertOptions & { chunkSize?: number; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<UpsertResult> {
    const total: UpsertResult = { inserted: 0, updated: 0, moved: 0, rejected: [] };
    const keyed = inputs.map((input, index) => {
      const i = input as { lat?: unknown; lon?: unknown };
      const placed =
        typeof i.lat === 'number' && typeof i.lon === 'number' && Math.abs(i.lat) <= 90 && Math.abs(i.lon) <= 180;
      const cell = placed ? cellFor(i.lat as number, i.lon as number) : '';
      const layout = placed ? layoutKey(i.lat as number, i.lon as number) : '';
      return { input, index, cell, layout };
    });
    keyed.sort((a, b) =>
      a.cell !== b.cell
        ? a.cell < b.cell
          ? -1
          : 1
        : a.layout !== b.layout
          ? a.layout < b.layout
            ? -1
            : 1
          : a.index - b.index,
    );
    const locations = opts.assumeNew
      ? new Map<string, string>()
      : (opts.locations ??
        (await this.locate(
          inputs.map((i) => String((i as { id?: unknown }).id)),
          inputs.length > 64 ? 'auto' : 'query',
        )));
    const size = opts.chunkSize ?? 5000;
    for (let start = 0; start < keyed.length; start += size) {
      const part = keyed.slice(start, start + size);
      const r = await this.upsert(
        part.map((k) => k.input),
        { ...opts, locations },
      );
      total.inserted += r.inserted;
      total.updated += r.updated;
      total.moved += r.moved;
      for (const rej of r.rejected) total.rejected.push({ ...rej, index: part[rej.index].index });
      opts.onProgress?.(Math.min(start + size, keyed.length), keyed.length);
    }
    total.rejected.sort((a, b) => a.index - b.index);
    return total;
  }

  /** Shards of one cell as recorded in the segments table, by shard number. */
  async shardsOf(cell: string): Promise<SegmentRef[]> {
    const out: SegmentRef[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.ddb.send(
        new QueryCommand({
          TableName: this.segmentsTable,
          KeyConditionExpression: '#cell = :c',
          ExpressionAttributeNames: { '#cell': 'cell' },
          ExpressionAttributeValues: { ':c': cell },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const it of res.Items ?? []) out.push(refFromItem(it));
      start = res.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.shard - b.shard);
  }

  /**
   * Reserves room for `list` (sorted by `layoutKey`) in a cell and records where its subscribers are: consecutive runs
   * of the list go to one shard each, with the res-7 cells of the run added to the shard's `area` in the same
   * conditional write as the count. Shards with room are filled first, nearest to the next subscriber first (the one
   * that last had room is tried at once, without a read: the common case of a bulk import into a fresh or roomy cell);
   * then new shards are opened. Returns the grants in list order.
   */
  private async reserve(cell: string, list: readonly Subscriber[]): Promise<{ shard: number; n: number }[]> {
    const max = this.maxSegmentSize;
    const grants: { shard: number; n: number }[] = [];
    let done = 0;
    const grant = async (shard: number, n: number): Promise<boolean> => {
      const area = new Set(list.slice(done, done + n).map((s) => areaCellFor(s.lat, s.lon)));
      if (!(await this.tryAdd(cell, shard, n, area))) return false;
      grants.push({ shard, n });
      done += n;
      this.roomHint.set(cell, shard);
      return true;
    };
    // Optimistic first try, one conditional write instead of a read and a write per cell: on the shard this store last
    // granted in the cell (a bulk import going on along the layout order), or on shard 0 of a cell this store has not
    // written yet when the list is large (a bulk import into a fresh cell). A few subscribers into a cell this store
    // has not written read its shards instead, to join the shard with room nearest them.
    const hint = this.roomHint.get(cell) ?? (list.length >= max / 4 ? 0 : undefined);
    if (hint !== undefined) await grant(hint, Math.min(max, list.length));
    for (let round = 0; done < list.length; round++) {
      if (round > 20) throw new SegmentStoreError(`could not reserve ${list.length - done} places in cell ${cell}`);
      const shards = await this.shardsOf(cell);
      const next = list[done];
      const withRoom = shards
        .filter((s) => s.count < max)
        .map((s) => ({ s, km: s.area ? areaDistanceKm(s.area, next.lat, next.lon) : Number.POSITIVE_INFINITY }))
        .sort((a, b) => a.km - b.km || a.s.shard - b.s.shard);
      for (const { s } of withRoom) {
        if (done === list.length) break;
        await grant(s.shard, Math.min(max - s.count, list.length - done));
      }
      let shard = shards.length ? shards[shards.length - 1].shard + 1 : 0;
      while (done < list.length) {
        if (!(await grant(shard, Math.min(max, list.length - done)))) break; // another importer opened it: re-read
        shard++;
      }
    }
    return grants;
  }

  private async tryAdd(cell: string, shard: number, n: number, area: ReadonlySet<string>): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.segmentsTable,
          Key: { cell, shard },
          UpdateExpression: 'ADD #count :n, #area :area SET updatedAt = :now',
          ConditionExpression: 'attribute_not_exists(#count) OR #count <= :limit',
          ExpressionAttributeNames: { '#count': 'count', '#area': 'area' },
          ExpressionAttributeValues: {
            ':n': n,
            ':area': area,
            ':limit': this.maxSegmentSize - n,
            ':now': this.now(),
          },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /**
   * Adds res-7 cells to a shard's recorded area (DynamoDB ADD to a string set: an atomic union). Only where an area
   * exists: a shard written before areas were recorded keeps none (the planner then uses its whole res-5 cell), rather
   * than one naming only the cells added since.
   */
  private async addArea(key: string, cells: ReadonlySet<string>): Promise<void> {
    const { cell, shard } = parseSegmentKey(key);
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.segmentsTable,
          Key: { cell, shard },
          UpdateExpression: 'ADD #area :area',
          ConditionExpression: 'attribute_exists(#area)',
          ExpressionAttributeNames: { '#area': 'area' },
          ExpressionAttributeValues: { ':area': cells },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  private async addCount(cell: string, shard: number, n: number): Promise<void> {
    await this.ddb.send(
      new UpdateCommand({
        TableName: this.segmentsTable,
        Key: { cell, shard },
        UpdateExpression: 'ADD #count :n SET updatedAt = :now',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':n': n, ':now': this.now() },
      }),
    );
  }

  /**
   * Non-empty shards of the given cells, in the order of `cells` then shard. A footprint of a few hundred km covers
   * thousands of cells, most of them empty: past `SCAN_SEGMENTS_ABOVE` cells, one parallel Scan of the (small)
   * segments table costs a handful of requests where a Query per cell would cost thousands.
   */
  async segmentsForCells(cells: readonly string[], how: 'auto' | 'query' | 'scan' = 'auto'): Promise<SegmentRef[]> {
    const scan = how === 'scan' || (how === 'auto' && cells.length > SCAN_SEGMENTS_ABOVE);
    if (!scan) {
      const per = await mapLimit(cells, this.concurrency * 2, (cell) => this.shardsOf(cell));
      return per.flat().filter((s) => s.count > 0);
    }
    const byCell = Map.groupBy(await this.allSegments(), (s) => s.cell);
    return cells.flatMap((c) => (byCell.get(c) ?? []).filter((s) => s.count > 0).sort((a, b) => a.shard - b.shard));
  }

  /** One page of a segment's subscribers; pass the returned cursor back for the next page. */
  async readSegmentPage(key: string, opts: ReadPageOptions = {}): Promise<SegmentPage> {
    const res = await this.ddb.send(
      new QueryCommand({
        TableName: this.subscribersTable,
        KeyConditionExpression: '#segment = :s',
        ExpressionAttributeNames: { '#segment': 'segment' },
        ExpressionAttributeValues: { ':s': key },
        Limit: opts.limit ?? 500,
        ExclusiveStartKey: decodeCursor(opts.cursor),
      }),
    );
    return { items: (res.Items ?? []).map(subscriberFromItem), cursor: encodeCursor(res.LastEvaluatedKey) };
  }

  /** Every subscriber of a segment (tests, resegment). */
  async readSegment(key: string): Promise<Subscriber[]> {
    const out: Subscriber[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.readSegmentPage(key, { cursor, limit: 1000 });
      out.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  async get(subscriberId: string): Promise<(Subscriber & { segment: string }) | undefined> {
    const seg = (await this.locate([subscriberId])).get(subscriberId);
    if (seg === undefined) return undefined;
    const res = await this.ddb.send(
      new GetCommand({ TableName: this.subscribersTable, Key: { segment: seg, subscriberId } }),
    );
    return res.Item ? { ...subscriberFromItem(res.Item), segment: seg } : undefined;
  }

  /** One page of a whole-table parallel Scan (the seed's `scan` strategy, kept as a baseline). */
  async scanPages(opts: ScanPageOptions): Promise<SegmentPage> {
    if (!(opts.totalSegments >= 1 && opts.segment >= 0 && opts.segment < opts.totalSegments)) {
      throw new ValidationError(`scan segment ${opts.segment} out of 0..${opts.totalSegments - 1}`);
    }
    const res = await this.ddb.send(
      new ScanCommand({
        TableName: this.subscribersTable,
        Segment: opts.segment,
        TotalSegments: opts.totalSegments,
        Limit: opts.limit ?? 1000,
        ExclusiveStartKey: decodeCursor(opts.cursor),
      }),
    );
    return { items: (res.Items ?? []).map(subscriberFromItem), cursor: encodeCursor(res.LastEvaluatedKey) };
  }

  /** Every row of the segments table (parallel Scan: the planner reads it on the alert path). */
  async allSegments(totalSegments = 4): Promise<SegmentRef[]> {
    const parts = await mapLimit(
      Array.from({ length: totalSegments }, (_, i) => i),
      totalSegments,
      async (segment) => {
        const out: SegmentRef[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const res = await this.ddb.send(
            new ScanCommand({
              TableName: this.segmentsTable,
              Segment: segment,
              TotalSegments: totalSegments,
              ExclusiveStartKey: start,
            }),
          );
          for (const it of res.Items ?? []) out.push(refFromItem(it));
          start = res.LastEvaluatedKey;
        } while (start);
        return out;
      },
    );
    return parts.flat();
  }

  /**
   * One shard of the segments table that holds subscribers (a Scan of at most `limit` rows; undefined when none of
   * them does): what priming reads a real page of. Reads only.
   */
  async sampleSegment(limit = 10): Promise<SegmentRef | undefined> {
    const res = await this.ddb.send(new ScanCommand({ TableName: this.segmentsTable, Limit: limit }));
    return (res.Items ?? []).map(refFromItem).find((r) => r.count > 0);
  }

  async stats(): Promise<SegmentStats> {
    const every = await this.allSegments();
    const layout = Map.groupBy(every, (s) => s.cell);
    const toLayOut = [...layout.values()].filter((shards) => needsLayout(shards, this.maxSegmentSize)).length;
    const all = every.filter((s) => s.count > 0);
    const perCell = new Map<string, { cell: string; shards: number; count: number }>();
    let largest: SegmentRef | undefined;
    let subscribers = 0;
    let overfull = 0;
    for (const s of all) {
      subscribers += s.count;
      if (s.count > this.maxSegmentSize) overfull++;
      if (!largest || s.count > largest.count) largest = s;
      const c = perCell.get(s.cell) ?? { cell: s.cell, shards: 0, count: 0 };
      c.shards++;
      c.count += s.count;
      perCell.set(s.cell, c);
    }
    return {
      subscribers,
      cells: perCell.size,
      segments: all.length,
      largest,
      perCell: [...perCell.values()].sort((a, b) => b.count - a.count || (a.cell < b.cell ? -1 : 1)),
      maxSegmentSize: this.maxSegmentSize,
      overfull,
      toLayOut,
    };
  }

  /** Cells `resegment` would lay out again (`needsLayout` at `maxSegmentSize`), and all cells; reads only segments. */
  async layoutPlan(
    maxSegmentSize = this.maxSegmentSize,
  ): Promise<{ cells: number; toLayOut: number; subscribers: number }> {
    const byCell = Map.groupBy(await this.allSegments(), (s) => s.cell);
    let toLayOut = 0;
    let subscribers = 0;
    for (const shards of byCell.values()) {
      if (!needsLayout(shards, maxSegmentSize)) continue;
      toLayOut++;
      subscribers += shards.reduce((a, s) => a + Math.max(0, s.count), 0);
    }
    return { cells: byCell.size, toLayOut, subscribers };
  }

  /**
   * Re-shards every cell that needs it to `maxSegmentSize` (default: this store's): a cell with an over-full shard,
   * more shards than it needs (ceil(count / max)), a shard whose area was never recorded, or shards whose areas overlap
   * more than their cuts explain (subscribers added one by one since the last layout). Such a cell is read whole,
   * sorted by `layoutKey` and cut into `need` runs of equal size (±1), one shard each, and each shard's count and area
   * are written exactly. Items move by put-then-delete (never absent). Run it while imports are quiet: an import
   * racing it may leave counts off until the next run (never loses a subscriber).
   */
  async resegment(maxSegmentSize = this.maxSegmentSize): Promise<ResegmentResult> {
    const max = maxSegmentSize;
    this.roomHint.clear();
    const byCell = new Map<string, SegmentRef[]>();
    for (const s of await this.allSegments()) {
      const list = byCell.get(s.cell) ?? [];
      list.push(s);
      byCell.set(s.cell, list);
    }
    const result: ResegmentResult = { cellsChanged: 0, moved: 0, created: 0, removed: 0 };
    const cells = [...byCell.entries()].filter(([, shards]) => needsLayout(shards, max));
    await mapLimit(cells, Math.max(1, Math.floor(this.concurrency / 4)), async ([cell, shards]) => {
      const members: (Subscriber & { from: number })[] = [];
      for (const s of shards) for (const sub of await this.readSegment(s.key)) members.push({ ...sub, from: s.shard });
      const sorted = sortByLayout(members);
      const need = Math.max(1, Math.ceil(sorted.length / max));
      const counts = new Array<number>(need).fill(0);
      const areas = Array.from({ length: need }, () => new Set<string>());
      const puts: WriteRequest[] = [];
      const deletes: WriteRequest[] = [];
      sorted.forEach((s, j) => {
        // Run t holds sorted[floor(t·n/need) .. floor((t+1)·n/need)): equal sizes ±1, never above max.
        const target = Math.min(need - 1, Math.floor((j * need) / sorted.length));
        counts[target]++;
        areas[target].add(areaCellFor(s.lat, s.lon));
        if (target === s.from) return;
        const { from, ...sub } = s;
        puts.push({ PutRequest: { Item: toItem(sub, segmentKey(cell, target)) } });
        deletes.push({ DeleteRequest: { Key: { segment: segmentKey(cell, from), subscriberId: sub.id } } });
      });
      await batchWriteAll(this.ddb, this.subscribersTable, puts, { concurrency: this.concurrency });
      await batchWriteAll(this.ddb, this.subscribersTable, deletes, { concurrency: this.concurrency });
      const now = this.now();
      for (let shard = 0; shard < need; shard++) {
        await this.ddb.send(
          new PutCommand({
            TableName: this.segmentsTable,
            Item: {
              cell,
              shard,
              count: counts[shard],
              ...(areas[shard].size ? { area: areas[shard] } : {}),
              updatedAt: now,
            },
          }),
        );
      }
      const before = new Set(shards.map((s) => s.shard));
      for (const shard of before) {
        if (shard >= need) {
          await this.ddb.send(new DeleteCommand({ TableName: this.segmentsTable, Key: { cell, shard } }));
          result.removed++;
        }
      }
      for (let shard = 0; shard < need; shard++) if (!before.has(shard)) result.created++;
      result.cellsChanged++;
      result.moved += puts.length;
    });
    return result;
  }
}

/** Subscribers sorted along the layout's space-filling order (`layoutKey`), ties by id (pure, a new array). */
function sortByLayout<T extends { id: string; lat: number; lon: number }>(list: readonly T[]): T[] {
  return list
    .map((s) => ({ s, k: layoutKey(s.lat, s.lon) }))
    .sort((a, b) => (a.k !== b.k ? (a.k < b.k ? -1 : 1) : a.s.id < b.s.id ? -1 : a.s.id > b.s.id ? 1 : 0))
    .map((x) => x.s);
}

/**
 * Whether `resegment` must lay a cell out again (pure): a shard above `max`, more shards than ceil(count / max), a
 * non-empty shard without a recorded area, or areas that overlap by more than two res-7 cells per shard. Runs of one
 * space-filling order share a res-7 cell only where one run ends and the next begins (and at the few res-9 cells whose
 * H3 parent lies across the res-5 border); shards filled in arrival order share nearly all of them.
 */
export function needsLayout(shards: readonly SegmentRef[], max: number): boolean {
  const total = shards.reduce((a, s) => a + Math.max(0, s.count), 0);
  const need = Math.max(1, Math.ceil(total / max));
  if (shards.some((s) => s.count > max) || shards.length > need) return true;
  const live = shards.filter((s) => s.count > 0);
  if (live.some((s) => s.area === undefined)) return true;
  if (live.length < 2) return false;
  const union = new Set(live.flatMap((s) => s.area ?? []));
  const sum = live.reduce((a, s) => a + (s.area?.length ?? 0), 0);
  return sum - union.size > 2 * live.length;
}

function refFromItem(it: Record<string, unknown>): SegmentRef {
  const cell = it.cell as string;
  const shard = Number(it.shard);
  const ref: SegmentRef = { cell, shard, count: Number(it.count ?? 0), key: segmentKey(cell, shard) };
  // A string set comes back as a Set from the document client.
  if (it.area instanceof Set && it.area.size > 0) ref.area = [...(it.area as Set<string>)].sort();
  return ref;
}
