// Text the API and the import accept (api.md, legacy-data.md): valid Unicode
// within limits counted in characters (code points), not UTF-16 units or bytes.

/** sku, name, category, email. */
export const MAX_TEXT_CHARS = 500;
/** One tag. */
export const MAX_TAG_CHARS = 100;
/** Tags per product. */
export const MAX_TAGS = 100;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a string is well-formed UTF-16: no lone surrogate (String.prototype.isWellFormed, Node 20+ typings aside). */
export const isWellFormed = (text: string) => !LONE_SURROGATE.test(text);

/** Whether Postgres can store it in text or jsonb: well-formed and without NUL. */
export const isStorableText = (text: string) => !text.includes('\u0000') && isWellFormed(text);

/** Length in characters (code points). */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
