import { and, eq, inArray } from 'drizzle-orm';
import type { JsonObject } from '@webguard/shared';
import type { Database } from '../db/database.js';
import type { EnvironmentRepository } from '../db/environment-repository.js';
import { executionCases, testExecutions } from '../db/schema.js';
import { createMasker } from '../engine/index.js';
import { referencedCases, type ReferenceScope } from '../orchestration/param-references.js';

/**
 * What `${{ ... }}` in a case's params can read at the moment it runs: outputs of the cases of
 * the same run that have finished, and the run's environment. The masker hides every secret of
 * that environment, used or not, in whatever the case records.
 */
export async function loadCaseScope(
  db: Database,
  environments: EnvironmentRepository,
  run: { executionId: number; environmentId?: number | null },
  params: JsonObject,
): Promise<{ scope: ReferenceScope; secrets: string[]; mask: (text: string) => string }> {
  const { executionId } = run;
  const environmentId =
    run.environmentId !== undefined
      ? run.environmentId
      : ((
          await db
            .select({ environmentId: testExecutions.environmentId })
            .from(testExecutions)
            .where(eq(testExecutions.id, executionId))
        )[0]?.environmentId ?? null);
  // Only the outputs the params refer to are read: a run of thousands of cases stays cheap.
  const referenced = referencedCases(params);
  const finished =
    referenced.length === 0
      ? []
      : await db
          .select({ name: executionCases.name, outputs: executionCases.outputs })
          .from(executionCases)
          .where(
            and(
              eq(executionCases.executionId, executionId),
              eq(executionCases.state, 'done'),
              inArray(executionCases.name, referenced),
            ),
          );
  const values = environmentId ? await environments.values(environmentId) : undefined;
  return {
    scope: {
      cases: Object.fromEntries(finished.map((row) => [row.name, row.outputs ?? undefined])),
      env: values?.variables ?? {},
      secrets: values?.secrets ?? {},
    },
    secrets: Object.values(values?.secrets ?? {}),
    mask: createMasker(Object.values(values?.secrets ?? {})),
  };
}
