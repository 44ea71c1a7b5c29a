import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';
import type { ObjectDef } from '../domain/schema/field-def.js';
import type { ChildRelationship } from '../domain/schema/schema-registry.js';

/** Salesforce's bounds on one tree request: records in all, and levels of nesting. */
const MAX_TREE_RECORDS = 200;
const MAX_TREE_DEPTH = 5;

const treeRecord = z.looseObject({
  attributes: z.object({
    type: z.string().min(1),
    referenceId: z.string().regex(/^[A-Za-z0-9_]+$/, 'a referenceId is letters, digits and underscores'),
  }),
});
const treeBody = z.object({ records: z.array(z.unknown()).min(1) });

/** One record of the tree, ready to insert once its parent has an id. */
interface TreeNode {
  referenceId: string;
  def: ObjectDef;
  fields: Record<string, unknown>;
  parent: { node: TreeNode; relationship: ChildRelationship } | null;
  id?: string;
}

class RollBack extends Error {}

function invalid(message: string): HandoffError {
  return new HandoffError('INVALID_INPUT', message);
}

/**
 * `POST composite/tree/{SObject}` (what `sf data import tree` sends): records with their
 * children nested under child relationship names (`Contacts: {records: […]}`), up to 200 in all,
 * saved all or nothing. Each level is written once its parents have ids; the answer lists every
 * record's id by its referenceId, or the records that failed and why.
 */
export function compositeTreeRoutes(app: FastifyInstance, services: CrmServices): void {
  const { records, schema } = services;

  /** The request's records in levels (parents before children), checked against the schema. */
  const readTree = (rootType: ObjectDef, body: unknown): TreeNode[][] => {
    const parsed = treeBody.safeParse(body);
    if (!parsed.success) throw new HandoffError('JSON_PARSER_ERROR', 'Expected {"records":[…]}');
    const levels: TreeNode[][] = [];
    const seen = new Set<string>();
    const walk = (raw: unknown[], def: ObjectDef, depth: number, parent: TreeNode['parent']): void => {
      if (depth > MAX_TREE_DEPTH) throw invalid(`The tree is deeper than ${MAX_TREE_DEPTH} levels`);
      for (const item of raw) {
        const record = treeRecord.safeParse(item);
        if (!record.success) throw invalid('Each record needs attributes with its type and a referenceId');
        const { type, referenceId } = record.data.attributes;
        if (type.toLowerCase() !== def.name.toLowerCase())
          throw invalid(`The record ${referenceId} is of type ${type}, but ${def.name} was expected`);
        if (seen.has(referenceId))
          throw invalid(`Duplicate ReferenceId provided in the request: ${referenceId}`);
        seen.add(referenceId);
        if (seen.size > MAX_TREE_RECORDS)
          throw new HandoffError(
            'EXCEEDED_ID_LIMIT',
            `Request can not contain more than ${MAX_TREE_RECORDS} records`,
          );
        const node: TreeNode = { referenceId, def, fields: {}, parent };
        (levels[depth - 1] ??= []).push(node);
        for (const [key, value] of Object.entries(record.data)) {
          if (key === 'attributes') continue;
          const relationship = schema.childRelationship(def, key);
          if (relationship && value !== null && typeof value === 'object' && !Array.isArray(value)) {
            const children = (value as { records?: unknown }).records;
            if (!Array.isArray(children)) throw invalid(`${key} needs {"records":[…]}`);
            walk(children, relationship.child, depth + 1, { node, relationship });
          } else {
            node.fields[key] = value;
          }
        }
      }
    };
    walk(parsed.data.records, rootType, 1, null);
    return levels;
  };

  app.post('/composite/tree/:type', async (request, reply) => {
    const { type } = z.object({ type: z.string() }).parse(request.params);
    const levels = readTree(records.objectDef(type), request.body);
    const failures: Array<{ referenceId: string; errors: Array<Record<string, unknown>> }> = [];
    try {
      await services.unitOfWork.run(async () => {
        for (const level of levels) {
          const results = await records.createMany(
            request.crm,
            level.map((node) => ({
              type: node.def.name,
              input: node.parent
                ? { ...node.fields, [node.parent.relationship.field.name]: node.parent.node.id }
                : node.fields,
            })),
            true,
          );
          results.forEach((result, i) => {
            const node = level[i]!;
            if (result.success) node.id = result.id ?? undefined;
            // Only the records at fault are listed; the rest were rolled back with them.
            const own = result.errors.filter((e) => e.code !== 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
            if (own.length > 0)
              failures.push({
                referenceId: node.referenceId,
                errors: own.map((e) => ({ statusCode: e.code, message: e.message, fields: e.fields })),
              });
          });
          if (failures.length > 0) throw new RollBack();
        }
      });
    } catch (error) {
      if (!(error instanceof RollBack)) throw error;
      return reply.code(400).send({ hasErrors: true, results: failures });
    }
    return reply.code(201).send({
      hasErrors: false,
      results: levels.flat().map((node) => ({ referenceId: node.referenceId, id: node.id })),
    });
  });
}
