/** Building a page's elements, and reading the theme's `--vscode-*` variables VS Code sets on its root. */

/** A new `tag` element with `properties` assigned and `children` appended. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const created = Object.assign(document.createElement(tag), properties);
  created.append(...children);
  return created;
}

/** The theme's value of a `--vscode-*` variable, or `fallback` where the theme gives none. */
export function cssVariable(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}
