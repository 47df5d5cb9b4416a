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
    up: z.number().min(0).default(0),
    down: z.number().min(0).default(300),
  })
  .strict();

const common = {
  /** Function role (consumer, segment-worker, …) or deployed name. */
  function: z.string().min(1),
  maxStep: z.number().int().min(1).optional(),
  cooldown: cooldown.default({ up: 0, down: 300 }),
};

const consumerRule = z
  .object({
    ...common,
    function: z.string().min(1).default('consumer'),
    /** Topic whose lag drives the consumer (default: the events topic). */
    topic: z.string().min(1).optional(),
    /** Consumer group (default: the event source mapping's). */
    group: z.string().min(1).optional(),
    lagPerInstance: z.number().positive(),
    activationLag: z.number().min(0).default(0),
    min: z.number().int().min(1).default(1),
    max: z.number().int().min(1),
    allowIdleConsumers: z.boolean().default(false),
    limitToPartitionsWithLag: z.boolean().default(false),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' });

const workerRule = z
  .object({
    ...common,
    function: z.string().min(1).default('segment-worker'),
    pendingSegmentsPerInstance: z.number().positive(),
    min: z.number().int().min(1).default(1),
    max: z.number().int().min(1),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' });

const provisionedRule = z
  .object({
    ...common,
    targetUtilization: z.number().gt(0).max(1),
    min: z.number().int().min(0).default(0),
    max: z.number().int().min(0),
    /** Like Application Auto Scaling's DisableScaleIn. */
    disableScaleIn: z.boolean().default(false),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' });

export const rulesSchema = z
  .object({
    version: z.literal(1),
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
