// policy check refuses a gate whose condition does not parse, at its line and column, and a $host
// in a gate that measures a whole wave.
import { describe, expect, it } from 'vitest';
import { readPolicy } from '../policy/policy-document.js';

const policy = (gates: string) => `version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "03:00", duration: 2h }
buckets:
  - name: databases
    owner: dba
    strategy: { kind: in-place }
    windows: [nightly]
    gates:
${gates}`;

describe('gate problems in a policy', () => {
  it('accepts Argo-style conditions and placeholders where they have a value', () => {
    const reading = readPolicy(policy(`      - name: error-ratio
        when: post-host
        check:
          kind: prometheus
          url: http://prometheus:9090
          query: error_ratio{host="$host", bucket="$bucket"}
          successCondition: result[0] < 0.05
          failureCondition: result[0] >= 0.2 || isNaN(result[0])
      - name: alerts
        check: { kind: prometheus, url: "http://prometheus:9090", query: 'count(ALERTS{bucket="$bucket"}) or vector(0)', successCondition: result == 0 }
      - name: health
        when: pre-host
        check: { kind: http, url: "http://$host:8080/health" }
`));
    expect(reading.ok ? [] : reading.problems).toEqual([]);
  });

  it('names the condition, its column and the line of the field', () => {
    const reading = readPolicy(policy(`      - name: error-ratio
        check:
          kind: prometheus
          url: http://prometheus:9090
          query: error_ratio
          successCondition: result[0] < 0.05
          failureCondition: result[0] = 1
`));
    expect(reading.ok ? [] : reading.problems).toEqual([
      { message: 'failureCondition "result[0] = 1", column 11: use == to compare', field: 'buckets[0].gates[0].check.failureCondition', line: 16, column: 29 },
    ]);
  });

  it('refuses $host in a wave gate or a continuous one', () => {
    const reading = readPolicy(policy(`      - name: wave
        when: post-wave
        check: { kind: prometheus, url: "http://prometheus:9090", query: 'up{host="$host"}', successCondition: 'result[0] == 1' }
      - name: always
        when: continuous
        check: { kind: http, url: "http://$host:8080/health" }
`));
    expect(reading.ok ? [] : reading.problems.map((problem) => [problem.field, problem.message])).toEqual([
      ['buckets[0].gates[0].check.query', expect.stringMatching(/^\$host names no host in a post-wave gate/)],
      ['buckets[0].gates[1].check.url', expect.stringMatching(/^\$host names no host in a continuous gate/)],
    ]);
  });
});
