/**
 * Event invoke config (/2019-09-25/functions/{FunctionName}/event-invoke-config, per qualifier, `$LATEST` by
 * default): Put (PUT, replaces), Update (POST, merges), Get, Delete (204), List (…/list). MaximumRetryAttempts 0–2,
 * MaximumEventAgeInSeconds 60–21,600, DestinationConfig OnSuccess/OnFailure (SQS or Lambda; SNS and EventBridge are
 * refused here because the emulator cannot deliver to them). The configuration of a qualifier applies only to
 * invocations of that qualifier: `fn:live` never uses `$LATEST`'s (async-queue.ts). LastModified is a timestamp (epoch
 * seconds on the wire), FunctionArn the qualified ARN, as AWS returns them.
 */
import { functionArn, parseFunctionName } from './arns.ts';
import type { EmulatorContext } from './context.ts';
import { InvalidParameterValueError, ResourceNotFoundError, ValidationError } from './errors.ts';
import type { ApiRequest, Router } from './http.ts';
import type { EventInvokeConfig, FunctionRecord } from './registry.ts';

type Input = Omit<EventInvokeConfig, 'LastModified'>;

function validate(b: Input): void {
  const r = b.MaximumRetryAttempts;
  if (r !== undefined && !(Number.isInteger(r) && r >= 0 && r <= 2)) {
    throw new ValidationError(
      `1 validation error detected: Value '${r}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2`,
    );
  }
  const a = b.MaximumEventAgeInSeconds;
  if (a !== undefined && !(Number.isInteger(a) && a >= 60 && a <= 21_600)) {
    throw new ValidationError(
      `1 validation error detected: Value '${a}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 21600`,
    );
  }
  for (const d of [b.DestinationConfig?.OnFailure?.Destination, b.DestinationConfig?.OnSuccess?.Destination]) {
    if (d && !/^arn:aws[a-zA-Z-]*:(sqs|sns|lambda|events):/.test(d)) {
      throw new InvalidParameterValueError(`The provided destination config DestinationConfig is invalid: ${d}`);
    }
    // AWS also delivers to SNS topics and EventBridge buses; the emulator has neither, so it refuses them when they
    // are configured (with the error AWS gives an unsupported value) instead of failing every delivery later.
    if (d && !/^arn:aws[a-zA-Z-]*:(sqs|lambda):/.test(d)) {
      throw new InvalidParameterValueError(
        `The provided destination config DestinationConfig is invalid: ${d} (this emulator delivers to SQS queues and Lambda functions only)`,
      );
    }
  }
}

function view(rec: FunctionRecord, qualifier: string, c: EventInvokeConfig) {
  return {
    LastModified: c.LastModified,
    FunctionArn: functionArn(rec.name, qualifier),
    ...(c.MaximumRetryAttempts !== undefined ? { MaximumRetryAttempts: c.MaximumRetryAttempts } : {}),
    ...(c.MaximumEventAgeInSeconds !== undefined ? { MaximumEventAgeInSeconds: c.MaximumEventAgeInSeconds } : {}),
    DestinationConfig: {
      OnSuccess: c.DestinationConfig?.OnSuccess ?? {},
      OnFailure: c.DestinationConfig?.OnFailure ?? {},
    },
  };
}

export function registerEventInvokeConfigRoutes(router: Router, ctx: EmulatorContext): void {
  const { registry } = ctx;
  const target = (req: ApiRequest) => {
    const n = parseFunctionName(req.params.FunctionName, req.query.get('Qualifier'));
    const qualifier = n.qualifier ?? '$LATEST';
    const rec = registry.resolve(n.name, qualifier).record;
    return { rec, qualifier };
  };
  const existing = (rec: FunctionRecord, qualifier: string) => {
    const c = rec.eventInvokeConfigs[qualifier];
    if (!c)
      throw new ResourceNotFoundError(
        `The function ${functionArn(rec.name, qualifier)} doesn't have an EventInvokeConfig`,
      );
    return c;
  };
  const store = (rec: FunctionRecord, qualifier: string, b: Input) => {
    const c: EventInvokeConfig = { ...b, LastModified: Date.now() / 1000 };
    rec.eventInvokeConfigs[qualifier] = c;
    registry.save(rec);
    return { status: 200, body: view(rec, qualifier, c) };
  };
  const pick = (b: Input): Input => ({
    MaximumRetryAttempts: b.MaximumRetryAttempts,
    MaximumEventAgeInSeconds: b.MaximumEventAgeInSeconds,
    DestinationConfig: b.DestinationConfig,
  });

  router.add('PUT', '/2019-09-25/functions/{FunctionName}/event-invoke-config', (req) => {
    const { rec, qualifier } = target(req);
    const b = pick(req.json<Input>());
    validate(b);
    return store(rec, qualifier, b);
  });

  router.add('POST', '/2019-09-25/functions/{FunctionName}/event-invoke-config', (req) => {
    const { rec, qualifier } = target(req);
    const b = pick(req.json<Input>());
    validate(b);
    const prev = rec.eventInvokeConfigs[qualifier];
    const merged: Input = {
      MaximumRetryAttempts: b.MaximumRetryAttempts ?? prev?.MaximumRetryAttempts,
      MaximumEventAgeInSeconds: b.MaximumEventAgeInSeconds ?? prev?.MaximumEventAgeInSeconds,
      DestinationConfig: {
        OnSuccess: b.DestinationConfig?.OnSuccess ?? prev?.DestinationConfig?.OnSuccess,
        OnFailure: b.DestinationConfig?.OnFailure ?? prev?.DestinationConfig?.OnFailure,
      },
    };
    return store(rec, qualifier, merged);
  });

  router.add('GET', '/2019-09-25/functions/{FunctionName}/event-invoke-config', (req) => {
    const { rec, qualifier } = target(req);
    return { status: 200, body: view(rec, qualifier, existing(rec, qualifier)) };
  });

  router.add('DELETE', '/2019-09-25/functions/{FunctionName}/event-invoke-config', (req) => {
    const { rec, qualifier } = target(req);
    existing(rec, qualifier);
    delete rec.eventInvokeConfigs[qualifier];
    registry.save(rec);
    return { status: 204 };
  });

  router.add('GET', '/2019-09-25/functions/{FunctionName}/event-invoke-config/list', (req) => {
    const n = parseFunctionName(req.params.FunctionName);
    const rec = registry.get(n.name);
    const list = Object.entries(rec.eventInvokeConfigs).map(([q, c]) => view(rec, q, c));
    return { status: 200, body: { FunctionEventInvokeConfigs: list } };
  });
}
