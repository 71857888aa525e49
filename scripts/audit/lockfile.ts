// Every third-party package a package-lock.json (lockfileVersion 2 or 3) installs: name, version, where, and
// whether only development installs get it. Workspace links and the workspaces themselves are the project's own.

export interface LockedPackage {
  readonly name: string;
  readonly version: string;
  readonly path: string;
  readonly dev: boolean;
}

interface LockEntry {
  name?: string;
  version?: string;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
}

export function lockedPackages(lock: {
  lockfileVersion?: number;
  packages?: Record<string, LockEntry>;
}): LockedPackage[] {
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2)
    throw new Error('package-lock.json without a "packages" map (lockfileVersion 2 or 3 needed)');
  const out: LockedPackage[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf('node_modules/');
    // '' is the root; paths outside node_modules are workspaces; links point at workspaces.
    if (at < 0 || entry.link || !entry.version) continue;
    out.push({
      name: entry.name ?? path.slice(at + 'node_modules/'.length),
      version: entry.version,
      path,
      dev: entry.dev === true || entry.devOptional === true,
    });
  }
  return out;
}
