/**
 * Runs one command for a benchmark and ends it when the benchmark ends, however it ends: the benchmark starts this
 * guard with an IPC channel, and the channel closes when the benchmark process exits, even on SIGKILL (which no
 * handler in the benchmark itself can catch). The guard then stops the command (SIGTERM, SIGKILL after 3 s) and exits.
 *
 * A directory named in QUAKECTL_GUARD_RM (the command's scratch files) is removed when the command has exited.
 *
 *   node bench/guard.ts <command> [args…]      (only with an IPC channel: spawned by bench/services.ts)
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const [command, ...args] = process.argv.slice(2);
if (!command || !process.connected) {
  process.stderr.write(
    'usage: spawned by bench/services.ts with an IPC channel: node bench/guard.ts <command> [args…]\n',
  );
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 3000).unref();
};
child.once('exit', (code, signal) => {
  if (process.env.QUAKECTL_GUARD_RM) rmSync(process.env.QUAKECTL_GUARD_RM, { recursive: true, force: true });
  process.exit(code ?? (signal ? 128 : 1));
});
child.once('error', (err) => {
  process.stderr.write(`guard: could not start ${command}: ${err.message}\n`);
  process.exit(127);
});
process.once('disconnect', stop);
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(s, stop);
