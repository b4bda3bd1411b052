// Label/value pairs, tables and the items of a container (see extract.py for the rules).

const LIST_TAGS = new Set(["ul", "ol", "menu", "table", "tbody", "select", "dl", "datalist"]);
const HEADINGS = "h1,h2,h3,h4,h5,h6,[role=heading]";
const tableCache = new Map();

function isHeading(el) { return /^h[1-6]$/.test(el.localName) || el.getAttribute("role") === "heading"; }

// Cells by column index, a cell spanning columns repeated under each of them.
function columns(row) {
  const out = [];
  for (const c of row.cells) for (let i = 0; i < Math.max(1, c.colSpan || 1); i++) out.push(c);
  return out;
}

// A table's header texts (by column) and its data rows (no header, footer or hidden rows).
function tableInfo(table) {
  let info = tableCache.get(table);
  if (info) return info;
  const rows = [...table.rows].filter((r) => r.cells.length && isVisible(r));
  const allTh = (r) => [...r.cells].every((c) => c.localName === "th");
  let headerRow = null;
  const thead = table.tHead;
  if (thead) headerRow = [...thead.rows].filter((r) => r.cells.length).pop() || null;
  else if (rows.length > 1 && allTh(rows[0])) headerRow = rows[0];
  const header = headerRow ? columns(headerRow).map(text) : null;
  const foot = table.tFoot;
  const body = rows.filter((r) => r !== headerRow && !(thead && thead.contains(r))
    && !(foot && foot.contains(r)) && !allTh(r));
  info = {header, body};
  tableCache.set(table, info);
  return info;
}

// For a table row: its cells labelled by the header texts.
function rowExtra(el) {
  if (!el || el.localName !== "tr") return [];
  const table = el.closest("table");
  const info = table && tableInfo(table);
  if (!info || !info.header) return [];
  const cells = columns(el);
  const out = [];
  cells.forEach((c, i) => {
    if (info.header[i] && !out.some((x) => x.el === c)) out.push({label: info.header[i], el: c});
  });
  return out;
}

function pairsIn(S) {
  let out = cache.pairs.get(S);
  if (out) return out;
  out = [];
  const push = (label, el, more) => {
    label = collapse(label || "").replace(/[:：*]+$/, "").trim();
    if (label) out.push({label, el, ...more});
  };
  for (const lab of within(S, "label")) if (isVisible(lab) && lab.control) push(text(lab), lab.control);
  for (const c of within(S, "input[placeholder],textarea[placeholder]")) {
    if (shown(c) && !(c.labels && c.labels.length)) push(c.placeholder, c);
  }
  for (const fs of within(S, "fieldset")) {
    const lg = [...fs.children].find((c) => c.localName === "legend");
    if (lg && isVisible(fs)) push(text(lg), fs);
  }
  for (const el of within(S, "[aria-labelledby]")) {
    if (!shown(el)) continue;
    const ids = el.getAttribute("aria-labelledby").split(/\s+/);
    push(ids.map((id) => document.getElementById(id)).filter(Boolean).map(text).join(" "), el);
  }
  for (const dt of within(S, "dt")) {
    if (!isVisible(dt)) continue;
    const dds = [];
    for (let n = dt.nextElementSibling; n && n.localName !== "dt"; n = n.nextElementSibling) {
      if (n.localName === "dd" && isVisible(n)) dds.push(n);
    }
    if (dds.length) push(text(dt), dds[0], {els: dds});
  }
  for (const table of within(S, "table")) {
    if (!isVisible(table)) continue;
    const info = tableInfo(table);
    for (const r of info.body) {
      const cs = [...r.cells].filter(isVisible);
      if (cs.length >= 2 && (cs[0].localName === "th" || cs.length === 2)) push(text(cs[0]), cs[1]);
    }
    if (info.header && info.body.length === 1) for (const x of rowExtra(info.body[0])) push(x.label, x.el);
  }
  for (const cap of within(S, "caption")) if (isVisible(cap)) push(text(cap), cap.parentElement);
  kvPairs(S).forEach((p) => out.push(p));
  for (const el of [S, ...elems(S)]) {
    // <div><span>Total</span><span>$12.00</span></div>: a short label, then its value.
    if (/^(table|thead|tbody|tfoot|tr|select|dl)$/.test(el.localName)) continue;
    const kids = [...el.children].filter(shown);
    if (kids.length !== 2 || isControl(kids[0]) || kids[0].localName === "label") continue;
    if (LIST_TAGS.has(kids[0].localName) || isHeading(kids[0])) continue;
    if ([...el.childNodes].some((n) => n.nodeType === 3 && collapse(n.data))) continue;
    const t = text(kids[0]);
    if (t && t.length <= 40 && kids[0].children.length <= 2) push(t, kids[1]);
  }
  for (const h of within(S, HEADINGS)) {
    if (!isVisible(h)) continue;
    let n = h.nextElementSibling;
    while (n && !shown(n)) n = n.nextElementSibling;
    if (n && !isHeading(n)) push(text(h), n, {heading: h});
  }
  cache.pairs.set(S, out);
  return out;
}

// "Key: value" lines, each kept only on the deepest element that shows it.
function kvPairs(S) {
  const all = [S, ...elems(S)];
  const claimed = new Map();
  const found = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const el = all[i];
    if (isControl(el)) continue;
    const ls = lines(el);
    if (ls.length > 60) continue;
    ls.forEach((line, j) => {
      let m = line.match(KV_LINE);
      if (!m) {
        const open = line.match(KV_OPEN);
        m = open && j + 1 < ls.length ? [line, open[1], ls[j + 1]] : null;
      }
      if (!m || !/\p{L}/u.test(m[1])) return;
      const id = m[1] + "\u0000" + m[2];
      const prev = claimed.get(id);
      if (prev && el.contains(prev)) return;
      claimed.set(id, el);
      found.push({label: m[1], raw: m[2], el: null, order: i * 1000 + j});
    });
  }
  return found.sort((a, b) => a.order - b.order)
    .map((p) => ({label: p.label.replace(/[:：*]+$/, "").trim(), raw: p.raw, el: null}));
}

function splitText(t) {
  return collapse(t).split(/\s*[,;|•·\n]\s*/).filter(Boolean).map((raw) => ({raw}));
}

function signature(el) {
  return el.localName + "." + (el.getAttribute("data-testid") || el.getAttribute("itemtype")
    || el.classList[0] || "");
}

function largestGroup(kids) {
  const groups = new Map();
  for (const k of kids) {
    const s = signature(k);
    if (!groups.has(s)) groups.set(s, []);
    groups.get(s).push(k);
  }
  let best = [];
  for (const g of groups.values()) if (g.length > best.length) best = g;
  return best;
}

// Checked boxes of a group stand for their labels; unchecked ones are not items.
function choices(items) {
  return items.flatMap((it) => {
    const el = it.el;
    if (!el || el.localName !== "input" || !/^(checkbox|radio)$/.test(el.type)) return [it];
    return el.checked ? [{raw: choiceText(el)}] : [];
  });
}

// The items of a container: list items, table rows, options, or its repeated children.
function itemsOf(C, wantObj, depth = 0) {
  const tag = C.localName;
  if (isHeading(C)) {
    let n = C.nextElementSibling;
    while (n && !shown(n)) n = n.nextElementSibling;
    return n && depth < 3 ? itemsOf(n, wantObj, depth + 1) : [];
  }
  if (tag === "table" || tag === "tbody") {
    const table = tag === "table" ? C : C.closest("table");
    return tableInfo(table).body.filter((r) => C.contains(r)).map((el) => ({el, extra: rowExtra(el)}));
  }
  if (tag === "select") {
    return [...C.options].filter((o) => !C.multiple || o.selected).map((o) => ({raw: collapse(o.text)}));
  }
  if (tag === "input" || tag === "textarea") return splitText(C.value);
  if (tag === "ul" || tag === "ol" || tag === "menu") {
    return [...C.children].filter((c) => c.localName === "li" && isVisible(c)).map((el) => ({el}));
  }
  if (tag === "dl") return [...C.children].filter((c) => c.localName === "dd" && isVisible(c)).map((el) => ({el}));
  const boxes = [...C.querySelectorAll("input[type=checkbox],input[type=radio]")].filter(shown);
  if (boxes.length >= 2) return choices(boxes.map((el) => ({el})));
  const kids = [...C.children].filter((c) => shown(c) && !isHeading(c)
    && !/^(caption|legend|label)$/.test(c.localName));
  if (!kids.length) return wantObj ? [] : splitText(text(C));
  const best = largestGroup(kids);
  if (best.length >= 2) return best.map((el) => ({el}));
  const lists = kids.filter((k) => LIST_TAGS.has(k.localName));
  if (lists.length === 1 && depth < 4) return itemsOf(lists[0], wantObj, depth + 1);
  if (kids.length === 1 && depth < 4 && isWrapper(kids[0])) return itemsOf(kids[0], wantObj, depth + 1);
  if (wantObj) return [{el: kids.length === 1 ? kids[0] : C}];
  return kids.map((el) => ({el}));
}

// A wrapper holds repeated children (or a list), as opposed to one item's fields.
function isWrapper(el) {
  if (LIST_TAGS.has(el.localName)) return true;
  if (/^(tr|td|th)$/.test(el.localName)) return false;
  const kids = [...el.children].filter(shown);
  if (largestGroup(kids).length >= 2) return true;
  return kids.length === 1 && isWrapper(kids[0]);
}
