/**
 * The short soak inside `npm test` (issue 16; the long one is `npm run soak`, 10,000 steps):
 * the chapter's LSTM trained for 20 epochs of 44 steps through fit, with validation every epoch
 * and predict every 5 epochs. After a 2-epoch warm-up nothing on the GPU may change at all
 * (pooled bytes, live buffers, pipelines, bind groups), and the JS heap (after a full GC) may not
 * grow by a leak of 1 KiB per step (a retained batch, plan or closure per step; the long run
 * checks 64 B). RSS is sampled and reported; over 880 steps its jumps between samples (tens of
 * MiB: the driver's pools) are larger than any growth worth catching, so only the long run judges it.
 */
import { describe, it, expect } from 'vitest';
import { runSoak } from '../soak/soak';

describe('soak (short): the chapter LSTM, 880 steps', () => {
  it('GPU memory and objects stay exactly flat and the heap does not grow per step', async () => {
    const r = await runSoak({ steps: 880, warmupEpochs: 2, leakBytesPerStep: 1024, rssBytesPerStep: Infinity });
    const first = r.samples[2]!, last = r.samples.at(-1)!;
    console.log(
      `soak: ${r.steps} steps in ${r.seconds.toFixed(1)} s; pooled ${first.pooledBytes} → ${last.pooledBytes} B, live buffers ${first.liveBuffers} → ${last.liveBuffers}, ` +
        `heap ${r.heapSlope.toFixed(1)} B/step, RSS floor ${r.rssSlope.toFixed(0)} B/step`,
    );
    expect(r.samples.length).toBe(20);
    expect(r.problems).toEqual([]);
  }, 900_000);
});
