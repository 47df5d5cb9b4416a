/**
 * Levers for fault cases on the shared local stack: kill one of its services the hard way (SIGKILL to its process
 * group, by the pid `local up` recorded, never by name) and bring it back through the real CLI (`quakectl local up`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isAlive } from '../../local/stack/processes.ts';
import type { LocalStackState } from '../../local/stack/stack.ts';
import { PROJECT_ROOT } from '../../shared/bundle/index.ts';
import { readStackState } from '../../shared/infra/stack-state.ts';
import { localStack } from '../helpers/stack.ts';

export type Service = 'kafka' | 'sqs' | 'dynamodb' | 'lambda';

export function stackState(): LocalStackState {
  const state = readStackState(localStack().stateDir) as LocalStackState | undefined;
  if (!state) throw new Error(`no local stack state in ${localStack().stateDir}`);
  return state;
}

/** SIGKILL to the service's process group; resolves once the process is gone. Returns the pid it had. */
export async function kill(service: Service): Promise<number> {
  const pid = stackState()[service]?.pid;
  if (!pid) throw new Error(`${service} has no pid in the stack state`);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) throw new Error(`${service} (pid ${pid}) still alive after SIGKILL`);
  return pid;
}

/** `quakectl <args>` against the stack's state dir, as an operator runs it. */
export function quakectl(...args: string[]) {
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'quakectl'), ...args], {
    env: { ...process.env, QUAKECTL_STATE_DIR: localStack().stateDir, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
