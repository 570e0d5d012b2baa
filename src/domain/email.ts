// What an email address must look like, for the import and the API alike:
// exactly one `@`, text on both sides, no white space. Checked after trimming
// and lower-casing (both store emails lower-cased, so that one address is one
// customer whatever its spelling).

/** `\s` is ECMAScript's WhiteSpace and LineTerminator: what String.prototype.trim removes. */
const EMAIL = /^[^@\s]+@[^@\s]+$/;

export const isEmail = (text: string) => EMAIL.test(text);

/** An email as stored: trimmed and lower-cased. */
export const normalEmail = (text: string) => text.trim().toLowerCase();
