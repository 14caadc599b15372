/**
 * Starts `fleetpatch server`: the database (embedded unless DATABASE_URL), the detection service,
 * the HTTP API and dashboard, the heartbeat writer and the periodic advisory sync. Stops
 * gracefully: stops accepting, writes pending heartbeats, closes the pool, stops the embedded
 * PostgreSQL it started.
 */
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { checkInLimitsFrom, ControlPlane } from '../app/control-plane.js';
import { DetectionService } from '../app/detection-service.js';
import { incidentOpener } from '../app/incident-service.js';
import { loadPolicyFile, watchPolicyFile, type PolicyFileWatcher } from '../app/policy-file-watcher.js';
import { workerPolicyReader } from '../app/policy-reader.js';
import { PolicyInForce } from '../app/policy-service.js';
import { bucketRulesOwnership, parseBucketRules, type BucketRules } from '../domain/policy/bucket-rules.js';
import { InputError } from '../domain/errors.js';
import type { AdvisoryFeed } from '../feeds/advisory-feed.js';
import { scheduleCheckpoints } from '../store/audit-checkpoints.js';
import { countApiTokens, createApiToken, createEnrollmentToken } from '../store/auth-store.js';
import { listenForChanges } from '../store/change-notifications.js';
import { hostname } from 'node:os';
import { NotificationDispatcher } from '../app/notification-dispatcher.js';
import { serverExecutorFor, type ServerExecutors } from '../app/job-executors.js';
import { JobWorker } from '../app/job-worker.js';
import { takeFleetSnapshot } from '../store/fleet-snapshots.js';
import { retireHost } from '../app/host-access.js';
import { canReach } from '../app/job-executors.js';
import type { RolloutEngineOptions } from '../app/rollout-engine.js';
import { scheduleRollouts } from '../app/rollout-service.js';
import { advanceIncidents } from '../app/incident-emergency.js';
import { rolloutMetricCounts } from '../store/rollout-metrics.js';
import { isDatabaseUnavailable, openDatabase, supervisionFromEnvironment, type Database } from '../store/database.js';
import { createApp } from './create-app.js';
import { startEngineHere, startEngineThread, type EngineReports, type EngineSettings } from './rollout-engine-thread.js';
import { workerPlanRunner } from './plan-runner.js';
import { loadDashboardAssets } from './dashboard-assets.js';
import { createFleetMetrics } from './fleet-metrics.js';
import { cachedSeedMetrics } from './metrics-routes.js';
import { createReplicaHealth } from './replica-health.js';
import { createSummaryCache } from './summary-cache.js';

/** Exit status when the embedded PostgreSQL cannot be restarted: 3, "a service fleetpatch depends on is unavailable". */
const DATABASE_LOST_EXIT_CODE = 3;

/** The enrollment token printed on first start: enough for a first batch of hosts, not forever. */
const FIRST_ENROLLMENT_TOKEN = { days: 7, uses: 100 };

/** How long fleet numbers are reused (dashboards refresh every 30 s, scrapes every 15–60 s). */
const SUMMARY_MAX_AGE_MS = 5_000;
/**
 * The seed's metrics read every open finding of the fleet (5–6 s of database time at 100,000
 * hosts with a million findings, npm run bench:metrics): /metrics and the dashboard share one report,
 * computed when asked at most every 5 minutes, the older one served meanwhile.
 */
const SEED_METRICS_MAX_AGE_MS = 300_000;

export interface ServerOptions {
  port: number;
  host: string;
  home: string;
  databaseUrl?: string;
  bucketsFile?: string;
  /** fleetpatch.yaml: applied as a revision at start and whenever it changes. */
  policyFile?: string;
  /** Periodic hash check of the policy file (default 5 s; 0: only on change events and `checkPolicyFile`). */
  policyPollMs?: number;
  /** How often the server looks whether the day's fleet snapshot is taken (default 10 minutes). */
  snapshotIntervalMs?: number;
  /** The clock of windows, SLAs, deadlines and check-ins (tests inject one; never a real sleep). */
  now?: () => Date;
  /** The rollout engine: its name in leases (default host:pid), how often it passes, how long a lease lasts, how many hosts a pass reads. */
  rolloutEngine?: { holder?: string; passIntervalMs?: number; leaseMs?: number; maxHostsPerPass?: number; scheduleIntervalMs?: number; onPassTimed?: RolloutEngineOptions['onPassTimed'] };
  /** What the job worker reaches hosts with besides command hooks: SSH, the Kubernetes API. */
  executors?: ServerExecutors;
  /** How long the job worker's claim on a running job lasts without renewal (default 30 s). */
  jobLeaseMs?: number;
  staleAfterSeconds: number;
  /** Opens the advisory feed for the ecosystems the stored hosts use. */
  openAdvisoryFeed: (ecosystems: string[]) => AdvisoryFeed;
  /** Seconds between advisory syncs; 0 disables periodic sync. */
  syncIntervalSeconds: number;
  log: (message: string) => void;
}

export interface RunningServer {
  url: string;
  database: Database;
  controlPlane: ControlPlane;
  /** The policy in force (the latest revision), asked who owns each host that checks in. */
  policy: PolicyInForce;
  /** Reads the --policy file now and applies it if it changed (what the watcher does on a change). */
  checkPolicyFile(): Promise<void>;
  /** Set on the first start only: the admin token and an enrollment token, shown once. */
  firstStart?: { adminToken: string; enrollmentToken: string };
  /** Syncs advisories for the ecosystems of the stored hosts now. */
  syncAdvisories(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Connections the kernel may queue before the server accepts them. A wave's agents (or a whole
 * fleet after a restart) connect at once; Node's default of 511 overflows, and every SYN dropped
 * costs its client a retransmit of one second or more. The kernel caps it at net.core.somaxconn.
 */
const LISTEN_BACKLOG = 4096;

export async function runServer(options: ServerOptions): Promise<RunningServer> {
  if (options.bucketsFile && options.policyFile) throw new InputError('--buckets and --policy cannot be used together', { field: '--buckets' }, 'the policy\'s buckets section replaces buckets.yaml (README: "From buckets.yaml to the policy")');
  const bucketRules = await readBucketRules(options.bucketsFile);
  if (bucketRules) options.log(`${options.bucketsFile}: buckets.yaml is read for one more release; move its rules into the buckets section of fleetpatch.yaml`);
  // Parsing and checking a policy runs on a worker thread: a large one would stall check-ins.
  const policyReader = workerPolicyReader();
  // A bad policy file refuses the start before anything is opened.
  const policyFile = options.policyFile ? await loadPolicyFile(options.policyFile, policyReader, new Date(), options.log).catch(async (error: unknown) => {
    await policyReader.close();
    throw error;
  }) : undefined;
  const database: Database = await openDatabase({
    home: options.home,
    poolSize: 16,
    onProgress: options.log,
    // A server whose embedded PostgreSQL will not come back exits, so its service manager starts it afresh.
    supervision: {
      ...supervisionFromEnvironment(process.env),
      onGiveUp: () => {
        options.log(`exiting with status ${DATABASE_LOST_EXIT_CODE}`);
        void database.close().finally(() => process.exit(DATABASE_LOST_EXIT_CODE));
      },
    },
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
  });
  const { pool } = database;
  let firstStart: RunningServer['firstStart'];
  if ((await countApiTokens(pool)) === 0) {
    const admin = await createApiToken(pool, 'initial admin', 'admin', 'first start');
    const enrollment = await createEnrollmentToken(pool, { name: 'initial', labels: {}, expiresAt: new Date(Date.now() + FIRST_ENROLLMENT_TOKEN.days * 86_400_000), maxUses: FIRST_ENROLLMENT_TOKEN.uses, createdBy: 'first start' });
    firstStart = { adminToken: admin.token, enrollmentToken: enrollment.token };
  }
  // Signed checkpoints of the audit log under <home>/audit: every 1000 entries or 15 minutes.
  const auditCheckpoints = scheduleCheckpoints(pool, { home: options.home, log: options.log });
  const changes = await listenForChanges(pool, { log: options.log });
  const detection = await DetectionService.load(pool);
  // Advisories imported elsewhere are loaded at once; check-ins catch up themselves regardless.
  detection.follow(changes, pool, options.log);
  // Every replica enforces the latest revision in the database; --policy FILE makes this one apply the file.
  const policy = new PolicyInForce(pool, policyReader, options.log, bucketRules ? { origin: 'buckets-file', ownership: bucketRulesOwnership(bucketRules) } : { origin: 'labels' });
  policy.follow(changes);
  await policy.refresh();
  const policyWatcher: PolicyFileWatcher | undefined = policyFile ? await watchPolicyFile(policyFile, { pool, reader: policyReader, connectionString: database.connectionString, inForce: policy, log: options.log, ...(options.policyPollMs !== undefined ? { pollMs: options.policyPollMs } : {}) }) : undefined;
  const controlPlane = new ControlPlane(pool, detection, {
    ownership: policy, staleAfterSeconds: options.staleAfterSeconds, isDatabaseUnavailable, limits: checkInLimitsFrom(process.env),
    // A synced advisory that meets the emergency triggers of the policy in force opens an incident.
    openIncidents: incidentOpener(() => policy.current.policy?.emergency, options.now),
  });
  // A host retired or re-enrolled by another process: drop what this one remembers of it.
  changes.subscribe('fleetpatch_access', (payload) => {
    if (payload.startsWith('host:')) controlPlane.forgetHost(payload.slice('host:'.length));
  });
  const summaries = createSummaryCache(pool, { staleAfterSeconds: options.staleAfterSeconds, maxAgeMs: SUMMARY_MAX_AGE_MS });
  const seedMetrics = cachedSeedMetrics(pool, { staleAfterSeconds: options.staleAfterSeconds, maxAgeMs: SEED_METRICS_MAX_AGE_MS, now: options.now ?? (() => new Date()), policy: () => policy.current.policy });
  const metrics = createFleetMetrics(summaries, () => rolloutMetricCounts(pool), seedMetrics);
  const replicaHealth = createReplicaHealth();
  const hostEcosystems = async () => (await pool.query<{ ecosystem: string }>('SELECT DISTINCT ecosystem FROM package_versions')).rows.map((row) => row.ecosystem);
  // Plans are computed on a worker thread: a fleet's plan is seconds of CPU check-ins must not wait behind.
  const planner = workerPlanRunner(database.connectionString, { staleAfterSeconds: options.staleAfterSeconds });
  const app = createApp({
    pool,
    jobPool: database.openPool('fleetpatch-jobs', 8, { synchronous_commit: 'off' }),
    controlPlane,
    metrics,
    summaries,
    dashboard: loadDashboardAssets(),
    openAdvisoryFeed: async () => options.openAdvisoryFeed(await hostEcosystems()),
    databaseHealth: () => database.health(),
    changes,
    policy: { inForce: policy, reader: policyReader },
    planner,
    replicaHealth,
    seedMetrics,
    auditCheckpoint: auditCheckpoints.checkpointNow,
    ...(options.executors?.disruptionBlockers ? { disruptionBlockers: options.executors.disruptionBlockers } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  // Pages, Slack messages and webhooks leave from the outbox, on whichever replica claims them first.
  const notifications = new NotificationDispatcher(pool, { log: options.log, ...(options.now ? { now: options.now } : {}) });
  notifications.start();
  // Every replica drives rollouts; leases in the database decide which one drives which.
  const engineSettings: EngineSettings = {
    holder: options.rolloutEngine?.holder ?? `${hostname()}:${process.pid}`,
    ...(options.rolloutEngine?.passIntervalMs !== undefined ? { passIntervalMs: options.rolloutEngine.passIntervalMs } : {}),
    ...(options.rolloutEngine?.leaseMs !== undefined ? { leaseMs: options.rolloutEngine.leaseMs } : {}),
    ...(options.rolloutEngine?.maxHostsPerPass !== undefined ? { maxHostsPerPass: options.rolloutEngine.maxHostsPerPass } : {}),
  };
  const engineReports: EngineReports = {
    committed: (pass) => {
      for (const to of pass.entered) metrics.rolloutTransitions.inc({ bucket: pass.bucket, to });
      if (pass.haltReason) metrics.rolloutHalts.inc({ bucket: pass.bucket, reason: pass.haltReason });
      if (pass.events) notifications.wake();
    },
    timed: (ms, transitions, phases) => {
      replicaHealth.recordPass(ms);
      options.rolloutEngine?.onPassTimed?.(ms, transitions, phases);
    },
    log: options.log,
  };
  const rolloutEngine = options.now
    ? startEngineHere(engineSettings, engineReports, { pool: database.openPool('fleetpatch-rollouts', 2), changes, policy: () => policy.current.policy, now: options.now })
    : startEngineThread(database.connectionString, engineSettings, engineReports);
  // Jobs no agent fetches (SSH, command hooks, the Kubernetes API) run here, claimed with leases.
  const jobWorker = new JobWorker({
    pool: database.openPool('fleetpatch-job-worker', 2),
    holder: options.rolloutEngine?.holder ?? `${hostname()}:${process.pid}`,
    now: options.now ?? (() => new Date()),
    log: options.log,
    executorFor: serverExecutorFor(options.executors ?? {}),
    controlPlane,
    changes,
    // A host the replace strategy retired leaves the fleet as replaced (its record and open findings kept in retired_hosts).
    afterStep: async (claimed, result) => {
      if (claimed.job.step !== 'retire' || result.outcome !== 'succeeded') return;
      await retireHost(pool, claimed.host, `rollout:${claimed.rolloutId}`, `replaced by ${claimed.job.replacement ?? 'its replacement'} (image ${claimed.job.image ?? 'unknown'})`, (options.now ?? (() => new Date()))());
    },
    ...(options.jobLeaseMs !== undefined ? { leaseMs: options.jobLeaseMs } : {}),
  });
  jobWorker.start();
  // The policy's schedule: a window occurrence that opens starts its bucket's rollout (once, whichever replica sees it first).
  const scheduleRolloutsNow = () => {
    const { policy: inForce, revision } = policy.current;
    if (!inForce) return;
    scheduleRollouts(pool, { policy: inForce, ...(revision ? { policyRevision: revision.revision } : {}), now: (options.now ?? (() => new Date()))(), staleAfterSeconds: options.staleAfterSeconds, canRun: (bucket) => canReach(bucket, options.executors ?? {}) }).then(
      (created) => created.length > 0 && options.log(`the schedule started rollout${created.length === 1 ? '' : 's'} ${created.join(', ')}`),
      (error: unknown) => options.log(`scheduling rollouts failed (tried again later): ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  // Open incidents: their scope's changes, one emergency rollout per affected bucket, the status cadence. One look at a time per process; replicas share them by the incidents' row locks.
  let lookingAtIncidents = false;
  const lookAtIncidentsNow = () => {
    const { policy: inForce, revision } = policy.current;
    if (!inForce || lookingAtIncidents) return;
    lookingAtIncidents = true;
    advanceIncidents(pool, {
      policy: inForce, ...(revision ? { policyRevision: revision.revision } : {}), now: (options.now ?? (() => new Date()))(), staleAfterSeconds: options.staleAfterSeconds,
      canRun: (bucket) => canReach(bucket, options.executors ?? {}), ...(options.executors?.disruptionBlockers ? { disruptionBlockers: options.executors.disruptionBlockers } : {}),
    }).then(
      (look) => {
        // An incident opened since the last look, or an update posted for a missed slot, is sent now rather than at the next poll.
        notifications.wake();
        if (look.rolloutsCreated.length > 0) options.log(`incidents started emergency rollout${look.rolloutsCreated.length === 1 ? '' : 's'} ${look.rolloutsCreated.join(', ')}`);
        if (look.updatesPosted > 0) options.log(`incidents posted ${look.updatesPosted} missed status update${look.updatesPosted === 1 ? '' : 's'} automatically`);
      },
      (error: unknown) => options.log(`looking at open incidents failed (tried again later): ${error instanceof Error ? error.message : String(error)}`),
    ).finally(() => {
      lookingAtIncidents = false;
    });
  };
  const scheduleTimer = setInterval(() => {
    scheduleRolloutsNow();
    lookAtIncidentsNow();
  }, options.rolloutEngine?.scheduleIntervalMs ?? 30_000);
  scheduleTimer.unref();

  const server: ServerType = createAdaptorServer({ fetch: app.fetch, hostname: options.host });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  const heartbeatTimer = setInterval(() => {
    controlPlane.heartbeats.flush().then(
      (report) => {
        for (const refused of report.refused) options.log(`heartbeat of ${refused.host} refused by the database: ${refused.error}`);
      },
      (error: unknown) => options.log(`writing heartbeats failed (kept for the next try): ${String(error)}`),
    );
  }, 1_000);
  const syncAdvisories = async () => {
    let ecosystems: string[];
    try {
      ecosystems = await hostEcosystems();
    } catch (error) {
      // The database went away under the sync (its supervisor says so and restarts it): the next sync tries again.
      options.log(`advisory sync could not read the hosts' ecosystems: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (ecosystems.length === 0) return;
    const feed = options.openAdvisoryFeed(ecosystems);
    try {
      const report = await controlPlane.syncAdvisories(feed, options.log);
      replicaHealth.recordSync({ at: new Date() });
      options.log(`advisories from ${feed.location}: ${report.imported} new or changed, ${report.unchanged} unchanged, ${report.hostsReevaluated} hosts re-evaluated`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      replicaHealth.recordSync({ at: new Date(), error: `${feed.location}: ${message}` });
      options.log(`advisory sync from ${feed.location} failed: ${message}`);
    }
  };
  const syncTimer = options.syncIntervalSeconds > 0 ? setInterval(() => void syncAdvisories(), options.syncIntervalSeconds * 1000) : undefined;
  // Package rows no host or finding references any more; a tenth of the grace keeps the table near its live size.
  const pruneTimer = setInterval(() => {
    controlPlane.prunePackages().then(
      (report) => {
        if (report.packageSets + report.packageVersions > 0) options.log(`pruned ${report.packageSets} unreferenced package sets and ${report.packageVersions} package versions`);
      },
      (error: unknown) => options.log(`pruning package rows failed (retried later): ${String(error)}`),
    );
  }, (controlPlane.limits.pruneGraceSeconds * 1000) / 10);
  pruneTimer.unref();
  // The day's fleet snapshot, at the first look after midnight UTC (whichever replica looks first).
  const snapshotNow = () => {
    takeFleetSnapshot(pool, { now: (options.now ?? (() => new Date()))(), staleAfterSeconds: options.staleAfterSeconds }).then(
      (snapshot) => snapshot.taken && options.log(`fleet snapshot of ${snapshot.day} kept (${snapshot.groups} bucket and team groups)`),
      (error: unknown) => options.log(`taking the daily fleet snapshot failed (tried again later): ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  snapshotNow();
  const snapshotTimer = setInterval(snapshotNow, options.snapshotIntervalMs ?? 600_000);
  snapshotTimer.unref();

  let stopping: Promise<void> | undefined;
  const running: RunningServer = {
    url,
    database,
    controlPlane,
    policy,
    checkPolicyFile: () => policyWatcher?.check() ?? Promise.resolve(),
    syncAdvisories,
    stop() {
      stopping ??= (async () => {
        clearInterval(heartbeatTimer);
        if (syncTimer) clearInterval(syncTimer);
        clearInterval(pruneTimer);
        clearInterval(snapshotTimer);
        policyWatcher?.stop();
        clearInterval(scheduleTimer);
        await rolloutEngine.stop();
        await jobWorker.stop();
        await notifications.stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Idle keep-alive connections would hold close() open; requests in flight still finish.
        (server as import('node:http').Server).closeIdleConnections?.();
        await closed;
        try {
          await auditCheckpoints.stop();
          await policyReader.close();
          await planner.close();
          await changes.close();
          await controlPlane.heartbeats.flush();
        } finally {
          // Also when the database is down and the heartbeats cannot be written.
          await database.close();
        }
      })();
      return stopping;
    },
  };
  if (firstStart) running.firstStart = firstStart;
  return running;
}

async function readBucketRules(file: string | undefined): Promise<BucketRules | undefined> {
  if (!file) return undefined;
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read: ${error.code ?? error.message}`, { file });
  });
  return parseBucketRules(text, file);
}
