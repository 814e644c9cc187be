/**
 * macOS: the Seatbelt profile for a sandbox plan, generated at run time and
 * run with `/usr/bin/sandbox-exec -p <profile> -D<KEY>=<path>… -- <argv>`.
 * Paths travel as `-D` parameters, never inlined (except inside the regexes
 * that keep protected names read-only, which cannot take parameters). The
 * base policy is execbox's own, written from the documented rules: deny by
 * default, then what an ordinary command needs to run.
 */
import { realpathSync } from "node:fs";
import { PROTECTED_NAMES, type FsView } from "./policy.ts";

export const SANDBOX_EXEC = "/usr/bin/sandbox-exec";

const BASE_POLICY = `(version 1)
(deny default)
; processes: run and fork; signal and inspect only inside this sandbox; ps runs outside it
(allow process-exec)
(allow process-fork)
(allow signal (target same-sandbox))
(allow process-info* (target same-sandbox))
(allow process-exec (literal "/bin/ps") (with no-sandbox))
(allow file-write-data (require-all (path "/dev/null") (vnode-type CHARACTER-DEVICE)))
; system information programs ask for
(allow sysctl-read
  (sysctl-name-prefix "hw.")
  (sysctl-name-prefix "kern.")
  (sysctl-name "machdep.cpu.brand_string")
  (sysctl-name "vm.loadavg"))
(allow sysctl-write (sysctl-name "kern.grade_cputype"))
(allow iokit-open (iokit-registry-entry-class "RootDomainUserClient"))
(allow mach-lookup
  (global-name "com.apple.system.opendirectoryd.libinfo")
  (global-name "com.apple.PowerManagement.control")
  (global-name "com.apple.cfprefsd.daemon")
  (global-name "com.apple.cfprefsd.agent"))
(allow ipc-posix-sem)
(allow ipc-posix-shm-read* ipc-posix-shm-write-create ipc-posix-shm-write-data (ipc-posix-name-prefix "__KMP_REGISTERED_LIB_"))
; terminals
(allow pseudo-tty)
(allow file-read* file-write* file-ioctl (literal "/dev/ptmx"))
(allow file-read* file-write* file-ioctl (regex #"^/dev/ttys[0-9]+$"))
(allow user-preference-read)`;

const NETWORK_ENABLED = `(allow network-outbound)
(allow network-inbound)
(allow system-socket (require-all (socket-domain AF_SYSTEM) (socket-protocol 2)))
(allow mach-lookup
  (global-name "com.apple.bsd.dirhelper")
  (global-name "com.apple.system.opendirectoryd.membership")
  (global-name "com.apple.SecurityServer")
  (global-name "com.apple.networkd")
  (global-name "com.apple.ocspd")
  (global-name "com.apple.trustd.agent")
  (global-name "com.apple.SystemConfiguration.DNSConfiguration")
  (global-name "com.apple.SystemConfiguration.configd"))
(allow sysctl-read (sysctl-name-regex #"^net.routetable"))`;

/** What `minimal` grants on macOS: the platform's read-only runtime. */
const PLATFORM_DEFAULTS = `(allow file-read*
  (subpath "/usr/lib") (subpath "/usr/share") (subpath "/System/Library") (subpath "/Library/Preferences")
  (subpath "/etc") (subpath "/private/etc") (subpath "/Applications") (subpath "/opt/homebrew/lib") (subpath "/usr/local/lib"))
(allow file-read-metadata (subpath "/var") (subpath "/private/var"))
(allow process-exec (subpath "/bin") (subpath "/sbin") (subpath "/usr/bin") (subpath "/usr/sbin") (subpath "/usr/libexec"))
(allow file-read* (subpath "/bin") (subpath "/sbin") (subpath "/usr/bin") (subpath "/usr/sbin") (subpath "/usr/libexec"))
(allow file-read* file-write* (literal "/dev/null") (literal "/dev/zero") (literal "/dev/tty") (subpath "/dev/fd"))
(allow file-read* file-write* (subpath "/tmp") (subpath "/private/tmp") (subpath "/var/tmp") (subpath "/private/var/tmp"))`;

export type SeatbeltProfile = { policy: string; params: [string, string][] };

/** `realpath` where the path exists (`/tmp` → `/private/tmp`), else as given. */
function canonical(path: string, resolve: (p: string) => string): string {
  try {
    return resolve(path);
  } catch {
    return path;
  }
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\"]/g, "\\$&");
}

/**
 * The profile for a file-system view (null: the whole disk writable) and a
 * network setting. `minimal`: the policy granted the platform runtime.
 */
export function seatbeltProfile(
  view: FsView | null,
  network: "restricted" | "enabled",
  minimal: boolean,
  resolve: (p: string) => string = realpathSync,
): SeatbeltProfile {
  const params: [string, string][] = [];
  const param = (key: string, path: string) => {
    params.push([key, canonical(path, resolve)]);
    return `(param "${key}")`;
  };
  const sections = [BASE_POLICY];
  if (view === null) {
    sections.push("(allow file-read*)", `(allow file-write* (regex #"^/"))`);
  } else {
    const denied = view.rules.filter((r) => r.access === "deny").map((r) => r.path);
    const readOnly = view.rules.filter((r) => r.access === "read").map((r) => r.path);
    const writable = view.rules.filter((r) => r.access === "write").map((r) => r.path);
    const under = (root: string, paths: string[]) => paths.filter((p) => root === "/" || p.startsWith(`${root}/`));
    const readRoots = view.fullRead ? ["/"] : [...readOnly, ...writable].filter((p, _, all) => !all.some((q) => q !== p && p.startsWith(`${q}/`)));
    if (view.fullRead && denied.length === 0) sections.push("(allow file-read*)");
    else {
      const clauses = readRoots.map((root, i) => {
        const subpath = `(subpath ${param(`READABLE_ROOT_${i}`, root)})`;
        const excluded = under(root, denied).map((d, j) => `(require-not (subpath ${param(`READABLE_ROOT_${i}_EXCLUDED_${j}`, d)}))`);
        return excluded.length === 0 ? subpath : `(require-all ${subpath} ${excluded.join(" ")})`;
      });
      if (clauses.length > 0) sections.push(`(allow file-read*\n  ${clauses.join("\n  ")})`);
    }
    if (writable.length > 0) {
      const clauses = writable.map((root, i) => {
        const subpath = `(subpath ${param(`WRITABLE_ROOT_${i}`, root)})`;
        const carveOuts = under(root, [...readOnly, ...denied]).flatMap((p, j) => {
          const key = param(`WRITABLE_ROOT_${i}_EXCLUDED_${j}`, p);
          // Both: the literal blocks creating the path itself, the subpath everything below it.
          return [`(require-not (literal ${key}))`, `(require-not (subpath ${key}))`];
        });
        const canonicalRoot = canonical(root, resolve);
        const protectedNames = PROTECTED_NAMES.filter((n) => !writable.includes(`${root}/${n}`)).map(
          (n) => `(require-not (regex #"^${regexEscape(canonicalRoot)}/${regexEscape(n)}(/.*)?$"))`,
        );
        return `(require-all ${subpath} ${[...carveOuts, ...protectedNames].join(" ")})`;
      });
      sections.push(`(allow file-write*\n  ${clauses.join("\n  ")})`);
    }
  }
  if (network === "enabled") sections.push(NETWORK_ENABLED);
  if (minimal && (view === null || !view.fullRead)) sections.push(PLATFORM_DEFAULTS);
  return { policy: `${sections.join("\n")}\n`, params };
}

/** `sandbox-exec` and its arguments up to `--`; the command follows. */
export function seatbeltArgv(profile: SeatbeltProfile): string[] {
  return [SANDBOX_EXEC, "-p", profile.policy, ...profile.params.map(([k, v]) => `-D${k}=${v}`), "--"];
}
