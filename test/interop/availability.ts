/**
 * Which interop partners are present, and their drivers, loaded only when present.
 *
 * Outside CI a missing partner skips its tests, with a message saying how to install it.
 * With `CI` set (any value but `false` or `0`), a missing partner fails the test instead:
 * CI must never pass by skipping.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import type { TestContext } from 'node:test';

const PYTHON = '/usr/bin/python3';
const ELECTRUM_VERSION = '4.3.4';

const drivers = {
  'electrum-raw': async () => (await import('./partners/electrum.js')).electrumRaw,
  'electrum-peer': async () => (await import('./partners/electrum.js')).electrumPeer,
  lnsocket: async () => (await import('./partners/lnsocket.js')).lnsocketPartner,
  lnmessage: async () => (await import('./partners/lnmessage.js')).lnmessagePartner,
  'node-lightning': async () => (await import('./partners/node-lightning.js')).nodeLightning,
  cln: async () => (await import('./partners/cln.js')).cln,
  ldk: async () => (await import('./partners/ldk.js')).ldk,
};

/** Partners whose driver module checks its own presence (`export function availability()`). */
const selfChecking: Partial<Record<PartnerName, () => Promise<Availability>>> = {
  cln: async () => (await import('./partners/cln.js')).availability(),
  ldk: async () => (await import('./partners/ldk.js')).availability(),
};

export type PartnerName = keyof typeof drivers;
export type PartnerDriver<N extends PartnerName> = Awaited<ReturnType<(typeof drivers)[N]>>;

export interface Availability {
  available: boolean;
  /** What was found (a version) or what went wrong. */
  detail: string;
  /** The version found, when available. */
  version?: string;
  install: string;
}

const NPM: Record<string, { pkg: string; version: string }> = {
  lnsocket: { pkg: 'lnsocket', version: '0.3.3' },
  lnmessage: { pkg: 'lnmessage', version: '0.2.7' },
  'node-lightning': { pkg: '@node-lightning/noise', version: '0.26.1' },
};

function electrumAvailability(): Availability {
  const install = `install Debian's python3-electrum ${ELECTRUM_VERSION} (apt-get install python3-electrum) so that ${PYTHON} can import it`;
  // cwd outside the electrum package: its logging.py would shadow the standard module
  const r = spawnSync(PYTHON, ['-c', 'import electrum.version as v; print(v.ELECTRUM_VERSION)'], {
    cwd: tmpdir(),
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error) return { available: false, detail: `${PYTHON}: ${r.error.message}`, install };
  if (r.status !== 0) return { available: false, detail: `import electrum failed: ${r.stderr.trim().split('\n').pop()}`, install };
  const version = r.stdout.trim();
  return { available: true, detail: `electrum ${version}${writtenFor(version, ELECTRUM_VERSION)}`, version, install };
}

async function npmAvailability(name: string): Promise<Availability> {
  const { pkg, version } = NPM[name];
  const install = `npm install (it is a devDependency: ${pkg}@${version})`;
  try {
    await import(pkg);
    const found = (JSON.parse(readFileSync(createRequire(import.meta.url).resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
    return { available: true, detail: `${pkg} ${found}${writtenFor(found, version)}`, version: found, install };
  } catch (e) {
    return { available: false, detail: `cannot load ${pkg}: ${(e as Error).message}`, install };
  }
}

function writtenFor(found: string, expected: string): string {
  return found === expected ? '' : ` (the drivers were written against ${expected})`;
}

const cache = new Map<PartnerName, Promise<Availability>>();

/** Whether a partner is present (cached). */
export function availability(name: PartnerName): Promise<Availability> {
  let found = cache.get(name);
  if (!found) {
    const check = selfChecking[name];
    found = check ? check() : name.startsWith('electrum') ? Promise.resolve(electrumAvailability()) : npmAvailability(name);
    cache.set(name, found);
  }
  return found;
}

export const inCI = Boolean(process.env.CI) && !['false', '0'].includes(process.env.CI!.toLowerCase());

/**
 * What a test needs is missing: with `CI` set that is a failure (this throws), so CI never
 * passes by skipping; on a developer's machine the test is skipped with `message`.
 */
export function missingOutsideCI(t: TestContext, message: string, what: string): void {
  if (inCI) throw new Error(`${message} (CI is set: a missing ${what} is a failure, not a skip)`);
  t.skip(message);
}

/**
 * The partner's driver, or `undefined` after `t.skip(...)` when it is missing outside CI.
 * In CI a missing partner throws, which fails the test.
 */
export async function requirePartner<N extends PartnerName>(t: TestContext, name: N): Promise<PartnerDriver<N> | undefined> {
  const found = await availability(name);
  if (!found.available) {
    const message = `interop partner ${name} is missing: ${found.detail}; to run these tests, ${found.install}`;
    missingOutsideCI(t, message, 'partner');
    return undefined;
  }
  return (await drivers[name]()) as PartnerDriver<N>;
}

/** Several partners at once: all drivers, or `undefined` (skipped) if any is missing. */
export async function requirePartners<const Ns extends readonly PartnerName[]>(
  t: TestContext,
  ...names: Ns
): Promise<{ [I in keyof Ns]: PartnerDriver<Ns[I]> } | undefined> {
  const out: unknown[] = [];
  for (const name of names) {
    const driver = await requirePartner(t, name);
    if (!driver) return undefined;
    out.push(driver);
  }
  return out as { [I in keyof Ns]: PartnerDriver<Ns[I]> };
}
