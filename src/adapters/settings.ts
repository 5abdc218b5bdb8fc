/** The server settings adapters read (from the settings table: flags, environment, file). */
export interface AdapterSettings {
  /** `--allow-unix`: path prefixes the unix adapter may connect below; empty turns it off. */
  readonly allowUnix: readonly string[];
  /** `--tls-target-ca`: PEM certificates trusted for tls targets besides the system's. */
  readonly tlsTargetCa?: string;
  /** `--tls-target-insecure`: tls targets' certificates are not verified (server-side only). */
  readonly tlsTargetInsecure: boolean;
}

export const DEFAULT_ADAPTER_SETTINGS: AdapterSettings = {
  allowUnix: [],
  tlsTargetInsecure: false,
};
