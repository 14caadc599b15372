// Rewrites schemas/fleetpatch-policy.schema.json from the zod policy schema (`npm run policy:schema`).
import { writeFileSync } from 'node:fs';
import { policyJsonSchemaText } from '../src/domain/policy/policy-json-schema.js';

const file = new URL('../schemas/fleetpatch-policy.schema.json', import.meta.url);
writeFileSync(file, policyJsonSchemaText());
process.stderr.write(`wrote ${file.pathname}\n`);
