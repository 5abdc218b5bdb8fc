import { randomBytes as nodeRandomBytes } from "node:crypto";

export const randomBytes = (size: number): Uint8Array => new Uint8Array(nodeRandomBytes(size));

export const sha256 = (...chunks: Uint8Array[]): string => {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const chunk of chunks) hasher.update(chunk);
  return hasher.digest("hex");
};
