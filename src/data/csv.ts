/**
 * Small, strict CSV reader (RFC 4180 plus the usual leniencies) for the weather data sets.
 * Pure (no Node imports): usable in the browser bundle.
 *
 * Accepted: a header line, `,`-separated fields, `"quoted"` fields with `""` escapes and embedded
 * delimiters/newlines, LF / CRLF / CR line ends, a UTF-8 BOM, blank lines (skipped), a missing
 * final newline. Rejected with a {@link CsvError} that names the source, line and column:
 * ragged rows (field count ≠ header), a quote inside an unquoted field, text after a closing
 * quote, an unterminated quote, an empty or duplicate header name, an empty file.
 */

/** A CSV syntax or content error; the message reads `source:line:column: …`. */
export class CsvError extends Error {
  /** 'CsvError'. */
  override readonly name = 'CsvError';
  /**
   * @param source file name (or label) of the text.
   * @param line 1-based physical line.
   * @param column 1-based character column (0 when the error concerns the whole line).
   * @param detail what is wrong.
   */
  constructor(
    readonly source: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${source}:${line}${column > 0 ? `:${column}` : ''}: ${detail}`);
  }
}

/** Options of {@link forEachCsvRecord} and {@link parseCsv}. */
export interface CsvOptions {
  /** Name used in error messages (a file name); default `'<csv>'`. */
  readonly source?: string;
  /** One-character field delimiter; default `','`. */
  readonly delimiter?: string;
}

/** Options of {@link forEachCsvRecord}. */
export interface CsvStreamOptions extends CsvOptions {
  /** Called once with the (trimmed) header before the first data record; may throw to reject it. */
  readonly onHeader?: (header: readonly string[]) => void;
}

/** A parsed CSV text: header and records, each with the physical line it starts on. */
export interface CsvTable {
  /** The file name (or label) given as `source`, for messages. */
  readonly source: string;
  /** The header's field names (trimmed). */
  readonly header: readonly string[];
  /** The records' fields, as text. */
  readonly rows: readonly (readonly string[])[];
  /** `lines[i]` = 1-based line on which `rows[i]` starts. */
  readonly lines: readonly number[];
}

const QUOTE = 34; // "
const CR = 13;
const LF = 10;

/**
 * Streams the records of a CSV text to a callback without building a table (for large files).
 * The first record is the header; every later record must have the same number of fields.
 *
 * @param text the whole CSV text.
 * @param opts `source` (for messages), `delimiter`, and `onHeader`, called with the header first.
 * @param onRecord called for each data record with its fields and its 1-based start line.
 *   The `fields` array is reused between calls: copy it to keep it.
 * @returns the header and the number of data records.
 * @throws {CsvError} on malformed input.
 */
export function forEachCsvRecord(
  text: string,
  onRecord: (fields: string[], line: number) => void,
  opts: CsvStreamOptions = {},
): {
  /** The header's field names. */
  header: string[];
  /** Number of data records passed to `onRecord`. */
  records: number;
} {
  const source = opts.source ?? '<csv>';
  const delim = (opts.delimiter ?? ',').charCodeAt(0);
  if ((opts.delimiter ?? ',').length !== 1 || delim === QUOTE || delim === CR || delim === LF) {
    throw new Error(`forEachCsvRecord: delimiter must be one character other than a quote or newline, got ${JSON.stringify(opts.delimiter)}`);
  }
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i; // index of the first character of the current physical line
  let header: string[] | null = null;
  let records = 0;
  const fields: string[] = [];

  while (i < n) {
    // Skip blank lines.
    const c0 = text.charCodeAt(i);
    if (c0 === LF || c0 === CR) {
      i += c0 === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      lineStart = i;
      continue;
    }
    const recordLine = line;
    fields.length = 0;
    // Parse one record.
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        const openLine = line;
        const openCol = i - lineStart + 1;
        i++;
        let out = '';
        let chunk = i;
        for (;;) {
          if (i >= n) throw new CsvError(source, openLine, openCol, 'unterminated quoted field (no closing ")');
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) {
              out += text.slice(chunk, i + 1);
              i += 2;
              chunk = i;
              continue;
            }
            out += text.slice(chunk, i);
            i++;
            break;
          }
          if (c === LF || c === CR) {
            i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
            line++;
            lineStart = i;
            continue;
          }
          i++;
        }
        value = out;
        if (i < n) {
          const c = text.charCodeAt(i);
          if (c !== delim && c !== LF && c !== CR) {
            throw new CsvError(source, line, i - lineStart + 1, `unexpected character ${JSON.stringify(text[i])} after a closing quote`);
          }
        }
      } else {
        const start = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === delim || c === LF || c === CR) break;
          if (c === QUOTE) throw new CsvError(source, line, i - lineStart + 1, 'unexpected quote inside an unquoted field');
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      if (i < n && text.charCodeAt(i) === delim) {
        i++;
        continue;
      }
      // End of record: newline or end of text.
      if (i < n) {
        i += text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
        line++;
        lineStart = i;
      }
      break;
    }
    if (header === null) {
      header = fields.map((f) => f.trim());
      const seen = new Set<string>();
      header.forEach((h, k) => {
        if (h === '') throw new CsvError(source, recordLine, 0, `header column ${k + 1} has an empty name`);
        if (seen.has(h)) throw new CsvError(source, recordLine, 0, `duplicate header column ${JSON.stringify(h)}`);
        seen.add(h);
      });
      opts.onHeader?.(header);
    } else {
      if (fields.length !== header.length) {
        throw new CsvError(source, recordLine, 0, `expected ${header.length} fields as in the header, got ${fields.length}`);
      }
      records++;
      onRecord(fields, recordLine);
    }
  }
  if (header === null) throw new CsvError(source, 1, 0, 'empty CSV (no header line)');
  return { header, records };
}

/**
 * Parses a whole CSV text into a header and rows of strings (see the file header for the rules).
 * @throws {CsvError} on malformed input.
 */
export function parseCsv(text: string, opts: CsvOptions = {}): CsvTable {
  const rows: string[][] = [];
  const lines: number[] = [];
  const { header } = forEachCsvRecord(
    text,
    (fields, line) => {
      rows.push(fields.slice());
      lines.push(line);
    },
    opts,
  );
  return { source: opts.source ?? '<csv>', header, rows, lines };
}

/**
 * Indices of the named columns in a header.
 * @throws {CsvError} (line 1) listing every missing column and the columns found.
 */
export function requireColumns(header: readonly string[], names: readonly string[], source = '<csv>'): number[] {
  const missing = names.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new CsvError(
      source,
      1,
      0,
      `missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => JSON.stringify(c)).join(', ')}; header is ${header.join(',')}`,
    );
  }
  return names.map((c) => header.indexOf(c));
}

/**
 * Parses a numeric field. Empty (after trimming), `NaN`, `nan` and `NA` give `NaN` (missing);
 * anything else that is not a finite decimal number is an error.
 * @param value the field text.
 * @param where `{source, line, column}` for the error message (`column` = header name).
 * @throws {CsvError} when the field is not a number.
 */
export function parseNumberField(value: string, where: { source: string; line: number; column: string }): number {
  const s = value.length && (value.charCodeAt(0) <= 32 || value.charCodeAt(value.length - 1) <= 32) ? value.trim() : value;
  if (s === '' || s === 'NaN' || s === 'nan' || s === 'NA') return Number.NaN;
  const v = parseDecimal(s);
  if (v === undefined) {
    throw new CsvError(where.source, where.line, 0, `column ${JSON.stringify(where.column)}: ${JSON.stringify(value)} is not a number`);
  }
  return v;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles 1 … 1e22

/**
 * A plain decimal `[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?` (what `Number()` accepts minus hex,
 * binary, octal, `Infinity` and whitespace), or `undefined`. Hot path of large files: short
 * mantissas without exponent are computed as `m / 10^k`, which is correctly rounded when
 * m < 2^53 and k ≤ 22 (both operands exact); anything else goes through `Number()`.
 */
function parseDecimal(s: string): number | undefined {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  const neg = c === 45;
  if (c === 43 || c === 45) c = s.charCodeAt(++i);
  let digits = 0;
  let m = 0;
  let frac = 0;
  while (c >= 48 && c <= 57) {
    digits++;
    m = m * 10 + (c - 48);
    c = s.charCodeAt(++i);
  }
  if (c === 46) {
    c = s.charCodeAt(++i);
    while (c >= 48 && c <= 57) {
      digits++;
      frac++;
      m = m * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
  }
  if (digits === 0) return undefined;
  if (i === n && digits <= 15 && frac <= 22) {
    const v = m / POW10[frac]!;
    return neg ? -v : v;
  }
  if (c === 101 || c === 69) {
    c = s.charCodeAt(++i);
    if (c === 43 || c === 45) c = s.charCodeAt(++i);
    let e = 0;
    while (c >= 48 && c <= 57) {
      e++;
      c = s.charCodeAt(++i);
    }
    if (e === 0) return undefined;
  }
  if (i !== n) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}
