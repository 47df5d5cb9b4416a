/**
 * SQS's own redrive for DLQs whose sources are SQS queues: StartMessageMoveTask (no destination = back to each
 * message's source queue), progress from ListMessageMoveTasks. It has no message filter, so quakectl uses it only
 * when no filter is given; Lambda-sourced DLQs (ours) are redriven message by message instead.
 */
import {
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { QuakectlError } from '../../infra/errors.ts';

export async function deadLetterSources(sqs: SQSClient, dlqUrl: string): Promise<string[]> {
  const out = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
  return out.queueUrls ?? [];
}

export interface MoveProgress {
  status: string;
  moved: number;
  toMove?: number;
  failureReason?: string;
  taskHandle?: string;
}

export class MoveTaskFailedError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MoveTaskFailedError';
  }
}

export async function moveTaskStatus(sqs: SQSClient, dlqArn: string): Promise<MoveProgress | undefined> {
  const out = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 1 }));
  const t = out.Results?.[0];
  if (!t) return undefined;
  return {
    status: t.Status ?? 'UNKNOWN',
    moved: t.ApproximateNumberOfMessagesMoved ?? 0,
    toMove: t.ApproximateNumberOfMessagesToMove,
    failureReason: t.FailureReason,
    taskHandle: t.TaskHandle,
  };
}

/** Starts a move task and polls it to the end, reporting progress. */
export async function runMoveTask(
  sqs: SQSClient,
  dlqArn: string,
  opts: { ratePerSec?: number; pollMs?: number; timeoutMs?: number; onProgress?: (p: MoveProgress) => void } = {},
): Promise<MoveProgress> {
  const started = await sqs.send(
    new StartMessageMoveTaskCommand({ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: opts.ratePerSec }),
  );
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  for (;;) {
    const p = await moveTaskStatus(sqs, dlqArn);
    if (p && (!started.TaskHandle || !p.taskHandle || p.taskHandle === started.TaskHandle)) {
      opts.onProgress?.(p);
      if (p.status === 'COMPLETED') return p;
      if (p.status === 'FAILED' || p.status === 'CANCELLED') {
        throw new MoveTaskFailedError(
          `message move task ${p.status.toLowerCase()}: ${p.failureReason ?? 'no reason given'}`,
        );
      }
    }
    if (Date.now() > deadline) throw new MoveTaskFailedError('message move task did not finish in time');
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}
