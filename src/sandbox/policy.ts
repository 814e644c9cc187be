/**
 * Sandbox intent (the wire `FileSystemSandboxContext`) resolved to native
 * paths on this host: what may be read, written, what is masked, and whether
 * the network is cut. Pure apart from `existsSync`/`statSync` checks and the
 * deny-glob scan; enforcement lives in the platform backends.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { ErrorCode, RpcError, invalidParams, invalidRequest } from "../protocol/errors.ts";
import { type NativePath, displayPath, parsePathUri } from "../protocol/path-uri.ts";
import { CANNOT_ENFORCE } from "./launch.ts";
import { refuseWritableSymlinks } from "./writable-symlinks.ts";
import { type GlobBudget, SCAN_DIRECTORY_STEPS, SCAN_ENTRY_STEPS, compileGlob, globBudget, spendSteps } from "./glob-match.ts";
import type { SandboxContext, SandboxEntry } from "../protocol/messages/sandbox.ts";

export type Access = "read" | "write" | "deny";

/** Names kept read-only under every writable root unless granted write exactly (the reference's list). */
export const PROTECTED_NAMES = [".git", ".agents", ".codex", ".aws"] as const;
/** What `minimal` grants on Linux: the read-only runtime, where present. */
export const MINIMAL_LINUX_ROOTS = ["/bin", "/sbin", "/usr", "/etc", "/lib", "/lib64"];
/** Deny globs are expanded by walking this deep when the policy names no `glob_scan_max_depth`. */
export const DEFAULT_GLOB_SCAN_DEPTH = 8;

/**
 * `placeholder`: the path does not exist yet but lies where the command could
 * create it (under a writable root), so enforcing the rule means holding an
 * empty stand-in there for the run: a directory for a protected name, a file
 * for a read-only or denied path (as the reference's `--ro-bind-data`).
 */
export type PathRule = { path: string; access: Access; placeholder?: Placeholder };

/** A stand-in to make: its kind, and the writable root it is made under (no symlink followed below it). */
export type Placeholder = { kind: "dir" | "file"; root: string };

/** A file-system view to enforce. Rules are sorted shallow → deep, so later ones win inside earlier ones. */
export type FsView = {
  fullRead: boolean;
  fullWrite: boolean;
  rules: PathRule[];
  /** `minimal` was granted (on Linux already expanded into rules; macOS adds its platform defaults). */
  minimal?: boolean;
};

export type SandboxPlan =
  /** No sandbox requested: run as is, `sandboxType: "none"`. */
  | { kind: "none" }
  /** A sandbox was requested but restricts nothing here (disabled profile, or unrestricted with network). */
  | { kind: "unrestricted" }
  /** Enforce: a file-system view (null: the whole disk writable) and/or a cut network. */
  | { kind: "enforce"; view: FsView | null; network: "restricted" | "enabled" };

export type ResolveInput = {
  context: SandboxContext;
  /** The request's cwd (native), the default policy cwd. */
  cwd: string;
  /** The environment the sandboxed program gets (`tmpdir` binds to its TMPDIR). */
  env: Record<string, string>;
};

export function resolveSandbox(sandbox: SandboxContext | null | undefined, input: Omit<ResolveInput, "context">): SandboxPlan {
  if (!sandbox) return { kind: "none" };
  const p = sandbox.permissions;
  if (p.type === "disabled") return { kind: "unrestricted" };
  if (p.type === "external") return p.network === "enabled" ? { kind: "unrestricted" } : { kind: "enforce", view: null, network: "restricted" };
  if (p.file_system.type === "unrestricted") {
    return p.network === "enabled" ? { kind: "unrestricted" } : { kind: "enforce", view: null, network: "restricted" };
  }
  const view = resolveView({ context: sandbox, ...input }, p.file_system.entries, p.file_system.glob_scan_max_depth ?? DEFAULT_GLOB_SCAN_DEPTH);
  if (view.fullWrite && p.network === "enabled") return { kind: "unrestricted" };
  return { kind: "enforce", view: view.fullWrite ? null : view, network: p.network };
}

function resolveView(input: ResolveInput, entries: SandboxEntry[], globDepth: number): FsView {
  // Read only when an entry needs it: the reference does not look at a cwd no entry depends on.
  const policyCwd = () => nativeUri(input.context.policyContext?.cwd ?? input.context.cwd, "sandbox cwd") ?? input.cwd;
  // An entry that depends on the cwd needs it valid here, even where it adds no path (the reference's order).
  if (entries.some(dependsOnCwd)) policyCwd();
  const roots = () => (input.context.policyContext?.workspaceRoots ?? input.context.workspaceRoots ?? []).map((u) => nativeUri(u, "sandbox workspace root")!);
  const granted = new Map<string, Access>();
  // One budget for all of the policy's deny globs, so many of them cannot stall a launch either.
  const globSteps = globBudget();
  const grant = (path: string, access: Access) => {
    const key = normalize(path);
    const before = granted.get(key);
    // On the same path the stronger restriction wins: deny > write > read.
    if (before === undefined || rank(access) > rank(before)) granted.set(key, access);
  };
  let narrowed = false;
  for (const entry of entries) {
    const access: Access = entry.access === "none" ? "deny" : entry.access;
    const paths = entryPaths(entry, { policyCwd, roots, env: input.env, globDepth, globSteps });
    if (narrows(entry, access, paths)) narrowed = true;
    for (const path of paths) {
      // A missing read-only path still matters under a writable root (it must not be created); elsewhere skipping is harmless.
      if (entry.missing_path_behavior === "skip" && access === "write" && !existsSync(path)) continue;
      grant(path, access);
    }
  }
  const fullRead = granted.get("/") === "read" || granted.get("/") === "write";
  // `/` writable and nothing narrower (more write entries change nothing): the whole disk, as the reference treats it.
  if (granted.get("/") === "write" && !narrowed) return { fullRead: true, fullWrite: true, rules: [] };
  // Protected metadata under every writable root stays read-only unless granted write on the exact path.
  const placeholders = new Map<string, Placeholder>();
  for (const [path, access] of [...granted]) {
    if (access !== "write" || !existsSync(path)) continue;
    for (const name of PROTECTED_NAMES) {
      const p = join(path, name);
      if (granted.has(p)) continue;
      granted.set(p, "read");
      if (!existsSync(p)) placeholders.set(p, { kind: "dir", root: path });
    }
  }
  holdMissingCarveOuts(granted, placeholders);
  // A writable `/` stays a rule (bwrap binds the root read-write; Landlock and Seatbelt see a writable root).
  if (granted.get("/") !== "write") granted.delete("/");
  const rules = [...granted]
    .map(([path, access]): PathRule => {
      const placeholder = placeholders.get(path);
      return placeholder ? { path, access, placeholder } : { path, access };
    })
    .sort((a, b) => depth(a.path) - depth(b.path) || a.path.localeCompare(b.path));
  const minimal = entries.some((e) => e.path.type === "special" && e.path.value.kind === "minimal" && e.access !== "deny" && e.access !== "none");
  refuseWritableSymlinks(rules);
  return { fullRead, fullWrite: false, rules, ...(minimal ? { minimal } : {}) };
}

/**
 * Does this entry take anything away from a writable `/`? As the reference
 * decides it: any deny (a glob too, even one that matches nothing) and any
 * read-only path below `/` do; more write entries, `root`/`minimal` read and
 * ignored kinds do not.
 */
function narrows(entry: SandboxEntry, access: Access, paths: string[]): boolean {
  if (access === "deny") return true;
  if (access === "write") return false;
  const kind = entry.path.type === "special" ? entry.path.value.kind : null;
  return kind !== "minimal" && paths.some((p) => normalize(p) !== "/");
}

/** An entry resolved against the policy cwd: a relative glob, the cwd itself or the project roots. */
export function dependsOnCwd(e: SandboxEntry): boolean {
  if (e.path.type === "glob_pattern") return !e.path.pattern.startsWith("/");
  return e.path.type === "special" && (e.path.value.kind === "project_roots" || e.path.value.kind === "current_working_directory");
}

/**
 * A read-only or denied path that does not exist, inside a writable root,
 * could simply be created by the command: its first missing component (the
 * path itself, or the ancestor whose parent exists) gets an empty stand-in
 * file with the same access, as the reference does. A file there also keeps
 * that ancestor's other would-be children from being created ("Not a
 * directory"): stricter than asked, never looser.
 */
function holdMissingCarveOuts(granted: Map<string, Access>, placeholders: Map<string, Placeholder>): void {
  for (const [path, access] of [...granted]) {
    if (access === "write" || placeholders.has(path) || existsSync(path)) continue;
    const root = governingRule(granted, path);
    if (root === null || granted.get(root) !== "write" || !existsSync(root)) continue;
    let first = path;
    while (!existsSync(dirname(first))) first = dirname(first);
    if (first !== path && granted.has(first)) continue;
    granted.set(first, access);
    placeholders.set(first, { kind: "file", root });
  }
}

/** The nearest strict ancestor of `path` that has a rule ("/" included), or null. */
function governingRule(granted: Map<string, Access>, path: string): string | null {
  for (let p = dirname(path); ; p = dirname(p)) {
    if (granted.has(p)) return p;
    if (p === "/") return null;
  }
}

/** `view` plus read access to `paths` (what must run inside it), unless everything is readable anyway. */
export function withReadable(view: FsView, paths: string[]): FsView {
  if (view.fullRead) return view;
  return withRules(view, paths.map((path) => ({ path, access: "read" as const })));
}

/** `view` plus `extra` rules, kept in shallow → deep order. */
export function withRules(view: FsView, extra: PathRule[]): FsView {
  const rules = [...extra, ...view.rules];
  return { ...view, rules: rules.sort((a, b) => depth(a.path) - depth(b.path) || a.path.localeCompare(b.path)) };
}

type Binding = { policyCwd: () => string; roots: () => string[]; env: Record<string, string>; globDepth: number; globSteps: GlobBudget };

/** The native paths an entry covers on this host (none for what does not apply here). */
function entryPaths(entry: SandboxEntry, b: Binding): string[] {
  const path = entry.path;
  switch (path.type) {
    case "path":
      return [entryUri(path.path)];
    case "glob_pattern":
      // Globs only narrow (deny); a read/write glob is ignored like the reference does.
      return entry.access === "deny" || entry.access === "none" ? expandGlob(path.pattern, b.policyCwd(), b.globDepth, b.globSteps) : [];
    case "special": {
      const v = path.value;
      switch (v.kind) {
        case "root":
          return ["/"];
        case "minimal":
          return MINIMAL_LINUX_ROOTS.filter((p) => existsSync(p));
        case "project_roots":
        case "current_working_directory":
          // As the reference: with no workspace roots, project_roots grants nothing.
          return b.roots().map((r) => (v.subpath ? join(r, v.subpath) : r));
        case "tmpdir":
          return b.env.TMPDIR && isAbsolute(b.env.TMPDIR) ? [b.env.TMPDIR] : [];
        case "slash_tmp":
          return isDirectory("/tmp") ? ["/tmp"] : [];
        default:
          return []; // `unknown` kinds are ignored, as the reference does
      }
    }
  }
}

/** A context URI as a native path, with parsePathUri's own errors (the reference's texts and codes). */
function nativeUri(uri: string | null | undefined, label: string): string | undefined {
  return uri === null || uri === undefined ? undefined : textPath(parsePathUri(uri), label);
}

/** Policies hold paths as text; a lossy one would grant or deny a different file, so one that is not UTF-8 is refused. */
function textPath(path: NativePath, label: string): string {
  if (typeof path !== "string") throw invalidParams(`${CANNOT_ENFORCE}: ${label} \`${displayPath(path)}\` is not UTF-8`);
  return path;
}

/** An entry's path; one for another host is -32600 with the reference's prefix. */
function entryUri(uri: string): string {
  let path: NativePath;
  try {
    path = parsePathUri(uri);
  } catch (e) {
    if (e instanceof RpcError && e.code === ErrorCode.InvalidRequest) throw invalidRequest(`invalid sandbox permission path URI: ${e.message}`);
    throw e;
  }
  return textPath(path, "sandbox entry");
}

/**
 * Paths matching a git-style glob, found by walking from its static prefix
 * at most `maxDepth` levels down (`*`/`?` within a component, `**` any depth).
 */
export function expandGlob(pattern: string, cwd: string, maxDepth: number, budget: GlobBudget = globBudget()): string[] {
  const absolute = isAbsolute(pattern) ? pattern : join(cwd, pattern);
  const parts = absolute.split(sep).filter(Boolean);
  const firstGlob = parts.findIndex((p) => /[*?[]/.test(p));
  if (firstGlob < 0) return [absolute];
  const base = `/${parts.slice(0, firstGlob).join("/")}`;
  const matcher = compileGlob(absolute, budget);
  const out: string[] = [];
  // No silent entry cap: a scan cut short would leave matches unmasked. The step budget bounds the work
  // and refuses (-32602) a tree too big to scan.
  const walk = (dir: string, level: number) => {
    if (level > maxDepth) return;
    let names: import("node:fs").Dirent[];
    try {
      names = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    spendSteps(budget, pattern, SCAN_DIRECTORY_STEPS + SCAN_ENTRY_STEPS * names.length);
    for (const d of names) {
      const p = join(dir, d.name);
      if (matcher.test(p)) out.push(p);
      if (d.isDirectory()) walk(p, level + 1);
    }
  };
  walk(base, 1);
  return out;
}

function rank(a: Access): number {
  return a === "deny" ? 2 : a === "write" ? 1 : 0;
}

function depth(path: string): number {
  return path.split(sep).filter(Boolean).length;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
