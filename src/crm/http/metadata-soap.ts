import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';
import type { CallContext } from '../domain/call-context.js';
import { parseApiVersion } from './request-context.js';
import { readMetadataRecords } from '../domain/schema/metadata-read.js';
import {
  acceptSoapCalls,
  asArray,
  readSoapCall,
  sendFault,
  soapCaller,
  text,
  xmlValue,
} from './soap-call.js';
import { envelope, type Xml } from './soap-envelope.js';

const METADATA_NAMESPACE = 'http://soap.sforce.com/2006/04/metadata';
/** Salesforce takes a deploy zip of up to 39 MB, base64 in the envelope. */
const DEPLOY_BODY_LIMIT = 40 * 1024 * 1024;
const OPERATIONS = new Set(['deploy', 'checkDeployStatus', 'readMetadata']);

/**
 * The Metadata API's SOAP endpoint, for what deploys a package: `deploy` and
 * `checkDeployStatus` (jsforce's `conn.metadata.deploy(zip).complete()`, the Salesforce CLI's
 * `project deploy start --metadata-dir`), and `readMetadata` of the schema (jsforce's
 * `conn.metadata.read`). Only the org's administrator may change its metadata; any user may read it.
 */
export function metadataSoapRoutes(app: FastifyInstance, services: CrmServices): void {
  acceptSoapCalls(app);

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const apiVersion = parseApiVersion(`v${(request.params as { version: string }).version}`);
    const call = readSoapCall(request);
    const { method, args } = call;
    if (!method || !OPERATIONS.has(method))
      return sendFault(
        reply,
        'INVALID_OPERATION',
        `The operation ${method ?? '(none)'} is not supported by this server`,
      );
    const caller = await soapCaller(services, call, reply);
    if (!caller) return reply;

    let result: unknown;
    if (method === 'readMetadata') {
      const type = text(args.type) ?? '';
      const names = asArray(args.fullNames).map(String);
      const records = readMetadataRecords(services.schema, type, names, Number(apiVersion));
      if (!records)
        throw new HandoffError(
          'INVALID_TYPE',
          `This CRM reads CustomObject, CustomField and StandardValueSet, not ${type}`,
        );
      result = { records: records.map((r) => ({ '@_xsi:type': type, ...r })) };
    } else if (caller.userId !== services.adminUserId()) {
      throw new HandoffError('INSUFFICIENT_ACCESS', "Only the org's administrator may deploy metadata here");
    } else if (method === 'deploy') {
      const zip = text(args.ZipFile) ?? text(args.zipFile);
      if (zip === null) throw new HandoffError('INVALID_INPUT', 'deploy needs a ZipFile');
      const options = (args.DeployOptions ?? args.deployOptions ?? {}) as Xml;
      const ctx: CallContext = {
        userId: caller.userId,
        autoAssign: undefined,
        origin: { api: 'soap', version: apiVersion },
      };
      const id = await services.metadata.deploy(ctx, zip, { checkOnly: options.checkOnly === 'true' });
      // Salesforce answers at once and deploys in the background; the status call tells the outcome.
      result = { done: false, id, state: 'Queued' };
    } else {
      const id = text(args.asyncProcessId) ?? '';
      const deployed = await services.metadata.deployResult(id, args.includeDetails === 'true');
      if (!deployed)
        throw new HandoffError('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id: ${id}`);
      result = deployed;
    }
    return reply
      .type('text/xml; charset=utf-8')
      .send(envelope({ [`${method}Response`]: { result: xmlValue(result) } }, METADATA_NAMESPACE));
  };
  app.post('/services/Soap/m/:version', { bodyLimit: DEPLOY_BODY_LIMIT }, handler);
  app.post('/services/Soap/m/:version/:orgId', { bodyLimit: DEPLOY_BODY_LIMIT }, handler);
}
