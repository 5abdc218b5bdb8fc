/** Byte i of a flood is i mod 251: loss, duplication or reordering breaks the pattern. */
export function patternChecker() {
  let position = 0;
  let broken = -1;
  return {
    check(chunk: Uint8Array) {
      for (let i = 0; i < chunk.byteLength; i++) {
        if (broken < 0 && chunk[i] !== (position + i) % 251) broken = position + i;
      }
      position += chunk.byteLength;
    },
    get position() {
      return position;
    },
    get broken() {
      return broken;
    },
  };
}
