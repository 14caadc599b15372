/**
 * What `policy check` refuses in a gate before any rollout runs it: a condition that does not
 * parse or cannot be true or false, and a `$host` in a gate that measures no single host.
 */
import type { Gate } from '../policy/policy-schema.js';
import { conditionProblem } from './gate-condition.js';
import { placeholdersIn } from './gate-placeholders.js';

export interface GateProblem {
  message: string;
  /** Within the gate, e.g. ['check', 'successCondition']. */
  path: Array<string | number>;
}

/**
 * @example gateProblems({ when: 'post-wave', check: { kind: 'prometheus', query: 'up{host="$host"}', successCondition: 'result[0] = 1', … } }).map((problem) => problem.message)
 */
export function gateProblems(gate: Pick<Gate, 'when' | 'check'>): GateProblem[] {
  const problems: GateProblem[] = [];
  const { check } = gate;
  if (check.kind === 'prometheus') {
    for (const key of ['successCondition', 'failureCondition'] as const) {
      const text = check[key];
      const problem = text === undefined ? undefined : conditionProblem(text);
      if (problem) problems.push({ message: `${key} ${JSON.stringify(text)}, column ${problem.column}: ${problem.message}`, path: ['check', key] });
    }
  }
  const hostless = gate.when === 'post-wave' || gate.when === 'continuous';
  const placed = check.kind === 'prometheus' ? (['query', check.query] as const) : check.kind === 'http' ? (['url', check.url] as const) : undefined;
  if (hostless && placed && placeholdersIn(placed[1]).has('host')) {
    problems.push({ message: `$host names no host in a ${gate.when} gate, which measures the whole wave or rollout: use $bucket, or make it a post-host gate`, path: ['check', placed[0]] });
  }
  return problems;
}
