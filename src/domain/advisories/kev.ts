/** Parses CISA's Known Exploited Vulnerabilities catalogue (JSON feed). */
import { z } from 'zod';
import { InputError } from '../errors.js';

const kevCatalogue = z.object({
  catalogVersion: z.string(),
  dateReleased: z.string(),
  vulnerabilities: z.array(
    z.object({
      cveID: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
      vendorProject: z.string(),
      product: z.string(),
      dateAdded: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      dueDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
      knownRansomwareCampaignUse: z.string().optional(),
    }),
  ),
});

export interface KevEntry {
  cveId: string;
  dateAdded: string;
  dueDate?: string;
  knownRansomwareCampaignUse: boolean;
  vendorProject: string;
  product: string;
}

export interface KevCatalogue {
  catalogVersion: string;
  entries: KevEntry[];
}

/** @example parseKevCatalogue(text, 'known_exploited_vulnerabilities.json').entries.length // 1404 */
export function parseKevCatalogue(text: string, fileName: string): KevCatalogue {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputError(`not valid JSON: ${(error as Error).message}`, { file: fileName });
  }
  const result = kevCatalogue.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InputError(issue.message, { file: fileName, field: issue.path.map(String).join('.') });
  }
  return {
    catalogVersion: result.data.catalogVersion,
    entries: result.data.vulnerabilities.map((entry) => {
      const kev: KevEntry = {
        cveId: entry.cveID,
        dateAdded: entry.dateAdded,
        knownRansomwareCampaignUse: entry.knownRansomwareCampaignUse === 'Known',
        vendorProject: entry.vendorProject,
        product: entry.product,
      };
      if (entry.dueDate) kev.dueDate = entry.dueDate;
      return kev;
    }),
  };
}
