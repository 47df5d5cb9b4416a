/**
 * `quakectl iam policy [--functions|--operator] [--region R] [--account ID]`: the least-privilege IAM policy documents
 * for the profile's system (shared/deploy/iam.ts), as JSON ready for `aws iam put-role-policy --policy-document`.
 * With neither flag, both: `{ "functions": …, "operator": … }`. Needs no AWS access.
 */
import type { Command } from 'commander';
import { globalOptions, loadCommandProfile } from '../context.ts';
import { printJson } from '../output.ts';

interface PolicyFlags {
  functions?: boolean;
  operator?: boolean;
  region?: string;
  account?: string;
}

export function register(program: Command): void {
  const iam = program.command('iam').description('IAM policies for the profile’s system');
  iam
    .command('policy')
    .description('least-privilege policies: the functions’ execution role and the operator (JSON)')
    .option('--functions', 'only the execution role policy of the functions')
    .option('--operator', 'only the policy of whoever runs deploy, scale, dlq, logs')
    .option('--region <region>', 'exact ARNs for this region (default: the profile region, else *)')
    .option('--account <id>', 'exact ARNs for this 12-digit account (default *)')
    .action(async (flags: PolicyFlags, cmd: Command) => {
      const { UsageError } = await import('../../shared/infra/errors.ts');
      if (flags.functions && flags.operator) throw new UsageError('--functions and --operator exclude each other');
      if (flags.account !== undefined && !/^\d{12}$/.test(flags.account)) {
        throw new UsageError(`--account "${flags.account}": expected a 12-digit AWS account id`);
      }
      const profile = await loadCommandProfile(cmd);
      const g = globalOptions(cmd);
      const { readDeploySettings } = await import('../../shared/deploy/settings.ts');
      const notify = readDeploySettings(profile.name, { profile: g.profile, configFile: g.config }).notify;
      const { functionsPolicy, operatorPolicy } = await import('../../shared/deploy/iam.ts');
      const { resourceNames } = await import('../../shared/infra/names.ts');
      const aws = profile.type === 'aws' ? profile : undefined;
      const scope = {
        names: resourceNames(profile.prefix),
        region: flags.region ?? aws?.region,
        account: flags.account,
        kafkaSecretArn: aws?.kafka.sasl?.secretArn,
        roleArn: aws?.roleArn,
        channels: {
          sms: notify?.sms?.enabled,
          sesFrom: notify?.email?.from,
          sesConfigurationSet: notify?.email?.configurationSet,
          telegramSecretArn: notify?.telegram?.secretArn,
        },
        capBucket: aws?.cap?.bucket,
        capPrefix: aws?.cap?.prefix,
      };
      if (flags.functions) printJson(functionsPolicy(scope));
      else if (flags.operator) printJson(operatorPolicy(scope));
      else printJson({ functions: functionsPolicy(scope), operator: operatorPolicy(scope) });
    });
}
