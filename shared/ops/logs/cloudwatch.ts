/** AWS function logs: CloudWatch Logs FilterLogEvents on `/aws/lambda/<function>` (paginated, all streams). */
import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { type LogLine, logGroupName } from './types.ts';

export async function filterLogs(
  logs: CloudWatchLogsClient,
  functionName: string,
  startTime: number,
  opts: { filterPattern?: string; limit?: number } = {},
): Promise<LogLine[]> {
  const out: LogLine[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: logGroupName(functionName),
        startTime,
        filterPattern: opts.filterPattern,
        nextToken,
      }),
    );
    for (const e of page.events ?? []) {
      const message = (e.message ?? '').replace(/\n$/, '');
      out.push({
        timestamp: e.timestamp ?? 0,
        logStreamName: e.logStreamName ?? '',
        message,
        eventId: e.eventId,
        requestId: /RequestId: ([0-9a-f-]{36})/.exec(message)?.[1] ?? /^\S+\t([0-9a-f-]{36})\t/.exec(message)?.[1],
      });
      if (opts.limit && out.length >= opts.limit) return out;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return out.sort((a, b) => a.timestamp - b.timestamp);
}
