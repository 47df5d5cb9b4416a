import { describe, expect, it } from 'vitest';
import { detectFormat, parseSubscribersFile, splitCsvLine } from '../../shared/drill/subscribers-file.ts';
import { ValidationError } from '../../shared/infra/errors.ts';

const csv = [
  'id,lat,lon,minMmi,channel,target,secret,locale',
  'ana,44.43,26.10,3,webhook,https://hooks.example.com/a,s3cret,ro',
  'bob,45.0,abc,4,webhook,https://hooks.example.com/b,,en',
  '',
  'cid,95,26,3,log,drill,,',
  'dan,44.1,28.6,,kafka,push-gw,,',
  'eve#1,44.1,28.6,3,log,x,,',
  'fay,44.1,28.6,3,webhook,ftp://nope,,',
  'gus,44.1,28.6,3,log',
  '"hal, jr",44.1,28.6,3,log,"a ""quoted"" label",,',
].join('\n');

describe('parseSubscribersFile (CSV)', () => {
  const parsed = parseSubscribersFile(csv, 'csv');

  it('imports good rows with defaults filled', () => {
    expect(parsed.rows.map((r) => [r.line, r.subscriber.id])).toEqual([
      [2, 'ana'],
      [6, 'dan'],
    ]);
    expect(parsed.rows[0].subscriber).toEqual({
      id: 'ana',
      lat: 44.43,
      lon: 26.1,
      minMmi: 3,
      channel: { type: 'webhook', target: 'https://hooks.example.com/a', secret: 's3cret' },
      locale: 'ro',
    });
    expect(parsed.rows[1].subscriber).toMatchObject({ minMmi: 3, locale: 'en', channel: { type: 'kafka' } });
  });

  it('reports each bad row with its line number and reason', () => {
    const byLine = Object.fromEntries(parsed.bad.map((b) => [b.line, b.reason]));
    expect(Object.keys(byLine).map(Number)).toEqual([3, 5, 7, 8, 9, 10]);
    expect(byLine[3]).toMatch(/lon: "abc" is not a number/);
    expect(byLine[5]).toMatch(/^lat: /);
    expect(byLine[7]).toMatch(/^id: must not contain/);
    expect(byLine[8]).toMatch(/channel\.target: webhook target must be an http\(s\) URL/);
    expect(byLine[9]).toMatch(/expected 8 fields, found 5/);
    // a quoted id with a comma and whitespace is split correctly, then refused for the whitespace
    expect(byLine[10]).toMatch(/^id: /);
    expect(parsed.bad.find((b) => b.line === 3)?.id).toBe('bob');
  });

  it('refuses a header without the required columns', () => {
    expect(() => parseSubscribersFile('id,lat,lon\n1,2,3', 'csv')).toThrow(ValidationError);
    expect(() => parseSubscribersFile('id,lat,lon\n1,2,3', 'csv')).toThrow(/minMmi, channel, target/);
  });

  it('splits quoted fields per RFC 4180', () => {
    expect(splitCsvLine('a,"b,c","d ""e"""')).toEqual(['a', 'b,c', 'd "e"']);
    expect(() => splitCsvLine('a,"b')).toThrow(/Quote Not Closed/);
  });

  it('csv-parse: BOM, a quoted field over two lines (rows keep the line they start on), an unclosed quote refuses the file', () => {
    const text =
      '\uFEFFid,lat,lon,minMmi,channel,target\r\n' +
      'ana,44.43,26.10,3,log,"first\nsecond"\r\n' +
      'bob,44.43,26.10,3,log,t\r\n';
    const parsed = parseSubscribersFile(text, 'csv');
    expect(parsed.bad).toEqual([]);
    expect(parsed.rows.map((r) => [r.line, r.subscriber.id, r.subscriber.channel.target])).toEqual([
      [2, 'ana', 'first\nsecond'],
      [4, 'bob', 't'],
    ]);
    const open = 'id,lat,lon,minMmi,channel,target\nana,44,26,3,log,"t\nbob,44,26,3,log,t\n';
    expect(() => parseSubscribersFile(open, 'csv')).toThrow(ValidationError);
    expect(() => parseSubscribersFile(open, 'csv')).toThrow(/^line \d+: Quote Not Closed/);
  });
});

describe('parseSubscribersFile (NDJSON)', () => {
  it('accepts flat and nested channels, reports bad lines', () => {
    const text = [
      '{"id":"a","lat":45,"lon":26,"minMmi":4,"channel":"webhook","target":"https://x.example/h","secret":"k"}',
      '{"id":"b","lat":45,"lon":26,"channel":{"type":"log","target":"t"},"locale":"bg"}',
      '{"id":"c","lat":"45","lon":26,"channel":"log","target":"t"}',
      'not json',
      '[1,2]',
    ].join('\n');
    const parsed = parseSubscribersFile(text, 'ndjson');
    expect(parsed.rows.map((r) => r.subscriber.id)).toEqual(['a', 'b']);
    expect(parsed.rows[0].subscriber.channel).toEqual({ type: 'webhook', target: 'https://x.example/h', secret: 'k' });
    expect(parsed.bad.map((b) => b.line)).toEqual([3, 4, 5]);
    expect(parsed.bad[0].reason).toMatch(/^lat: /);
    expect(parsed.bad[1].reason).toMatch(/^not JSON/);
  });

  it('detects the format from the extension or the first character', () => {
    expect(detectFormat('x.csv', '{')).toBe('csv');
    expect(detectFormat('x.ndjson', 'id')).toBe('ndjson');
    expect(detectFormat('x.txt', '  {"id":1}')).toBe('ndjson');
    expect(detectFormat('x.txt', 'id,lat')).toBe('csv');
  });
});
