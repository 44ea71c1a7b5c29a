import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvRows } from '../../../src/clients/csv-rows.js';
import { pollWaits } from '../../../src/clients/poll-waits.js';

/** What csv-parse (RFC 4180, empty lines skipped) reads: the reading csvRows must agree with. */
const reference = (text: string) =>
  parse(text.replace(/^\uFEFF/, ''), { skip_empty_lines: true }) as string[][];

describe('csvRows: Bulk API result pages and export files as rows', () => {
  const cases: Record<string, string> = {
    'every cell quoted, as Bulk API writes': '"Id","Title"\n"00Q1","Buyer"\n"00Q2",""\n',
    'quotes, commas and line breaks inside cells':
      'Id,Company,Title\n1,"Acme, ""Quoted"" Inc",a\n2,"two\nlines","crlf\r\ninside"\n',
    'CRLF line endings': 'a,b\r\n1,2\r\n3,"x\r\ny"\r\n',
    'no line ending at the end': 'a,b\n1,2\n3,4',
    'empty lines skipped': 'a,b\n1,2\n\n3,4\n\n',
    'empty cells, quoted and not': 'a,b,c\n,"",x\n,,\n',
    'a byte-order mark': '\uFEFFa,b\n1,2\n',
    'a single column, with an empty line': 'Id\n1\n\n2\n',
    'a header alone': 'Id,Email',
    nothing: '',
    'non-ASCII text': 'name,city\nJosé,"Zürich, CH"\n😀,東京\n',
  };
  for (const [name, text] of Object.entries(cases))
    it(`reads ${name} as csv-parse does`, () => {
      expect(csvRows(text)).toEqual(reference(text));
    });

  it('agrees with csv-parse on generated pages of awkward cells', () => {
    // A fixed pseudo-random sequence, so a failure can be replayed.
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const pieces = ['a', 'b c', ',', '"', '\n', '\r\n', 'é', '', ' ', 'x,y', 'null'];
    for (let page = 0; page < 200; page++) {
      const columns = 2 + Math.floor(next() * 5);
      const eol = next() < 0.5 ? '\n' : '\r\n';
      const quoteAll = next() < 0.5;
      const lines = [Array.from({ length: columns }, (_, i) => `c${i}`).join(',')];
      for (let r = 0; r < 1 + Math.floor(next() * 15); r++) {
        const cells = Array.from({ length: columns }, () => {
          let cell = '';
          for (let k = Math.floor(next() * 4); k > 0; k--) cell += pieces[Math.floor(next() * pieces.length)];
          return quoteAll || /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
        });
        lines.push(cells.join(','));
      }
      const text = lines.join(eol) + (next() < 0.5 ? eol : '');
      expect(csvRows(text)).toEqual(reference(text));
    }
  });
});

describe('pollWaits: how long to wait between asks of a job', () => {
  it('starts short and doubles up to the longest wait', () => {
    const waits = pollWaits(250);
    expect(Array.from({ length: 6 }, () => waits.next().value)).toEqual([25, 50, 100, 200, 250, 250]);
  });

  it('never waits longer than asked, even at first', () => {
    expect(pollWaits(10).next().value).toBe(10);
  });
});
