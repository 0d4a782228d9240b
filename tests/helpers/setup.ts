/**
 * Runs in every test worker before the tests (vitest.config.ts `setupFiles`):
 * tfjs-backend-cpu's "running TensorFlow.js in Node.js" banner is hidden, as
 * in the examples, so the test log shows only what the tests print.
 */
import { silenceTfjsNodeBanner } from '../../examples/lib/cli.js';

silenceTfjsNodeBanner();
