/**
 * `fleetpatch nodes import`: a Kubernetes cluster's nodes as hosts, from `kubectl get nodes -o json`
 * (a file or standard input) or through the API with a kubeconfig. Nodes no agent reports appear
 * with their OS image, kernel and labels; hosts with an inventory of their own are left as they are.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { importKubernetesNodes, type NodeImportReport } from '../../app/node-inventory.js';
import { InputError } from '../../domain/errors.js';
import { parseKubernetesNodeList, readKubernetesNodes, type KubernetesNode } from '../../domain/inventory/kubernetes-nodes.js';
import { policyOwnership } from '../../domain/policy/ownership.js';
import { readPolicy } from '../../domain/policy/policy-document.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { withDatabase } from '../database-session.js';
import { ExitCode } from '../exit-codes.js';
import { createProgress, type Progress } from '../progress.js';
import { renderTable } from '../table.js';

const STDIN = '<stdin>';

interface ImportOptions {
  kubeconfig?: string;
  json?: boolean;
}

export function registerNodesCommand(program: Command): void {
  const nodes = program.command('nodes').description('Kubernetes nodes as hosts.');
  nodes
    .command('import')
    .description('Store a cluster\'s nodes as hosts: a node no agent reports appears with its OS image, kernel and labels; a host with an inventory of its own (an agent\'s, an import\'s) is left as it is.')
    .argument('[file]', '`kubectl get nodes -o json` output, or - for standard input')
    .option('--kubeconfig <path>', 'read the nodes through the Kubernetes API, with this kubeconfig\'s current context')
    .option('--json', 'print the import report as JSON')
    .action(async (file: string | undefined, options: ImportOptions) => {
      if ((file === undefined) === (options.kubeconfig === undefined)) {
        throw new InputError('give a file (- for standard input) or --kubeconfig, one of the two', {}, 'kubectl get nodes -o json | fleetpatch nodes import -');
      }
      const progress = createProgress(!options.json);
      const read = file !== undefined ? await nodesFromFile(file) : await nodesFromApi(options.kubeconfig!, progress);
      if (read === undefined) return;
      progress.note(`${read.nodes.length} node(s) read from ${read.source}`);
      const report = await withDatabase(progress, async (database) => {
        // The applied policy decides each new host's bucket and team, as it does for check-ins.
        const revision = await latestPolicyRevision(database.pool);
        const reading = revision ? readPolicy(revision.text) : undefined;
        return importKubernetesNodes(database.pool, read.nodes, { source: read.source, ...(reading?.ok ? { ownership: policyOwnership(reading.policy) } : {}) });
      });
      if (options.json) process.stdout.write(`${JSON.stringify({ source: read.source, ...report }, null, 2)}\n`);
      else process.stdout.write(formatReport(report));
    });
}

async function nodesFromFile(file: string): Promise<{ nodes: KubernetesNode[]; source: string }> {
  const source = file === '-' ? STDIN : file;
  const text = file === '-' ? await readStandardInput() : await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read the node list: ${error.code ?? error.message}`, { file });
  });
  return { nodes: readKubernetesNodes(text, source), source };
}

/** Undefined when the cluster could not be reached: said on standard error, exit status 3. */
async function nodesFromApi(path: string, progress: Progress): Promise<{ nodes: KubernetesNode[]; source: string } | undefined> {
  // Loaded here, not with the CLI: the Kubernetes client takes a good half second to load.
  const [{ KubeConfig }, { KubernetesRequestFailed }, { listNodes }] = await Promise.all([import('@kubernetes/client-node'), import('../../executors/kubernetes/kubernetes-api.js'), import('../../executors/kubernetes/list-nodes.js')]);
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(path);
  } catch (error) {
    throw new InputError(`cannot read the kubeconfig: ${error instanceof Error ? error.message : String(error)}`, { file: path });
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new InputError(`the current context ${JSON.stringify(kubeConfig.getCurrentContext())} names no cluster`, { file: path }, 'kubectl config use-context <name>');
  progress.note(`listing the nodes of ${cluster.server} (context ${kubeConfig.getCurrentContext()})`);
  try {
    return { nodes: parseKubernetesNodeList(await listNodes(kubeConfig), cluster.server), source: cluster.server };
  } catch (error) {
    if (!(error instanceof KubernetesRequestFailed)) throw error;
    if (error.status !== undefined && error.status < 500) {
      throw new InputError(`the Kubernetes API refused to list nodes: ${error.message}`, { field: '--kubeconfig' }, 'the kubeconfig\'s user needs "list" on nodes');
    }
    process.stderr.write(`fleetpatch: the Kubernetes API at ${cluster.server} cannot be reached: ${error.message}\n`);
    process.exitCode = ExitCode.unavailable;
    return undefined;
  }
}

async function readStandardInput(): Promise<string> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk as string;
  return text;
}

function formatReport(report: NodeImportReport): string {
  const table = renderTable(report.nodes, [
    { header: 'NODE', value: (node) => node.name },
    { header: 'READY', value: (node) => (node.ready ? 'yes' : 'no') },
    { header: 'CORDONED', value: (node) => (node.unschedulable ? 'yes' : '') },
    { header: 'KUBELET', value: (node) => node.kubeletVersion, maxWidth: 24 },
    { header: 'HOST', value: (node) => (node.host === 'kept' ? 'kept (its own inventory)' : `${node.host} (no agent)`) },
  ]);
  return `${table}${report.created} created, ${report.updated} updated, ${report.kept} kept: an agent or an inventory import reports them\n`;
}
