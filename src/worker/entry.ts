/**
 * The library's own training worker script (what `rnn.worker.create()` starts without a URL):
 * builds models from specs and trains them (src/worker/serve.ts). Built to dist/worker.js.
 */
import { worker } from '../index';

worker.serve();
