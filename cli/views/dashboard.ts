/**
 * `quakectl status --watch`: a live ink dashboard over the same snapshot `status -o json` prints. Refreshes every
 * `intervalMs` (one load at a time, never overlapping); q or Ctrl-C quits. useInput is only active when stdin can
 * be put in raw mode (ink throws otherwise), so a piped stdin still gets a working screen that Ctrl-C ends.
 */
import { render, useApp, useInput, useStdin } from 'ink';
import { createElement as h, useEffect, useState } from 'react';
import type { StatusSnapshot } from '../../shared/ops/status/snapshot.ts';
import { StatusView } from './status-view.ts';

export interface DashboardProps {
  load: () => Promise<StatusSnapshot>;
  intervalMs: number;
}

export function Dashboard({ load, intervalMs }: DashboardProps) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const [snapshot, setSnapshot] = useState<StatusSnapshot | undefined>();
  const [error, setError] = useState<string | undefined>();

  useInput(
    (input, key) => {
      if (input === 'q' || (key.ctrl && input === 'c')) exit();
    },
    { isActive: isRawModeSupported === true },
  );

  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      try {
        const s = await load();
        if (stopped) return;
        setSnapshot(s);
        setError(undefined);
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [load, intervalMs]);

  return h(StatusView, {
    snapshot,
    error,
    intervalS: Math.round(intervalMs / 100) / 10,
    keys: isRawModeSupported === true,
  });
}

/** Runs the dashboard until the operator quits. */
export async function runDashboard(props: DashboardProps): Promise<void> {
  const app = render(h(Dashboard, props), { exitOnCtrlC: true });
  await app.waitUntilExit();
}
