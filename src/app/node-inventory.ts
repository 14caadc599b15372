/**
 * Kubernetes nodes as hosts (`fleetpatch nodes import`). A node no agent reports gets a host row
 * from what the cluster says of it (OS image, kernel, architecture, its labels plus
 * `fleetpatch.io/kubernetes-node=true`) and nothing else: no packages and no check-in, so it is
 * listed and owned like any host and shows for what it is, one fleetpatch cannot see into (never
 * seen, hence `no-agent` to an in-place rollout). A host an agent or an inventory import reports is
 * left as it is: its own report is the truth, and its packages stay. The first check-in of an agent
 * on such a node replaces the row's facts and labels with its own.
 */
import type pg from 'pg';
import type { KubernetesNode } from '../domain/inventory/kubernetes-nodes.js';
import { LABEL_OWNERSHIP, selectableHost, type OwnershipRules } from '../domain/policy/ownership.js';

/** On the host row of a node known only from the Kubernetes API. */
export const KUBERNETES_NODE_LABEL = 'fleetpatch.io/kubernetes-node';

export interface ImportedNode {
  name: string;
  /** `created` or `updated` from the node; `kept`: the host has an inventory of its own (an agent's or an import's) and was not touched. */
  host: 'created' | 'updated' | 'kept';
  ready: boolean;
  unschedulable: boolean;
  kubeletVersion: string;
}

export interface NodeImportReport {
  nodes: ImportedNode[];
  created: number;
  updated: number;
  kept: number;
}

/**
 * One statement, so an import lands whole or not at all, and a row an agent's check-in writes
 * meanwhile is either seen as the agent's or replaced by that check-in.
 *
 * @example await importKubernetesNodes(pool, readKubernetesNodes(text, 'nodes.json'), { source: 'nodes.json' }) // { created: 4, updated: 0, kept: 1, nodes: [...] }
 */
export async function importKubernetesNodes(pool: pg.Pool, nodes: KubernetesNode[], options: { source: string; ownership?: OwnershipRules }): Promise<NodeImportReport> {
  const rows = nodes.map((node) => {
    const labels = { ...node.labels, [KUBERNETES_NODE_LABEL]: 'true' };
    return {
      name: node.name,
      ...(options.ownership ?? LABEL_OWNERSHIP).ownerOf(selectableHost(node.name, labels, undefined)),
      os_pretty_name: node.osImage || null,
      arch: node.architecture || null,
      running_kernel: node.kernelVersion || null,
      labels,
      inventory_source: `kubernetes-nodes:${options.source}`,
    };
  });
  // `package_set_key IS NULL`: no agent check-in and no inventory import ever stored this host.
  const written = await pool.query<{ name: string; created: boolean }>(
    `INSERT INTO hosts AS h (name, bucket, team, os_pretty_name, arch, running_kernel, labels, inventory_source)
     SELECT r.name, r.bucket, r.team, r.os_pretty_name, r.arch, r.running_kernel, r.labels, r.inventory_source
       FROM jsonb_to_recordset($1::jsonb) AS r(name text, bucket text, team text, os_pretty_name text, arch text, running_kernel text, labels jsonb, inventory_source text)
      ORDER BY r.name
     ON CONFLICT (name) DO UPDATE SET
       bucket = excluded.bucket, team = excluded.team, os_pretty_name = excluded.os_pretty_name, arch = excluded.arch,
       running_kernel = excluded.running_kernel, labels = excluded.labels, inventory_source = excluded.inventory_source
      WHERE h.package_set_key IS NULL
     RETURNING h.name, (xmax = 0) AS created`,
    [JSON.stringify(rows)],
  );
  const outcome = new Map(written.rows.map((row) => [row.name, row.created ? 'created' as const : 'updated' as const]));
  const imported = nodes.map((node): ImportedNode => ({
    name: node.name,
    host: outcome.get(node.name) ?? 'kept',
    ready: node.ready,
    unschedulable: node.unschedulable,
    kubeletVersion: node.kubeletVersion,
  }));
  const count = (host: ImportedNode['host']) => imported.filter((node) => node.host === host).length;
  return { nodes: imported, created: count('created'), updated: count('updated'), kept: count('kept') };
}
