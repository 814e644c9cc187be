import { setDefaultTimeout } from "bun:test";

// Integration tests spawn real executors and processes; slow CI machines need room.
// Each wait inside a test has its own, shorter deadline.
setDefaultTimeout(30_000);
