/** The platforms a release ships, as `make release` names them in dist/ and install.sh fetches them. */
export interface ReleaseTarget {
  /** `OS-ARCH` as install.sh spells it (`uname` mapped to these names). */
  readonly platform: string;
  /** The file in dist/ and on the release page. */
  readonly file: string;
  /** `bun build --target` value. */
  readonly bunTarget: string;
  /** The npm package holding that platform's Bun executable. */
  readonly npmPackage: string;
  /** The executable inside that package. */
  readonly runtimePath: string;
}

export const SUMS_FILE = "SHA256SUMS";

export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  {
    platform: "linux-x64",
    file: "socket2web-linux-x64",
    bunTarget: "bun-linux-x64",
    npmPackage: "@oven/bun-linux-x64",
    runtimePath: "bin/bun",
  },
  {
    platform: "linux-arm64",
    file: "socket2web-linux-arm64",
    bunTarget: "bun-linux-arm64",
    npmPackage: "@oven/bun-linux-aarch64",
    runtimePath: "bin/bun",
  },
  {
    platform: "darwin-arm64",
    file: "socket2web-darwin-arm64",
    bunTarget: "bun-darwin-arm64",
    npmPackage: "@oven/bun-darwin-aarch64",
    runtimePath: "bin/bun",
  },
  {
    platform: "windows-x64",
    file: "socket2web-windows-x64.exe",
    bunTarget: "bun-windows-x64",
    npmPackage: "@oven/bun-windows-x64",
    runtimePath: "bin/bun.exe",
  },
];
