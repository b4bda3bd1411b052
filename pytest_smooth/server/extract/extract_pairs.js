// Label/value pairs, tables and the items of a container (see extract.py for the rules).

const LIST_TAGS = new Set(["ul", "ol", "menu", "table", "tbody", "select", "dl", "datalist"]);
const HEADINGS = "h1,h2,h3,h4,h5,h6,[role=heading]";
const LABEL_TAGS = /^(label|legend|dt|th|caption|summary|button|option)$/;
const SKIP_PAIR = /^(table|thead|tbody|tfoot|tr|select|dl|ul|ol|label|button|a|option)$/;

function isHeading(el) { return /^h[1-6]$/.test(el.localName) || el.getAttribute("role") === "heading"; }

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
  // "Date: <input>": a text label just before a control with no <label>.
  for (const c of within(S, "input,select,textarea")) {
    const prev = c.previousSibling;
    if (!shown(c) || (c.labels && c.labels.length) || !prev || prev.nodeType !== 3) continue;
    const m = collapse(prev.data).match(/(?:^|\n)([^:：\n]{1,30})[:：]$/u);
    if (m) push(m[1], c);
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
  tablePairs(S, push);
  for (const cap of within(S, "caption")) if (isVisible(cap)) push(text(cap), cap.parentElement);
  kvPairs(S).forEach((p) => out.push(p));
  for (const el of [S, ...elems(S)]) twoPartPair(el, push);
  for (const h of within(S, HEADINGS)) {
    if (!isVisible(h)) continue;
    let n = h.nextElementSibling;
    while (n && !shown(n)) n = n.nextElementSibling;
    if (n && !isHeading(n)) push(text(h), n, {heading: h});
  }
  cache.pairs.set(S, out);
  return out;
}

// <div><span>Total</span> <b>$12</b></div>, <p>Status <b>Shipped</b></p>, <p><b>Seat</b> 14C</p>:
// an element made of a short label and its value, as elements or text.
function twoPartPair(el, push) {
  if (SKIP_PAIR.test(el.localName) || isControl(el) || isHeading(el) || isRow(el)) return;
  const parts = [];
  for (const n of el.childNodes) {
    if (n.nodeType === 3 ? collapse(n.data) : n.nodeType === 1 && shown(n) && n.localName !== "br") {
      parts.push(n);
    }
    if (parts.length > 2) return;
  }
  if (parts.length !== 2) return;
  const [a, b] = parts;
  if (a.nodeType === 1 && (isControl(a) || LIST_TAGS.has(a.localName) || isHeading(a)
    || a.localName === "label" || a.children.length > 2)) return;
  const label = a.nodeType === 1 ? text(a) : collapse(a.data);
  if (!label || label.length > 40 || /[.!?]$/.test(label)) return;
  if (b.nodeType === 1) push(label, b);
  else push(label, null, {raw: collapse(b.data)});
}

// What one text line says: [label, value] pairs ("Key: value", "Key:" then the next line,
// "Order #1042", "1.2k followers").
function lineRecords(line, next) {
  const out = [];
  let m = line.match(KV_LINE);
  if (m && /\d$/.test(m[1]) && /^\d/.test(m[2])) m = null; // 10:45 is a time, not a label
  if (m) out.push([m[1], m[2]]);
  else {
    const open = line.match(KV_OPEN);
    if (open && next) out.push([open[1], next]);
    // Read into a line rather than written as label/value: not for dict[str, X] schemas.
    const h = line.match(HASH_LINE);
    if (h) for (const suffix of ["", " number", " id"]) out.push([h[1] + suffix, h[2], true]);
    const n = line.match(COUNT_LINE);
    if (n) out.push([n[2], n[1], true]);
  }
  return out.filter(([k]) => /\p{L}/u.test(k));
}

// Pairs from text lines, each kept only on the deepest element that shows it; short lines are
// kept too (cache.short) for "Label value" without a separator.
function kvPairs(S) {
  const all = [S, ...elems(S)];
  const claimed = new Map();
  const found = [];
  const short = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const el = all[i];
    if (isControl(el)) continue;
    // Big containers repeat what their children already said.
    if (rawText(el).length > 4000) continue;
    const ls = lines(el);
    if (ls.length > 60) continue;
    ls.forEach((line, j) => {
      const prev = claimed.get(line);
      if (prev && el.contains(prev)) return;
      claimed.set(line, el);
      const order = i * 1000 + j;
      for (const [label, raw, implied] of lineRecords(line, ls[j + 1])) {
        found.push({label, raw, order, implied});
      }
      if (line.split(" ").length <= 8 && !LABEL_TAGS.test(el.localName)) short.push({line, order});
    });
  }
  cache.short.set(S, short.sort((a, b) => a.order - b.order).map((x) => x.line));
  return found.sort((a, b) => a.order - b.order)
    .map((p) => ({label: p.label.replace(/[:：*]+$/, "").trim(), raw: p.raw, el: null,
      implied: p.implied}));
}

// The rest of a short line that starts with the property's name ("Terminal 2" -> "2").
function prefixValues(S, prop) {
  pairsIn(S);
  const out = [];
  for (const line of cache.short.get(S) || []) {
    const toks = line.split(" ");
    const squashed = line.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
    for (const n of prop.names) {
      // Stems are prefixes of the written words (but for y -> i): a cheap first filter.
      if (!n.w.length || !squashed.startsWith(n.w[0].slice(0, -1))) continue;
      for (let i = 1; i < toks.length; i++) {
        const k = words(toks.slice(0, i).join(" ")).join("");
        // Only codes and numbers ("Gate B22", "Terminal 2"): prose after a word is no value.
        const rest = toks.slice(i).join(" ");
        if (k === n.k && /\d/.test(rest) && toks.length - i <= 3) out.push(rest);
        if (k.length >= n.k.length) break;
      }
    }
  }
  return out;
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
  if (isTable(C) || tag === "tbody") {
    const table = isTable(C) ? C : C.closest("table");
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
  const crumbs = wantObj ? null : separated(C);
  if (crumbs) return crumbs;
  const boxes = [...C.querySelectorAll("input[type=checkbox],input[type=radio]")].filter(shown);
  if (boxes.length >= 2 && !wantObj) return choices(boxes.map((el) => ({el})));
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

// "Home › Users › bkeller": links and text joined by separators (a breadcrumb) give its parts.
const SEPARATORS = /\s*[›»>→/|]\s*/u;
function separated(C) {
  const texts = [...C.childNodes].filter((n) => n.nodeType === 3 && collapse(n.data));
  if (!texts.length || !texts.every((n) => SEPARATORS.test(n.data) && /^\s*[›»>→/|]/u.test(n.data))) return null;
  const parts = text(C).split(new RegExp(SEPARATORS.source, "gu")).filter(Boolean);
  return parts.length >= 2 ? parts.map((raw) => ({raw})) : null;
}

// A wrapper holds repeated children (or a list), as opposed to one item's fields.
function isWrapper(el) {
  if (LIST_TAGS.has(el.localName)) return true;
  if (/^(tr|td|th)$/.test(el.localName) || isRow(el)) return false;
  if (isTable(el)) return true;
  const kids = [...el.children].filter(shown);
  if (largestGroup(kids).length >= 2) return true;
  return kids.length === 1 && isWrapper(kids[0]);
}
