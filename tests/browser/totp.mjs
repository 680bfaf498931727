// One-time codes as the helper's authenticator app makes them (RFC 6238: HMAC-SHA1, 30-s steps,
// 6 digits), and the choice of which step to use next.
//
// The server accepts the step before, the current one and the one after, and each step only once
// per helper, in increasing order (a step at or below the last accepted one is refused). So a run
// that needs many codes takes the oldest step still safe to use, then the following ones, and
// waits for time to move on only when the step after the current one is already spent.

import { createHmac } from 'node:crypto';

export const STEP_SECONDS = 30;
/** Below this many seconds left in the current step, the previous step is no longer offered: the
 * code might reach the server after the step changed. */
const MARGIN_SECONDS = 5;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(text) {
  const clean = text.replace(/=+$/, '').replace(/\s+/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The code of time step `step` (RFC 4226 §5.3 dynamic truncation), `digits` long. */
export function codeAtStep(key, step, digits = 6) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/**
 * Which step to use after `lastUsed` (null when none was used) at `nowSeconds`, and how long to
 * wait before the server accepts it.
 */
export function nextStep(lastUsed, nowSeconds) {
  const current = Math.floor(nowSeconds / STEP_SECONDS);
  const secondsLeft = (current + 1) * STEP_SECONDS - nowSeconds;
  const oldestSafe = secondsLeft > MARGIN_SECONDS ? current - 1 : current;
  const step = lastUsed === null ? oldestSafe : Math.max(lastUsed + 1, oldestSafe);
  // Step s is accepted while the server's current step is s - 1, s or s + 1.
  const acceptedFrom = (step - 1) * STEP_SECONDS;
  const waitMs = step > current + 1 ? Math.ceil((acceptedFrom - nowSeconds) * 1000) + 200 : 0;
  return { step, waitMs };
}
