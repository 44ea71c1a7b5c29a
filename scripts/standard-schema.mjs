// Reads the standard objects the CRM serves from jsforce's own schema types
// (node_modules/jsforce/lib/types/standard-schema.d.ts: every standard field with its type, and
// each object's parent and child relationships) and writes them as
// src/crm/domain/schema/standard-schema.json, the fact source the CRM's schema is completed from.
//
//   node scripts/standard-schema.mjs           writes the file
//   node scripts/standard-schema.mjs --check   exits 1 when the file is not what jsforce says
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The objects the CRM serves. */
export const SERVED = [
  'Organization',
  'User',
  'Account',
  'Contact',
  'Lead',
  'Opportunity',
  'Campaign',
  'CampaignMember',
  'Task',
  'Case',
  'Event',
  'PushTopic',
  'StreamingChannel',
];

/** `type Kind$Object = { Name: Type; … };` blocks of the declaration file, by kind and object. */
function blocks(source) {
  const out = new Map();
  const re = /^type (Fields|ParentReferences|ChildRelationships)\$(\w+) = \{\n([\s\S]*?)^\};/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const members = m[3]
      .split('\n')
      .map((line) => /^\s+(\w+): (.+);$/.exec(line))
      .filter(Boolean)
      .map(([, name, type]) => ({ name, type }));
    out.set(`${m[1]}$${m[2]}`, members);
  }
  return out;
}

function target(type) {
  return /SObjectDefinition\$(\w+)/.exec(type)?.[1] ?? null;
}

export function standardSchema(source) {
  const all = blocks(source);
  const objects = {};
  for (const name of SERVED) {
    const fields = all.get(`Fields$${name}`);
    if (!fields) throw new Error(`jsforce's schema has no ${name}`);
    objects[name] = {
      fields: fields.map(({ name: field, type }) => {
        const nullable = / \| null$/.test(type);
        return { name: field, type: type.replace(/ \| null$/, ''), nullable };
      }),
      parents: Object.fromEntries(
        (all.get(`ParentReferences$${name}`) ?? []).map(({ name: rel, type }) => [rel, target(type)]),
      ),
      children: Object.fromEntries(
        (all.get(`ChildRelationships$${name}`) ?? []).map(({ name: rel, type }) => [rel, target(type)]),
      ),
    };
  }
  return objects;
}

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, '..', 'src', 'crm', 'domain', 'schema', 'standard-schema.json');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const require = createRequire(import.meta.url);
  const declarations = join(
    dirname(require.resolve('jsforce/package.json')),
    'lib',
    'types',
    'standard-schema.d.ts',
  );
  const text = `${JSON.stringify(standardSchema(readFileSync(declarations, 'utf8')), null, 1)}\n`;
  if (process.argv.includes('--check')) {
    if (readFileSync(output, 'utf8') !== text) {
      console.error(`${output} is not what jsforce's schema says: run node scripts/standard-schema.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(output, text);
    console.log(`wrote ${output}`);
  }
}
