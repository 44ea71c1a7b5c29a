import { XMLBuilder } from 'fast-xml-parser';

const builder = new XMLBuilder({
  ignoreAttributes: false,
  suppressEmptyNode: true,
  suppressBooleanAttributes: false,
});

export type Xml = Record<string, unknown>;

/** A SOAP envelope around a body, with the namespaces Salesforce declares (the partner API's by default). */
export function envelope(body: Xml, namespace = 'urn:partner.soap.sforce.com'): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    builder.build({
      'soapenv:Envelope': {
        '@_xmlns:soapenv': 'http://schemas.xmlsoap.org/soap/envelope/',
        '@_xmlns': namespace,
        '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
        '@_xmlns:sf': 'urn:fault.partner.soap.sforce.com',
        'soapenv:Body': body,
      },
    })
  );
}

/** A SOAP fault with Salesforce's code (`sf:INVALID_LOGIN`) and message. */
export function faultEnvelope(code: string, message: string): string {
  return envelope({ 'soapenv:Fault': { faultcode: `sf:${code}`, faultstring: `${code}: ${message}` } });
}
