import type { Subprocess } from "bun";
import { collectOutput } from "./output.ts";
import { freePort } from "./ports.ts";

export interface VncServer {
  /** The RFB port x11vnc listens on (127.0.0.1 only). */
  readonly port: number;
  /** x11vnc's output, for a test that fails to see why. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A real VNC server: Debian's x11vnc sharing an Xvfb display. `-retro` gives the root window
 * X's classic black-and-white stipple, so a client that shows the remote screen shows a pattern,
 * never a blank canvas. Nothing listens beyond loopback (Xvfb: no TCP; x11vnc: -localhost).
 */
export async function startVncServer(): Promise<VncServer> {
  const xvfb = Bun.spawn(
    ["Xvfb", "-displayfd", "1", "-retro", "-screen", "0", "320x200x24", "-nolisten", "tcp"],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const xOutput = collectOutput(xvfb);
  let vnc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  const stop = async () => {
    vnc?.kill();
    xvfb.kill();
    await Promise.all([vnc?.exited, xvfb.exited]);
  };
  try {
    // -displayfd writes the display number followed by a newline once the server accepts clients.
    await xOutput.waitFor(/^\d+\n/m, 10_000);
    const display = /^(\d+)\n/m.exec(xOutput.text())?.[1];
    const port = await freePort();
    vnc = Bun.spawn(
      [
        "x11vnc",
        "-display",
        `:${display}`,
        "-rfbport",
        String(port),
        "-localhost",
        "-noipv6",
        "-nopw",
        "-forever",
        "-shared",
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    const vncOutput = collectOutput(vnc);
    await vncOutput.waitFor(`PORT=${port}`, 10_000);
    return { port, output: vncOutput.text, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
