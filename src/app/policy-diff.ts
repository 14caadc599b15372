/** The unified diff stored with each policy revision and printed by `policy diff` (jsdiff, 3 lines of context). */
import { createTwoFilesPatch } from 'diff';

/** @example unifiedPolicyDiff('revision 1', 'revision 2', before, after) // '===…\n--- revision 1\n+++ revision 2\n@@ -3,1 +3,1 @@…' */
export function unifiedPolicyDiff(beforeLabel: string, afterLabel: string, before: string, after: string): string {
  return createTwoFilesPatch(beforeLabel, afterLabel, before, after, undefined, undefined, { context: 3 });
}
