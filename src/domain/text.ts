// Text the API and the import accept (docs/http-api.md, docs/legacy-import.md): valid Unicode
// within limits counted in characters (code points), not UTF-16 units or bytes.

/** sku, name, category, email. */
export const MAX_TEXT_CHARS = 500;
/** One tag. */
export const MAX_TAG_CHARS = 100;
/** Tags per product. */
export const MAX_TAGS = 100;

/**
 * Whether a string is well-formed UTF-16: no lone surrogate, which JSON's
 * \ud800 escapes can spell and no database column or UTF-8 output can hold.
 * The one home of this rule: the request checks, cursors and the importer use it.
 */
export const isWellFormed = (text: string) => text.isWellFormed();

/** Whether Postgres can store it in text or jsonb: well-formed and without NUL. */
export const isStorableText = (text: string) => !text.includes('\u0000') && isWellFormed(text);

/** Length in characters (code points). */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
