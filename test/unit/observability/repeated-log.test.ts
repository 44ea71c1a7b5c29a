import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RepeatedLog } from '../../../src/log.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('a failure that repeats', () => {
  it('is logged once per interval with a count of the repeats, each failure on its own', async () => {
    const { log, lines } = capture();
    let now = 0;
    const repeated = new RepeatedLog(log, 60_000, () => now);
    for (let pass = 0; pass < 30; pass += 1) {
      repeated.write('warn', 'crm 00Q1 refused', { record: '00Q1' }, 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
      if (pass % 10 === 0) repeated.write('error', 'pass down', {}, 'sync pass failed');
      now += 1_000; // a pass a second
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => l.msg)).toEqual(['FIELD_CUSTOM_VALIDATION_EXCEPTION', 'sync pass failed']);

    now += 60_000;
    repeated.write('warn', 'crm 00Q1 refused', { record: '00Q1' }, 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.at(-1)).toMatchObject({
      level: 40,
      record: '00Q1',
      repeated: 29,
      msg: 'FIELD_CUSTOM_VALIDATION_EXCEPTION (and 29 more times since last logged)',
    });
  });
});
