/**
 * Function names as Lambda accepts them: a name, a partial ARN (`123456789012:function:name`) or a full ARN
 * (`arn:aws:lambda:region:account:function:name`), each optionally ending in `:qualifier` (a version number, `$LATEST`
 * or an alias name). A qualifier given both in the name and as `?Qualifier=` must agree.
 */
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../shared/infra/clients.ts';
import { InvalidParameterValueError, ValidationError } from './errors.ts';

const FULL = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const PARTIAL = /^(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const NAME = /^([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;

export function functionArn(name: string, qualifier?: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

export function parseFunctionName(raw: string, queryQualifier?: string | null): { name: string; qualifier?: string } {
  let name: string | undefined;
  let qualifier: string | undefined;
  const full = FULL.exec(raw) ?? PARTIAL.exec(raw);
  if (full) {
    name = full[2];
    qualifier = full[3];
  } else {
    const m = NAME.exec(raw);
    if (m && m[1].length <= 64) {
      name = m[1];
      qualifier = m[2];
    }
  }
  if (!name) {
    throw new ValidationError(
      `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    );
  }
  if (queryQualifier) {
    if (qualifier && qualifier !== queryQualifier) {
      throw new InvalidParameterValueError(
        'The derived qualifier from the function name does not match the specified qualifier.',
      );
    }
    qualifier = queryQualifier;
  }
  return { name, qualifier };
}

/** `arn:aws:sqs:region:account:name` → queue name and owner account. */
export function parseSqsArn(arn: string): { region: string; account: string; name: string } | undefined {
  const m = /^arn:aws[a-zA-Z-]*:sqs:([a-z0-9-]+):(\d{12}):(.+)$/.exec(arn);
  return m ? { region: m[1], account: m[2], name: m[3] } : undefined;
}
