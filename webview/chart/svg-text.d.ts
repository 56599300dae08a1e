/** SVG files import as their text (the browser build's `.svg` loader is `text`). */
declare module '*.svg' {
  const markup: string;
  export default markup;
}
