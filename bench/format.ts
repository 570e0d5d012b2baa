// Number formats of the report and the chart (en-US, the same output on every machine).
export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const num = (n: number) => (n >= 100 ? int(n) : n.toLocaleString('en-US', { maximumFractionDigits: 1 }));
export const ms = (n: number | undefined | null) => (n === undefined || n === null ? '–' : int(n));
export const mb = (bytes: number | null) => (bytes === null ? '–' : `${Math.round(bytes / 1048576)} MB`);
export const times = (r: number | null) =>
  r === null ? '–' : `×${Number(r.toPrecision(3)).toLocaleString('en-US', { maximumSignificantDigits: 3 })}`;
export const pct = (share: number) => `${(share * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}%`;
/** A share that may not be known (a hit rate without Cache-Status). */
export const pctOrDash = (share: number | null | undefined) => (share === null || share === undefined ? '–' : pct(share));
