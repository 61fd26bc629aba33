/** A case as the workflow sees it: its name, optional group and what it waits for. */
export interface WorkflowNode {
  name: string;
  group: string | null;
  dependsOn: string[];
}

export interface GraphProblem {
  path: string;
  message: string;
}

/**
 * Resolves each `depends_on` entry to case names: an entry names a case, or a group (meaning
 * every case in it). Unknown, ambiguous and self references and cycles come back as problems
 * that name the cases involved, so the API can answer 400 with them.
 */
export function resolveDependencies(nodes: WorkflowNode[]): {
  edges: Map<string, string[]>;
  problems: GraphProblem[];
} {
  const caseNames = new Set(nodes.map((node) => node.name));
  const groups = new Map<string, string[]>();
  for (const node of nodes) {
    if (node.group) groups.set(node.group, [...(groups.get(node.group) ?? []), node.name]);
  }
  const problems: GraphProblem[] = [];
  const edges = new Map<string, string[]>();
  for (const node of nodes) {
    const targets = new Set<string>();
    for (const entry of node.dependsOn) {
      const isCase = caseNames.has(entry);
      const group = groups.get(entry);
      if (isCase && group) {
        problems.push({
          path: node.name,
          message: `depends_on "${entry}" names both a case and a group; rename one`,
        });
      } else if (isCase) {
        targets.add(entry);
      } else if (group) {
        for (const member of group) if (member !== node.name) targets.add(member);
      } else {
        problems.push({
          path: node.name,
          message: `depends_on "${entry}" is not a case or group of this suite`,
        });
      }
    }
    if (targets.has(node.name))
      problems.push({ path: node.name, message: 'a case cannot depend on itself' });
    targets.delete(node.name);
    edges.set(node.name, [...targets]);
  }
  const cycle = findCycle(edges);
  if (cycle) problems.push({ path: cycle[0]!, message: `dependency cycle: ${cycle.join(' → ')}` });
  return { edges, problems };
}

/** One cycle in the dependency graph, as the names along it (first repeated at the end). */
export function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of edges.get(name) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of [...edges.keys()].sort()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/** What the history says about a case, to put likely failures and long runners first. */
export interface CaseHistory {
  failedLastTime: boolean;
  averageMs: number | null;
}

/**
 * Dispatch order among cases that are ready at the same time: higher priority first, then the
 * ones that failed last time (feedback early), then the longest-running (balanced slots).
 */
export function compareDispatchOrder(
  a: { priority: number; history: CaseHistory },
  b: { priority: number; history: CaseHistory },
): number {
  return (
    b.priority - a.priority ||
    Number(b.history.failedLastTime) - Number(a.history.failedLastTime) ||
    (b.history.averageMs ?? 0) - (a.history.averageMs ?? 0)
  );
}
