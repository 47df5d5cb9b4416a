/**
 * Function, version and alias operations, as `@aws-sdk/client-lambda` sends them (API version 2015-03-31):
 * CreateFunction (201; ZipFile only, Runtime nodejs22.x/nodejs24.x, Role ARN checked for form), GetFunction,
 * GetFunctionConfiguration, ListFunctions (Marker/MaxItems, FunctionVersion=ALL), UpdateFunctionCode (CodeSha256 =
 * base64 SHA-256 of the zip), UpdateFunctionConfiguration, DeleteFunction (204; `?Qualifier=` deletes a version),
 * PublishVersion (201), ListVersionsByFunction, Create/Get/Update/Delete/ListAliases.
 */
import { functionArn, parseFunctionName } from './arns.ts';
import type { EmulatorContext } from './context.ts';
import { InvalidParameterValueError, ResourceConflictError, ResourceNotFoundError, ValidationError } from './errors.ts';
import type { ApiRequest, Router } from './http.ts';
import { type AliasConfig, type FunctionConfig, type FunctionRecord, lambdaTimestamp } from './registry.ts';
import { RESERVED_ENV_KEYS } from './runtime-env.ts';

export const RUNTIMES = ['nodejs22.x', 'nodejs24.x'];
const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const FUNCTION_NAME = /^[a-zA-Z0-9-_]{1,64}$/;
const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]{1,128})$/;

interface ConfigInput {
  Runtime?: string;
  Role?: string;
  Handler?: string;
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  Environment?: { Variables?: Record<string, string> };
  DeadLetterConfig?: { TargetArn?: string };
}

function validateConfig(c: ConfigInput): void {
  if (c.Runtime !== undefined && !RUNTIMES.includes(c.Runtime)) {
    throw new InvalidParameterValueError(
      `Value ${c.Runtime} at 'runtime' failed to satisfy constraint: this emulator runs ${RUNTIMES.join(', ')}`,
    );
  }
  if (c.Role !== undefined && !ROLE.test(c.Role)) {
    throw new ValidationError(
      `1 validation error detected: Value '${c.Role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`,
    );
  }
  if (c.Handler !== undefined && !/^[^\s]+\.[^\s.]+$/.test(c.Handler)) {
    throw new InvalidParameterValueError(
      `Value '${c.Handler}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+`,
    );
  }
  if (c.Timeout !== undefined && !(Number.isInteger(c.Timeout) && c.Timeout >= 1 && c.Timeout <= 900)) {
    throw new InvalidParameterValueError(
      `Value '${c.Timeout}' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900`,
    );
  }
  if (c.MemorySize !== undefined && !(Number.isInteger(c.MemorySize) && c.MemorySize >= 128 && c.MemorySize <= 10240)) {
    throw new InvalidParameterValueError(
      `'MemorySize' value failed to satisfy constraint: Member must have value greater than or equal to 128 and less than or equal to 10240`,
    );
  }
  const reserved = Object.keys(c.Environment?.Variables ?? {}).filter((k) => RESERVED_ENV_KEYS.has(k));
  if (reserved.length) {
    throw new InvalidParameterValueError(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const dlq = c.DeadLetterConfig?.TargetArn;
  if (dlq && !/^arn:aws[a-zA-Z-]*:(sqs|sns):/.test(dlq)) {
    throw new InvalidParameterValueError(`The provided target ARN ${dlq} is invalid.`);
  }
  if (dlq && !dlq.includes(':sqs:')) {
    // AWS takes an SNS topic too; the emulator delivers only to SQS, so it refuses it here rather than fail every
    // dead letter later.
    throw new InvalidParameterValueError(
      `The provided target ARN ${dlq} is not supported by this emulator: only SQS dead-letter queues are delivered to.`,
    );
  }
}

function zipFrom(body: { ZipFile?: string; S3Bucket?: string; ImageUri?: string } | undefined): Buffer {
  if (body?.S3Bucket || body?.ImageUri) {
    throw new InvalidParameterValueError('This emulator accepts deployment packages as ZipFile only.');
  }
  if (!body?.ZipFile) throw new InvalidParameterValueError('Please provide a source for function code.');
  return Buffer.from(body.ZipFile, 'base64');
}

function applyConfig(target: FunctionConfig, c: ConfigInput): void {
  if (c.Runtime !== undefined) target.Runtime = c.Runtime;
  if (c.Role !== undefined) target.Role = c.Role;
  if (c.Handler !== undefined) target.Handler = c.Handler;
  if (c.Description !== undefined) target.Description = c.Description;
  if (c.Timeout !== undefined) target.Timeout = c.Timeout;
  if (c.MemorySize !== undefined) target.MemorySize = c.MemorySize;
  if (c.Environment !== undefined) target.Environment = { Variables: c.Environment.Variables ?? {} };
  if (c.DeadLetterConfig !== undefined) {
    target.DeadLetterConfig = c.DeadLetterConfig.TargetArn ? { TargetArn: c.DeadLetterConfig.TargetArn } : undefined;
  }
}

function name(req: ApiRequest): { name: string; qualifier?: string } {
  return parseFunctionName(req.params.FunctionName, req.query.get('Qualifier'));
}

function page<T>(items: T[], req: ApiRequest, defaultMax = 50): { items: T[]; next?: string } {
  const start = Number(req.query.get('Marker') ?? 0) || 0;
  const max = Math.min(Number(req.query.get('MaxItems') ?? defaultMax) || defaultMax, 10_000);
  const slice = items.slice(start, start + max);
  return { items: slice, next: start + max < items.length ? String(start + max) : undefined };
}

export function getFunctionResponse(ctx: EmulatorContext, rec: FunctionRecord, config: FunctionConfig) {
  const reserved = rec.reservedConcurrency;
  return {
    Configuration: config,
    Code: { RepositoryType: 'S3', Location: `file://${ctx.code.zipPath(config.CodeSha256)}` },
    ...(reserved !== undefined ? { Concurrency: { ReservedConcurrentExecutions: reserved } } : {}),
  };
}

export function registerFunctionRoutes(router: Router, ctx: EmulatorContext): void {
  const { registry } = ctx;

  router.add('POST', '/2015-03-31/functions', (req) => {
    const b = req.json<
      ConfigInput & { FunctionName?: string; Code?: { ZipFile?: string }; Publish?: boolean; PackageType?: string }
    >();
    if (!b.FunctionName || !FUNCTION_NAME.test(b.FunctionName)) {
      throw new InvalidParameterValueError(`Value '${b.FunctionName}' at 'functionName' failed to satisfy constraint`);
    }
    if (!b.Role) throw new InvalidParameterValueError('The role defined for the function cannot be assumed by Lambda.');
    if (!b.Runtime)
      throw new InvalidParameterValueError('Runtime is required for a function with the Zip package type.');
    if (!b.Handler)
      throw new InvalidParameterValueError('Handler is required for a function with the Zip package type.');
    validateConfig(b);
    if (registry.find(b.FunctionName)) throw new ResourceConflictError(`Function already exist: ${b.FunctionName}`);
    const code = ctx.code.put(zipFrom(b.Code));
    const config: FunctionConfig = {
      FunctionName: b.FunctionName,
      FunctionArn: functionArn(b.FunctionName),
      Runtime: b.Runtime,
      Role: b.Role,
      Handler: b.Handler,
      CodeSize: code.size,
      Description: b.Description ?? '',
      Timeout: b.Timeout ?? 3,
      MemorySize: b.MemorySize ?? 128,
      LastModified: lambdaTimestamp(),
      CodeSha256: code.sha256,
      Version: '$LATEST',
      ...(b.Environment ? { Environment: { Variables: b.Environment.Variables ?? {} } } : {}),
      ...(b.DeadLetterConfig?.TargetArn ? { DeadLetterConfig: { TargetArn: b.DeadLetterConfig.TargetArn } } : {}),
      RevisionId: crypto.randomUUID(),
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      TracingConfig: { Mode: 'PassThrough' },
      LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${b.FunctionName}` },
    };
    const rec = registry.create(config);
    const out = b.Publish ? registry.publish(rec) : rec.latest;
    return { status: 201, body: out };
  });

  router.add('GET', '/2015-03-31/functions', (req) => {
    const all = req.query.get('FunctionVersion') === 'ALL';
    const list = registry.all().flatMap((r) => (all ? [r.latest, ...Object.values(r.versions)] : [r.latest]));
    const p = page(list, req);
    return { status: 200, body: { Functions: p.items, ...(p.next ? { NextMarker: p.next } : {}) } };
  });

  router.add('GET', '/2015-03-31/functions/{FunctionName}', (req) => {
    const n = name(req);
    const r = registry.resolve(n.name, n.qualifier);
    return { status: 200, body: getFunctionResponse(ctx, r.record, r.config) };
  });

  router.add('GET', '/2015-03-31/functions/{FunctionName}/configuration', (req) => {
    const n = name(req);
    return { status: 200, body: registry.resolve(n.name, n.qualifier).config };
  });

  router.add('PUT', '/2015-03-31/functions/{FunctionName}/code', (req) => {
    const n = name(req);
    const rec = registry.get(n.name);
    const b = req.json<{ ZipFile?: string; Publish?: boolean; DryRun?: boolean }>();
    const code = ctx.code.put(zipFrom(b));
    if (b.DryRun) return { status: 200, body: { ...rec.latest, CodeSha256: code.sha256, CodeSize: code.size } };
    rec.latest.CodeSha256 = code.sha256;
    rec.latest.CodeSize = code.size;
    rec.latest.LastModified = lambdaTimestamp();
    rec.latest.RevisionId = crypto.randomUUID();
    registry.save(rec);
    ctx.pool.invalidate({ functionName: rec.name, version: '$LATEST', config: rec.latest, taskRoot: code.taskRoot });
    return { status: 200, body: b.Publish ? registry.publish(rec) : rec.latest };
  });

  router.add('PUT', '/2015-03-31/functions/{FunctionName}/configuration', (req) => {
    const n = name(req);
    const rec = registry.get(n.name);
    const b = req.json<ConfigInput>();
    validateConfig(b);
    applyConfig(rec.latest, b);
    rec.latest.LastModified = lambdaTimestamp();
    rec.latest.RevisionId = crypto.randomUUID();
    registry.save(rec);
    ctx.pool.invalidate({
      functionName: rec.name,
      version: '$LATEST',
      config: rec.latest,
      taskRoot: ctx.code.taskRoot(rec.latest.CodeSha256),
    });
    return { status: 200, body: rec.latest };
  });

  router.add('DELETE', '/2015-03-31/functions/{FunctionName}', (req) => {
    const n = name(req);
    const rec = registry.get(n.name, n.qualifier);
    if (n.qualifier && n.qualifier !== '$LATEST') {
      if (!rec.versions[n.qualifier])
        throw new ResourceNotFoundError(`Function not found: ${functionArn(rec.name, n.qualifier)}`);
      const alias = Object.values(rec.aliases).find((a) => a.FunctionVersion === n.qualifier);
      if (alias) {
        throw new ResourceConflictError(
          `Unable to delete version because the following aliases reference it: [${alias.Name}]`,
        );
      }
      delete rec.versions[n.qualifier];
      registry.save(rec);
      ctx.pool.drop(rec.name, n.qualifier);
      return { status: 204 };
    }
    if (n.qualifier === '$LATEST')
      throw new InvalidParameterValueError('$LATEST version cannot be deleted without deleting the function.');
    ctx.provisioned.dropFunction(rec);
    ctx.pool.drop(rec.name);
    ctx.concurrency.setReserved(rec.name, undefined);
    registry.delete(rec.name);
    return { status: 204 };
  });

  router.add('POST', '/2015-03-31/functions/{FunctionName}/versions', (req) => {
    const n = name(req);
    const rec = registry.get(n.name);
    const b = req.json<{ Description?: string; CodeSha256?: string; RevisionId?: string }>();
    if (b.CodeSha256 && b.CodeSha256 !== rec.latest.CodeSha256) {
      throw new InvalidParameterValueError(
        `CodeSHA256 (${b.CodeSha256}) is different from current CodeSHA256 in $LATEST (${rec.latest.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    return { status: 201, body: registry.publish(rec, b.Description) };
  });

  router.add('GET', '/2015-03-31/functions/{FunctionName}/versions', (req) => {
    const rec = registry.get(name(req).name);
    const p = page([rec.latest, ...Object.values(rec.versions)], req);
    return { status: 200, body: { Versions: p.items, ...(p.next ? { NextMarker: p.next } : {}) } };
  });

  const aliasArn = (fn: string, alias: string) => functionArn(fn, alias);
  const checkVersion = (rec: FunctionRecord, v: string | undefined) => {
    if (!v) throw new InvalidParameterValueError('FunctionVersion is required.');
    if (v !== '$LATEST' && !rec.versions[v])
      throw new ResourceNotFoundError(`Function not found: ${functionArn(rec.name, v)}`);
  };

  /**
   * A weighted alias (RoutingConfig.AdditionalVersionWeights): at most one additional version, weight 0–1, both
   * versions published (not `$LATEST`) and different (developer guide, "Implement Lambda canary deployments using a
   * weighted alias"; API reference, AliasRoutingConfiguration). Applied on every invocation (registry.resolve).
   */
  const checkRouting = (rec: FunctionRecord, primary: string, routing: AliasConfig['RoutingConfig']) => {
    const weights = Object.entries(routing?.AdditionalVersionWeights ?? {});
    if (weights.length === 0) return;
    if (weights.length > 1) {
      throw new ValidationError(
        "1 validation error detected: Value at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Member must have length less than or equal to 1",
      );
    }
    const [[version, weight]] = weights;
    if (!(typeof weight === 'number' && weight >= 0 && weight <= 1)) {
      throw new ValidationError(
        `1 validation error detected: Value '${weight}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Member must have value between 0.0 and 1.0`,
      );
    }
    if (primary === '$LATEST' || version === '$LATEST') {
      throw new InvalidParameterValueError('$LATEST is not supported for an alias pointing to more than 1 version');
    }
    if (version === primary) {
      throw new InvalidParameterValueError(
        `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
      );
    }
    if (!rec.versions[version])
      throw new ResourceNotFoundError(`Function not found: ${functionArn(rec.name, version)}`);
  };

  router.add('POST', '/2015-03-31/functions/{FunctionName}/aliases', (req) => {
    const rec = registry.get(name(req).name);
    const b = req.json<{
      Name?: string;
      FunctionVersion?: string;
      Description?: string;
      RoutingConfig?: AliasConfig['RoutingConfig'];
    }>();
    if (!b.Name || !ALIAS_NAME.test(b.Name)) {
      throw new InvalidParameterValueError(
        `Value '${b.Name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
      );
    }
    if (rec.aliases[b.Name]) throw new ResourceConflictError(`Alias already exists: ${aliasArn(rec.name, b.Name)}`);
    checkVersion(rec, b.FunctionVersion);
    checkRouting(rec, b.FunctionVersion!, b.RoutingConfig);
    const alias: AliasConfig = {
      AliasArn: aliasArn(rec.name, b.Name),
      Name: b.Name,
      FunctionVersion: b.FunctionVersion!,
      Description: b.Description ?? '',
      RevisionId: crypto.randomUUID(),
      ...(Object.keys(b.RoutingConfig?.AdditionalVersionWeights ?? {}).length
        ? { RoutingConfig: b.RoutingConfig }
        : {}),
    };
    rec.aliases[b.Name] = alias;
    registry.save(rec);
    return { status: 201, body: alias };
  });

  const getAlias = (req: ApiRequest) => {
    const rec = registry.get(name(req).name);
    const alias = rec.aliases[req.params.Name];
    if (!alias) throw new ResourceNotFoundError(`Alias not found: ${aliasArn(rec.name, req.params.Name)}`);
    return { rec, alias };
  };

  router.add('GET', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', (req) => ({
    status: 200,
    body: getAlias(req).alias,
  }));

  router.add('PUT', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', (req) => {
    const { rec, alias } = getAlias(req);
    const b = req.json<{
      FunctionVersion?: string;
      Description?: string;
      RoutingConfig?: AliasConfig['RoutingConfig'];
    }>();
    if (b.FunctionVersion !== undefined) checkVersion(rec, b.FunctionVersion);
    const primary = b.FunctionVersion ?? alias.FunctionVersion;
    // UpdateAlias without RoutingConfig keeps the current one; an empty map removes it.
    const routing = b.RoutingConfig ?? alias.RoutingConfig;
    checkRouting(rec, primary, routing);
    alias.FunctionVersion = primary;
    if (Object.keys(routing?.AdditionalVersionWeights ?? {}).length) alias.RoutingConfig = routing;
    else delete alias.RoutingConfig;
    if (b.Description !== undefined) alias.Description = b.Description;
    alias.RevisionId = crypto.randomUUID();
    registry.save(rec);
    ctx.provisioned.aliasMoved(rec, alias.Name);
    return { status: 200, body: alias };
  });

  router.add('DELETE', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', (req) => {
    const { rec, alias } = getAlias(req);
    delete rec.aliases[alias.Name];
    registry.save(rec);
    return { status: 204 };
  });

  router.add('GET', '/2015-03-31/functions/{FunctionName}/aliases', (req) => {
    const rec = registry.get(name(req).name);
    const v = req.query.get('FunctionVersion');
    const list = Object.values(rec.aliases).filter((a) => !v || a.FunctionVersion === v);
    const p = page(list, req);
    return { status: 200, body: { Aliases: p.items, ...(p.next ? { NextMarker: p.next } : {}) } };
  });
}
