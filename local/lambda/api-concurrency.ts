/**
 * Concurrency operations: PutFunctionConcurrency (PUT /2017-10-31/…/concurrency, 200), GetFunctionConcurrency
 * (GET /2019-09-30/…/concurrency, `{}` when none is reserved), DeleteFunctionConcurrency (204), provisioned
 * concurrency (/2019-09-30/…/provisioned-concurrency, `?Qualifier=` required; Put answers 202 IN_PROGRESS; `?List=ALL`
 * lists) and GetAccountSettings (GET /2016-08-19/account-settings).
 */
import { parseFunctionName } from './arns.ts';
import type { EmulatorContext } from './context.ts';
import { InvalidParameterValueError, ValidationError } from './errors.ts';
import type { ApiRequest, Router } from './http.ts';

/** AWS's default code storage quotas, reported by GetAccountSettings. */
const TOTAL_CODE_SIZE = 80_530_636_800;
const CODE_SIZE_UNZIPPED = 262_144_000;
const CODE_SIZE_ZIPPED = 52_428_800;

export function registerConcurrencyRoutes(router: Router, ctx: EmulatorContext): void {
  const { registry, concurrency } = ctx;
  const fn = (req: ApiRequest) => parseFunctionName(req.params.FunctionName, req.query.get('Qualifier'));

  router.add('PUT', '/2017-10-31/functions/{FunctionName}/concurrency', (req) => {
    const rec = registry.get(fn(req).name);
    const value = req.json<{ ReservedConcurrentExecutions?: number }>().ReservedConcurrentExecutions;
    if (value === undefined || !Number.isInteger(value) || value < 0) {
      throw new ValidationError(
        `1 validation error detected: Value '${value}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0`,
      );
    }
    concurrency.checkReservation(rec.name, value);
    const provisioned = Object.values(rec.provisioned).reduce((t, p) => t + p.requested, 0);
    if (provisioned > value) {
      throw new InvalidParameterValueError(
        `ReservedConcurrentExecutions ${value} should not be lower than function's total provisioned concurrency [${provisioned}].`,
      );
    }
    concurrency.setReserved(rec.name, value);
    rec.reservedConcurrency = value;
    registry.save(rec);
    return { status: 200, body: { ReservedConcurrentExecutions: value } };
  });

  router.add('GET', '/2019-09-30/functions/{FunctionName}/concurrency', (req) => {
    const rec = registry.get(fn(req).name);
    const v = rec.reservedConcurrency;
    return { status: 200, body: v === undefined ? {} : { ReservedConcurrentExecutions: v } };
  });

  router.add('DELETE', '/2017-10-31/functions/{FunctionName}/concurrency', (req) => {
    const rec = registry.get(fn(req).name);
    concurrency.setReserved(rec.name, undefined);
    delete rec.reservedConcurrency;
    registry.save(rec);
    return { status: 204 };
  });

  router.add('PUT', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', (req) => {
    const n = fn(req);
    const rec = registry.get(n.name);
    const requested = req.json<{ ProvisionedConcurrentExecutions?: number }>().ProvisionedConcurrentExecutions ?? 0;
    return { status: 202, body: ctx.provisioned.put(rec, n.qualifier, requested) };
  });

  router.add('GET', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL', (req) => {
    const rec = registry.get(fn(req).name);
    return { status: 200, body: { ProvisionedConcurrencyConfigs: ctx.provisioned.list(rec) } };
  });

  router.add('GET', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', (req) => {
    const n = fn(req);
    return { status: 200, body: ctx.provisioned.describe(registry.get(n.name), n.qualifier) };
  });

  router.add('DELETE', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', (req) => {
    const n = fn(req);
    ctx.provisioned.delete(registry.get(n.name), n.qualifier);
    return { status: 204 };
  });

  router.add('GET', '/2016-08-19/account-settings', () => {
    const functions = registry.all();
    const codeSize = functions.reduce(
      (t, r) => t + r.latest.CodeSize + Object.values(r.versions).reduce((s, v) => s + v.CodeSize, 0),
      0,
    );
    return {
      status: 200,
      body: {
        AccountLimit: {
          TotalCodeSize: TOTAL_CODE_SIZE,
          CodeSizeUnzipped: CODE_SIZE_UNZIPPED,
          CodeSizeZipped: CODE_SIZE_ZIPPED,
          ConcurrentExecutions: concurrency.accountLimit,
          UnreservedConcurrentExecutions: concurrency.unreserved(),
        },
        AccountUsage: { TotalCodeSize: codeSize, FunctionCount: functions.length },
      },
    };
  });
}
