import { afterAll, beforeAll } from "bun:test";
import { type ChildEnv, type RunningProxy, startProxy } from "./proxy.ts";
import { startTcpTarget, type TcpTarget } from "./targets.ts";

export interface ProxyAndEcho {
  readonly proxy: RunningProxy;
  readonly echo: TcpTarget;
}

/** One proxy process and one echo target for a whole test file, stopped after it. */
export function useProxyAndEcho(args: string[] = [], env: ChildEnv = {}): ProxyAndEcho {
  let proxy: RunningProxy | undefined;
  let echo: TcpTarget | undefined;
  beforeAll(async () => {
    echo = startTcpTarget("echo");
    proxy = await startProxy(args, env);
  });
  afterAll(async () => {
    await proxy?.stop();
    echo?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useProxyAndEcho: used outside a test");
    return value;
  };
  return {
    get proxy() {
      return started(proxy);
    },
    get echo() {
      return started(echo);
    },
  };
}
