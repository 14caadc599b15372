/**
 * The `--demo` fleet: the seed's four buckets (Kubernetes nodes, databases, stateless hosts, a
 * handful of physical hosts) with the labels examples/fleetpatch.yaml matches, simulated advisories
 * published over the last 90 days, and each team's own patch habits played out as a timeline of
 * advisory publications and check-ins. Replayed through the control plane, the timeline gives the
 * dashboard 90 days of real history: findings first seen when their advisory was published and
 * resolved when the team got to them, kernels installed but not yet booted, long uptimes.
 *
 * Everything is derived from one real package list (this machine's) and a seed: the same seed and
 * clock give the same fleet. Every advisory id starts with `SIM-` and its summary with
 * "[simulated]"; every host is `sim-…` with the label `simulated=true`. A simulated advisory is
 * fixed by the version this machine runs, so the simulated history never raises findings on it.
 */
import type { Advisory } from '../domain/advisories/advisory.js';
import type { KevEntry } from '../domain/advisories/kev.js';
import { matchIdentity } from '../domain/detection/match-identity.js';
import { isKernelPackage } from '../domain/inventory/kernel.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import type { AvailableUpdate, HostInventory, InstalledPackage, Severity, VersionScheme } from '../domain/types.js';
import { comparatorFor } from '../domain/versions/index.js';
import { pickWeighted, seededRandom, type Random } from './seeded-random.js';

export interface DemoFleetOptions {
  hosts: number;
  advisories: number;
  seed: number;
  now: Date;
  /** How far back the history goes; 90 days by default. */
  historyDays?: number;
}

/** One step of the history, at its instant: advisories become known, or a host checks in. */
export type DemoEvent =
  | { kind: 'publish'; at: Date; advisories: Advisory[] }
  | { kind: 'check-in'; at: Date; inventory: HostInventory };

export interface DemoFleet {
  advisories: Advisory[];
  /** Simulated KEV catalogue entries for the few advisories the demo treats as exploited in the wild. */
  knownExploited: KevEntry[];
  /** Every host as of its last check-in. */
  hosts: Array<{ inventory: HostInventory; lastSeenAt: Date }>;
  /** Publications and check-ins, oldest first; a publication comes before check-ins at the same instant. */
  timeline: DemoEvent[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The seed's buckets with the labels the example policy matches and the teams that own them. Each
 * team patches on its own cadence and with its own lag, as the seed's teams did before unifying.
 */
interface Team {
  bucket: string;
  team: string;
  /** Host name stem after `sim-`. */
  stem: (index: number, image: string) => string;
  labels: (image: string, index: number) => Record<string, string>;
  /**
   * The images the team's hosts run, in turn: hosts of one image carry the same simulated
   * packages. Physical hosts are snowflakes, an image each.
   */
  images: string[] | 'one-per-host';
  /** The team's patch sessions between two instants, as UTC instants. */
  sessions: (from: Date, until: Date, host: HostHabits) => Date[];
  /** A fix reaches this team's hosts only once it is this old (image builds, staging, notice). */
  lagDays: number;
  /** Whether a session reboots into the newest installed kernel. */
  reboots: (host: HostHabits, random: Random) => boolean;
  /** Days since boot when the history starts. */
  initialUptimeDays: (host: HostHabits, random: Random) => number;
}

/** What differs between two hosts of one team. */
interface HostHabits {
  index: number;
  /** Which session of the team's rotation is this host's (0-based). */
  phase: number;
  /** Share of sessions the host actually takes (the rest are postponed). */
  diligence: number;
  /** Never reboots: the seed's "412 days of uptime" box. */
  neverReboots: boolean;
  /** Skips reboots now and then (the database team's habit). */
  skipsReboots: boolean;
}

const NODE_ROTATION_NIGHTS = 3;
const DATABASE_ROTATION_SESSIONS = 12;

const TEAMS: Record<'nodes' | 'databases' | 'stateless' | 'physical', Team> = {
  // Bottlerocket nodes roll nightly 03:00–04:00 UTC; each node's turn comes every few nights, once a
  // fixed image is out (a day or two after the advisory).
  nodes: {
    bucket: 'kubernetes-nodes',
    team: 'platform',
    stem: (index) => `node-${pad(index, 3)}`,
    labels: (image) => ({ role: 'k8s-node', 'node-pool': image, location: 'eu-west-1' }),
    images: ['general', 'memory', 'ingress', 'gpu'],
    sessions: (from, until, host) => dailyAt(from, until, 3, 5 + (host.index % 50)).filter((_night, night) => (night + host.phase) % NODE_ROTATION_NIGHTS === 0),
    lagDays: 2,
    reboots: () => true,
    initialUptimeDays: (_host, random) => random() * 6,
  },
  // Databases: Tuesday and Thursday evenings (about 21:00 UTC), one host at a time, each host about
  // every six weeks and only fixes two weeks old; reboots are often put off.
  databases: {
    bucket: 'databases',
    team: 'data-platform',
    stem: (index, image) => `${image.startsWith('mysql') ? 'mysql' : 'pg'}-${pad(index, 3)}`,
    labels: (image) => ({ role: image.startsWith('mysql') ? 'mysql' : 'postgres', image, location: 'eu-west-1' }),
    // The seed's three PostgreSQL patch levels, and a MySQL.
    images: ['postgres-14', 'postgres-15', 'mysql-8', 'postgres-16'],
    sessions: (from, until, host) => weeklyAt(from, until, [2, 4], 21, 10 * (host.index % 5)).filter((_session, session) => (session + host.phase) % DATABASE_ROTATION_SESSIONS === 0),
    lagDays: 14,
    reboots: (host, random) => !host.skipsReboots || random() < 0.3,
    initialUptimeDays: (_host, random) => 20 + random() * 120,
  },
  // Stateless hosts are replaced from the latest baseline every Sunday from 02:00 UTC.
  stateless: {
    bucket: 'stateless',
    team: 'web',
    stem: (index) => `web-${pad(index, 3)}`,
    labels: (image) => ({ role: 'stateless', service: image, location: 'eu-west-1' }),
    images: ['utility', 'jump', 'batch'],
    sessions: (from, until, host) => weeklyAt(from, until, [0], 2, (host.index * 7) % 120),
    lagDays: 1,
    reboots: () => true,
    initialUptimeDays: (_host, random) => random() * 7,
  },
  // Physical colo hosts: the Saturday after Patch Tuesday, announced 14 days ahead, so only fixes
  // known at the announcement go in.
  physical: {
    bucket: 'physical',
    team: 'infrastructure',
    stem: (index) => `colo-${pad(index, 2)}`,
    labels: (_image, index) => ({ role: ['storage', 'build', 'edge'][index % 3]!, location: 'colo' }),
    images: 'one-per-host',
    sessions: (from, until, host) => monthlyAfterPatchTuesday(from, until, 13 + (host.index % 3)),
    lagDays: 14,
    reboots: (host) => !host.neverReboots,
    initialUptimeDays: (host, random) => (host.neverReboots ? 412 - 90 : 10 + random() * 25),
  },
};

/** How many hosts each team gets: most are nodes, a handful physical (the seed has about 6). */
function teamSizes(hosts: number): Array<{ team: Team; count: number }> {
  const physical = Math.min(6, Math.max(hosts >= 4 ? 1 : 0, Math.round(hosts * 0.03)));
  const databases = Math.max(hosts >= 3 ? 1 : 0, Math.round(hosts * 0.17));
  const stateless = Math.max(hosts >= 2 ? 1 : 0, Math.round(hosts * 0.28));
  const nodes = Math.max(0, hosts - physical - databases - stateless);
  return [
    { team: TEAMS.nodes, count: nodes },
    { team: TEAMS.stateless, count: stateless },
    { team: TEAMS.databases, count: databases },
    { team: TEAMS.physical, count: physical },
  ];
}

const SEVERITY_MIX: Array<{ severity: Severity; weight: number }> = [
  { severity: 'critical', weight: 0.05 },
  { severity: 'high', weight: 0.27 },
  { severity: 'medium', weight: 0.45 },
  { severity: 'low', weight: 0.23 },
];

/** The share of the other simulated packages an image carries: not every service runs every library. */
const CARRIED_SHARE = 0.5;

/** Packages every image carries: a vulnerability in them reaches every host (the what-if's openssl). */
const EVERYWHERE = new Set(['openssl', 'glibc', 'libc6', 'linux', 'kernel', 'kernel-core', 'systemd', 'zlib']);

/** A simulated package with a vulnerable build every host starts on and the fix this machine runs. */
interface SimulatedPackage {
  fixed: InstalledPackage;
  vulnerable: InstalledPackage;
  advisory: Advisory;
  everywhere: boolean;
}

/** One simulated kernel release; the first is what every host boots at the start of the history. */
interface SimulatedKernel {
  image: InstalledPackage;
  release: string;
  /** The advisory this kernel fixes (none for the first). */
  advisory?: Advisory;
}

/**
 * @example demoFleet(localInventory, { hosts: 200, advisories: 40, seed: 2026, now: new Date() })
 */
export function demoFleet(base: HostInventory, options: DemoFleetOptions): DemoFleet {
  const random = seededRandom(options.seed);
  const now = options.now.getTime();
  const start = now - (options.historyDays ?? 90) * DAY_MS;
  // The simulated hosts boot simulated kernels, not this machine's.
  const ordinary = base.packages.filter((pkg) => {
    const scheme = versionSchemeFor(pkg.ecosystem);
    return scheme === undefined || !isKernelPackage(pkg, scheme);
  });
  const kernels = simulatedKernels(base, start, now);
  const packageAdvisories = Math.max(0, options.advisories - Math.max(0, kernels.length - 1));
  const simulated = simulatedPackages(ordinary.filter((pkg) => versionSchemeFor(pkg.ecosystem) !== undefined), packageAdvisories, start, now, random);
  const advisories = [...simulated.map((pkg) => pkg.advisory), ...kernels.flatMap((kernel) => (kernel.advisory ? [kernel.advisory] : []))]
    .sort((a, b) => a.published!.getTime() - b.published!.getTime());
  // Numbered in publication order, as a real feed's ids grow.
  advisories.forEach((advisory, index) => {
    advisory.id = `SIM-${advisory.published!.getUTCFullYear()}-${String(1000 + index)}`;
    advisory.aliases = [`CVE-${advisory.published!.getUTCFullYear()}-9${String(1000 + index)}`];
  });
  const knownExploited = exploitedInTheWild(advisories, random);

  const bySimulatedPackage = new Map(simulated.map((pkg) => [pkg.fixed, pkg]));
  const hosts: DemoFleet['hosts'] = [];
  const checkIns: DemoEvent[] = [];
  for (const { team, count } of teamSizes(options.hosts)) {
    const carriedBy = new Map<string, Set<SimulatedPackage>>();
    for (let index = 0; index < count; index++) {
      const image = team.images === 'one-per-host' ? `host-${index}` : team.images[index % team.images.length]!;
      if (!carriedBy.has(image)) carriedBy.set(image, new Set(simulated.filter((pkg) => pkg.everywhere || random() < CARRIED_SHARE)));
      const habits: HostHabits = {
        index,
        phase: Math.floor(random() * (team === TEAMS.nodes ? NODE_ROTATION_NIGHTS : DATABASE_ROTATION_SESSIONS)),
        diligence: team === TEAMS.databases ? 0.75 : 1,
        neverReboots: team === TEAMS.physical && index === 0,
        skipsReboots: team === TEAMS.databases && random() < 0.5,
      };
      const host = simulatedHost(base, team, habits, image, { ordinary, bySimulatedPackage, carried: carriedBy.get(image)!, kernels, start, now, random });
      checkIns.push(...host.checkIns);
      const last = host.checkIns.at(-1)!;
      if (last.kind === 'check-in') hosts.push({ inventory: last.inventory, lastSeenAt: last.at });
    }
  }
  const publications: DemoEvent[] = advisories.map((advisory) => ({ kind: 'publish', at: advisory.published!, advisories: [advisory] }));
  // A stable sort keeps publications ahead of check-ins at the same instant.
  const timeline = [...publications, ...checkIns].sort((a, b) => a.at.getTime() - b.at.getTime());
  return { advisories, knownExploited, hosts, timeline };
}

/**
 * Picks the packages that get a simulated advisory. The vulnerable build sorts just below the
 * version this machine runs (`~pre1`, `_pre1`), which is the fix; packages whose scheme orders no
 * such build are skipped.
 */
function simulatedPackages(candidates: InstalledPackage[], count: number, start: number, now: number, random: Random): SimulatedPackage[] {
  const shuffled = candidates.map((pkg) => ({ pkg, order: random() })).sort((a, b) => a.order - b.order).map(({ pkg }) => pkg);
  // The what-if's story needs OpenSSL among them when this machine has it.
  shuffled.sort((a, b) => Number(isOpenssl(b)) - Number(isOpenssl(a)));
  const chosen: SimulatedPackage[] = [];
  const seenIdentities = new Set<string>();
  for (const fixed of shuffled) {
    if (chosen.length >= count) break;
    const scheme = versionSchemeFor(fixed.ecosystem)!;
    const identity = matchIdentity(fixed, scheme);
    if (seenIdentities.has(identity.name)) continue;
    const vulnerable = earlierBuild(fixed, scheme);
    if (!vulnerable) continue;
    seenIdentities.add(identity.name);
    // Most advisories spread over the history; the newest are a day or two old, as on any Monday.
    const published = new Date(start + 2 * DAY_MS + random() * (now - start - 2.5 * DAY_MS));
    chosen.push({
      fixed,
      vulnerable,
      everywhere: EVERYWHERE.has(identity.name) || EVERYWHERE.has(fixed.name),
      advisory: simulatedAdvisory(identity.ecosystem, identity.name, identity.version, pickWeighted(SEVERITY_MIX, random).severity, published),
    });
  }
  // A fleet of this size sees about one critical advisory a quarter: make sure the demo has one.
  if (chosen.length > 0 && !chosen.some((pkg) => pkg.advisory.severity === 'critical')) {
    chosen[Math.floor(random() * chosen.length)]!.advisory.severity = 'critical';
  }
  return chosen;
}

function isOpenssl(pkg: InstalledPackage): boolean {
  return (pkg.sourceName ?? pkg.name) === 'openssl' || pkg.name === 'openssl-libs';
}

/** The build of `pkg` just before it, in the ordering of its scheme; undefined when none is found. */
function earlierBuild(pkg: InstalledPackage, scheme: VersionScheme): InstalledPackage | undefined {
  const earlier = (version: string) => (scheme === 'apk' ? version.replace(/(-r\d+)$/, '_pre1$1') : `${version}~pre1`);
  const comparator = comparatorFor(scheme);
  const version = earlier(pkg.version);
  if (version === pkg.version || comparator.compare(version, pkg.version) >= 0) return undefined;
  const build: InstalledPackage = { ...pkg, version };
  if (pkg.sourceVersion !== undefined) {
    const sourceVersion = earlier(pkg.sourceVersion);
    if (comparator.compare(sourceVersion, pkg.sourceVersion) >= 0) return undefined;
    build.sourceVersion = sourceVersion;
  }
  return build;
}

/** A simulated advisory, numbered (id and CVE alias) once every advisory is dated. */
function simulatedAdvisory(ecosystem: string, name: string, fixedVersion: string, severity: Severity, published: Date): Advisory {
  return {
    id: 'SIM-unnumbered',
    aliases: [],
    related: [],
    modified: published,
    published,
    summary: `[simulated] ${name}: demonstration advisory`,
    severity,
    cvss: [],
    affected: [{ ecosystem, name, versions: [], ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: fixedVersion }] }] }],
    references: [],
  };
}

/**
 * Kernel releases over the history, for Debian/Ubuntu and rpm hosts: each after the first fixes
 * one simulated advisory, and a host that installs it runs it only after a reboot. The builds are
 * old enough that this machine's own kernel, if it has one, is past every simulated fix.
 */
function simulatedKernels(base: HostInventory, start: number, now: number): SimulatedKernel[] {
  const ecosystem = base.osEcosystem ?? base.packages[0]?.ecosystem;
  const scheme = ecosystem ? versionSchemeFor(ecosystem) : undefined;
  if (!ecosystem || (scheme !== 'dpkg' && scheme !== 'rpm')) return [];
  const releasedDaysAgo = [Number.POSITIVE_INFINITY, 70, 38, 9];
  const builds = scheme === 'dpkg'
    ? [['6.1.0-21', '6.1.90-1'], ['6.1.0-22', '6.1.94-1'], ['6.1.0-23', '6.1.99-1'], ['6.1.0-25', '6.1.106-3']]
    : [['', '5.14.0-362.8.1.el9_3'], ['', '5.14.0-362.13.1.el9_3'], ['', '5.14.0-362.18.1.el9_3'], ['', '5.14.0-362.24.1.el9_3']];
  return builds.map(([abi, version], index): SimulatedKernel => {
    const image: InstalledPackage = scheme === 'dpkg'
      ? { ecosystem, name: `linux-image-${abi!}-amd64`, version: version!, arch: 'amd64', sourceName: 'linux', sourceVersion: version! }
      : { ecosystem, name: 'kernel-core', version: version!, arch: 'x86_64' };
    const release = scheme === 'dpkg' ? `${abi!}-amd64` : `${version!}.x86_64`;
    const daysAgo = releasedDaysAgo[index]!;
    if (!Number.isFinite(daysAgo)) return { image, release };
    const identity = matchIdentity(image, scheme);
    const published = new Date(Math.max(start + DAY_MS, now - daysAgo * DAY_MS));
    return { image, release, advisory: simulatedAdvisory(identity.ecosystem, identity.name, identity.version, 'high', published) };
  });
}

/** A few high and critical advisories are listed as known exploited a day or three after publication. */
function exploitedInTheWild(advisories: Advisory[], random: Random): KevEntry[] {
  const severe = advisories.filter((advisory) => advisory.severity === 'critical' || advisory.severity === 'high');
  const listed = severe.filter((advisory, index) => advisory.severity === 'critical' || index % 4 === 1);
  return listed.map((advisory) => {
    const added = new Date(advisory.published!.getTime() + (1 + Math.floor(random() * 3)) * DAY_MS);
    return {
      cveId: advisory.aliases[0]!,
      dateAdded: isoDate(added),
      dueDate: isoDate(new Date(added.getTime() + 21 * DAY_MS)),
      knownRansomwareCampaignUse: false,
      vendorProject: 'fleetpatch simulator',
      product: `[simulated] ${advisory.affected[0]!.name}`,
    };
  });
}

interface HostWorld {
  ordinary: InstalledPackage[];
  bySimulatedPackage: Map<InstalledPackage, SimulatedPackage>;
  carried: Set<SimulatedPackage>;
  kernels: SimulatedKernel[];
  start: number;
  now: number;
  random: Random;
}

/**
 * One host's history: it enrolls at the start on the vulnerable builds and the first kernel, then
 * at each of its team's sessions installs every fix old enough for the team and, if the team
 * reboots, boots the newest kernel. It checks in when that changes something, and once more
 * shortly before now — unless its agent stopped a few days ago (a stale host).
 */
function simulatedHost(base: HostInventory, team: Team, habits: HostHabits, image: string, world: HostWorld): { checkIns: DemoEvent[] } {
  const { random, start, now, kernels } = world;
  const hostname = `sim-${team.stem(habits.index, image)}`;
  const labels = { simulated: 'true', bucket: team.bucket, team: team.team, env: random() < 0.85 ? 'production' : 'staging', ...team.labels(image, habits.index) };
  const stoppedAt = random() < 0.03 ? now - (2 + random() * 4) * DAY_MS : undefined;
  const enrolledAt = start + random() * 6 * HOUR_MS;
  const installed = new Set<SimulatedPackage>();
  let kernelsInstalled = kernels.length > 0 ? [kernels[0]!] : [];
  let running = kernels[0];
  let bootTime = enrolledAt - team.initialUptimeDays(habits, random) * DAY_MS;

  const inventoryAt = (at: number): HostInventory => {
    const packages: InstalledPackage[] = [];
    const availableUpdates: AvailableUpdate[] = [];
    for (const pkg of world.ordinary) {
      const simulatedPackage = world.bySimulatedPackage.get(pkg);
      if (!simulatedPackage) packages.push(pkg);
      else if (!world.carried.has(simulatedPackage)) continue;
      else if (installed.has(simulatedPackage)) packages.push(pkg);
      else {
        packages.push(simulatedPackage.vulnerable);
        // The repository has carried the fix since the advisory: the package manager offers it.
        if (simulatedPackage.advisory.published!.getTime() <= at) availableUpdates.push(updateOf(simulatedPackage.vulnerable, pkg.version));
      }
    }
    packages.push(...kernelsInstalled.map((kernel) => kernel.image));
    const newestPublished = [...kernels].reverse().find((kernel) => (kernel.advisory?.published?.getTime() ?? 0) <= at);
    if (newestPublished && !kernelsInstalled.includes(newestPublished)) availableUpdates.push({ name: newestPublished.image.name, ...(newestPublished.image.arch ? { arch: newestPublished.image.arch } : {}), candidateVersion: newestPublished.image.version, repository: 'simulated' });
    const newestInstalled = kernelsInstalled.at(-1);
    return {
      ...base,
      hostname,
      packages,
      kernel: running ? { running: running.release, installed: kernelsInstalled.map((kernel) => kernel.image) } : { installed: [] },
      rebootRequired: running !== undefined && running !== newestInstalled,
      bootTime: new Date(bootTime),
      labels: team === TEAMS.stateless ? { ...labels, 'image-id': `sim-image-${isoDate(new Date(bootTime))}` } : labels,
      availableUpdates,
    };
  };

  const checkIns: DemoEvent[] = [{ kind: 'check-in', at: new Date(enrolledAt), inventory: inventoryAt(enrolledAt) }];
  const lastInstant = stoppedAt ?? now - HOUR_MS;
  for (const session of team.sessions(new Date(enrolledAt + HOUR_MS), new Date(lastInstant), habits)) {
    const at = session.getTime();
    if (random() >= habits.diligence) continue;
    const ripe = (published: Date | undefined) => published !== undefined && published.getTime() <= at - team.lagDays * DAY_MS;
    let changed = false;
    for (const pkg of world.carried) {
      if (!installed.has(pkg) && ripe(pkg.advisory.published)) {
        installed.add(pkg);
        changed = true;
      }
    }
    const newestRipe = [...kernels].reverse().find((kernel) => kernel === kernels[0] || ripe(kernel.advisory?.published));
    if (newestRipe && !kernelsInstalled.includes(newestRipe)) {
      // The package manager keeps the running kernel and the newest one.
      kernelsInstalled = [...new Set([running!, newestRipe])];
      changed = true;
    }
    if (!changed) continue;
    // A session installs in minutes; the reboot that makes a kernel live follows within the window.
    const finished = at + (5 + random() * 20) * 60_000;
    if (team.reboots(habits, random)) {
      running = kernelsInstalled.at(-1);
      kernelsInstalled = running ? [running] : [];
      bootTime = finished;
    }
    checkIns.push({ kind: 'check-in', at: new Date(finished), inventory: inventoryAt(finished) });
  }
  if (stoppedAt === undefined) {
    const at = now - random() * 50 * 60_000;
    checkIns.push({ kind: 'check-in', at: new Date(at), inventory: inventoryAt(at) });
  }
  return { checkIns };
}

function updateOf(installed: InstalledPackage, candidateVersion: string): AvailableUpdate {
  return { name: installed.name, ...(installed.arch ? { arch: installed.arch } : {}), installedVersion: installed.version, candidateVersion, repository: 'simulated' };
}

/** Every day between two instants at hour:minute UTC. */
function dailyAt(from: Date, until: Date, hour: number, minute: number): Date[] {
  const days: Date[] = [];
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate(), hour, minute));
  for (; day <= until; day.setUTCDate(day.getUTCDate() + 1)) if (day >= from) days.push(new Date(day));
  return days;
}

/** The given weekdays (0 = Sunday) between two instants at hour:00 UTC plus some minutes. */
function weeklyAt(from: Date, until: Date, weekdays: number[], hour: number, minutes: number): Date[] {
  return dailyAt(from, until, hour, 0).filter((day) => weekdays.includes(day.getUTCDay())).map((day) => new Date(day.getTime() + minutes * 60_000));
}

/** The Saturday after each month's second Tuesday, at hour:00 UTC, between two instants. */
function monthlyAfterPatchTuesday(from: Date, until: Date, hour: number): Date[] {
  const sessions: Date[] = [];
  for (let month = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1)); month <= until; month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1))) {
    const firstTuesday = 1 + ((2 - month.getUTCDay() + 7) % 7);
    const session = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), firstTuesday + 7 + 4, hour));
    if (session >= from && session <= until) sessions.push(session);
  }
  return sessions;
}

function pad(index: number, width: number): string {
  return String(index + 1).padStart(width, '0');
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}
