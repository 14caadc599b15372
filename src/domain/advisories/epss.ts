/**
 * Parses FIRST's EPSS scores CSV: an optional `#model_version:…,score_date:…` comment line, a
 * `cve,epss,percentile` header, then one row per CVE.
 */
import { InputError } from '../errors.js';

export interface EpssScore {
  cveId: string;
  /** Probability of exploitation activity in the next 30 days, 0–1. */
  epss: number;
  /** Rank of this score among all scored CVEs, 0–1. */
  percentile: number;
}

export interface EpssFile {
  modelVersion?: string;
  /** `YYYY-MM-DD` of the scores, from the comment line. */
  scoreDate?: string;
  scores: EpssScore[];
  /** The same scores keyed by CVE id. */
  byCve: Map<string, EpssScore>;
}

const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Any malformed row (wrong column count, not a CVE id, a number outside 0–1, a CVE listed twice)
 * is an `InputError` naming its line.
 *
 * @example parseEpss('#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.94,0.99\n', 'epss.csv').byCve.get('CVE-2021-44228')?.epss // 0.94
 */
export function parseEpss(text: string, fileName: string): EpssFile {
  const file: EpssFile = { scores: [], byCve: new Map() };
  let headerSeen = false;
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    const where = { file: fileName, line: index + 1 };
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (headerSeen) throw new InputError('comment line after the header', where);
      for (const part of line.slice(1).split(',')) {
        const [key, ...value] = part.split(':');
        if (key?.trim() === 'model_version') file.modelVersion = value.join(':').trim();
        if (key?.trim() === 'score_date') file.scoreDate = value.join(':').trim().slice(0, 10);
      }
      continue;
    }
    if (!headerSeen) {
      if (line.toLowerCase().replace(/\s/g, '') !== 'cve,epss,percentile') throw new InputError(`expected the header "cve,epss,percentile", found ${JSON.stringify(line)}`, where);
      headerSeen = true;
      continue;
    }
    const [cveId, epss, percentile, ...extra] = line.split(',').map((cell) => cell.trim());
    if (extra.length > 0 || percentile === undefined || !cveId || !/^CVE-\d{4}-\d{4,}$/.test(cveId)) {
      throw new InputError(`expected "CVE-YYYY-NNNN,epss,percentile", found ${JSON.stringify(line)}`, where);
    }
    const probability = fraction(epss!);
    const rank = fraction(percentile);
    if (probability === undefined) throw new InputError(`epss ${JSON.stringify(epss)} is not a probability`, { ...where, field: 'epss' });
    if (rank === undefined) throw new InputError(`percentile ${JSON.stringify(percentile)} is not between 0 and 1`, { ...where, field: 'percentile' });
    if (file.byCve.has(cveId)) throw new InputError(`${cveId} is listed twice`, { ...where, field: 'cve' });
    const score: EpssScore = { cveId, epss: probability, percentile: rank };
    file.scores.push(score);
    file.byCve.set(cveId, score);
  }
  if (!headerSeen) throw new InputError('no "cve,epss,percentile" header', { file: fileName }, 'expected FIRST\'s EPSS CSV (epss_scores-YYYY-MM-DD.csv)');
  return file;
}

/** A decimal between 0 and 1, or undefined. `Number('')` is 0, so the text is checked first. */
function fraction(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return value >= 0 && value <= 1 ? value : undefined;
}
