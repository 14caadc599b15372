/**
 * The JSON Schema of the policy file, generated from the zod schema so the two cannot drift. It is
 * committed as `schemas/fleetpatch-policy.schema.json` (a test fails when it is stale; `npm run
 * policy:schema` rewrites it) and served at `/api/v1/policy/schema.json`, so an editor with the
 * YAML language server completes and checks `fleetpatch.yaml` as it is typed.
 */
import { z } from 'zod';
import { policySchema } from './policy-schema.js';

export const POLICY_SCHEMA_ID = 'https://fleetpatch.dev/schemas/fleetpatch-policy.schema.json';

/** The schema as editors read it: the file as written (durations and shares as strings). */
export function policyJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
  return { ...generated, $id: POLICY_SCHEMA_ID, title: 'fleetpatch policy (fleetpatch.yaml), version 1' };
}

/** The committed file's exact text: two-space JSON with a final newline. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
