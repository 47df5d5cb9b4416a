/**
 * Structured JSON logs and CloudWatch embedded-metric-format metrics through Powertools for AWS Lambda. Functions
 * create one pair per role and flush metrics at the end of each invocation (`metrics.publishStoredMetrics()`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'quakectl';

export function createTelemetry(serviceName: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
  };
}

/** A URL as it may appear in logs and DLQ messages: no user info, no query string (tokens live there). */
export function redactUrl(target: string): string {
  try {
    const u = new URL(target);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
