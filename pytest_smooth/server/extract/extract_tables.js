// Tables, native (<table>) and ARIA (role=table/grid with role=row and cell roles).

const TABLE_SEL = "table,[role=table],[role=grid],[role=treegrid]";
const CELL_ROLES = new Set(["cell", "gridcell", "columnheader", "rowheader"]);
const tableCache = new Map();

function isTable(el) { return el.localName === "table" || /^(table|grid|treegrid)$/.test(el.getAttribute("role") || ""); }
function isRow(el) { return el.localName === "tr" || el.getAttribute("role") === "row"; }
function isHeadCell(c) { return c.localName === "th" || c.getAttribute("role") === "columnheader"; }

function tableOf(row) {
  return row.localName === "tr" ? row.closest("table") : row.closest("[role=table],[role=grid],[role=treegrid]");
}

function cellsOf(row) {
  if (row.localName === "tr") return [...row.cells];
  return [...row.querySelectorAll("*")]
    .filter((c) => CELL_ROLES.has(c.getAttribute("role")) && c.closest("[role=row]") === row);
}

function rowsOf(table) {
  if (table.localName === "table") return [...table.rows];
  return [...table.querySelectorAll("[role=row]")].filter((r) => tableOf(r) === table);
}

// Cells by column index, a cell spanning columns repeated under each of them.
function columns(row) {
  const out = [];
  for (const c of cellsOf(row)) for (let i = 0; i < Math.max(1, c.colSpan || 1); i++) out.push(c);
  return out;
}

// A table's header texts (by column), data rows, and footer rows (hidden rows left out).
function tableInfo(table) {
  let info = tableCache.get(table);
  if (info) return info;
  const rows = rowsOf(table).filter((r) => cellsOf(r).length && isVisible(r));
  const allHead = (r) => cellsOf(r).every(isHeadCell);
  const thead = table.localName === "table" ? table.tHead : null;
  let headRows = [];
  if (thead) headRows = [...thead.rows].filter((r) => r.cells.length && isVisible(r));
  else if (rows.length > 1 && (allHead(rows[0]) || allBold(rows[0]))) headRows = [rows[0]];
  const header = headRows.length ? mergeHeader(headRows) : null;
  const tfoot = table.localName === "table" ? table.tFoot : null;
  const foot = rows.filter((r) => tfoot && tfoot.contains(r));
  const body = rows.filter((r) => !headRows.includes(r) && !(thead && thead.contains(r))
    && !foot.includes(r) && !allHead(r) && !isMessageRow(r, header));
  info = {header, body, foot};
  tableCache.set(table, info);
  return info;
}

// Several header rows (pandas puts the index name on a second one): each column's texts joined.
function mergeHeader(headRows) {
  const out = [];
  for (const r of headRows) {
    columns(r).forEach((c, i) => {
      const t = headText(c);
      if (t && !(out[i] || "").split(" / ").includes(t)) out[i] = out[i] ? out[i] + " / " + t : t;
    });
  }
  return out.map((t) => t || "");
}

// A header cell's name: its text without sort arrows (links, icons and widgets around it).
function headText(c) { return collapse(text(c).replace(/[▲▼△▽↑↓⇅⇵↕⬍]/g, "")); }

// "No matching records found": one cell across the columns of a table with a header.
function isMessageRow(r, header) {
  const cs = cellsOf(r);
  return !!header && header.length > 1 && cs.length === 1 && (cs[0].colSpan || 1) >= header.length;
}

// A first row written in bold (<td><b>Part</b></td>...) is a header too.
function allBold(row) {
  return cellsOf(row).every((c) => {
    const b = c.querySelector("b,strong");
    return b && text(c) && text(b) === text(c);
  });
}

// For a table row: its cells labelled by the header texts.
function rowExtra(el) {
  if (!el || !isRow(el)) return [];
  const table = tableOf(el);
  const info = table && tableInfo(table);
  if (!info || !info.header) return [];
  const out = [];
  columns(el).forEach((c, i) => {
    if (info.header[i] && !out.some((x) => x.el === c)) out.push({label: info.header[i], el: c});
  });
  return out;
}

// Label/value pairs of tables: two-cell rows (or a header cell then a cell, footers too), and
// the header over the cells of a table with one data row.
function tablePairs(S, push) {
  for (const table of within(S, TABLE_SEL)) {
    if (!isVisible(table)) continue;
    const info = tableInfo(table);
    for (const r of info.body.concat(info.foot)) {
      const cs = cellsOf(r).filter(isVisible);
      if (cs.length >= 2 && (isHeadCell(cs[0]) || cs.length === 2)) push(text(cs[0]), cs[1]);
    }
    if (info.header && info.body.length === 1) for (const x of rowExtra(info.body[0])) push(x.label, x.el);
  }
}

// A table column whose header names the property at `level`: its cells, top to bottom.
function columnItems(S, prop, level) {
  for (const t of within(S, TABLE_SEL)) {
    const info = isVisible(t) ? tableInfo(t) : null;
    if (!info || !info.header) continue;
    const i = info.header.findIndex((h) => score(h, prop) === level);
    if (i >= 0) return info.body.map((r) => ({el: columns(r)[i]})).filter((it) => it.el);
  }
  return null;
}
