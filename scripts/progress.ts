/**
 * A terminal progress bar as a fit() callback: one line per epoch, redrawn in place on a TTY.
 */
import type { Callback, Logs } from '../src/index';

export function progressBar(label: string, epochs: number, batchesPerEpoch: number, out: NodeJS.WriteStream = process.stderr): Callback {
  const width = 24;
  let epochStart = 0;
  let lastDraw = 0;
  let currentEpoch = 0;
  const tty = Boolean(out.isTTY);
  const draw = (epoch: number, batch: number, logs?: Logs, final = false) => {
    const frac = Math.min(1, batch / batchesPerEpoch);
    const filled = Math.round(frac * width);
    const secs = ((performance.now() - epochStart) / 1000).toFixed(1);
    const metrics = logs ? Object.entries(logs).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join('  ') : '';
    const line = `${label} epoch ${String(epoch + 1).padStart(String(epochs).length)}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${batch}/${batchesPerEpoch} ${secs}s ${metrics}`;
    if (tty) out.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else if (final) out.write(`${line}\n`);
  };
  return {
    onEpochBegin(epoch) {
      epochStart = performance.now();
      draw(epoch, 0);
    },
    onBatchEnd(batch) {
      const t = performance.now();
      if (t - lastDraw > 100) {
        lastDraw = t;
        draw(currentEpoch, batch + 1);
      }
    },
    onEpochEnd(epoch, logs) {
      draw(epoch, batchesPerEpoch, logs, true);
      currentEpoch = epoch + 1;
    },
  };
}
