// Measures which backend is fastest here (backend.ts's timeBackends) off the page's thread: the
// page draws on the CPU backend meanwhile and switches once the answer comes.
import { timeBackends } from './backend.js';

timeBackends().then(
  (m) => self.postMessage(m),
  (e: unknown) => self.postMessage({ error: e instanceof Error ? e.message : String(e) }),
);
