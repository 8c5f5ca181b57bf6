/**
 * What a person may see of a receiver's answer ("send test", the delivery log): a short excerpt
 * of printable text. Alerts can point at any public URL, so showing the whole answer would make
 * Vigil a reader of other people's pages; markup is dropped so nothing of it renders or hides text.
 */
export const EXCERPT_CHARS = 200;

export function responseExcerpt(body: string | null | undefined): string {
  if (!body) return '';
  const text = body
    .slice(0, 20 * EXCERPT_CHARS)
    .replace(/<(script|style)\b[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
    .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
    .replace(/<[^>]*(>|$)/g, ' ')
    // control and format characters (bidi overrides, zero-width) and lone surrogates
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...text];
  return chars.length <= EXCERPT_CHARS ? text : `${chars.slice(0, EXCERPT_CHARS - 1).join('')}…`;
}
