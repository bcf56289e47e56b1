/**
 * The Danish weather lesson's fixed names and numbers (Hvass-Labs TensorFlow tutorial #23,
 * shared docs/reference-results.md §3): where the archive lives, the 5 stations and their
 * signals, the NA markers, the dropped columns, the 20 input columns, the 3 targets, the 24 h
 * horizon and the 50 warm-up steps.
 */

/** Where the lesson's `weather.py` downloads the archive (about 35 MB, non-commercial licence). */
export const WEATHER_DENMARK_URL = 'https://github.com/Hvass-Labs/weather-denmark/raw/master/weather-denmark.tar.gz';
/** File name of the archive in the cache directory. */
export const WEATHER_DENMARK_ARCHIVE = 'weather-denmark.tar.gz';
/** The CSV entry inside the archive (the cleaned, not yet resampled observations). */
export const WEATHER_DENMARK_CSV = 'weather-denmark.csv';
/** The 5 stations, in the lesson's order. */
export const CITIES = ['Aalborg', 'Aarhus', 'Esbjerg', 'Odense', 'Roskilde'] as const;
/** A station name. */
export type City = (typeof CITIES)[number];
/** Measured signals per station, in CSV (and join) order. */
export const SIGNALS = ['Temp', 'Pressure', 'WindSpeed', 'WindDir'] as const;
/** The CSV header columns the loader needs. */
export const CSV_COLUMNS = ['City', 'DateTime', ...SIGNALS] as const;
/** NCDC "not available" markers (`999, 999.0, 999.9, 9999.9`), matched numerically like pandas' `na_values`. */
export const NA_MARKERS: readonly number[] = [999, 999.9, 9999.9];
/** Columns the lesson drops after the join (long gaps): `('Esbjerg','Pressure')`, `('Roskilde','Pressure')`. */
export const DROPPED_COLUMNS = ['Esbjerg.Pressure', 'Roskilde.Pressure'] as const;
/**
 * The 20 input columns in the lesson's order (§3.1): `City.Signal` for the 18 kept station
 * columns, then `Various.Day` (day of year 1–366) and `Various.Hour` (0–23).
 */
export const WEATHER_COLUMNS: readonly string[] = [
  ...CITIES.flatMap((c) => SIGNALS.map((s) => `${c}.${s}`)).filter((n) => !(DROPPED_COLUMNS as readonly string[]).includes(n)),
  'Various.Day',
  'Various.Hour',
];
/** The lesson's targets: Odense `['Temp', 'WindSpeed', 'Pressure']`, in this order. */
export const TARGET_COLUMNS: readonly string[] = ['Odense.Temp', 'Odense.WindSpeed', 'Odense.Pressure'];
/** Units of {@link TARGET_COLUMNS}, for reports. */
export const TARGET_UNITS: readonly string[] = ['°C', 'm/s', 'hPa'];
/** Forecast horizon of the lesson: 24 hourly steps. */
export const SHIFT_STEPS = 24;
/** The lesson's loss ignores the first 50 time steps of every sequence (`warmup_steps`). */
export const WARMUP_STEPS = 50;
