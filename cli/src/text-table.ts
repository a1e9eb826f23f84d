import { visibleText } from './visible-text.js';

/**
 * Lays out rows as aligned columns under upper-case headers, two spaces apart — the
 * format of `ls` commands. The last column is not padded, so long titles don't leave
 * trailing blanks. Cells are measured as they will be shown (control characters as
 * escapes, see `visibleText`), so a title holding one does not break the alignment.
 */
export function formatTable(
  headers: readonly string[],
  cellsOfRows: readonly (readonly string[])[],
): string[] {
  const rows = cellsOfRows.map((cells) => cells.map(visibleText));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? '';
        return column === widths.length - 1 ? cell : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers.map((header) => header.toUpperCase())), ...rows.map(line)];
}

/**
 * Lays out `label: value` pairs with the values aligned — the format of `show` commands.
 * Pairs whose value is empty are left out; a value is one line, its control characters
 * shown as escapes (see `visibleText`).
 */
export function formatFields(fields: readonly (readonly [string, string])[]): string[] {
  const shown = fields.filter(([, value]) => value !== '');
  const width = Math.max(0, ...shown.map(([label]) => label.length + 1));
  return shown.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${visibleText(value)}`);
}
