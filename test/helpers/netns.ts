/**
 * Linux network namespaces for cross-host tests: a star of namespaces joined by veth pairs, made
 * and removed with iproute2 (`ip`), as root.
 *
 * Everything stays inside the namespaces created here: the veth pairs are created directly inside
 * the hub namespace (`ip -n HUB link add … peer … netns LEAF`), so the host's own network
 * namespace never sees an interface, an address or a packet. Names carry the test process id so
 * that concurrent runs never meet.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

const IP_CANDIDATES = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];

/** The iproute2 `ip` binary, or undefined. */
export function findIp(): string | undefined {
  return IP_CANDIDATES.find((p) => existsSync(p));
}

export interface IpResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs `ip ARGS` synchronously, bounded by `timeoutMs`; never throws. */
export function ipTry(ip: string, args: string[], timeoutMs = 10_000): IpResult {
  try {
    const stdout = execFileSync(ip, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, stdout, stderr: '' };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, stdout: err.stdout ?? '', stderr: (err.stderr ?? '').trim() || err.message };
  }
}

/** Runs `ip ARGS`, throwing with the command and its stderr on failure. */
export function ip(ipBin: string, args: string[], timeoutMs = 10_000): string {
  const r = ipTry(ipBin, args, timeoutMs);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Deletes a namespace of this name if one is left over (e.g. from a killed earlier run); quiet. */
export function deleteNetnsIfPresent(ipBin: string, name: string): void {
  const list = ipTry(ipBin, ['netns', 'list']);
  const present = list.ok && list.stdout.split('\n').some((l) => l.split(/\s/)[0] === name);
  if (!present) return;
  killProcessesIn(ipBin, name);
  ipTry(ipBin, ['netns', 'del', name]);
}

/**
 * SIGKILLs the processes still running inside one of OUR namespaces (processes this test started
 * there and that outlived their own timeouts), by pid.
 */
export function killProcessesIn(ipBin: string, name: string): void {
  const r = ipTry(ipBin, ['netns', 'pids', name]);
  if (!r.ok) return;
  for (const pid of r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number)) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Why namespaces cannot be used here, or undefined when they can: tries, for real, to create a
 * namespace with a veth pair inside it, to run a command in it, and to delete it again.
 * MNIST_LR_NO_NETNS=1 forces the "cannot" answer (to exercise the skip path).
 */
export function netnsUnavailable(probeName: string): string | undefined {
  if (process.env['MNIST_LR_NO_NETNS'] === '1') return 'MNIST_LR_NO_NETNS=1 is set';
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  const uid = process.getuid?.();
  if (uid !== 0) return `network namespaces need root (uid is ${uid})`;
  const ipBin = findIp();
  if (ipBin === undefined) return `iproute2 \`ip\` not found (looked at ${IP_CANDIDATES.join(', ')})`;
  deleteNetnsIfPresent(ipBin, probeName);
  const add = ipTry(ipBin, ['netns', 'add', probeName]);
  if (!add.ok) return `\`ip netns add\` failed: ${add.stderr}`;
  try {
    const veth = ipTry(ipBin, ['-n', probeName, 'link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'pb']);
    if (!veth.ok) return `cannot create a veth pair in a namespace: ${veth.stderr}`;
    const exec = ipTry(ipBin, ['netns', 'exec', probeName, process.execPath, '-e', '0']);
    if (!exec.ok) return `\`ip netns exec\` failed: ${exec.stderr}`;
    return undefined;
  } finally {
    const del = ipTry(ipBin, ['netns', 'del', probeName]);
    if (!del.ok) console.warn(`[netns] could not delete probe namespace ${probeName}: ${del.stderr}`);
  }
}

export interface Spoke {
  /** The leaf namespace. */
  ns: string;
  /** Hub-side interface (in the hub namespace) and its address. */
  hubDev: string;
  hubAddr: string;
  /** Leaf-side interface (in the leaf namespace) and its address. */
  dev: string;
  addr: string;
  /** The /24 of this link, e.g. 10.213.1.0/24. */
  subnet: string;
}

export interface Star {
  ipBin: string;
  hub: string;
  spokes: Spoke[];
  /** Every namespace of the star (hub first): what `destroyStar` removes. */
  names: string[];
}

/**
 * Names of a star of `leaves` namespaces around a hub (nothing is created yet): hub
 * `${prefix}-coord-${tag}`, leaves `${prefix}-w<i>-${tag}`; link i uses `${net}.<i>.0/24` with the
 * hub at .1 and the leaf at .2. Interface names are short (≤ 15 characters) and tagged too.
 */
export function planStar(ipBin: string, prefix: string, tag: string, leaves: number, net = '10.213'): Star {
  const hub = `${prefix}-coord-${tag}`;
  const spokes: Spoke[] = [];
  for (let i = 1; i <= leaves; i++) {
    spokes.push({
      ns: `${prefix}-w${i}-${tag}`,
      hubDev: `vw${i}-${tag}`.slice(0, 15),
      hubAddr: `${net}.${i}.1`,
      dev: `vc-${tag}`.slice(0, 15),
      addr: `${net}.${i}.2`,
      subnet: `${net}.${i}.0/24`,
    });
  }
  return { ipBin, hub, spokes, names: [hub, ...spokes.map((s) => s.ns)] };
}

/** Creates the planned star (after removing leftovers of the same names). Throws on any failure. */
export function createStar(star: Star): void {
  const { ipBin: b, hub } = star;
  for (const name of star.names) deleteNetnsIfPresent(b, name);
  for (const name of star.names) {
    ip(b, ['netns', 'add', name]);
    ip(b, ['-n', name, 'link', 'set', 'lo', 'up']);
  }
  for (const s of star.spokes) {
    // Made inside the hub namespace, the peer end moved straight into the leaf: the host's
    // namespace never holds either end.
    ip(b, ['-n', hub, 'link', 'add', s.hubDev, 'type', 'veth', 'peer', 'name', s.dev, 'netns', s.ns]);
    // No IPv6 link-local addresses: the links carry only the IPv4 traffic of the test (best effort).
    ipTry(b, ['-n', hub, 'link', 'set', 'dev', s.hubDev, 'addrgenmode', 'none']);
    ipTry(b, ['-n', s.ns, 'link', 'set', 'dev', s.dev, 'addrgenmode', 'none']);
    ip(b, ['-n', hub, 'addr', 'add', `${s.hubAddr}/24`, 'dev', s.hubDev]);
    ip(b, ['-n', s.ns, 'addr', 'add', `${s.addr}/24`, 'dev', s.dev]);
    ip(b, ['-n', hub, 'link', 'set', 'dev', s.hubDev, 'up']);
    ip(b, ['-n', s.ns, 'link', 'set', 'dev', s.dev, 'up']);
  }
}

/** Kills what still runs in the star's namespaces and deletes them; returns the names it could not delete. */
export function destroyStar(star: Star): string[] {
  const failed: string[] = [];
  for (const name of star.names) {
    killProcessesIn(star.ipBin, name);
    const list = ipTry(star.ipBin, ['netns', 'list']);
    if (list.ok && !list.stdout.split('\n').some((l) => l.split(/\s/)[0] === name)) continue;
    const del = ipTry(star.ipBin, ['netns', 'del', name]);
    if (!del.ok) failed.push(`${name}: ${del.stderr}`);
  }
  return failed;
}

/** Names of the namespaces that exist now. */
export function listNetns(ipBin: string): string[] {
  const r = ipTry(ipBin, ['netns', 'list']);
  return r.ok ? r.stdout.split('\n').map((l) => l.split(/\s/)[0] ?? '').filter((n) => n !== '') : [];
}

/** Byte counters of an interface inside a namespace. */
export function linkBytes(ipBin: string, ns: string, dev: string): { rx: number; tx: number } {
  const [link] = JSON.parse(ip(ipBin, ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev])) as {
    stats64: { rx: { bytes: number }; tx: { bytes: number } };
  }[];
  return { rx: link!.stats64.rx.bytes, tx: link!.stats64.tx.bytes };
}

export interface Bounded {
  name: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves when the process exits, or after it was SIGKILLed at its deadline. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; ms: number; timedOut: boolean }>;
}

/**
 * Spawns `argv` (stdout and stderr captured together) and SIGKILLs it if it is still running after
 * `timeoutMs`.
 */
export function spawnBounded(name: string, argv: string[], timeoutMs: number, cwd?: string): Bounded {
  const started = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; ms: number; timedOut: boolean }>((resolve) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      output += `\nspawn error: ${e.message}`;
      resolve({ code: null, signal: null, output, ms: Date.now() - started, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, ms: Date.now() - started, timedOut });
    });
  });
  return { name, child, output: () => output, done };
}

/** SIGKILLs a process we spawned if it still runs and waits (bounded) for it to go. */
export async function killBounded(p: Bounded, waitMs = 5_000): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.race([p.done, new Promise((r) => setTimeout(r, waitMs))]);
}
