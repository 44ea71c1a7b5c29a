import { strToU8, zipSync } from 'fflate';
import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCrm } from '../../src/crm/crm-services.js';
import { DIALECTS } from '../support/databases.js';
import { passwordGrant, startTestCrm, type TestCrm } from '../support/crm-server.js';

const XML = '<?xml version="1.0" encoding="UTF-8"?>';
const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';

const PACKAGE_XML = `${XML}<Package ${NS}>
  <types><members>Ticket__c</members><members>Lead</members><name>CustomObject</name></types>
  <types><members>TicketLogic</members><name>ApexClass</name></types>
  <version>60.0</version></Package>`;

/** A custom object as the Metadata API writes one, with a lookup to Lead and a picklist. */
const TICKET = `${XML}<CustomObject ${NS}>
  <label>Ticket</label><pluralLabel>Tickets</pluralLabel>
  <nameField><label>Ticket Number</label><type>AutoNumber</type><displayFormat>T-{00000}</displayFormat></nameField>
  <deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>
  <fields><fullName>Ref__c</fullName><externalId>true</externalId><label>Ref</label><length>40</length><type>Text</type><unique>true</unique></fields>
  <fields><fullName>Lead__c</fullName><label>Lead</label><referenceTo>Lead</referenceTo><relationshipName>Tickets</relationshipName><type>Lookup</type></fields>
  <fields><fullName>Severity__c</fullName><label>Severity</label><type>Picklist</type>
    <valueSet><restricted>true</restricted><valueSetDefinition>
      <value><fullName>Low</fullName><default>false</default><label>Low</label></value>
      <value><fullName>High</fullName><default>false</default><label>High</label></value>
    </valueSetDefinition></valueSet></fields>
  <fields><fullName>Opened__c</fullName><label>Opened</label><type>DateTime</type></fields>
</CustomObject>`;

/** A standard object's file: its custom field is added; its standard field is the org's own. */
const LEAD = `${XML}<CustomObject ${NS}>
  <fields><fullName>Segment_Id__c</fullName><label>Segment Id</label><length>64</length><type>Text</type><externalId>true</externalId></fields>
  <fields><fullName>Status</fullName><type>Picklist</type></fields>
</CustomObject>`;

function zip(files: Record<string, string>): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)]))));
}

const GOOD_PACKAGE = {
  'pkg/package.xml': PACKAGE_XML,
  'pkg/objects/Ticket__c.object': TICKET,
  'pkg/objects/Lead.object': LEAD,
  'pkg/classes/TicketLogic.cls': 'public class TicketLogic {}',
  'pkg/classes/TicketLogic.cls-meta.xml': `${XML}<ApexClass ${NS}><apiVersion>60.0</apiVersion></ApexClass>`,
};

for (const dialect of DIALECTS) {
  describe(`Metadata API deploy (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      conn = await crm.connect();
      conn.metadata.pollInterval = 50;
    });

    afterAll(async () => {
      await crm.close();
    });

    it('refuses a package with a field it cannot make, says which and why, and changes nothing', async () => {
      const formula = TICKET.replace(
        '</CustomObject>',
        '<fields><fullName>Score__c</fullName><formula>1</formula><label>Score</label><type>Number</type></fields></CustomObject>',
      );
      const result = await conn.metadata
        .deploy(zip({ ...GOOD_PACKAGE, 'pkg/objects/Ticket__c.object': formula }))
        .complete(true);
      expect(result).toMatchObject({
        done: true,
        success: false,
        status: 'Failed',
        numberComponentsDeployed: 0,
      });
      const failures = [result.details?.componentFailures ?? []].flat();
      expect(failures).toEqual([
        expect.objectContaining({
          componentType: 'CustomObject',
          fullName: 'Ticket__c',
          fileName: 'objects/Ticket__c.object',
          problem: 'Ticket__c.Score__c: formula fields are not modelled',
          problemType: 'Error',
          success: false,
        }),
      ]);
      const global = await conn.describeGlobal();
      expect(global.sobjects.map((s) => s.name)).not.toContain('Ticket__c');
      expect((await conn.sobject('Lead').describe()).fields.map((f) => f.name)).not.toContain(
        'Segment_Id__c',
      );

      const notZip = await conn.metadata.deploy(Buffer.from('not a zip')).complete(true);
      expect(notZip.status).toBe('Failed');
      expect([notZip.details?.componentFailures ?? []].flat()[0]).toMatchObject({
        problem: 'The deploy file is not a zip archive',
      });
      const noManifest = await conn.metadata
        .deploy(zip({ 'objects/Ticket__c.object': TICKET }))
        .complete(true);
      expect([noManifest.details?.componentFailures ?? []].flat()[0]).toMatchObject({
        fileName: 'package.xml',
        problem: 'No package.xml found',
      });
    });

    it('checks a package without deploying it (checkOnly)', async () => {
      const result = await conn.metadata.deploy(zip(GOOD_PACKAGE), { checkOnly: true }).complete(true);
      expect(result).toMatchObject({ success: true, status: 'Succeeded', checkOnly: true });
      expect((await conn.describeGlobal()).sobjects.map((s) => s.name)).not.toContain('Ticket__c');
    });

    it('deploys custom objects and fields that every API then serves, and keeps the rest', async () => {
      const result = await conn.metadata.deploy(zip(GOOD_PACKAGE)).complete(true);
      expect(result).toMatchObject({
        done: true,
        success: true,
        status: 'Succeeded',
        numberComponentsTotal: 3,
        numberComponentsDeployed: 3,
        numberComponentErrors: 0,
      });
      const successes = [result.details?.componentSuccesses ?? []].flat();
      expect(successes.map((m) => [m.componentType, m.fullName, m.created])).toEqual(
        expect.arrayContaining([
          ['CustomObject', 'Ticket__c', true],
          ['CustomObject', 'Lead', false],
          ['ApexClass', 'TicketLogic', true],
        ]),
      );

      const ticket = await conn.sobject('Ticket__c').describe();
      expect(ticket).toMatchObject({ custom: true, label: 'Ticket', labelPlural: 'Tickets' });
      expect(
        ticket.fields.find((f) => f.name === 'Severity__c')?.picklistValues?.map((v) => v.value),
      ).toEqual(['Low', 'High']);
      const lead = await crm.create('Lead', {
        LastName: 'Lovelace',
        Company: 'Engines',
        Segment_Id__c: 'seg-1',
      });
      const made = await conn
        .sobject('Ticket__c')
        .upsert(
          { Ref__c: 'R-1', Lead__c: lead, Severity__c: 'High', Opened__c: '2026-12-07T10:00:00.000Z' },
          'Ref__c',
        );
      expect(made).toMatchObject({ success: true, created: true });
      const refused = await crm.call('/sobjects/Ticket__c', 'POST', { Severity__c: 'Urgent' });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual([
        expect.objectContaining({ errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' }),
      ]);

      const leads = await conn.query<{
        Segment_Id__c: string;
        Tickets__r: { records: Array<{ Name: string; Severity__c: string }> };
      }>(
        "SELECT Segment_Id__c, (SELECT Name, Severity__c FROM Tickets__r) FROM Lead WHERE Segment_Id__c = 'seg-1'",
      );
      expect(leads.records[0]).toMatchObject({
        Segment_Id__c: 'seg-1',
        Tickets__r: { records: [expect.objectContaining({ Name: 'T-00001', Severity__c: 'High' })] },
      });

      // The same package again changes nothing, and says so.
      const again = await conn.metadata.deploy(zip(GOOD_PACKAGE)).complete(true);
      expect(again.success).toBe(true);
      expect([again.details?.componentSuccesses ?? []].flat().map((m) => m.created)).toEqual([
        false,
        false,
        false,
      ]);
      expect(await conn.sobject('Ticket__c').count()).toBe(1);
    });

    it('keeps what was deployed: a CRM started later on the same store has it', async () => {
      const later = await openCrm({ database: crm.database, config: { leadAssignment: 'off' } });
      try {
        const def = later.schema.object('Ticket__c');
        expect(def?.keyPrefix).toBe((await conn.sobject('Ticket__c').describe()).keyPrefix);
        expect(later.schema.field(later.schema.object('Lead')!, 'Segment_Id__c')?.externalId).toBe(true);
        const rows = await later.queries.query('SELECT Name, Ref__c FROM Ticket__c', {
          includeDeleted: false,
          pageSize: 2000,
          userId: crm.adminUserId,
          apiVersion: '60.0',
        });
        expect(rows.records).toEqual([expect.objectContaining({ Name: 'T-00001', Ref__c: 'R-1' })]);
      } finally {
        await later.close();
      }
    });

    it('takes in a deploy made by another CRM process sharing the database', async () => {
      const other = await openCrm({ database: crm.database, config: { leadAssignment: 'off' } });
      try {
        expect(await other.metadata.catchUp()).toBe(false);
        const invoice = `${XML}<CustomObject ${NS}><label>Invoice</label><nameField><label>Invoice Name</label><type>Text</type></nameField>
          <fields><fullName>Total__c</fullName><label>Total</label><precision>12</precision><scale>2</scale><type>Currency</type></fields></CustomObject>`;
        const result = await conn.metadata
          .deploy(zip({ 'package.xml': PACKAGE_XML, 'objects/Invoice__c.object': invoice }))
          .complete(true);
        expect(result.success).toBe(true);
        expect(other.schema.object('Invoice__c')).toBeUndefined();

        expect(await other.metadata.catchUp()).toBe(true);
        const def = other.schema.object('Invoice__c')!;
        expect(other.schema.field(def, 'Total__c')?.type).toBe('currency');
        await conn.sobject('Invoice__c').create({ Name: 'INV-1', Total__c: 12.5 });
        const rows = await other.queries.query('SELECT Name, Total__c FROM Invoice__c', {
          includeDeleted: false,
          pageSize: 2000,
          userId: crm.adminUserId,
          apiVersion: '60.0',
        });
        expect(rows.records).toEqual([expect.objectContaining({ Name: 'INV-1', Total__c: 12.5 })]);
        expect(await other.metadata.catchUp()).toBe(false);
      } finally {
        await other.close();
      }
    });

    it('keeps every field deployed to an object, when a later file for it names fewer', async () => {
      const leadWith = (name: string) =>
        `${XML}<CustomObject ${NS}><fields><fullName>${name}</fullName><label>${name}</label><type>Checkbox</type><defaultValue>false</defaultValue></fields></CustomObject>`;
      for (const name of ['Opted_A__c', 'Opted_B__c']) {
        const result = await conn.metadata
          .deploy(zip({ 'package.xml': PACKAGE_XML, 'objects/Lead.object': leadWith(name) }))
          .complete(true);
        expect(result.success).toBe(true);
      }
      const later = await openCrm({ database: crm.database, config: { leadAssignment: 'off' } });
      try {
        const lead = later.schema.object('Lead')!;
        expect(
          ['Opted_A__c', 'Opted_B__c', 'Segment_Id__c'].map((f) => later.schema.field(lead, f)?.type),
        ).toEqual(['boolean', 'boolean', 'string']);
      } finally {
        await later.close();
      }
    });

    it('reads the schema back as metadata: fields, objects and standard value sets', async () => {
      // Before API 38.0 a standard picklist lists its values, and a Lead status says it converts.
      const v37 = await crm.connect({ version: '37.0' });
      const status = (await v37.metadata.read('CustomField', 'Lead.Status')) as unknown as {
        type: string;
        picklist: { picklistValues: Array<{ fullName: string; converted?: string }> };
      };
      expect(status.type).toBe('Picklist');
      expect(
        status.picklist.picklistValues.filter((v) => v.converted === 'true').map((v) => v.fullName),
      ).toEqual(['Closed - Converted']);

      const [severity, ref, missing] = (await conn.metadata.read('CustomField', [
        'Ticket__c.Severity__c',
        'Ticket__c.Ref__c',
        'Ticket__c.Nope__c',
      ])) as unknown as Array<Record<string, unknown>>;
      expect(severity).toMatchObject({
        fullName: 'Ticket__c.Severity__c',
        type: 'Picklist',
        valueSet: {
          restricted: true,
          valueSetDefinition: { value: [{ fullName: 'Low' }, { fullName: 'High' }] },
        },
      });
      expect(ref).toMatchObject({ type: 'Text', length: 40, externalId: true, unique: true });
      expect(missing).not.toHaveProperty('fullName');

      const ticket = (await conn.metadata.read('CustomObject', 'Ticket__c')) as unknown as Record<
        string,
        unknown
      >;
      expect(ticket).toMatchObject({
        fullName: 'Ticket__c',
        label: 'Ticket',
        nameField: { type: 'AutoNumber', displayFormat: 'T-{00000}' },
      });
      const leadStatus = (await conn.metadata.read('StandardValueSet', 'LeadStatus')) as unknown as {
        standardValue: Array<{ fullName: string; converted: boolean }>;
      };
      expect(leadStatus.standardValue.find((v) => v.converted)?.fullName).toBe('Closed - Converted');
    });

    it('takes deploys only from the org administrator, and only with a session', async () => {
      const body = (session: string) =>
        `${XML}<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ${NS}><soapenv:Header><SessionHeader><sessionId>${session}</sessionId></SessionHeader></soapenv:Header><soapenv:Body><deploy><ZipFile>${zip(GOOD_PACKAGE).toString('base64')}</ZipFile></deploy></soapenv:Body></soapenv:Envelope>`;
      const post = (session: string) =>
        fetch(`${crm.url}/services/Soap/m/60.0`, {
          method: 'POST',
          headers: { 'content-type': 'text/xml', soapaction: 'deploy' },
          body: body(session),
        });
      const anonymous = await post('not-a-session');
      expect(anonymous.status).toBe(500);
      expect(await anonymous.text()).toContain('INVALID_SESSION_ID');

      const username = `${dialect}-user@test.handoff`;
      const userId = await crm.services.records.create(
        { userId: crm.adminUserId, autoAssign: undefined },
        'User',
        {
          Username: username,
          LastName: 'User',
          Email: username,
        },
      );
      await crm.services.oauth.setPassword(userId, 'a password');
      const grant = await passwordGrant(crm.url, username, 'a password');
      const user = await post(String(grant.body.access_token));
      expect(user.status).toBe(400);
      expect(await user.text()).toContain('INSUFFICIENT_ACCESS');
    });
  });
}
