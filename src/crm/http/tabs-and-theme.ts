import type { FastifyInstance } from 'fastify';
import type { CrmServices } from '../crm-services.js';
import type { ObjectDef } from '../domain/schema/field-def.js';

/** Each standard object's colour in Salesforce's theme4 (Lightning), for clients that draw tabs. */
const COLORS: Record<string, string> = {
  Account: '7F8DE1',
  Contact: 'A094ED',
  Lead: 'F88962',
  Opportunity: 'FCB95B',
  Campaign: 'F49756',
  CampaignMember: 'F49756',
  Case: 'F2CF5B',
  Task: '4BC076',
  Event: 'EB7092',
  User: '65CAE4',
  Organization: '1B96FF',
};

function iconName(def: ObjectDef): string {
  return def.name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

function colors(def: ObjectDef): Array<{ color: string; context: string; theme: string }> {
  const color = COLORS[def.name] ?? '1B96FF';
  return [
    { color, context: 'primary', theme: 'theme4' },
    { color, context: 'primary', theme: 'theme3' },
  ];
}

function icons(
  def: ObjectDef,
  base: string,
): Array<{ contentType: string; height: number; theme: string; url: string; width: number }> {
  const name = iconName(def);
  return [
    {
      contentType: 'image/svg+xml',
      height: 0,
      theme: 'theme4',
      url: `${base}/img/icon/t4v35/standard/${name}.svg`,
      width: 0,
    },
    {
      contentType: 'image/png',
      height: 120,
      theme: 'theme4',
      url: `${base}/img/icon/t4v35/standard/${name}_120.png`,
      width: 120,
    },
  ];
}

/** A tab per served object, as `/tabs` and SOAP `describeTabs` list them. */
export function objectTabs(services: CrmServices): Array<Record<string, unknown>> {
  const base = services.urls.instanceUrl();
  return servedObjects(services).map((def) => ({
    colors: colors(def),
    custom: false,
    iconUrl: `${base}/img/icon/t4v35/standard/${iconName(def)}_120.png`,
    icons: icons(def, base),
    label: def.labelPlural,
    miniIconUrl: `${base}/img/icon/t4v35/standard/${iconName(def)}_60.png`,
    name: `standard-${def.name}`,
    sobjectName: def.name,
    url: `${base}/${def.keyPrefix}/o`,
  }));
}

/** The objects that have a tab (all but the Organization). */
function servedObjects(services: CrmServices): ObjectDef[] {
  return services.schema.allObjects().filter((def) => def.name !== 'Organization');
}

/**
 * `/tabs` and `/theme`: an object's tab and its colours and icons, answered from the schema for
 * the clients that read them (jsforce's conn.tabs() and conn.theme()). The icon URLs follow
 * Salesforce's paths; this CRM serves no images.
 */
export function tabsAndThemeRoutes(app: FastifyInstance, services: CrmServices): void {
  app.get('/tabs', async () => objectTabs(services));

  app.get('/theme', async () => {
    const base = services.urls.instanceUrl();
    return {
      themeItems: servedObjects(services).map((def) => ({
        colors: colors(def),
        icons: icons(def, base),
        name: def.name,
      })),
    };
  });
}
