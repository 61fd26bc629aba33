import type { z } from '@webguard/shared';

/** One reason params were rejected; `path` is like `headers.Accept` or `assertions[0].path`. */
export interface ParamIssue {
  path: string;
  message: string;
}

export type ParamsCheck = { ok: true; params: unknown } | { ok: false; issues: ParamIssue[] };

export const ROOT_PATH = '(root)';

export function formatIssuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return ROOT_PATH;
  return path
    .map((key, index) => {
      if (typeof key === 'number') return `[${key}]`;
      const name = String(key);
      return index === 0 ? name : `.${name}`;
    })
    .join('');
}

function issuesOf(error: z.ZodError): ParamIssue[] {
  return error.issues.map((issue) => ({
    path: formatIssuePath(issue.path),
    message: issue.message,
  }));
}

/** A schema whose refinement throws is a broken skill; report it instead of crashing the caller. */
function thrownIssue(error: unknown): ParamIssue[] {
  const reason = error instanceof Error ? error.message : String(error);
  return [{ path: ROOT_PATH, message: `the params schema threw while checking: ${reason}` }];
}

/** Validates params synchronously, for callers that answer at once (the API when a case is saved). */
export function checkParams(schema: z.ZodType, params: unknown): ParamsCheck {
  try {
    const result = schema.safeParse(params);
    return result.success
      ? { ok: true, params: result.data }
      : { ok: false, issues: issuesOf(result.error) };
  } catch (error) {
    return { ok: false, issues: thrownIssue(error) };
  }
}

/** Like `checkParams`, but also runs async refinements; used right before a run. */
export async function checkParamsAsync(schema: z.ZodType, params: unknown): Promise<ParamsCheck> {
  try {
    const result = await schema.safeParseAsync(params);
    return result.success
      ? { ok: true, params: result.data }
      : { ok: false, issues: issuesOf(result.error) };
  } catch (error) {
    return { ok: false, issues: thrownIssue(error) };
  }
}

/** "url: Invalid URL; headers.Accept: expected string" — for one-line error messages. */
export function describeIssues(issues: readonly ParamIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}
