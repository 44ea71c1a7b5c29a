import { XMLParser } from 'fast-xml-parser';

// Tag values stay strings: an id like 001… or a version like 60.0 must never become a number.
// Namespace prefixes go (`soapenv:Body` is `Body`), and so do attributes.
const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

/**
 * A SOAP envelope or a Metadata API file as plain objects: repeated elements become arrays, a
 * single one stays an object. Throws when the text is not well-formed XML.
 */
export function parseSalesforceXml(text: string): Record<string, unknown> {
  return parser.parse(text) as Record<string, unknown>;
}
