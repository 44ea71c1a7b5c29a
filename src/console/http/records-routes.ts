import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AccountEngagementError } from '../../clients/account-engagement/ae-error.js';
import type { ConsoleBackend } from '../console-backend.js';
import { parseOr400, sendError } from './console-error.js';

/** What the embedded-CRM page lists and edits of each object. */
const CRM_COLUMNS = {
  Lead: ['Id', 'FirstName', 'LastName', 'Email', 'Company', 'Title', 'Phone', 'Status', 'LastModifiedDate'],
  Contact: ['Id', 'FirstName', 'LastName', 'Email', 'Title', 'Phone', 'Department', 'LastModifiedDate'],
} as const;
const CRM_EDITABLE = {
  Lead: ['FirstName', 'LastName', 'Email', 'Company', 'Title', 'Phone', 'Status'],
  Contact: ['FirstName', 'LastName', 'Email', 'Title', 'Phone', 'Department'],
} as const;
const PROSPECT_COLUMNS = [
  'id',
  'email',
  'firstName',
  'lastName',
  'company',
  'jobTitle',
  'score',
  'grade',
  'assignedToId',
];
const PROSPECT_EDITABLE = ['email', 'firstName', 'lastName', 'company', 'jobTitle'] as const;

const objectParam = z.object({ object: z.enum(['Lead', 'Contact']) });
const fieldValue = z.string().max(255).nullable();

/** `{ fields: { <editable field>: value or null } }`: only the fields the page edits. */
function editSchema(fields: readonly string[]) {
  return z
    .object({
      fields: z
        .partialRecord(z.enum(fields as [string, ...string[]]), fieldValue)
        .transform(
          (values) =>
            Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<
              string,
              string | null
            >,
        ),
    })
    .strict();
}

interface SalesforceFault {
  errorCode?: string;
  message?: string;
  name?: string;
}

/** A CRM refusal as the console's error, with the CRM's own code and words. */
function crmRefusal(error: unknown): { code: string; message: string } {
  const e = error as SalesforceFault;
  return { code: e.errorCode ?? e.name ?? 'CRM_ERROR', message: e.message ?? String(error) };
}

/**
 * Enough of both embedded servers to drive the demo by hand — list and edit Leads, Contacts
 * and prospects, convert a Lead, assign a prospect — over their wire APIs, as the console's
 * own user, so the sync sees an admin's edit like anyone's.
 */
export function recordsRoutes(app: FastifyInstance, backend: ConsoleBackend): void {
  const { crm, marketing } = backend;

  app.get('/crm/:object', async (request, reply) => {
    const params = parseOr400(reply, objectParam, request.params);
    if (!params) return reply;
    const { object } = params;
    const where = object === 'Lead' ? ' WHERE IsConverted = false' : '';
    const { records } = await crm.query(
      `SELECT ${CRM_COLUMNS[object].join(', ')} FROM ${object}${where} ORDER BY LastModifiedDate DESC LIMIT 50`,
    );
    return { records, editable: CRM_EDITABLE[object] };
  });

  app.patch('/crm/:object/:id', async (request, reply) => {
    const params = parseOr400(reply, objectParam, request.params);
    if (!params) return reply;
    const body = parseOr400(reply, editSchema(CRM_EDITABLE[params.object]), request.body);
    if (!body) return reply;
    const { id } = request.params as { id: string };
    const result = await crm
      .sobject(params.object)
      .update({ Id: id, ...body.fields })
      .catch((error: unknown) => ({ success: false as const, errors: [crmRefusal(error)] }));
    if (!result.success) {
      const [first] = (result.errors ?? []) as Array<{ statusCode?: string; code?: string; message: string }>;
      return sendError(
        reply,
        400,
        first?.statusCode ?? first?.code ?? 'CRM_ERROR',
        first?.message ?? 'refused',
      );
    }
    backend.connector.kick();
    return { id };
  });

  app.post('/crm/Lead/:id/convert', async (request, reply) => {
    const { id } = request.params as { id: string };
    try {
      const [converted] = (await crm.soap.convertLead([
        { leadId: id, convertedStatus: 'Closed - Converted', doNotCreateOpportunity: true },
      ])) as unknown as Array<{
        success: boolean | string;
        contactId?: string;
        accountId?: string;
        errors?: unknown;
      }>;
      if (!converted || String(converted.success) !== 'true') {
        const errors = [converted?.errors].flat() as Array<
          { statusCode?: string; message?: string } | undefined
        >;
        return sendError(
          reply,
          400,
          errors[0]?.statusCode ?? 'CONVERT_FAILED',
          errors[0]?.message ?? 'The CRM did not convert the Lead',
        );
      }
      backend.connector.kick();
      return { contactId: converted.contactId, accountId: converted.accountId };
    } catch (error) {
      const refusal = crmRefusal(error);
      return sendError(reply, 400, refusal.code, refusal.message);
    }
  });

  app.get('/prospects', async () => ({
    prospects: await marketing.recentProspects(PROSPECT_COLUMNS),
    users: await marketing.users(),
    editable: PROSPECT_EDITABLE,
  }));

  app.patch('/prospects/:id', async (request, reply) => {
    const body = parseOr400(reply, editSchema(PROSPECT_EDITABLE), request.body);
    if (!body) return reply;
    const id = Number((request.params as { id: string }).id);
    try {
      await marketing.updateProspect(id, body.fields);
    } catch (error) {
      if (error instanceof AccountEngagementError)
        return sendError(
          reply,
          error.status === 404 ? 404 : 400,
          String(error.code ?? 'MARKETING_ERROR'),
          error.message,
        );
      throw error;
    }
    backend.connector.kick();
    return { id };
  });

  app.post('/prospects/:id/assign', async (request, reply) => {
    const body = parseOr400(reply, z.object({ userId: z.number().int().positive() }).strict(), request.body);
    if (!body) return reply;
    const id = Number((request.params as { id: string }).id);
    try {
      await marketing.assignProspect(id, body.userId);
    } catch (error) {
      if (error instanceof AccountEngagementError)
        return sendError(reply, 400, String(error.code ?? 'MARKETING_ERROR'), error.message);
      throw error;
    }
    backend.connector.kick();
    return { id, assignedToId: body.userId };
  });

  app.get('/demo', async () => ({ landingPageUrl: backend.landingPageUrl ?? null }));
}
