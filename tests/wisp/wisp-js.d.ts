// The parts of @mercuryworkshop/wisp-js 0.5 (which ships no types) that the tests use.
declare module "@mercuryworkshop/wisp-js/client" {
  export namespace client {
    class ClientStream {
      stream_id: number;
      buffer_size: number;
      send_buffer: Uint8Array[];
      onmessage: (data: Uint8Array) => void;
      onclose: (reason: number) => void;
      send(data: Uint8Array): void;
      close(reason?: number): void;
    }
    class ClientConnection {
      constructor(url: string, options?: { wisp_version?: 1 | 2; wisp_extensions?: unknown[] });
      wisp_version: number;
      max_buffer_size: number | null;
      connected: boolean;
      udp_enabled: boolean;
      ws: { bufferedAmount: number; readyState: number };
      onopen: () => void;
      onclose: () => void;
      onerror: () => void;
      create_stream(host: string, port: number, type?: "tcp" | "udp"): ClientStream;
      close(): void;
    }
  }
  export namespace extensions {
    class PasswordAuthExtension {
      constructor(config: { client_config: { username: string; password: string } });
    }
    class UDPExtension {
      constructor(config: { client_config: Record<string, never> });
    }
  }
  export namespace packet {
    const close_reasons: Record<string, number>;
  }
}
