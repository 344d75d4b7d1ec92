// JavaScript's meaning of the character-set escapes, as code-point ranges, so that a pattern run
// by the linear-time engine (RE2 syntax) matches exactly what `new RegExp(p, 'u')` matches. RE2's
// own `\s` and `.` differ from JavaScript's (ECMA-262 §22.2.2.9: WhiteSpace and LineTerminator;
// RE2's `\s` is ASCII only and its `.` excludes only \n), so they are never emitted as is.

/** Inclusive code-point ranges, sorted and disjoint. */
export type Ranges = readonly (readonly [number, number])[];

export const MAX_CODE_POINT = 0x10ffff;

export const DIGIT: Ranges = [[0x30, 0x39]];

/** `\w` with the u flag and no i flag: ASCII letters, digits and `_`. */
export const WORD: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];

/** `\s`: WhiteSpace (TAB, VT, FF, ZWNBSP, USP = Zs) and LineTerminator (LF, CR, LS, PS). */
export const SPACE: Ranges = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

/** `.` without the s flag: every code point but the LineTerminators. */
export const DOT: Ranges = complement([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);

export const ASCII: Ranges = [[0x00, 0x7f]];

export const ANY: Ranges = [[0x00, MAX_CODE_POINT]];

export function complement(ranges: Ranges): Ranges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/**
 * Unicode General_Category long names (ECMA-262 table "Value aliases and canonical values for the
 * Unicode property General_Category"), mapped to the short names RE2 accepts in `\p{…}`. Every
 * short name and every long script name RE2 accepts matches the same code points as V8's (checked
 * over all of U+0000–U+10FFFF when re2js 2.10 was adopted).
 */
export const GENERAL_CATEGORY_SHORT: Readonly<Record<string, string>> = {
  Cased_Letter: 'LC',
  Close_Punctuation: 'Pe',
  Connector_Punctuation: 'Pc',
  Control: 'Cc',
  cntrl: 'Cc',
  Currency_Symbol: 'Sc',
  Dash_Punctuation: 'Pd',
  Decimal_Number: 'Nd',
  digit: 'Nd',
  Enclosing_Mark: 'Me',
  Final_Punctuation: 'Pf',
  Format: 'Cf',
  Initial_Punctuation: 'Pi',
  Letter: 'L',
  Letter_Number: 'Nl',
  Line_Separator: 'Zl',
  Lowercase_Letter: 'Ll',
  Mark: 'M',
  Combining_Mark: 'M',
  Math_Symbol: 'Sm',
  Modifier_Letter: 'Lm',
  Modifier_Symbol: 'Sk',
  Nonspacing_Mark: 'Mn',
  Number: 'N',
  Open_Punctuation: 'Ps',
  Other: 'C',
  Other_Letter: 'Lo',
  Other_Number: 'No',
  Other_Punctuation: 'Po',
  Other_Symbol: 'So',
  Paragraph_Separator: 'Zp',
  Private_Use: 'Co',
  Punctuation: 'P',
  punct: 'P',
  Separator: 'Z',
  Space_Separator: 'Zs',
  Spacing_Mark: 'Mc',
  Surrogate: 'Cs',
  Symbol: 'S',
  Titlecase_Letter: 'Lt',
  Unassigned: 'Cn',
  Uppercase_Letter: 'Lu',
};
