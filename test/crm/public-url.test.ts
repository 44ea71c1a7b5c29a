import { request as httpRequest } from 'node:http';
import https, { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import jsforce from 'jsforce';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordGrant, startTestCrm, TEST_CREDENTIALS, type TestCrm } from '../support/crm-server.js';

/**
 * The CRM behind a TLS-terminating proxy, as deployed for clients that insist on https (the
 * identity URL of jsforce's own tests must start `https://`): `crm.publicUrl` names the proxy,
 * and every URL the CRM hands out is the proxy's. The proxy here is a local TLS front with a
 * certificate of its own, trusted by this test process only.
 */
describe('the CRM at a public https address (crm.publicUrl)', () => {
  let crm: TestCrm;
  let front: Server;
  let frontUrl: string;
  let target = '';

  beforeAll(async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
    });
    front = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      const upstream = httpRequest(
        `${target}${req.url ?? '/'}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontUrl = `https://localhost:${(front.address() as AddressInfo).port}`;
    https.globalAgent.options.ca = [pems.cert];
    crm = await startTestCrm({ config: { publicUrl: frontUrl } });
    target = crm.url;
  });

  afterAll(async () => {
    await crm.close();
    await new Promise<void>((resolve) => front.close(() => resolve()));
  });

  it('hands out its public address, and jsforce’s identity() reads it through the front', async () => {
    const conn = new jsforce.Connection({ loginUrl: frontUrl, version: '60.0' });
    const user = await conn.login(TEST_CREDENTIALS.username, TEST_CREDENTIALS.password);
    expect(conn.instanceUrl).toBe(frontUrl);
    expect(user.id).toBe(crm.adminUserId);

    const identity = await conn.identity();
    expect(identity.id.startsWith(`${frontUrl}/id/`)).toBe(true);
    expect(identity).toMatchObject({
      user_id: crm.adminUserId,
      organization_id: crm.services.orgId(),
      email: 'admin@test.handoff',
      photos: {
        picture: expect.stringMatching(/^https:\/\//),
        thumbnail: expect.stringMatching(/^https:\/\//),
      },
      urls: { rest: `${frontUrl}/services/data/v{version}/` },
    });

    // Straight to the CRM's own socket, too: the answer names the public address.
    const { body } = await passwordGrant(crm.url, TEST_CREDENTIALS.username, TEST_CREDENTIALS.password);
    expect(body.instance_url).toBe(frontUrl);
    expect(body.id).toBe(`${frontUrl}/id/${crm.services.orgId()}/${crm.adminUserId}`);
  });
});
