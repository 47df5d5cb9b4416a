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

/**
 * A URL as it may appear in logs and DLQ messages: scheme, host and port only, the path replaced by `/…`, no user info,
 * query or fragment. Tokens live in all of those: Slack-style incoming webhooks carry theirs in the path
 * (`/services/T…/B…/<secret>`). `keepPathsFor`: hosts (exact, lower case) whose paths an operator chose to keep
 * (deploy setting `logUrlPathsFor`). Redelivery never needs the logged URL: it re-reads the subscriber's channel.
 */
export function redactUrl(target: string, keepPathsFor: readonly string[] = []): string {
  try {
    const u = new URL(target);
    const keep = keepPathsFor.includes(u.hostname.toLowerCase());
    const path = keep || u.pathname === '/' ? u.pathname : '/…';
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return '(invalid url)';
  }
}
