/**
 * Parses FIRST's EPSS scores CSV: an optional `#model_version:…,score_date:…` comment line, a
 * `cve,epss,percentile` header, then one row per CVE.
 */
import { InputError } from '../errors.js';

export interface EpssScore {
  cveId: string;
  epss: number;
  percentile: number;
}

export interface EpssFile {
  modelVersion?: string;
  scoreDate?: string;
  scores: EpssScore[];
}

/** @example parseEpss('#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.94,0.99\n', 'epss.csv') */
export function parseEpss(text: string, fileName: string): EpssFile {
  const file: EpssFile = { scores: [] };
  let headerSeen = false;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    const where = { file: fileName, line: index + 1 };
    if (line === '') continue;
    if (line.startsWith('#')) {
      for (const part of line.slice(1).split(',')) {
        const [key, ...value] = part.split(':');
        if (key === 'model_version') file.modelVersion = value.join(':');
        if (key === 'score_date') file.scoreDate = value.join(':').slice(0, 10);
      }
      continue;
    }
    if (!headerSeen) {
      if (line.toLowerCase() !== 'cve,epss,percentile') throw new InputError(`expected the header "cve,epss,percentile", found ${JSON.stringify(line)}`, where);
      headerSeen = true;
      continue;
    }
    const [cveId, epss, percentile, ...extra] = line.split(',');
    if (extra.length > 0 || !cveId || !/^CVE-\d{4}-\d{4,}$/.test(cveId)) throw new InputError(`expected "CVE-YYYY-NNNN,epss,percentile", found ${JSON.stringify(line)}`, where);
    const probability = Number(epss);
    const rank = Number(percentile);
    if (!(probability >= 0 && probability <= 1)) throw new InputError(`epss ${JSON.stringify(epss)} is not a probability`, { ...where, field: 'epss' });
    if (!(rank >= 0 && rank <= 1)) throw new InputError(`percentile ${JSON.stringify(percentile)} is not between 0 and 1`, { ...where, field: 'percentile' });
    file.scores.push({ cveId, epss: probability, percentile: rank });
  }
  if (!headerSeen) throw new InputError('no "cve,epss,percentile" header', { file: fileName });
  return file;
}
