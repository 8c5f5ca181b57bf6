/** The project the user last opened, remembered in this browser. */
const KEY = 'vigil.project';

export function rememberProject(slug: string): void {
  try {
    localStorage.setItem(KEY, slug);
  } catch {
    // storage may be off (private mode): the switcher still works, it just forgets
  }
}

/** The remembered project if the user still belongs to it, else their first one. */
export function pickProject(slugs: string[]): string | undefined {
  let last: string | null = null;
  try {
    last = localStorage.getItem(KEY);
  } catch {
    // see above
  }
  return last && slugs.includes(last) ? last : slugs[0];
}
