/** A function log line, as CloudWatch Logs returns it and as the local emulator writes it (local/lambda/logging.ts). */
export interface LogLine {
  timestamp: number;
  logStreamName: string;
  requestId?: string;
  message: string;
  /** CloudWatch's event id (dedupes follow-mode polls); local lines use file offset. */
  eventId?: string;
}

export function logGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}
