/**
 * JSON-RPC error codes used on the wire, and the one typed error value every
 * domain throws. The connection turns an `RpcError` into
 * `{"error":{"code","data"?,"message"},"id"}` in exactly one place (server/connection.ts).
 */
export const ErrorCode = {
  /** Invalid request, lifecycle state, permission or validation failure. */
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  /** Params that do not deserialize, or argument validation. */
  InvalidParams: -32602,
  /** Internal or OS error. */
  Internal: -32603,
  /** Filesystem object (or file handle) not found. */
  NotFound: -32004,
  /** `resumeSessionId` names a session attached to another live connection. */
  SessionAttached: -32010,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** The error's `data` member, when the reference sends one. */
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

export const invalidRequest = (message: string) => new RpcError(ErrorCode.InvalidRequest, message);
export const invalidParams = (message: string) => new RpcError(ErrorCode.InvalidParams, message);
export const internalError = (message: string) => new RpcError(ErrorCode.Internal, message);

/** Why a process did not start, as 0.171.0 tells clients in `data.kind` (probed: ENOENT, EACCES, anything else). */
export type SpawnErrorKind = "spawnNotFound" | "spawnPermissionDenied" | "spawnFailed";

/** A failed spawn: -32603 with the OS or lookup text, and `data: {kind}` (0.171.0). */
export function spawnError(message: string): RpcError {
  const kind: SpawnErrorKind =
    message === osErrorText({ code: "ENOENT" }) ? "spawnNotFound" : message === osErrorText({ code: "EACCES" }) ? "spawnPermissionDenied" : "spawnFailed";
  return new RpcError(ErrorCode.Internal, message, { kind });
}
export const notFound = (message: string) => new RpcError(ErrorCode.NotFound, message);

/**
 * Errno names to the text the reference prints: `<strerror> (os error <n>)`.
 * The reference is a musl build, so these are musl's strerror texts
 * (e.g. ELOOP is "Symbolic link loop", not glibc's wording).
 */
const OS_ERRORS: Record<string, [number, string]> = {
  EPERM: [1, "Operation not permitted"],
  ENOENT: [2, "No such file or directory"],
  EIO: [5, "I/O error"],
  E2BIG: [7, "Argument list too long"],
  ENOEXEC: [8, "Exec format error"],
  EBADF: [9, "Bad file descriptor"],
  EAGAIN: [11, "Resource temporarily unavailable"],
  ENOMEM: [12, "Out of memory"],
  EACCES: [13, "Permission denied"],
  EBUSY: [16, "Resource busy"],
  EEXIST: [17, "File exists"],
  EXDEV: [18, "Cross-device link"],
  ENOTDIR: [20, "Not a directory"],
  EISDIR: [21, "Is a directory"],
  EINVAL: [22, "Invalid argument"],
  EMFILE: [24, "No file descriptors available"],
  ETXTBSY: [26, "Text file busy"],
  EFBIG: [27, "File too large"],
  ENOSPC: [28, "No space left on device"],
  EROFS: [30, "Read-only file system"],
  EPIPE: [32, "Broken pipe"],
  ENAMETOOLONG: [36, "Filename too long"],
  ENOTEMPTY: [39, "Directory not empty"],
  ELOOP: [40, "Symbolic link loop"],
  // The rest of the errnos a file or process call can meet, so no Node text
  // (`ENXIO: no such device or address, open '…'`) ever reaches the wire.
  ESRCH: [3, "No such process"],
  EINTR: [4, "Interrupted system call"],
  ENXIO: [6, "No such device or address"],
  ECHILD: [10, "No child process"],
  EFAULT: [14, "Bad address"],
  ENOTBLK: [15, "Block device required"],
  ENODEV: [19, "No such device"],
  ENFILE: [23, "Too many open files in system"],
  ENOTTY: [25, "Not a tty"],
  ESPIPE: [29, "Invalid seek"],
  EMLINK: [31, "Too many links"],
  ERANGE: [34, "Result not representable"],
  EDEADLK: [35, "Resource deadlock would occur"],
  ENOLCK: [37, "No locks available"],
  ENOSYS: [38, "Function not implemented"],
  ENODATA: [61, "No data available"],
  EOVERFLOW: [75, "Value too large for data type"],
  EILSEQ: [84, "Illegal byte sequence"],
  EOPNOTSUPP: [95, "Not supported"],
  ENOTSUP: [95, "Not supported"],
  ETIMEDOUT: [110, "Operation timed out"],
  ESTALE: [116, "Stale file handle"],
  EDQUOT: [122, "Quota exceeded"],
  ECANCELED: [125, "Operation canceled"],
  // Socket errnos a listener meets at startup (musl's texts, as the reference prints them).
  EADDRINUSE: [98, "Address in use"],
  EADDRNOTAVAIL: [99, "Address not available"],
};

/** Rust's io::Error Display for an errno, e.g. `No such file or directory (os error 2)`. */
export function osErrorText(err: unknown): string {
  const code = (err as { code?: string })?.code;
  const known = code ? OS_ERRORS[code] : undefined;
  if (known) return `${known[1]} (os error ${known[0]})`;
  const errno = (err as { errno?: number })?.errno;
  if (typeof errno === "number") return `${String((err as Error).message)} (os error ${Math.abs(errno)})`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Maps an OS error the way the reference maps filesystem errors: not-found →
 * -32004, permission-denied and invalid-input → -32600, everything else → -32603.
 */
export function fromOsError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  const code = (err as { code?: string })?.code;
  const text = osErrorText(err);
  if (code === "ENOENT") return notFound(text);
  if (code === "EPERM" || code === "EACCES" || code === "EINVAL") return invalidRequest(text);
  return internalError(text);
}
