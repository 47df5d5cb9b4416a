/**
 * The runtime inside one execution environment (a child process forked by environment.ts), playing the part of
 * Lambda's nodejs runtime interface client:
 * - Init: resolve `_HANDLER` (`file.export`, file = `.js`, `.mjs` or `.cjs` under LAMBDA_TASK_ROOT), import it (ESM or
 *   CommonJS), report `ready` with the init time, or the init error as `Runtime.ImportModuleError` /
 *   `Runtime.HandlerNotFound` as the real runtime names them.
 * - Invoke: call the handler with the event and a `context` (awsRequestId, functionName, functionVersion,
 *   invokedFunctionArn, memoryLimitInMB, getRemainingTimeInMillis, logGroupName, logStreamName), async or callback
 *   style, and report the JSON result or the error as `{errorType, errorMessage, trace}`.
 * - console.* lines go to the parent formatted as the runtime prints them: `<ISO time>\t<requestId>\t<LEVEL>\t<msg>`.
 * Only node built-ins here: this file runs before the function's code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

interface InvokeMessage {
  t: 'invoke';
  id: string;
  payload: string;
  invokedFunctionArn: string;
  deadlineMs: number;
}

const env = process.env;
let currentRequestId: string | undefined;

function send(msg: unknown): void {
  process.send?.(msg);
}

function patchConsole(): void {
  const levels: [keyof Console, string][] = [
    ['log', 'INFO'],
    ['info', 'INFO'],
    ['warn', 'WARN'],
    ['error', 'ERROR'],
    ['debug', 'DEBUG'],
    ['trace', 'TRACE'],
  ];
  for (const [method, level] of levels) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      send({ t: 'log', message: `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${format(...args)}` });
    };
  }
}

function errorPayload(err: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message, trace: (err.stack ?? '').split('\n') };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

class RuntimeError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type HandlerFn = (event: unknown, context: unknown, callback?: (err: unknown, result?: unknown) => void) => unknown;

async function loadHandler(): Promise<HandlerFn> {
  const root = env.LAMBDA_TASK_ROOT ?? process.cwd();
  const spec = env._HANDLER ?? '';
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${spec}`);
  const modulePath = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => join(root, modulePath + ext)).find((f) => existsSync(f));
  if (!file) throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const e = errorPayload(err);
    throw new RuntimeError(
      e.errorType === 'SyntaxError' ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError',
      `${e.errorType}: ${e.errorMessage}`,
    );
  }
  const fn = mod[exportPath] ?? (mod.default as Record<string, unknown> | undefined)?.[exportPath];
  if (typeof fn !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${modulePath}.${exportPath} is undefined or not exported`);
  }
  return fn as HandlerFn;
}

function callHandler(handler: HandlerFn, event: unknown, context: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err: unknown, result?: unknown) => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(result);
    };
    try {
      const out = handler(event, context, callback);
      if (out && typeof (out as Promise<unknown>).then === 'function') {
        (out as Promise<unknown>).then(
          (r) => callback(null, r),
          (e) => callback(e ?? new Error('handler rejected')),
        );
      } else if (handler.length < 3) {
        callback(null, out);
      }
    } catch (err) {
      callback(err);
    }
  });
}

async function main(): Promise<void> {
  patchConsole();
  const started = performance.now();
  let handler: HandlerFn;
  try {
    handler = await loadHandler();
  } catch (err) {
    const e = errorPayload(err);
    send({ t: 'log', message: `${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(e)}` });
    send({ t: 'init-error', error: e, initMs: performance.now() - started });
    return;
  }
  send({ t: 'ready', initMs: performance.now() - started });
  process.on('message', async (msg: InvokeMessage) => {
    if (msg?.t !== 'invoke') return;
    currentRequestId = msg.id;
    const context = {
      awsRequestId: msg.id,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: msg.invokedFunctionArn,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, msg.deadlineMs - Date.now()),
    };
    let event: unknown;
    try {
      event = msg.payload === '' ? {} : JSON.parse(msg.payload);
    } catch {
      event = msg.payload;
    }
    try {
      const result = await callHandler(handler, event, context);
      const body = result === undefined ? 'null' : JSON.stringify(result);
      send({ t: 'done', id: msg.id, ok: true, result: body, rssMb: rssMb() });
    } catch (err) {
      const e = errorPayload(err);
      send({ t: 'log', message: `${new Date().toISOString()}\t${msg.id}\tERROR\tInvoke Error \t${JSON.stringify(e)}` });
      send({ t: 'done', id: msg.id, ok: false, error: e, rssMb: rssMb() });
    } finally {
      currentRequestId = undefined;
    }
  });
}

function rssMb(): number {
  return Math.ceil(process.memoryUsage.rss() / (1024 * 1024));
}

process.on('uncaughtException', (err) => {
  send({ t: 'crash', error: errorPayload(err) });
  process.exit(129);
});
process.on('unhandledRejection', (reason) => {
  const e = errorPayload(reason);
  send({ t: 'crash', error: { ...e, errorType: 'Runtime.UnhandledPromiseRejection' } });
  process.exit(128);
});
process.on('disconnect', () => process.exit(0));

await main();
