/**
 * Which AWS API actions a part of the code can call, read from the source itself: every `new XCommand(` whose `XCommand`
 * is imported (statically, or on first use with `await import(…)`) from an AWS SDK v3 client (or lib-dynamodb), in the files reachable from the given entry points through
 * relative imports (static and dynamic). Each command maps to the IAM action that authorizes it (Service
 * Authorization Reference); lib-dynamodb's document commands map to the item actions they send, SQS batch calls to
 * their single-message action (SQS Developer Guide, "Amazon SQS API permissions").
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const SERVICE: Record<string, string> = {
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
  '@aws-sdk/client-eventbridge': 'events',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-sesv2': 'ses',
  '@aws-sdk/client-s3': 's3',
};

const RENAMED: Record<string, string> = {
  'lambda:Invoke': 'lambda:InvokeFunction',
  'dynamodb:Get': 'dynamodb:GetItem',
  'dynamodb:Put': 'dynamodb:PutItem',
  'dynamodb:Update': 'dynamodb:UpdateItem',
  'dynamodb:Delete': 'dynamodb:DeleteItem',
  'dynamodb:BatchGet': 'dynamodb:BatchGetItem',
  'dynamodb:BatchWrite': 'dynamodb:BatchWriteItem',
  'dynamodb:TransactWrite': 'dynamodb:TransactWriteItems',
  'dynamodb:TransactGet': 'dynamodb:TransactGetItems',
  // ListObjectsV2 is authorized by s3:ListBucket (Service Authorization Reference, Amazon S3).
  's3:ListObjectsV2': 's3:ListBucket',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
};

/** Files reachable from `entries` through relative `.ts` imports. */
export function reachableFiles(entries: string[]): string[] {
  const seen = new Set<string>();
  const stack = entries.map((e) => resolve(e));
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+\.tsx?)['"]/g)) {
      stack.push(resolve(dirname(file), m[1]));
    }
  }
  return [...seen].sort();
}

/** `service:Action` for every SDK command constructed in `files`. */
export function actionsIn(files: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const imported = new Map<string, string>();
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*['"](@aws-sdk\/[^'"]+)['"]/g)) {
      const service = SERVICE[m[2]];
      if (!service) continue;
      for (const part of m[1].split(',')) {
        const name = part
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/);
        const local = (name[1] ?? name[0]).trim();
        if (name[0].trim().endsWith('Command'))
          imported.set(local, `${service}:${name[0].trim().slice(0, -'Command'.length)}`);
      }
    }
    // Commands loaded on first use: `const { XCommand } = await import('@aws-sdk/client-…')`, or through a loader
    // `const sdk = () => import('@aws-sdk/client-…')` and `const { XCommand } = await sdk()`, bind the same names.
    const loaders = new Map<string, string>();
    for (const m of text.matchAll(/const\s+(\w+)\s*=\s*\(\)\s*=>\s*import\(\s*['"](@aws-sdk\/[^'"]+)['"]\s*\)/g)) {
      loaders.set(m[1], m[2]);
    }
    for (const m of text.matchAll(
      /const\s*\{([^}]*)\}\s*=\s*await\s+(?:import\(\s*['"](@aws-sdk\/[^'"]+)['"]\s*\)|(\w+)\(\))/g,
    )) {
      const service = SERVICE[m[2] ?? loaders.get(m[3]) ?? ''];
      if (!service) continue;
      for (const part of m[1].split(',')) {
        const name = part.trim().split(/\s*:\s*/);
        const local = (name[1] ?? name[0]).trim();
        if (name[0].trim().endsWith('Command'))
          imported.set(local, `${service}:${name[0].trim().slice(0, -'Command'.length)}`);
      }
    }
    for (const m of text.matchAll(/new\s+([A-Za-z0-9]+Command)\s*\(/g)) {
      const raw = imported.get(m[1]);
      if (!raw) continue;
      const action = RENAMED[raw] ?? raw;
      out.set(action, [...(out.get(action) ?? []), file]);
    }
  }
  return out;
}
