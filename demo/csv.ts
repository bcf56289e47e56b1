/**
 * CSV files for the demo, parsed with papaparse in the training worker (nothing is uploaded; the
 * page stays responsive even for files of tens of MB). The result is column-wise: numbers as
 * Float64Arrays (NaN where a cell is not a number), date columns as times in ms (NaN where a cell
 * is not a date), and for every data row the line of the file it starts on (for messages) and
 * where its text is (to tell exact duplicate rows from conflicting ones). Every problem is a
 * {@link CsvError} whose message says what is wrong and where (1-based lines of the file).
 */
import Papa from 'papaparse';
import { YEAR_COLUMN, detectDateFormat, parseDate, type DateFormat } from './dates';

export class CsvError extends Error {
  override name = 'CsvError';
}

const NUMBER = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;
/** A number with a decimal comma (12,5), as in files separated by semicolons or tabs. */
const COMMA_NUMBER = /^\s*[+-]?\d+,\d+\s*$/;
export const isNumber = (s: string | undefined): boolean => s !== undefined && NUMBER.test(s);

/** Largest file accepted (it is parsed in memory, in the worker). */
export const MAX_BYTES = 64 * 1024 * 1024;

/** A column of dates. */
export interface DateColumn {
  column: number;
  format: DateFormat;
  /** ms since 1970 (naive times read as UTC); NaN where the cell is not a date. */
  times: Float64Array;
  invalid: number;
}

export interface ParsedTable {
  fileName: string;
  /** Characters of the text. */
  chars: number;
  delimiter: string;
  /** Numbers written with a decimal comma (only in files not separated by commas). */
  decimalComma: boolean;
  hasHeader: boolean;
  /** Column names (from the header row, or "column 1", "column 2", … without one). */
  columns: string[];
  /** Data rows. */
  rows: number;
  /** File line (1-based) on which each data row starts. */
  lines: Int32Array;
  /** The text and each data row's [start, end) in it. */
  text: string;
  rowStart: Float64Array;
  rowEnd: Float64Array;
  /** Per column: the cells as numbers (NaN where not a number). */
  numbers: Float64Array[];
  /** Per column: up to 20 cells that are not numbers (data row index and text), in file order. */
  badCells: { row: number; text: string }[][];
  /** Columns whose cells are mostly (≥ 80%) numbers, date columns excluded. */
  numeric: number[];
  /** Columns of dates (≥ 95% of their cells), best first. */
  dates: DateColumn[];
  parseMs: number;
}

class Growable<T extends Float64Array | Int32Array> {
  length = 0;
  constructor(public a: T, private readonly make: (n: number) => T) {}
  push(v: number): void {
    if (this.length === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
  done(): T {
    return this.a.subarray(0, this.length) as T;
  }
}
const f64 = (n: number) => new Growable(new Float64Array(n), (k) => new Float64Array(k));

/** Whether two data rows have the same text (their fields, whatever blank lines precede them). */
export function sameRow(t: ParsedTable, a: number, b: number): boolean {
  return t.text.slice(t.rowStart[a]!, t.rowEnd[a]!).trim() === t.text.slice(t.rowStart[b]!, t.rowEnd[b]!).trim();
}

/**
 * Parses CSV text (comma, semicolon, tab or pipe separated; the delimiter is detected) into a
 * column-wise table; throws CsvError for empty, binary, unparsable or ragged files and for files
 * without a numeric column. `onProgress(fraction)` is called every ~100k rows.
 */
export function parseCsv(text: string, fileName = 'the file', onProgress?: (fraction: number) => void): ParsedTable {
  const t0 = performance.now();
  if (!text.trim()) throw new CsvError(`${fileName} is empty.`);
  if (text.includes('\u0000')) throw new CsvError(`${fileName} is not a text file (it contains binary data). Choose a .csv file.`);
  const src = text.replace(/^\uFEFF/, '');

  // A first look at up to 1,000 rows: delimiter, header, column types.
  const preview = Papa.parse<string[]>(src, { preview: 1000, skipEmptyLines: 'greedy' });
  const quoteError = preview.errors.find((e) => e.type === 'Quotes');
  if (quoteError) throw new CsvError(`${fileName} could not be parsed: ${quoteError.message}${quoteError.row !== undefined ? ` (data row ${quoteError.row + 1})` : ''}.`);
  const head = preview.data.filter((r) => Array.isArray(r));
  if (!head.length) throw new CsvError(`${fileName} has no rows.`);
  const first = head[0]!;
  const width = first.length;
  const delimiter = preview.meta.delimiter;
  // Decimal commas: more "12,5" cells than "12.5" ones in a file not separated by commas.
  let commaCells = 0, dotCells = 0;
  if (delimiter !== ',') {
    for (const r of head.slice(1, 400)) {
      for (const c of r) {
        if (COMMA_NUMBER.test(c)) commaCells++;
        else if (/\d\.\d/.test(c) && NUMBER.test(c)) dotCells++;
      }
    }
  }
  const decimalComma = commaCells > dotCells;
  const isNum = decimalComma ? (c: string) => NUMBER.test(c) || COMMA_NUMBER.test(c) : (c: string) => NUMBER.test(c);
  const sampleFormats = first.map((_, c) => detectDateFormat(head.slice(1, 400).map((r) => r[c] ?? '')));
  // A header is a first row without numbers whose cells are not dates of their column.
  const hasHeader = first.every((c, i) => !isNum(c) && !(sampleFormats[i] && Number.isFinite(parseDate(c, sampleFormats[i]!))));
  const columns = hasHeader ? uniqueNames(first.map((c, i) => c.trim() || `column ${i + 1}`)) : first.map((_, i) => `column ${i + 1}`);
  const formats: (DateFormat | null)[] = first.map((_, c) => detectDateFormat(head.slice(hasHeader ? 1 : 0, 400).map((r) => r[c] ?? '')));
  // A numeric column named "year" whose cells are years is the time axis (global-temp.csv: year,temp).
  if (hasHeader) {
    columns.forEach((name, c) => {
      const cells = head.slice(1, 400).map((r) => (r[c] ?? '').trim());
      if (!formats[c] && YEAR_COLUMN.test(name) && cells.length && cells.every((v) => /^\d{4}$/.test(v))) formats[c] = 'year';
    });
  }

  // The whole file, row by row, straight into typed columns.
  const guess = Math.max(16, Math.ceil((src.length / Math.max(1, preview.meta.cursor)) * head.length * 1.1));
  const lines = new Growable(new Int32Array(guess), (k) => new Int32Array(k));
  const rowStart = f64(guess), rowEnd = f64(guess);
  const numbers = columns.map(() => f64(guess));
  const numericCount = new Array<number>(width).fill(0);
  const badCells: { row: number; text: string }[][] = columns.map(() => []);
  const dateCols = formats.flatMap((f, c) => (f ? [{ column: c, format: f, times: f64(guess), invalid: 0 }] : []));
  const ragged: string[] = [];
  const lb = preview.meta.linebreak === '\r' ? 13 : 10;
  const lbChar = String.fromCharCode(lb);
  const hasQuotes = src.includes('"');
  let counted = 0, newlines = 0, rowIndex = -1, nextReport = 100_000, prevCursor = 0;
  let fatal: string | null = null;
  Papa.parse<string[]>(src, {
    // blank lines ('' only) are skipped by papaparse; rows of empty fields (",,,") below
    skipEmptyLines: true,
    delimiter,
    step: (res, parser) => {
      const row = res.data;
      const cursor = res.meta.cursor;
      const start = prevCursor;
      prevCursor = cursor;
      if (row[0]!.trim() === '' && row.every((f) => f.trim() === '')) return;
      for (; counted < cursor; counted++) if (src.charCodeAt(counted) === lb) newlines++;
      let line = src.charCodeAt(cursor - 1) === lb ? newlines : newlines + 1;
      if (hasQuotes) for (const f of row) if (f.includes(lbChar)) line -= f.split(lbChar).length - 1;
      const q = res.errors.length ? res.errors.find((e) => e.type === 'Quotes') : undefined;
      if (q) {
        fatal = `${fileName} could not be parsed: ${q.message} (line ${line}).`;
        parser.abort();
        return;
      }
      rowIndex++;
      if (rowIndex === 0 && hasHeader) return;
      if (row.length !== width) {
        if (ragged.length < 3) ragged.push(`line ${line} has ${row.length} field${row.length === 1 ? '' : 's'}`);
        return;
      }
      lines.push(line);
      rowStart.push(start);
      rowEnd.push(cursor);
      for (let c = 0; c < width; c++) {
        const cell = row[c]!;
        if (isNum(cell)) {
          numbers[c]!.push(Number(decimalComma ? cell.replace(',', '.') : cell));
          numericCount[c]!++;
        } else {
          numbers[c]!.push(NaN);
          if (badCells[c]!.length < 20) badCells[c]!.push({ row: lines.length - 1, text: cell.trim().slice(0, 20) });
        }
      }
      for (const d of dateCols) {
        const t = parseDate(row[d.column]!, d.format);
        if (!Number.isFinite(t)) d.invalid++;
        d.times.push(t);
      }
      if (onProgress && rowIndex >= nextReport) {
        nextReport += 100_000;
        onProgress(cursor / src.length);
      }
    },
  });
  if (fatal) throw new CsvError(fatal);
  if (ragged.length) {
    throw new CsvError(
      `${fileName} has ragged rows: the ${hasHeader ? 'header' : 'first row'} has ${width} column${width === 1 ? '' : 's'} but ${ragged.join(', ')}. Every row needs the same number of fields.`,
    );
  }
  const rows = lines.length;
  if (!rows) throw new CsvError(`${fileName} has a header row but no data rows.`);
  const dates: DateColumn[] = dateCols
    .filter((d) => d.invalid <= 0.05 * rows)
    .map((d) => ({ column: d.column, format: d.format, times: d.times.done(), invalid: d.invalid }))
    .sort((a, b) => a.invalid - b.invalid || a.column - b.column);
  const isDate = new Set(dates.map((d) => d.column));
  const numeric: number[] = [];
  for (let c = 0; c < width; c++) if (!isDate.has(c) && numericCount[c]! > 0 && numericCount[c]! >= 0.8 * rows) numeric.push(c);
  if (!numeric.length) {
    throw new CsvError(
      `${fileName} has no numeric column (columns: ${columns.slice(0, 8).join(', ')}${columns.length > 8 ? ', …' : ''}). The forecast needs a column of numbers, e.g. "temperature" with values like 12.5.`,
    );
  }
  onProgress?.(1);
  return {
    fileName,
    chars: src.length,
    delimiter,
    decimalComma,
    hasHeader,
    columns,
    rows,
    lines: lines.done(),
    text: src,
    rowStart: rowStart.done(),
    rowEnd: rowEnd.done(),
    numbers: numbers.map((n) => n.done()),
    badCells,
    numeric,
    dates,
    parseMs: performance.now() - t0,
  };
}

function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n} (${k})`;
  });
}
