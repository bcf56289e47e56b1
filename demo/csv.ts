/**
 * CSV files dropped on the page: parsed with papaparse in the page (nothing is uploaded),
 * checked, and turned into one numeric series. Every problem becomes a {@link CsvError} whose
 * message says what is wrong and where (line numbers are 1-based lines of the file).
 */
import Papa from 'papaparse';
import { HORIZON } from './protocol';
import { TRAIN_FRACTION, minRows } from './data';

export class CsvError extends Error {
  override name = 'CsvError';
}

export interface CsvTable {
  /** Column names (from the header row, or "column 1", "column 2", … without one). */
  columns: string[];
  /** Data rows as strings, all of the same width. */
  rows: string[][];
  /** File line of data row 0 (1-based), for error messages. */
  firstLine: number;
  /** Indices of the columns whose cells are mostly numbers. */
  numeric: number[];
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
export const isNumber = (s: string | undefined): boolean => s !== undefined && NUMBER.test(s.trim());

/** Largest file accepted (the page parses it in memory). */
export const MAX_BYTES = 20 * 1024 * 1024;
/** Parses CSV text into a rectangular table; throws CsvError for empty, unparsable or ragged files. */
export function parseCsv(text: string, fileName = 'the file'): CsvTable {
  if (!text.trim()) throw new CsvError(`${fileName} is empty.`);
  if (text.includes('\u0000')) throw new CsvError(`${fileName} is not a text file (it contains binary data). Choose a .csv file.`);
  const parsed = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), { skipEmptyLines: 'greedy', dynamicTyping: false });
  const fatal = parsed.errors.filter((e) => e.type === 'Quotes');
  if (fatal.length) {
    const e = fatal[0]!;
    throw new CsvError(`${fileName} could not be parsed: ${e.message}${e.row !== undefined ? ` (data row ${e.row + 1})` : ''}.`);
  }
  const all = parsed.data.filter((r) => Array.isArray(r));
  if (!all.length) throw new CsvError(`${fileName} has no rows.`);
  const first = all[0]!;
  const hasHeader = first.every((c) => !isNumber(c));
  const width = first.length;
  const columns = hasHeader ? first.map((c, i) => c.trim() || `column ${i + 1}`) : first.map((_, i) => `column ${i + 1}`);
  const rows = hasHeader ? all.slice(1) : all;
  const firstLine = hasHeader ? 2 : 1;
  if (!rows.length) throw new CsvError(`${fileName} has a header row but no data rows.`);
  // Ragged rows: report the first few with their line numbers.
  const ragged: string[] = [];
  rows.forEach((r, i) => {
    if (r.length !== width && ragged.length < 3) ragged.push(`line ${i + firstLine} has ${r.length} field${r.length === 1 ? '' : 's'}`);
  });
  if (ragged.length) {
    throw new CsvError(
      `${fileName} has ragged rows: the ${hasHeader ? 'header' : 'first row'} has ${width} column${width === 1 ? '' : 's'} but ${ragged.join(', ')}. Every row needs the same number of fields.`,
    );
  }
  const numeric: number[] = [];
  for (let c = 0; c < width; c++) {
    let ok = 0;
    for (const r of rows) if (isNumber(r[c])) ok++;
    if (ok > 0 && ok >= 0.8 * rows.length) numeric.push(c);
  }
  if (!numeric.length) {
    throw new CsvError(
      `${fileName} has no numeric column (columns: ${columns.slice(0, 8).join(', ')}${columns.length > 8 ? ', …' : ''}). The forecast needs a column of numbers, e.g. "temperature" with values like 12.5.`,
    );
  }
  return { columns, rows, firstLine, numeric };
}

/** The values of one column as numbers; throws CsvError for missing/NaN/non-numeric cells, too few rows or a constant column. */
export function columnValues(t: CsvTable, column: number, window: number, targetLen: number): Float64Array {
  const name = t.columns[column];
  if (name === undefined || !t.numeric.includes(column)) throw new CsvError(`Column ${column + 1} is not a numeric column.`);
  const values = new Float64Array(t.rows.length);
  for (let i = 0; i < t.rows.length; i++) {
    const cell = t.rows[i]![column] ?? '';
    const v = isNumber(cell) ? Number(cell) : NaN;
    if (!Number.isFinite(v)) {
      const what = cell.trim() === '' ? 'an empty cell' : `'${cell.trim().slice(0, 20)}'`;
      throw new CsvError(
        `Column "${name}" has ${what} on line ${i + t.firstLine} where a number is expected (NaN and missing values are not allowed). Fix or remove that row, or pick another column.`,
      );
    }
    values[i] = v;
  }
  const need = minRows(window, targetLen);
  if (values.length < need) {
    throw new CsvError(
      `Too few rows: column "${name}" has ${values.length} values, but a window of ${window} steps needs at least ${need} rows (${Math.round(TRAIN_FRACTION * 100)}% train, the rest validation, ${HORIZON}-step horizon). Use a shorter window or a longer file.`,
    );
  }
  let min = Infinity, max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (min === max) throw new CsvError(`Column "${name}" is constant (${min}); there is nothing to forecast.`);
  return values;
}
