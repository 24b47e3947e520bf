import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, NX_BIN, WORKSPACE_ROOT } from './child-process';

/** One target as Nx resolves it: the project's own settings over nx.json's `targetDefaults`. */
export interface NxTarget {
  readonly executor?: string;
  readonly outputs?: string[];
  readonly dependsOn?: (string | { projects?: string[]; dependencies?: boolean; target: string; params?: string })[];
  readonly options: { readonly command: string; readonly forwardAllArgs?: boolean };
}

/** A project as Nx resolves it (`nx show project <name> --json`). */
export interface NxProject {
  readonly name: string;
  readonly tags: string[];
  readonly implicitDependencies?: string[];
  readonly targets: Record<string, NxTarget>;
}

let graph: Readonly<Record<string, NxProject>> | undefined;

/** Every project as Nx resolves it, from one `nx graph --file` (one graph computation instead of one per project). */
const projectGraph = (): Readonly<Record<string, NxProject>> => {
  if (graph) return graph;
  const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
  try {
    const file = join(dir, 'graph.json');
    execFileSync(NX_BIN, ['graph', `--file=${file}`], { cwd: WORKSPACE_ROOT, env: childEnv({}), stdio: 'ignore' });
    const nodes = (JSON.parse(readFileSync(file, 'utf8')) as { graph: { nodes: Record<string, { data: NxProject }> } }).graph.nodes;
    graph = Object.fromEntries(Object.entries(nodes).map(([name, node]) => [name, node.data]));
    return graph;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * A project's configuration as Nx runs it, not its `project.json` alone: the targets shared by every app live in
 * nx.json's `targetDefaults`, so a spec that checks a target must read the merge. The graph is computed once per process.
 *
 * @example
 * nxProject('query-api').targets['deploy'].options.command; // 'node tools/scripts/sls.mjs deploy --app apps/query-api …'
 * @throws Error when Nx knows no such project
 */
export const nxProject = (name: string): NxProject => {
  const project = projectGraph()[name];
  if (!project) throw new Error(`Nx knows no project named ${name}`);
  return project;
};
