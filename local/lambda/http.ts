/**
 * A minimal router over node:http for the Lambda REST API. Routes are the URI templates of the service model
 * (`/2015-03-31/functions/{FunctionName}/invocations`); labels are URL-decoded, so a function may be named by name,
 * partial ARN or full ARN as AWS accepts. Errors become AWS's restJson1 error responses (see errors.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LambdaApiError, RequestTooLargeError, ServiceError, UnknownOperationError } from './errors.ts';

export interface ApiRequest {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The body parsed as JSON ({} when empty). */
  json<T = Record<string, unknown>>(): T;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  /** A raw body (Invoke's payload) sent as is. */
  raw?: Buffer;
  headers?: Record<string, string>;
}

export type Handler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  query?: [string, string];
  handler: Handler;
}

/** AWS's synchronous invoke payload limit (6 MB); other requests are bounded by the 50 MB zip upload as base64. */
const MAX_BODY = 70 * 1024 * 1024;

export class Router {
  readonly #routes: Route[] = [];

  /** `template` may end with `?Key=Value`: the route then matches only requests carrying that query pair. */
  add(method: string, template: string, handler: Handler): this {
    const [path, q] = template.split('?');
    const names: string[] = [];
    const source = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const query = q ? (q.split('=') as [string, string]) : undefined;
    const route = { method, pattern: new RegExp(`^${source}/?$`), names, query, handler };
    // Routes with a query discriminator go first so that they win over the plain template.
    if (query) this.#routes.unshift(route);
    else this.#routes.push(route);
    return this;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let out: ApiResponse;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      const match = this.#match(method, url);
      if (!match) throw new UnknownOperationError(method, url.pathname);
      const body = await readBody(req);
      let parsed: unknown;
      out = await match.route.handler({
        method,
        params: match.params,
        query: url.searchParams,
        headers: req.headers,
        body,
        json<T>() {
          if (parsed === undefined) parsed = body.length ? JSON.parse(body.toString('utf8')) : {};
          return parsed as T;
        },
      });
    } catch (err) {
      out = errorResponse(err);
    }
    send(res, out);
  }

  #match(method: string, url: URL): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      if (route.query && url.searchParams.get(route.query[0]) !== route.query[1]) continue;
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]);
      });
      return { route, params };
    }
    return undefined;
  }
}

export function errorResponse(err: unknown): ApiResponse {
  const e =
    err instanceof LambdaApiError
      ? err
      : err instanceof SyntaxError
        ? new LambdaApiError(
            'InvalidRequestContentException',
            400,
            `Could not parse request body into json: ${err.message}`,
          )
        : new ServiceError(`internal error: ${(err as Error)?.message ?? String(err)}`, err);
  if (e.status >= 500) console.error('lambda emulator: internal error', err);
  return { status: e.status, body: e.body(), headers: { 'x-amzn-ErrorType': e.type, ...e.headers } };
}

function send(res: ServerResponse, out: ApiResponse): void {
  const headers: Record<string, string> = { 'x-amzn-RequestId': crypto.randomUUID(), ...out.headers };
  let payload: Buffer | undefined;
  if (out.raw) {
    payload = out.raw;
    headers['Content-Type'] ??= 'application/json';
  } else if (out.body !== undefined) {
    payload = Buffer.from(JSON.stringify(out.body));
    headers['Content-Type'] = 'application/json';
  }
  headers['Content-Length'] = String(payload?.length ?? 0);
  res.writeHead(out.status, headers);
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new RequestTooLargeError('Request must be smaller than 70167211 bytes for the operation.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
