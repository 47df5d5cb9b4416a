/**
 * Where drills send their notifications on the local profile: the loopback webhook sink on a fixed port, so the
 * targets of seeded subscribers stay valid from one drill to the next. Override with QUAKECTL_DRILL_SINK_PORT.
 */
export const DEFAULT_SINK_PORT = 19080;
export const SINK_PATH = '/drill';

export function sinkPort(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.QUAKECTL_DRILL_SINK_PORT;
  const n = v ? Number(v) : DEFAULT_SINK_PORT;
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : DEFAULT_SINK_PORT;
}

export function sinkUrl(port: number): string {
  return `http://127.0.0.1:${port}${SINK_PATH}`;
}
