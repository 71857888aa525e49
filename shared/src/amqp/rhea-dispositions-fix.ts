// Corrects rhea 3.0.5's disposition coalescing before anything loads rhea (via @azure/service-bus → rhea-promise,
// or the Service Bus stand-in directly). Import it FIRST, as a side-effect import, in every module that imports
// the SDK or rhea; the test runner also preloads it (`--import`) for test files.
//
// The bug (no fix upstream; 3.0.5 is the latest release): session.js `write_dispositions` skips the outcome
// comparison while a range holds one delivery (`first === last`), so two consecutive deliveries settled in the
// same tick with different outcomes go out as ONE disposition frame with the first one's state: a complete next
// to an abandon completes the abandoned message (lost), two dead-letters share the first one's reason.
// The corrected condition compares every delivery after the range's first with the first one (all in a range
// share its state). It must still skip the first itself: rhea's are_outcomes_equivalent is true only for two
// `accepted` states, so comparing a rejected/modified delivery with itself would split it from itself and send
// its disposition twice (the broker answers the second with lock-lost, and the SDK may see that answer).
//
// Why a load hook rewriting the source, not a patched prototype: `write_dispositions` is a module-private
// function called from Incoming/Outgoing internals, so no exported object can be patched without copying those
// methods wholesale (and silently keeping stale copies after an upgrade). The rewrite touches exactly one
// condition, and throws if the text is not there, so an upgraded rhea can never run unpatched unnoticed.
import { createRequire, registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

export const RHEA_BUGGY_CONDITION = '(first !== last && !message.are_outcomes_equivalent(last.state, delivery.state))';
export const RHEA_FIXED_CONDITION =
  '(delivery !== first && !message.are_outcomes_equivalent(first.state, delivery.state))';

const SESSION_FILE = /[\\/]node_modules[\\/]rhea[\\/]lib[\\/]session\.js$/;

/** rhea session.js source with the coalescing condition corrected; throws if the expected text is not there once. */
export function fixRheaSessionSource(source: string, file = 'rhea/lib/session.js'): string {
  const at = source.indexOf(RHEA_BUGGY_CONDITION);
  if (at === -1 || source.indexOf(RHEA_BUGGY_CONDITION, at + 1) !== -1) {
    throw new Error(
      `${file}: write_dispositions no longer holds the condition shared/src/amqp/rhea-dispositions-fix.ts corrects ` +
        '(rhea upgraded?). Check whether the new rhea still coalesces different outcomes, then update or remove the fix.',
    );
  }
  return source.slice(0, at) + RHEA_FIXED_CONDITION + source.slice(at + RHEA_BUGGY_CONDITION.length);
}

/** The session.js files this process loaded with the fix applied (a test checks the fix really ran). */
export const fixedRheaFiles: string[] = [];

const KEY = Symbol.for('logferry.rhea-dispositions-fix');
const state = globalThis as { [KEY]?: boolean };

if (!state[KEY]) {
  state[KEY] = true;
  // Loaded before the hook, rhea would stay unpatched for the life of the process: refuse to go on.
  const require = createRequire(import.meta.url);
  let session: string | undefined;
  try {
    session = require.resolve('rhea/lib/session.js');
  } catch {
    session = undefined; // rhea not installed next to shared: nothing can load it from here
  }
  if (session !== undefined && require.cache[session] !== undefined) {
    throw new Error('rhea was loaded before shared/src/amqp/rhea-dispositions-fix.ts: import the fix first');
  }
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (!url.startsWith('file:') || !SESSION_FILE.test(url) || result.source == null) return result;
      const file = fileURLToPath(url);
      const source = fixRheaSessionSource(String(result.source), file);
      fixedRheaFiles.push(file);
      return { ...result, source };
    },
  });
}
