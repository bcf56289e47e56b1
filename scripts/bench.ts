/**
 * `npm run bench`: webgpu-rnn vs TensorFlow.js (tfjs-backend-webgpu) training speed, in Chromium
 * and in Node (Dawn). The runner lives in bench/ (bench/cli.ts); see docs/performance.md.
 */
import { main } from '../bench/cli';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).message ?? e);
    process.exit(2);
  },
);
