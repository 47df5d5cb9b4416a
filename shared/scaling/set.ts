/**
 * `scale set`: plan first (validated, refusals raised with their numbers), then run. Planning never changes
 * anything, so `--dry-run` and the confirmation prompt show exactly what running will do.
 */

import {
  expectedRateFor,
  forgetRates,
  MIN_RATE_SUBSCRIBERS,
  type RateHistory,
  readRateHistory,
} from '../fanout/rate.ts';
import type { Clients } from '../infra/clients.ts';
import type { FanoutSettings } from '../infra/config.ts';
import { UsageError } from '../infra/errors.ts';
import { type ResourceNames, resolveFunctionName } from '../infra/names.ts';
import { eventsInProgress } from '../ops/events.ts';
import {
  accountConcurrency,
  checkCount,
  getConcurrency,
  provisionedRefusal,
  reservedRefusal,
  setProvisioned,
  setReserved,
} from './concurrency.ts';
import { ScaleBusyError, ScaleRefusedError, UnknownFunctionError } from './errors.ts';
import { effectiveFanout, readFanout, updateFanout } from './fanout-settings.ts';

export interface SetRequest {
  function?: string;
  /** null: remove the reservation. */
  reserved?: number | null;
  provisioned?: number;
  parallelism?: number;
  maxSegmentSize?: number;
  /** fanout.expectedRate (notifications/s across all chains; 0: off). */
  expectedRate?: number;
  /** fanout.measureRate: plan with the measured rate (shared/fanout/rate.ts) when there is one. */
  measureRate?: boolean;
  /** Remove the measured rates (the planner uses the setting until new fan-outs are measured). */
  forgetRate?: boolean;
}

export interface SetChange {
  /** measureRate: 1 on, 0 off; forgetRate: from = observations held, to = 0. */
  knob: 'reserved' | 'provisioned' | 'parallelism' | 'maxSegmentSize' | 'expectedRate' | 'measureRate' | 'forgetRate';
  function?: string;
  from: number | null;
  to: number | null;
  description: string;
}

export interface SetPlan {
  request: SetRequest;
  changes: SetChange[];
}

export async function planSet(
  clients: Pick<Clients, 'lambda' | 'ddb'>,
  names: ResourceNames,
  profileFanout: FanoutSettings,
  req: SetRequest,
): Promise<SetPlan> {
  const changes: SetChange[] = [];
  const wantsFn = req.reserved !== undefined || req.provisioned !== undefined;
  if (wantsFn && !req.function) throw new UsageError('--reserved and --provisioned need --function NAME');
  const fanoutKnob =
    req.parallelism !== undefined ||
    req.maxSegmentSize !== undefined ||
    req.expectedRate !== undefined ||
    req.measureRate !== undefined ||
    req.forgetRate === true;
  if (!wantsFn && !fanoutKnob) {
    throw new UsageError(
      'nothing to set: give --function with --reserved/--provisioned, --parallelism, --max-segment-size, ' +
        '--expected-rate, --measure-rate or --forget-rate',
    );
  }
  if (typeof req.reserved === 'number') checkCount('--reserved', req.reserved);
  if (req.provisioned !== undefined) checkCount('--provisioned', req.provisioned);
  if (
    req.parallelism !== undefined &&
    (!Number.isInteger(req.parallelism) || req.parallelism < 1 || req.parallelism > 1000)
  ) {
    throw new UsageError(`--parallelism must be an integer from 1 to 1000 (got ${req.parallelism})`);
  }
  if (
    req.maxSegmentSize !== undefined &&
    (!Number.isInteger(req.maxSegmentSize) || req.maxSegmentSize < 10 || req.maxSegmentSize > 100_000)
  ) {
    throw new UsageError(`--max-segment-size must be an integer from 10 to 100000 (got ${req.maxSegmentSize})`);
  }
  if (
    req.expectedRate !== undefined &&
    (!Number.isInteger(req.expectedRate) || req.expectedRate < 0 || req.expectedRate > 100_000_000)
  ) {
    throw new UsageError(`--expected-rate must be an integer from 0 (off) to 100000000 (got ${req.expectedRate})`);
  }

  if (wantsFn && req.function) {
    const fn = resolveFunctionName(names, req.function);
    const cur = await getConcurrency(clients.lambda, fn, names.alias);
    if (!cur.exists) throw new UnknownFunctionError(req.function);
    const account = await accountConcurrency(clients.lambda);
    if (req.reserved !== undefined) {
      if (req.reserved !== null) {
        const refusal = reservedRefusal(fn, req.reserved, cur.reserved, req.provisioned ?? cur.provisioned, account);
        if (refusal) throw new ScaleRefusedError(refusal);
      }
      changes.push({
        knob: 'reserved',
        function: fn,
        from: cur.reserved,
        to: req.reserved,
        description: `reserved concurrency of ${fn}: ${cur.reserved ?? 'none'} → ${req.reserved ?? 'none'}`,
      });
    }
    if (req.provisioned !== undefined) {
      const reserved = req.reserved !== undefined ? req.reserved : cur.reserved;
      const refusal =
        req.provisioned > 0 ? provisionedRefusal(fn, req.provisioned, reserved, cur.provisioned, account) : undefined;
      if (refusal) throw new ScaleRefusedError(refusal);
      changes.push({
        knob: 'provisioned',
        function: fn,
        from: cur.provisioned,
        to: req.provisioned,
        description: `provisioned concurrency of ${fn}:${names.alias}: ${cur.provisioned ?? 0} → ${req.provisioned}`,
      });
    }
  }

  if (fanoutKnob) {
    const fns = await readFanout(clients.lambda, names);
    const eff = effectiveFanout(fns, names, profileFanout);
    const where = fns.length ? fns.map((f) => f.function).join(', ') : 'no deployed function (nothing to change)';
    const live = `QUAKECTL_FANOUT of ${where}, published to ${names.alias} until the next deploy, which writes the profile's value back`;
    const envKnob = req.parallelism !== undefined || req.expectedRate !== undefined || req.measureRate !== undefined;
    if (envKnob && fns.length === 0) {
      throw new ScaleRefusedError(
        'no deployed function carries the fan-out settings: run quakectl deploy first (it sets them from the profile)',
      );
    }
    const measure = req.measureRate ?? eff.measureRate;
    // Read for the notes below; only --forget-rate needs it (a failed read leaves the notes without the measured rate).
    const stored = await readRateHistory({ ddb: clients.ddb, table: names.table('events') }).catch((err) => {
      if (req.forgetRate) throw err;
      return {} as RateHistory;
    });
    // The notes describe the state after every change of this request: --forget-rate leaves nothing measured.
    const history = req.forgetRate ? {} : stored;
    const setting = req.expectedRate ?? eff.expectedRate;
    const newP = req.parallelism ?? eff.parallelism;
    if (req.parallelism !== undefined && req.parallelism !== eff.parallelism) {
      // The rate is the chains' total: measured with the old P, it no longer says what they can do.
      const next = expectedRateFor(history, newP, setting, measure);
      const rateNote =
        next.source === 'off'
          ? ''
          : next.source === 'measured'
            ? `; the planner uses the rate measured at P = ${newP}: ${next.rate}/s`
            : measure
              ? `; the planner uses fanout.expectedRate ${setting}/s until a fan-out of ${MIN_RATE_SUBSCRIBERS} or more ` +
                `eligible subscribers at P = ${newP} is measured (quakectl simulate --wait over that many; a drill ` +
                "deploys the profile's P back)"
              : `; fanout.expectedRate stays ${setting}/s: measure the new rate (quakectl simulate --wait; a ` +
                'drill deploys the profile back) and set it with --expected-rate';
      changes.push({
        knob: 'parallelism',
        from: eff.parallelism,
        to: req.parallelism,
        description: `fan-out parallelism P: ${eff.parallelism} → ${req.parallelism} (${live})${rateNote}`,
      });
    }
    if (req.expectedRate !== undefined && req.expectedRate !== eff.expectedRate) {
      const next = expectedRateFor(history, newP, setting, measure);
      changes.push({
        knob: 'expectedRate',
        from: eff.expectedRate,
        to: req.expectedRate,
        description:
          `fan-out expected rate: ${eff.expectedRate || 'off'} → ${req.expectedRate || 'off'}${req.expectedRate ? '/s' : ''} (${live})` +
          (next.source === 'measured'
            ? `; the planner keeps using the rate measured at P = ${newP}, ${next.rate}/s, while fanout.measureRate is ` +
              'on (--measure-rate off, or --forget-rate, to plan with this setting until one is measured again)'
            : ''),
      });
    }
    if (req.measureRate !== undefined && req.measureRate !== eff.measureRate) {
      const next = expectedRateFor(history, newP, setting, req.measureRate);
      changes.push({
        knob: 'measureRate',
        from: eff.measureRate ? 1 : 0,
        to: req.measureRate ? 1 : 0,
        description:
          `fan-out measured rate: ${eff.measureRate ? 'on' : 'off'} → ${req.measureRate ? 'on' : 'off'} (${live}); ` +
          `the planner will use ${next.rate ? `${next.rate}/s (${next.source})` : 'no rate (deferral off)'}`,
      });
    }
    if (req.forgetRate) {
      const held = Object.values(stored).reduce((n, list) => n + list.length, 0);
      if (held > 0) {
        changes.push({
          knob: 'forgetRate',
          from: held,
          to: 0,
          description:
            `forget ${held} measured fan-out rate(s) (${Object.entries(stored)
              .filter(([, list]) => list.length > 0)
              .sort(([a], [b]) => Number(a.slice(1)) - Number(b.slice(1)))
              .map(([p, list]) => `${p}: up to ${Math.max(...list.map((o) => o.rate))}/s`)
              .join(', ')}): ` +
            (setting === 0
              ? 'the deferral stays off (fanout.expectedRate 0), whatever is measured'
              : `the planner uses fanout.expectedRate ${setting}/s` +
                (measure
                  ? ' until fan-outs are measured again'
                  : ' (fanout.measureRate is off; the workers keep measuring)')),
        });
      }
    }
    if (req.maxSegmentSize !== undefined) {
      await refuseWhileBusy(clients, names);
      const { SubscriberStore } = await import('../segments/index.ts');
      const stats = await new SubscriberStore(clients.ddb, names, { maxSegmentSize: req.maxSegmentSize }).stats();
      changes.push({
        knob: 'maxSegmentSize',
        from: eff.maxSegmentSize,
        to: req.maxSegmentSize,
        description:
          `maxSegmentSize: ${eff.maxSegmentSize} → ${req.maxSegmentSize}: re-segment ${stats.subscribers} subscribers in ` +
          `${stats.cells} cells (${stats.segments} shards, ${stats.overfull} over the new size) and set QUAKECTL_FANOUT of ${where}`,
      });
    }
  }
  return { request: req, changes };
}

/**
 * Throws ScaleBusyError while any event is in progress: re-segmenting moves subscribers between the shards that the
 * running plans name (their workers would miss or repeat the moved ones).
 */
export async function refuseWhileBusy(clients: Pick<Clients, 'ddb'>, names: ResourceNames): Promise<void> {
  const busy = await eventsInProgress(clients.ddb, names.table('events'));
  if (busy.length > 0) {
    throw new ScaleBusyError(
      `cannot re-segment while ${busy.length} event(s) are in progress (${busy
        .slice(0, 3)
        .map((e) => e.eventId)
        .join(', ')}${busy.length > 3 ? ', …' : ''}): their plans name today's segments; retry when they complete`,
    );
  }
}

export async function runSet(
  clients: Pick<Clients, 'lambda' | 'ddb'>,
  names: ResourceNames,
  profileFanout: FanoutSettings,
  plan: SetPlan,
): Promise<string[]> {
  const done: string[] = [];
  // Lower provisioned before lowering reserved, raise reserved before raising provisioned (AWS refuses otherwise).
  const ordered = [...plan.changes].sort((a, b) => order(a) - order(b));
  for (const c of ordered) {
    if (c.knob === 'reserved' && c.function) await setReserved(clients.lambda, c.function, c.to, names.alias);
    else if (c.knob === 'provisioned' && c.function)
      await setProvisioned(clients.lambda, c.function, c.to ?? 0, names.alias);
    else if (c.knob === 'parallelism')
      await updateFanout(clients.lambda, names, profileFanout, { parallelism: c.to ?? 1 });
    else if (c.knob === 'expectedRate')
      await updateFanout(clients.lambda, names, profileFanout, { expectedRate: c.to ?? 0 });
    else if (c.knob === 'measureRate')
      await updateFanout(clients.lambda, names, profileFanout, { measureRate: c.to === 1 });
    else if (c.knob === 'forgetRate') await forgetRates({ ddb: clients.ddb, table: names.table('events') });
    else if (c.knob === 'maxSegmentSize' && c.to !== null) {
      // Checked again right before moving subscribers: an event may have started since the plan was shown.
      await refuseWhileBusy(clients, names);
      const { SubscriberStore } = await import('../segments/index.ts');
      const r = await new SubscriberStore(clients.ddb, names, { maxSegmentSize: c.to }).resegment(c.to);
      await updateFanout(clients.lambda, names, profileFanout, { maxSegmentSize: c.to });
      done.push(
        `${c.description} (${r.cellsChanged} cells changed, ${r.moved} moved, +${r.created}/−${r.removed} shards)`,
      );
      continue;
    }
    done.push(c.description);
  }
  return done;
}

function order(c: SetChange): number {
  const lowering = c.from !== null && c.to !== null && c.to < c.from;
  if (c.knob === 'provisioned') return lowering ? 0 : 2;
  if (c.knob === 'reserved') return 1;
  return 3;
}
