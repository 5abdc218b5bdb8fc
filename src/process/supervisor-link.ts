/**
 * A worker's link to its supervisor: the supervisor holds the write end of the worker's stdin
 * and never writes to it. When the supervisor exits for any reason, SIGKILL included, the kernel
 * closes that end and the worker reads end of file, so a worker never outlives its supervisor
 * (and never keeps serving the port that a restarted instance needs).
 */
export function onSupervisorLost(handler: () => void): void {
  const reader = Bun.stdin.stream().getReader();
  const drain = async () => {
    try {
      while (!(await reader.read()).done) {
        // Nothing is ever written; a stray byte changes nothing.
      }
    } catch {
      // A read error means the pipe is gone just the same.
    }
    handler();
  };
  void drain();
}
