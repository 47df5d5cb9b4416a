/**
 * The environment variables of an execution environment: Lambda's reserved variables (AWS_REGION,
 * AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME,
 * AWS_LAMBDA_LOG_STREAM_NAME, AWS_LAMBDA_INITIALIZATION_TYPE, AWS_EXECUTION_ENV, LAMBDA_TASK_ROOT, _HANDLER, TZ…),
 * dummy credentials in place of the execution role's, and, as LocalStack does, `AWS_ENDPOINT_URL_*` so SDK clients
 * inside functions reach the local stack. Nothing is inherited from the emulator's own environment except PATH, as
 * Lambda gives functions a clean environment. The function's Environment.Variables come last but may not override
 * reserved keys (AWS refuses those at CreateFunction).
 */
import { LOCAL_REGION } from '../../shared/infra/clients.ts';
import { projectNodeModules } from './code-store.ts';
import type { FunctionConfig } from './registry.ts';

export interface LocalEndpoints {
  lambda: string;
  sqs?: string;
  dynamodb?: string;
}

export const RESERVED_ENV_KEYS = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

export function runtimeEnv(opts: {
  config: FunctionConfig;
  version: string;
  taskRoot: string;
  logStreamName: string;
  provisioned: boolean;
  endpoints: LocalEndpoints;
}): Record<string, string> {
  const { config } = opts;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    NODE_PATH: projectNodeModules(),
    _HANDLER: config.Handler,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_EXECUTION_ENV: `AWS_Lambda_${config.Runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: config.FunctionName,
    AWS_LAMBDA_FUNCTION_VERSION: opts.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.MemorySize),
    AWS_LAMBDA_INITIALIZATION_TYPE: opts.provisioned ? 'provisioned-concurrency' : 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.FunctionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: opts.logStreamName,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    LAMBDA_TASK_ROOT: opts.taskRoot,
    LAMBDA_RUNTIME_DIR: opts.taskRoot,
    AWS_ENDPOINT_URL_LAMBDA: opts.endpoints.lambda,
    ...(opts.endpoints.sqs ? { AWS_ENDPOINT_URL_SQS: opts.endpoints.sqs } : {}),
    ...(opts.endpoints.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: opts.endpoints.dynamodb } : {}),
  };
  for (const [k, v] of Object.entries(config.Environment?.Variables ?? {})) {
    if (!RESERVED_ENV_KEYS.has(k)) env[k] = v;
  }
  return env;
}
