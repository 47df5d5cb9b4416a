/**
 * Invoke (POST /2015-03-31/functions/{FunctionName}/invocations), as AWS answers it:
 * - `X-Amz-Invocation-Type: RequestResponse` (default): 200 with the handler's result as body; on a function error
 *   still 200, with `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage, trace}` as body;
 *   `X-Amz-Executed-Version` names the version that ran; `X-Amz-Log-Type: Tail` adds `X-Amz-Log-Result` (base64 of the
 *   last 4 KB of the invocation's log). Throttled: 429 TooManyRequestsException with Reason.
 * - `Event`: 202, empty body, the event is queued durably (async-queue.ts).
 * - `DryRun`: 204 when the function and qualifier exist.
 * The payload must be JSON (InvalidRequestContentException otherwise) and at most 6 MB synchronous / 1 MB async
 * (RequestTooLargeException, 413). Also the legacy InvokeAsync (2014-11-13, 202).
 */
import { parseFunctionName } from './arns.ts';
import type { EmulatorContext } from './context.ts';
import { InvalidParameterValueError, InvalidRequestContentError, RequestTooLargeError } from './errors.ts';
import type { ApiRequest, Router } from './http.ts';
import { logTail } from './invoker.ts';

const SYNC_LIMIT = 6 * 1024 * 1024;
const ASYNC_LIMIT = 1024 * 1024;

function payloadText(req: ApiRequest): string {
  const text = req.body.toString('utf8');
  if (text.trim() !== '') {
    try {
      JSON.parse(text);
    } catch (err) {
      throw new InvalidRequestContentError(`Could not parse request body into json: ${(err as Error).message}`);
    }
  }
  return text;
}

export function registerInvokeRoutes(router: Router, ctx: EmulatorContext): void {
  router.add('POST', '/2015-03-31/functions/{FunctionName}/invocations', async (req) => {
    const n = parseFunctionName(req.params.FunctionName, req.query.get('Qualifier'));
    const target = ctx.registry.resolve(n.name, n.qualifier, Math.random);
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (type === 'DryRun') return { status: 204 };
    if (type === 'Event') {
      if (req.body.length > ASYNC_LIMIT) {
        throw new RequestTooLargeError(
          `Request must be smaller than ${ASYNC_LIMIT} bytes for the InvokeAsync operation`,
        );
      }
      const requestId = ctx.asyncQueue.accept(target, payloadText(req));
      return { status: 202, headers: { 'x-amzn-RequestId': requestId } };
    }
    if (type !== 'RequestResponse') {
      throw new InvalidParameterValueError(`Unsupported invocation type: ${type}`);
    }
    if (req.body.length > SYNC_LIMIT) {
      throw new RequestTooLargeError(`Request must be smaller than ${SYNC_LIMIT} bytes for the Invoke operation`);
    }
    const result = await ctx.invoker.invoke(target, payloadText(req));
    const headers: Record<string, string> = {
      'x-amzn-RequestId': result.requestId,
      'X-Amz-Executed-Version': result.executedVersion,
    };
    if (result.functionError) headers['X-Amz-Function-Error'] = result.functionError;
    if (String(req.headers['x-amz-log-type'] ?? '') === 'Tail') headers['X-Amz-Log-Result'] = logTail(result.logLines);
    return { status: 200, raw: Buffer.from(result.payload), headers };
  });

  router.add('POST', '/2014-11-13/functions/{FunctionName}/invoke-async', (req) => {
    const n = parseFunctionName(req.params.FunctionName, req.query.get('Qualifier'));
    const target = ctx.registry.resolve(n.name, n.qualifier);
    const requestId = ctx.asyncQueue.accept(target, payloadText(req));
    return { status: 202, body: { Status: 202 }, headers: { 'x-amzn-RequestId': requestId } };
  });
}
