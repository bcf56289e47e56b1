/**
 * Small DOM helpers of the demo page. Text always goes in as text (textContent, Text nodes), never
 * as HTML: the page sets no innerHTML, so file names, column names and error messages from files
 * cannot inject markup.
 */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: element #${id} is missing`);
  return el as T;
}

type Child = Node | string | null | undefined | false;

/** Creates an element with attributes (strings; `true` for boolean ones) and children (strings become text). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Shows a message element with `text`, or hides it when text is null/empty. */
export function show(el: HTMLElement, text: string | null): void {
  el.hidden = !text;
  el.textContent = text ?? '';
}

export const int = (n: number) => n.toLocaleString('en-US');
export const plural = (n: number, one: string, many = `${one}s`) => `${int(n)} ${n === 1 ? one : many}`;

/** Seconds (or minutes and seconds), one decimal: 4.2 s, 2 min 5 s. */
export function fmtTime(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.floor((ms - m * 60_000) / 1000)} s`;
}

/** A loss-scale number: 3 significant digits, exponent for tiny values. */
export function fmtNum(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  return Math.abs(v) >= 1e-4 || v === 0 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}

/** A value in data units: 3 significant digits, thousands separators, no exponent for ordinary magnitudes. */
export function fmtData(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 1e-3 || v === 0) return Number(v.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 6 });
  return v.toExponential(2);
}

/** A size in bytes for people: 512 bytes, 3.4 KB, 20.1 MB. */
export const sizeText = (bytes: number) => (bytes < 1024 ? `${bytes} bytes` : bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 2 ** 20).toFixed(1)} MB`);
