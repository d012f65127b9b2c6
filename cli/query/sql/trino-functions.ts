/**
 * The Trino (Athena) functions the saved questions use that DuckDB lacks, as DuckDB macros, so a
 * question file runs unchanged in both. Functions both engines share with the same meaning
 * (date_diff, date_trunc, round, count, current_timestamp, ...) need nothing here.
 */
export const TRINO_MACROS = [
  // Trino: an ISO 8601 string -> timestamp with time zone.
  'CREATE MACRO from_iso8601_timestamp(text) AS CAST(text AS TIMESTAMPTZ)',
  // Trino: an approximate percentile; DuckDB's exact nearest-rank one is a fair stand-in (and stable in tests).
  'CREATE MACRO approx_percentile(value, fraction) AS quantile_disc(value, fraction)',
  // Trino: an ISO 8601 string -> date.
  'CREATE MACRO from_iso8601_date(text) AS CAST(text AS DATE)',
] as const;
