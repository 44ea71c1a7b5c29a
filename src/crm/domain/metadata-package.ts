/**
 * A Metadata API deploy package as its zip lays it out (`package.xml` beside one folder per
 * type: `objects/Foo__c.object`, `classes/Foo.cls` with `Foo.cls-meta.xml` …), read into the
 * components it holds. Pure: the files come in already unzipped.
 */

export interface PackageComponent {
  /** As Salesforce reports it: the path from the package root, `objects/Foo__c.object`. */
  fileName: string;
  /** The metadata type, `CustomObject`, `ApexClass` … */
  type: string;
  /** `Foo__c`, `Reports/Lead_List` … */
  fullName: string;
  content: string;
}

export type MetadataPackage =
  { ok: true; components: PackageComponent[] } | { ok: false; fileName: string; problem: string };

/** Folder → metadata type, for the folders packages commonly carry. */
const FOLDER_TYPES: Record<string, string> = {
  applications: 'CustomApplication',
  approvalProcesses: 'ApprovalProcess',
  aura: 'AuraDefinitionBundle',
  classes: 'ApexClass',
  components: 'ApexComponent',
  connectedApps: 'ConnectedApp',
  customMetadata: 'CustomMetadata',
  dashboards: 'Dashboard',
  documents: 'Document',
  email: 'EmailTemplate',
  flexipages: 'FlexiPage',
  flows: 'Flow',
  globalValueSets: 'GlobalValueSet',
  groups: 'Group',
  labels: 'CustomLabels',
  layouts: 'Layout',
  lwc: 'LightningComponentBundle',
  objects: 'CustomObject',
  objectTranslations: 'CustomObjectTranslation',
  pages: 'ApexPage',
  permissionsets: 'PermissionSet',
  profiles: 'Profile',
  queues: 'Queue',
  quickActions: 'QuickAction',
  remoteSiteSettings: 'RemoteSiteSetting',
  reports: 'Report',
  roles: 'Role',
  settings: 'Settings',
  sharingRules: 'SharingRules',
  standardValueSets: 'StandardValueSet',
  staticresources: 'StaticResource',
  tabs: 'CustomTab',
  translations: 'Translations',
  triggers: 'ApexTrigger',
  workflows: 'Workflow',
};
/** Types whose component is a folder of files (one component per folder). */
const BUNDLE_TYPES = new Set(['AuraDefinitionBundle', 'LightningComponentBundle']);
const META_SUFFIX = '-meta.xml';

/** Reads a package from its files (zip paths → contents), or says which file stops it. */
export function readMetadataPackage(files: ReadonlyMap<string, string>): MetadataPackage {
  const paths = [...files.keys()].filter((p) => !p.endsWith('/'));
  const manifest = paths
    .filter((p) => p === 'package.xml' || p.endsWith('/package.xml'))
    .sort((a, b) => a.split('/').length - b.split('/').length)[0];
  if (manifest === undefined) return { ok: false, fileName: 'package.xml', problem: 'No package.xml found' };
  const root = manifest.slice(0, -'package.xml'.length);
  const inside = paths.filter((p) => p.startsWith(root)).map((p) => p.slice(root.length));
  const destructive = inside.find((p) => /^destructiveChanges(Pre|Post)?\.xml$/.test(p));
  if (destructive !== undefined)
    return { ok: false, fileName: destructive, problem: 'This CRM does not delete components on deploy' };

  const present = new Set(inside);
  const components = new Map<string, PackageComponent>();
  for (const path of inside) {
    const slash = path.indexOf('/');
    if (slash < 0) continue; // package.xml itself
    const folder = path.slice(0, slash);
    const type = FOLDER_TYPES[folder] ?? folder;
    let rest = path.slice(slash + 1);
    // A file's -meta.xml travels with it; a folder's (reports/Foo-meta.xml) is a component itself.
    if (rest.endsWith(META_SUFFIX)) {
      if (present.has(path.slice(0, -META_SUFFIX.length))) continue;
      rest = rest.slice(0, -META_SUFFIX.length);
    }
    const fullName = BUNDLE_TYPES.has(type) ? rest.split('/')[0]! : rest.replace(/\.[^./]+$/, '');
    const key = `${type}:${fullName}`;
    if (components.has(key)) continue;
    components.set(key, {
      fileName: BUNDLE_TYPES.has(type) ? `${folder}/${fullName}` : path,
      type,
      fullName,
      content: files.get(root + path) ?? '',
    });
  }
  return { ok: true, components: [...components.values()] };
}
