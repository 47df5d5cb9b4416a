/**
 * The scaling rules file (YAML), validated with zod; schemas/scaling-rules.schema.json is the same shape for editors
 * and is checked against this one by a unit test. Documented in docs/scaling.md.
 *
 * Three kinds of target, each optional:
 * - consumer: reserved concurrency of the Kafka consumer from total lag, as KEDA's Kafka scaler computes replicas:
 *   ceil(totalLag / lagPerInstance) within [min, max], never more than the partition count (unless
 *   allowIdleConsumers), only partitions with lag counted when limitToPartitionsWithLag; below activationLag: min.
 * - worker: reserved concurrency of the segment worker from the segments still pending in running events.
 * - provisioned: provisioned concurrency (alias `live`) by target tracking on utilisation, as Application Auto
 *   Scaling does with LambdaProvisionedConcurrencyUtilization: desired = ceil(inUse / targetUtilization).
 * Every target has cooldowns (seconds since its last change before another scale-up / scale-down) and a maximum step.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../infra/errors.ts';

const cooldown = z
  .object({
    up: z.number().min(0).default(0).describe('seconds since the last change before scaling up again'),
    down: z.number().min(0).default(300).describe('seconds since the last change before scaling down again'),
  })
  .strict();

const common = {
  /** Function role (consumer, segment-worker, …) or deployed name. */
  function: z
    .string()
    .min(1)
    .describe('function role (consumer, segment-worker, producer, autoscaler) or deployed name'),
  maxStep: z.number().int().min(1).optional().describe('largest change one decision may make'),
  cooldown: cooldown.default({ up: 0, down: 300 }),
};

const consumerRule = z
  .object({
    ...common,
    function: z.string().min(1).default('consumer').describe('the Kafka consumer function'),
    /** Topic whose lag drives the consumer (default: the events topic). */
    topic: z.string().min(1).optional().describe('topic whose lag drives the consumer (default: the events topic)'),
    /** Consumer group (default: the event source mapping's). */
    group: z.string().min(1).optional().describe("consumer group (default: the event source mapping's, its UUID)"),
    lagPerInstance: z.number().positive().describe("target lag per consumer instance (KEDA's lagThreshold)"),
    activationLag: z
      .number()
      .min(0)
      .default(0)
      .describe('at or below this total lag: min (KEDA activationLagThreshold)'),
    min: z.number().int().min(1).default(1),
    max: z.number().int().min(1),
    allowIdleConsumers: z.boolean().default(false).describe('allow more instances than partitions'),
    limitToPartitionsWithLag: z.boolean().default(false).describe('cap at the number of partitions that have lag'),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' });

const workerRule = z
  .object({
    ...common,
    function: z.string().min(1).default('segment-worker').describe('the segment worker function'),
    pendingSegmentsPerInstance: z.number().positive().describe('pending segments one concurrent worker should have'),
    min: z.number().int().min(1).default(1),
    max: z.number().int().min(1),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' });

const provisionedRule = z
  .object({
    ...common,
    targetUtilization: z.number().gt(0).max(1).describe('target concurrent executions / provisioned concurrency'),
    min: z.number().int().min(0).default(0),
    max: z.number().int().min(0),
    /** Like Application Auto Scaling's DisableScaleIn. */
    disableScaleIn: z.boolean().default(false).describe('never lower provisioned concurrency'),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' });

export const rulesSchema = z
  .object({
    version: z.literal(1).describe('rules file format version'),
    consumer: consumerRule.optional(),
    worker: workerRule.optional(),
    provisioned: z.array(provisionedRule).default([]),
  })
  .strict();

export type ScalingRules = z.infer<typeof rulesSchema>;
export type ConsumerRule = z.infer<typeof consumerRule>;
export type WorkerRule = z.infer<typeof workerRule>;
export type ProvisionedRule = z.infer<typeof provisionedRule>;

export class RulesError extends ValidationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RulesError';
  }
}

export function parseRules(text: string, source = 'rules'): ScalingRules {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new RulesError(`${source}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const parsed = rulesSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new RulesError(`${source}: invalid scaling rules: ${issues}`);
  }
  return parsed.data;
}

export function loadRules(path: string): ScalingRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RulesError(`cannot read rules file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseRules(text, path);
}

/** The JSON Schema of the rules file (schemas/scaling-rules.schema.json is this, written out; a test keeps them equal). */
export function rulesJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://quakectl.dev/schemas/scaling-rules.schema.json',
    title: 'quakectl scaling rules',
    ...z.toJSONSchema(rulesSchema, { io: 'input' }),
  };
}
