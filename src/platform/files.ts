import { accessSync, constants } from "node:fs";

/** Whether this process may execute `path` (access(2) with X_OK). */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
