/**
 * Function logs, one file per function: `<state>/lambda/logs/<function>.log`. This is the format `quakectl logs`
 * reads; each line is one JSON object, a CloudWatch Logs event of the log group `/aws/lambda/<function>`:
 *
 *   {"timestamp":1732612345678,"logStreamName":"2026/11/26/[$LATEST]3f2a…","requestId":"…","message":"…"}
 *
 * - `timestamp`: epoch milliseconds when the emulator received the line.
 * - `logStreamName`: one stream per execution environment, named as Lambda names them (`YYYY/MM/DD/[version]<hex>`).
 * - `requestId`: the invocation the line belongs to (absent for init-phase lines).
 * - `message`: the line as Lambda prints it, without a trailing newline. The runtime's own lines are
 *   `START RequestId: <id> Version: <v>`, `END RequestId: <id>` and
 *   `REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB`
 *   with `\tInit Duration: 87.65 ms` appended on a cold start; console output is `<ISO time>\t<requestId>\t<LEVEL>\t<text>`.
 * Lines are appended in order; files are never rotated by the emulator.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export interface LogEvent {
  timestamp: number;
  logStreamName: string;
  requestId?: string;
  message: string;
}

export function logFilePath(stateDir: string, functionName: string): string {
  return join(stateDir, 'lambda', 'logs', `${functionName}.log`);
}

export function logStreamName(version: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${crypto.randomUUID().replaceAll('-', '')}`;
}

export class FunctionLogs {
  readonly #stateDir: string;
  readonly #streams = new Map<string, WriteStream>();

  constructor(stateDir: string) {
    this.#stateDir = stateDir;
    mkdirSync(join(stateDir, 'lambda', 'logs'), { recursive: true });
  }

  append(functionName: string, event: LogEvent): void {
    let s = this.#streams.get(functionName);
    if (!s) {
      s = createWriteStream(logFilePath(this.#stateDir, functionName), { flags: 'a' });
      s.on('error', (err) => console.error(`lambda emulator: log write failed for ${functionName}: ${err.message}`));
      this.#streams.set(functionName, s);
    }
    s.write(`${JSON.stringify(event)}\n`);
  }

  async close(): Promise<void> {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    await Promise.all(streams.map((s) => new Promise<void>((resolve) => s.end(resolve))));
  }
}

/** The REPORT line Lambda prints after each invocation. */
export function reportLine(r: {
  requestId: string;
  durationMs: number;
  memoryMb: number;
  maxMemoryMb: number;
  initMs?: number;
}): string {
  const parts = [
    `REPORT RequestId: ${r.requestId}`,
    `Duration: ${r.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.max(1, Math.ceil(r.durationMs + (r.initMs ?? 0)))} ms`,
    `Memory Size: ${r.memoryMb} MB`,
    `Max Memory Used: ${r.maxMemoryMb} MB`,
  ];
  if (r.initMs !== undefined) parts.push(`Init Duration: ${r.initMs.toFixed(2)} ms`);
  return parts.join('\t');
}
