/**
 * The Danish weather lesson (Hvass-Labs TensorFlow tutorial #23; shared docs/reference-results.md
 * §3) — the public surface of `rnn.weather`: the lesson's constants, the archive (download, cache,
 * gzip/tar), the data set (CSV → hourly 20-column table), the 24 h task, batches and baselines.
 * The training recipe, `trainWeatherLesson`, is in `./train` (not part of `rnn.weather`).
 * The names are listed one by one so that helpers shared between the files stay internal.
 */
export {
  WEATHER_DENMARK_URL,
  WEATHER_DENMARK_ARCHIVE,
  WEATHER_DENMARK_CSV,
  CITIES,
  SIGNALS,
  CSV_COLUMNS,
  NA_MARKERS,
  DROPPED_COLUMNS,
  WEATHER_COLUMNS,
  TARGET_COLUMNS,
  TARGET_UNITS,
  SHIFT_STEPS,
  WARMUP_STEPS,
} from './constants';
export type { City } from './constants';
export { gunzip, GUNZIP_LIMIT, listTar, extractTarFile, extractWeatherCsv, downloadWeatherDenmark } from './archive';
export type { TarEntry, FetchResponseLike, FetchLike, DownloadProgress, DownloadOptions, DownloadResult } from './archive';
export { parseDateTime, parseWeatherDenmarkCsv, resampleHourly, dayOfYear, buildWeatherTable, weatherTensor, loadWeatherDenmark } from './dataset';
export type { CityObservations, WeatherObservations, HourlySeries, WeatherStats, WeatherTable } from './dataset';
export { weatherTask, weatherBatch, persistenceBaseline, forecastReport } from './task';
export type { WeatherTaskOptions, WeatherTask, ForecastReport } from './task';
// The generic windowing helpers the lesson uses, under `rnn.weather` too (as before the move).
export { MinMaxScaler, randomSubsequences, warmupMse, randint } from '../../data/windows';
export type { SubsequenceOptions, SubsequenceBatch } from '../../data/windows';
