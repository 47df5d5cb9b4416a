/**
 * Where failed (and, if configured, successful) invocations go: SQS queues named by ARN, as dead-letter queues
 * (`DeadLetterConfig.TargetArn`) and `DestinationConfig` OnFailure/OnSuccess targets. A queue ARN
 * `arn:aws:sqs:<region>:<account>:<name>` is resolved with GetQueueUrl against the local SQS endpoint. Clients come from
 * the project's one client factory.
 */
import { GetQueueUrlCommand, type MessageAttributeValue, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type Clients, createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/infra/clients.ts';
import { DEFAULT_FANOUT } from '../../shared/infra/config.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { parseSqsArn } from './arns.ts';
import { LambdaEmulatorError } from './emulator-errors.ts';

export function localClients(opts: {
  sqsEndpoint?: string;
  dynamodbEndpoint?: string;
  kafkaBrokers?: string[];
}): Clients {
  return createClients({
    region: LOCAL_REGION,
    endpoints: { sqs: opts.sqsEndpoint, dynamodb: opts.dynamodbEndpoint },
    credentials: LOCAL_CREDENTIALS,
    kafka: { brokers: opts.kafkaBrokers ?? [], ssl: false, clientId: 'quakectl-lambda-emulator' },
    names: resourceNames(),
    fanout: DEFAULT_FANOUT,
    allowPrivateTargets: true,
    local: true,
  });
}

/** Invokes a function asynchronously with a destination record as its event (the emulator's async queue). */
export type LambdaDestination = (name: string, qualifier: string | undefined, event: string) => void;

export class Destinations {
  readonly #clients: Clients;
  readonly #enabled: boolean;
  readonly #urls = new Map<string, string>();
  #lambda?: LambdaDestination;

  /** Wires Lambda destinations to the async queue (which itself needs Destinations: set after both exist). */
  setLambdaDestination(fn: LambdaDestination): void {
    this.#lambda = fn;
  }

  constructor(clients: Clients, sqsEndpoint: string | undefined) {
    this.#clients = clients;
    this.#enabled = Boolean(sqsEndpoint);
  }

  async queueUrl(arn: string): Promise<string> {
    const cached = this.#urls.get(arn);
    if (cached) return cached;
    const parsed = parseSqsArn(arn);
    if (!parsed) throw new LambdaEmulatorError(`unsupported destination ${arn}: only SQS queues are emulated`);
    if (!this.#enabled)
      throw new LambdaEmulatorError(`cannot deliver to ${arn}: the emulator was started without --sqs-endpoint`);
    const out = await this.#clients.sqs.send(
      new GetQueueUrlCommand({ QueueName: parsed.name, QueueOwnerAWSAccountId: parsed.account }),
    );
    if (!out.QueueUrl) throw new LambdaEmulatorError(`no queue URL for ${arn}`);
    this.#urls.set(arn, out.QueueUrl);
    return out.QueueUrl;
  }

  /**
   * Delivers a record: to an SQS queue as a message, to a Lambda function as an asynchronous invocation whose event is
   * the record (AWS: "Lambda invokes the destination function asynchronously"). Other targets are refused when they
   * are configured (api-event-invoke-config.ts), so they never reach here.
   */
  async send(arn: string, body: string, attributes?: Record<string, MessageAttributeValue>): Promise<void> {
    const fn = /^arn:aws[a-zA-Z-]*:lambda:[^:]*:\d*:function:([^:]+)(?::(.+))?$/.exec(arn);
    if (fn) {
      if (!this.#lambda) throw new LambdaEmulatorError(`cannot deliver to ${arn}: no Lambda destination wired`);
      this.#lambda(fn[1], fn[2], body);
      return;
    }
    const QueueUrl = await this.queueUrl(arn);
    await this.#clients.sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: body === '' ? '{}' : body, MessageAttributes: attributes }),
    );
  }

  /** The dead-letter message of an async invocation: the event as body, RequestID/ErrorCode/ErrorMessage attributes. */
  async sendDeadLetter(
    arn: string,
    event: { requestId: string; payload: string; errorCode: number; errorMessage: string },
  ): Promise<void> {
    await this.send(arn, event.payload, {
      RequestID: { DataType: 'String', StringValue: event.requestId },
      ErrorCode: { DataType: 'Number', StringValue: String(event.errorCode) },
      ErrorMessage: { DataType: 'String', StringValue: truncateUtf8(event.errorMessage || 'unknown error', 1024) },
    });
  }
}

function truncateUtf8(s: string, bytes: number): string {
  const b = Buffer.from(s);
  return b.length <= bytes
    ? s
    : b
        .subarray(0, bytes)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
}
