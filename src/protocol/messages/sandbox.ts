/**
 * Sandbox intent as it travels on `process/start` and `fs/*`
 * (`FileSystemSandboxContext`): camelCase at the top, snake_case inside
 * `permissions`, internally tagged enums. Unknown keys are ignored, as the
 * reference does.
 */
import { z } from "zod";
import { bool, describeValue, lazy, MISSING, opt, seq, str, struct, u64, variant } from "../serde.ts";
import { describeUrlFailure } from "../url-errors.ts";

/**
 * A serde internally tagged enum: `tag` names the variant, whose own fields
 * sit beside it. Errors read like serde's (`unknown variant`, `missing field`).
 */
function tagged<const T extends string, const V extends Record<string, z.ZodType>>(tag: T, variants: V) {
  const names = Object.keys(variants);
  const list = names.length === 2 ? `\`${names[0]}\` or \`${names[1]}\`` : `one of ${names.map((n) => `\`${n}\``).join(", ")}`;
  return z.unknown().transform((value, ctx) => {
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: MISSING }); // reported as `missing field` of the containing struct
      return z.NEVER;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      ctx.addIssue({ code: "custom", message: `invalid type: ${describeValue(value)}, expected internally tagged enum` });
      return z.NEVER;
    }
    const kind = (value as Record<string, unknown>)[tag];
    if (kind === undefined) {
      ctx.addIssue({ code: "custom", message: `missing field \`${tag}\`` });
      return z.NEVER;
    }
    if (typeof kind !== "string" || !names.includes(kind)) {
      ctx.addIssue({ code: "custom", message: `unknown variant \`${String(kind)}\`, expected ${list}` });
      return z.NEVER;
    }
    const parsed = variants[kind]!.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path as PropertyKey[] });
      return z.NEVER;
    }
    return { ...(parsed.data as object), [tag]: kind } as { [K in keyof V]: z.output<V[K]> & { [P in T]: K } }[keyof V];
  });
}

const subpath = lazy(() => opt(str()));

/**
 * A URI field of the context: the reference reads it as a URL, so one that
 * does not parse is a params error (`invalid URI: relative URL without a
 * base`), reported in field order before any missing field. Whether it names
 * a path on this host is checked where it is used (policy.ts).
 */
const uri = () =>
  str().superRefine((v, ctx) => {
    if (!URL.canParse(v)) ctx.addIssue({ code: "custom", message: `invalid URI: ${describeUrlFailure(v)}` });
  });

export const SpecialPath = lazy(() =>
  tagged("kind", {
    root: z.object({}),
    minimal: z.object({}),
    current_working_directory: z.object({ subpath }),
    project_roots: z.object({ subpath }),
    tmpdir: z.object({}),
    slash_tmp: z.object({}),
    unknown: struct("Unknown", { path: str(), subpath }),
  }),
);

export const SandboxPath = lazy(() =>
  tagged("type", {
    path: struct("Path", { path: uri() }),
    glob_pattern: struct("GlobPattern", { pattern: str() }),
    special: struct("Special", { value: SpecialPath }),
  }),
);

export const SandboxEntry = lazy(() =>
  struct("FileSystemSandboxEntry", {
    path: SandboxPath,
    access: variant(["read", "write", "deny", "none"]),
    missing_path_behavior: opt(variant(["skip"])),
  }),
);
export type SandboxEntry = z.infer<typeof SandboxEntry>;

export const NetworkAccess = lazy(() => variant(["restricted", "enabled"]));

export const FileSystemPolicy = lazy(() =>
  tagged("type", {
    restricted: struct("Restricted", {
      entries: seq(SandboxEntry),
      glob_scan_max_depth: opt(u64().refine((n) => n >= 1, { message: "glob_scan_max_depth must be at least 1" })),
    }),
    unrestricted: z.object({}),
  }),
);

export const PermissionProfile = lazy(() =>
  tagged("type", {
    managed: struct("Managed", { file_system: FileSystemPolicy, network: NetworkAccess }),
    disabled: z.object({}),
    external: struct("External", { network: NetworkAccess }),
  }),
);
export type PermissionProfile = z.infer<typeof PermissionProfile>;

const PolicyContext = lazy(() => struct("PolicyContext", { cwd: opt(uri()), workspaceRoots: opt(seq(uri())) }));

/** The context's fields; `cwd` is required on `capabilities/discoverV2` (`FileSystemSandboxContext`), optional elsewhere. */
const contextShape = <C extends z.ZodType>(cwd: C) => ({
  permissions: PermissionProfile,
  windowsSandboxLevel: variant(["disabled", "restricted-token", "elevated", "mxc"]),
  cwd,
  workspaceRoots: opt(seq(uri())),
  policyContext: opt(PolicyContext),
  userHomeDir: opt(uri()),
  temporaryDirectories: opt(seq(uri())),
  windowsSandboxPrivateDesktop: opt(bool()),
  windowsSandboxProxySettingsMode: opt(str()),
  useLegacyLandlock: opt(bool()),
});

/**
 * `sandboxOverride` is read and checked as the reference reads it (a unit
 * enum with a default: `null` and unknown names are refused), and changes
 * nothing an executor enforces: the reference gives the same bwrap argv for
 * all three (probed, 0.169.0 and 0.171.0). It is not counted among the
 * struct's elements (the reference reads an array context by other rules).
 */
const SandboxOverride = lazy(() => variant(["noOverride", "escalatedSandboxWithRestrictions", "bypassSandboxFirstAttempt"]));

export const SandboxContext = lazy(() =>
  z
    .unknown()
    .superRefine((value, ctx) => {
      if (value === null || typeof value !== "object" || !("sandboxOverride" in value)) return;
      const parsed = SandboxOverride.safeParse((value as { sandboxOverride: unknown }).sandboxOverride);
      for (const issue of parsed.success ? [] : parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: ["sandboxOverride"] });
    })
    .pipe(struct("WireFileSystemSandboxContext", contextShape(opt(uri())))),
);
/** `capabilities/discoverV2.sandbox`: the same context with a required `cwd`, and one field fewer (9, as probed). */
export const DiscoverySandboxContext = lazy(() => {
  const { useLegacyLandlock: _, ...shape } = contextShape(uri());
  return struct("FileSystemSandboxContext", shape);
});
export type SandboxContext = z.infer<typeof SandboxContext>;

/** Element order as the reference reads an array (`[true]` sets `transparentTcp`); every field may be left out. */
export const ManagedNetwork = lazy(() =>
  struct(
    "ManagedNetworkSandboxContext",
    {
      /** 0.171.0: route the sandbox's raw TCP through the managed proxy's SOCKS listener (a boolean; `null` is refused, as the reference). */
      transparentTcp: bool().optional(),
      // A port past 65535 is `invalid number` on the reference, as any out-of-range integer.
      loopbackPorts: opt(seq(u64().refine((n) => n <= 65535, { message: "invalid number" }))),
      allowLocalBinding: opt(bool()),
    },
    { seqDefaults: true },
  ),
);
export type ManagedNetwork = z.infer<typeof ManagedNetwork>;
