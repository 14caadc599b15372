/** Parses CISA's Known Exploited Vulnerabilities catalogue (JSON feed) into a lookup by CVE id. */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { jsonPath } from './json-path.js';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a YYYY-MM-DD date');

// Fields follow CISA's published schema; the descriptive ones fleetpatch does not use stay unchecked.
const kevCatalogueSchema = z.object({
  catalogVersion: z.string().min(1),
  dateReleased: z.string(),
  count: z.number().int().nonnegative().optional(),
  vulnerabilities: z.array(
    z.object({
      cveID: z.string().regex(/^CVE-\d{4}-\d{4,19}$/, 'expected a CVE-YYYY-NNNN id'),
      vendorProject: z.string(),
      product: z.string(),
      dateAdded: isoDate,
      dueDate: isoDate.optional(),
      knownRansomwareCampaignUse: z.string().optional(),
    }),
  ),
});

export interface KevEntry {
  cveId: string;
  dateAdded: string;
  dueDate?: string;
  /** CISA's `knownRansomwareCampaignUse` is `Known`. */
  knownRansomwareCampaignUse: boolean;
  vendorProject: string;
  product: string;
}

export interface KevCatalogue {
  catalogVersion: string;
  entries: KevEntry[];
  /** The same entries keyed by CVE id. */
  byCve: Map<string, KevEntry>;
}

/**
 * Validates the catalogue; a count that disagrees with the entries (a truncated download) or a CVE
 * listed twice is an error, as is any malformed entry, named by its JSON path.
 *
 * @example parseKevCatalogue(text, 'known_exploited_vulnerabilities.json').byCve.get('CVE-2021-44228')?.dateAdded // '2021-12-10'
 */
export function parseKevCatalogue(text: string, fileName: string): KevCatalogue {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputError(`not valid JSON: ${(error as Error).message}`, { file: fileName });
  }
  const result = kevCatalogueSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = jsonPath(issue.path);
    throw new InputError(`invalid KEV catalogue: ${issue.message}`, { file: fileName, ...(field === '' ? {} : { field }) });
  }
  const catalogue = result.data;
  if (catalogue.count !== undefined && catalogue.count !== catalogue.vulnerabilities.length) {
    throw new InputError(`the catalogue says it lists ${catalogue.count} vulnerabilities but holds ${catalogue.vulnerabilities.length}`, { file: fileName, field: 'count' }, 'the file may be truncated; download it again');
  }
  const byCve = new Map<string, KevEntry>();
  catalogue.vulnerabilities.forEach((entry, index) => {
    if (byCve.has(entry.cveID)) throw new InputError(`${entry.cveID} is listed twice`, { file: fileName, field: `vulnerabilities[${index}].cveID` });
    const kev: KevEntry = {
      cveId: entry.cveID,
      dateAdded: entry.dateAdded,
      knownRansomwareCampaignUse: entry.knownRansomwareCampaignUse === 'Known',
      vendorProject: entry.vendorProject,
      product: entry.product,
    };
    if (entry.dueDate) kev.dueDate = entry.dueDate;
    byCve.set(kev.cveId, kev);
  });
  return { catalogVersion: catalogue.catalogVersion, entries: [...byCve.values()], byCve };
}
