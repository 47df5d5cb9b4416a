/**
 * What every service-talking command needs: the resolved profile and lazily built clients. The heavy SDK modules are
 * imported on first use so that `quakectl --help` stays fast.
 */
import type { Command } from 'commander';
import type { Clients, ServiceConfig } from '../shared/infra/clients.ts';
import type { Profile } from '../shared/infra/config.ts';
import { type OutputFormat, parseOutputFormat } from './output.ts';

export interface GlobalOptions {
  profile?: string;
  config?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function outputFormat(cmd: Command): OutputFormat {
  return parseOutputFormat((cmd.opts() as { output?: string }).output);
}

export async function loadCommandProfile(cmd: Command): Promise<Profile> {
  const { loadProfile } = await import('../shared/infra/config.ts');
  const g = globalOptions(cmd);
  return loadProfile({ profile: g.profile, configFile: g.config });
}

export interface CommandContext {
  profile: Profile;
  config: ServiceConfig;
  clients: Clients;
}

export async function commandContext(cmd: Command): Promise<CommandContext> {
  const profile = await loadCommandProfile(cmd);
  const { serviceConfigFromProfile, createClients } = await import('../shared/infra/clients.ts');
  const config = serviceConfigFromProfile(profile);
  return { profile, config, clients: createClients(config) };
}

/** Adds `-o, --output table|json` to a command that prints data. */
export function withOutput(cmd: Command): Command {
  return cmd.option('-o, --output <format>', 'output format: table or json', 'table');
}
