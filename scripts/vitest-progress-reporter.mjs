// A vitest reporter for scripts/gpu-check.sh: one JSON line per finished test appended to
// $GPU_CHECK_TESTS_JSONL, so that the results so far survive when the run is cut by its time budget
// (vitest's JSON reporter writes only at the end). Plain ES module, loaded by path.
import { appendFileSync } from 'node:fs';

export default class ProgressReporter {
  onTestCaseResult(test) {
    const file = process.env.GPU_CHECK_TESTS_JSONL;
    if (!file) return;
    const r = test.result();
    const d = test.diagnostic();
    const line = {
      file: test.module.moduleId.replace(/^.*?\/test\//, 'test/'),
      test: test.fullName,
      state: r.state,
      ms: d ? Math.round(d.duration) : null,
      ...(r.state === 'failed' ? { error: String(r.errors?.[0]?.message ?? '').slice(0, 400) } : {}),
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }
}
