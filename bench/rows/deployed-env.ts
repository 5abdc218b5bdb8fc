/**
 * The allocator setting deploy/ ships (Dockerfile, systemd unit): freed memory is returned to the
 * system after 1 s rather than mimalloc's 100 ms, so the buffers Bun allocates per WebSocket
 * message and per socket read are reused instead of faulted in afresh (docs/operations.md).
 */
export const DEPLOYED_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: "1000" };
