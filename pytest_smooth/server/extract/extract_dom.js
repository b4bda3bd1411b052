// DOM helpers of the extract reader: visibility, text, names, identifiers, values, label pairs.
// extract.py joins this file and extract_read.js into the body of one function.

const SKIP_TAGS = new Set(["script", "style", "template", "noscript", "head", "svg", "option"]);
const CONTROL_TAGS = new Set(["input", "select", "textarea", "datalist"]);
const ID_ATTRS = ["data-testid", "data-test-id", "data-test", "data-qa", "data-cy", "itemprop",
  "name", "id", "aria-label", "data-field", "data-name", "placeholder", "rel"];
const SYNONYMS = {qty: "quantity", desc: "description", tel: "phone", telephone: "phone",
  addr: "address", img: "image", amt: "amount", cnt: "count", num: "number", pic: "image"};
const cache = {vis: new Map(), text: new Map(), disp: new Map(), pairs: new Map(), elems: new Map(),
  short: new Map(), ids: new Map(), names: new Map()};

function isVisible(el) {
  let v = cache.vis.get(el);
  if (v !== undefined) return v;
  const tag = el.localName;
  // Drawings (chart labels in <svg>) are not page text.
  if (SKIP_TAGS.has(tag) || (tag === "input" && el.type === "hidden") || el instanceof SVGElement) v = false;
  else if (display(el) === "contents") v = !el.parentElement || isVisible(el.parentElement);
  else {
    v = el.checkVisibility ? el.checkVisibility({checkVisibilityCSS: true})
      : getComputedStyle(el).visibility !== "hidden" && el.getClientRects().length > 0;
    const pos = getComputedStyle(el).position;
    if (v && (pos === "absolute" || pos === "fixed")) {
      // Decoys parked off-screen (left: -9999px) are as hidden as display: none.
      const r = el.getBoundingClientRect();
      if (r.right + scrollX <= 0 || r.bottom + scrollY <= 0) v = false;
    }
  }
  cache.vis.set(el, v);
  return v;
}

function display(el) {
  let d = cache.disp.get(el);
  if (d === undefined) { d = getComputedStyle(el).display; cache.disp.set(el, d); }
  return d;
}

function isControl(el) { return CONTROL_TAGS.has(el.localName); }

// Styled checkboxes hide the input itself and show its label instead.
function shown(el) {
  if (isVisible(el)) return true;
  return isControl(el) && !!el.labels && [...el.labels].some(isVisible);
}

function rawText(el) {
  let t = cache.text.get(el);
  if (t !== undefined) return t;
  t = "";
  for (const n of el.childNodes) {
    if (n.nodeType === 3) { t += n.data; continue; }
    if (n.nodeType !== 1) continue;
    const tag = n.localName;
    if (tag === "br") { t += "\n"; continue; }
    if (CONTROL_TAGS.has(tag) || !isVisible(n)) continue;
    const d = display(n);
    if (d === "inline" || d === "contents") t += rawText(n);
    else if (d.startsWith("inline")) t += " " + rawText(n) + " ";
    else t += "\n" + rawText(n) + "\n";
  }
  cache.text.set(el, t);
  return t;
}

// Visible text without struck-out parts (<del>, <s>): the current price, not the old one.
function currentText(el) {
  let t = "";
  for (const n of el.childNodes) {
    if (n.nodeType === 3) t += n.data;
    else if (n.nodeType === 1 && !/^(del|s|strike)$/.test(n.localName) && isVisible(n)) {
      t += " " + currentText(n) + " ";
    }
  }
  return collapse(t);
}

function collapse(s) { return String(s).replace(/\s+/g, " ").trim(); }
function text(el) { return collapse(rawText(el)); }
function lines(el) { return rawText(el).split("\n").map(collapse).filter(Boolean); }

function rawWords(s) {
  return String(s).replace(/[:*]+\s*$/, "").replace(/#/g, " number ").replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, "$1 $2")
    .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, "$1 $2").toLowerCase()
    .split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

// A stem that singular and plural share: sizes/size -> siz, boxes/box -> box,
// categories/category -> categori; status, address and analysis stay whole.
function singular(w) {
  if (w.length <= 3 || /(ss|us|is)$/.test(w)) return w;
  let t = w.endsWith("s") ? w.slice(0, -1) : w;
  if (t.length > 3 && t.endsWith("e")) t = t.slice(0, -1);
  if (t.length > 3 && t.endsWith("y")) t = t.slice(0, -1) + "i";
  return t;
}

const wordCache = new Map();
function words(s) {
  let w = wordCache.get(s);
  if (!w) { w = rawWords(s).map((x) => singular(SYNONYMS[x] || x)); wordCache.set(s, w); }
  return w;
}

// A property as the matcher sees it: each name as singular words, joined, and as written.
function makeProp(names) {
  return {names: names.map((n) => {
    const raw = rawWords(n).map((w) => SYNONYMS[w] || w);
    // The last word as written, without a plural s ("images" -> "image"), for word lists.
    const last = (raw[raw.length - 1] || "").replace(/(?<=[^s])s$/, "");
    return {w: words(n), k: words(n).join(""), raw: rawWords(n).join(""), last};
  })};
}

// 3: same name; 2: the label contains all the property's words; 1: the label is the
// property's last words ("Email" for customer_email); 0: no match.
function score(label, prop) {
  if (!prop || label == null) return 0;
  const lw = words(String(label));
  if (!lw.length || lw.length > 8) return 0;
  const lk = lw.join("");
  let best = 0;
  for (const n of prop.names) {
    if (!n.w.length) continue;
    if (lk === n.k) return 3;
    if (lw.length <= 6 && n.w.every((w) => lw.includes(w))) best = Math.max(best, 2);
    else if (n.w.length > lw.length && lw.every((w, i) => n.w[n.w.length - lw.length + i] === w)) {
      best = Math.max(best, 1);
    }
  }
  return best;
}

// Whether a label names the property exactly as written (plural stays plural).
function sameAsWritten(label, prop) {
  const r = rawWords(label).join("");
  return prop.names.some((n) => n.raw === r);
}

function within(S, sel) {
  const out = S.matches(sel) ? [S] : [];
  return out.concat([...S.querySelectorAll(sel)]);
}

function elems(S) {
  let list = cache.elems.get(S);
  if (!list) {
    // Microdata may keep machine-readable values in <meta itemprop content> / <link itemprop>.
    const data = (el) => /^(meta|link)$/.test(el.localName) && el.hasAttribute("itemprop");
    list = [...S.querySelectorAll("*")].filter((el) => data(el) || shown(el));
    cache.elems.set(S, list);
  }
  return list;
}

// Identifier matches of a property among the elements of S: [{el, score, cls, attr}].
function identMatches(S, prop) {
  let byProp = cache.ids.get(S);
  if (!byProp) { byProp = new Map(); cache.ids.set(S, byProp); }
  let out = byProp.get(prop);
  if (!out) { out = findIdents(S, prop); byProp.set(prop, out); }
  return out;
}

// Each element's names (identifier attributes, then classes), read once per document.
function namesOf(el) {
  let n = cache.names.get(el);
  if (n) return n;
  n = {ids: [], cls: [...el.classList]};
  if (el.localName !== "label") {
    for (const a of ID_ATTRS) {
      const v = el.getAttribute(a);
      if (v) n.ids.push(...(a === "itemprop" ? v.split(/\s+/) : [v]));
    }
  } else n.cls = [];
  cache.names.set(el, n);
  return n;
}

function findIdents(S, prop) {
  const out = [];
  for (const el of elems(S)) {
    const n = namesOf(el);
    let best = 0; let attr = null;
    for (const part of n.ids) {
      const s = score(part, prop);
      if (s > best) { best = s; attr = part; }
    }
    if (best >= 2) { out.push({el, score: best, cls: false, attr}); continue; }
    for (const c of n.cls) {
      const s = score(c, prop);
      if (s > best) { best = s; attr = c; }
    }
    if (best >= 2) out.push({el, score: best, cls: true, attr});
    else if (best === 1) out.push({el, score: 1, cls: false, attr});
  }
  return out;
}

// How many item scopes (itemscope) lie between S and el: nearer properties win.
function scopeDepth(el, S) {
  let d = 0;
  for (let p = el.parentElement; p && p !== S; p = p.parentElement) if (p.hasAttribute("itemscope")) d++;
  return d;
}

// The elements of a document-ordered list that no other element of the list contains.
function outermost(list) {
  const keep = [];
  for (const el of list) if (!keep.length || !keep[keep.length - 1].contains(el)) keep.push(el);
  return keep;
}

function choiceText(input) {
  const lab = input.labels && input.labels[0];
  if (lab) { const t = text(lab); if (t) return t; }
  const next = input.nextSibling;
  if (next && next.nodeType === 3 && collapse(next.data)) return collapse(next.data);
  return input.value || null;
}

function controlValue(el) {
  const tag = el.localName;
  if (tag === "select") {
    const sel = [...el.selectedOptions].map((o) => collapse(o.text));
    return sel.length ? sel : [null];
  }
  if (tag === "input" && el.type === "checkbox") return [el.checked];
  if (tag === "input" && el.type === "radio") {
    const root = el.form || el.getRootNode();
    const group = el.name ? [...root.querySelectorAll("input[type=radio]")].filter((r) => r.name === el.name) : [el];
    const on = group.find((r) => r.checked);
    return [on ? choiceText(on) : null, el.checked];
  }
  return [el.value];
}

const URL_WORDS = {url: "href", href: "href", link: "href", website: "href", homepage: "href",
  src: "src", image: "src", photo: "src", picture: "src", thumbnail: "src", avatar: "src",
  logo: "src", icon: "src"};

function urlKind(prop) {
  for (const n of prop ? prop.names : []) { const k = URL_WORDS[n.last]; if (k) return k; }
  return null;
}

function urlOf(el, kind) {
  const sel = kind === "href" ? "a[href]" : "img[src]";
  const t = el.matches(sel) ? el : el.querySelector(sel);
  return t ? t.getAttribute(kind) : null;
}

// Raw candidates for the value an element shows, best first.
function valueOf(el, prop) {
  if (isControl(el)) return controlValue(el);
  const out = [];
  const kind = urlKind(prop);
  if (kind) out.push(urlOf(el, kind));
  if (el.localName === "meta") return out.concat([el.content]);
  if (el.localName === "link") return out.concat([el.getAttribute("href")]);
  if (el.localName === "img") return out.concat([el.alt]);
  const radios = [...el.querySelectorAll("input[type=radio]")].filter(shown);
  if (radios.length) out.push(controlValue(radios[0])[0]);
  const controls = [...el.querySelectorAll("input,select,textarea")].filter(shown);
  // An element holding one form control shows that control's value; the rest is its label.
  if (controls.length === 1 && !el.matches("tr,td,th,li")) return out.concat(controlValue(controls[0]));
  if (controls.length === 1) out.push(...controlValue(controls[0]));
  const state = el.getAttribute("aria-checked") || el.getAttribute("aria-pressed");
  const ls = lines(el);
  const full = collapse(ls.join(" "));
  // "Status: Shipped" in the element named status: the value is what follows the label.
  const kv = full.match(KV_LINE);
  if (kv && score(kv[1], prop) >= 2) out.push(kv[2]);
  if (ls.length > 1 && score(ls[0], prop) >= 2) out.push(ls.slice(1).join(" "));
  if (el.querySelector("del,s,strike")) out.push(currentText(el));
  out.push(full);
  if (!full) out.push(iconText(el));
  if (state === "true" || state === "false") out.push(state === "true");
  for (const a of ["content", "value", "datetime"]) if (el.hasAttribute(a)) out.push(el.getAttribute(a));
  return out;
}

const KV_LINE = /^([^:：—–]{1,40}?)\s*(?:[:：]|[—–]|\s-\s)\s*(.+)$/u;
const KV_OPEN = /^([^:：]{1,40}?)\s*[:：]$/u;
const HASH_LINE = /^(\p{L}[\p{L} ]{0,30}?)\s*(?:#|No\.|Nr\.|№)\s*([\p{L}\p{N}][\p{L}\p{N}-]*)$/u;
const COUNT_LINE = /^([-+]?\d[\d.,]*[kKmM]?)\s+(\p{L}[\p{L} ]{0,30})$/u;
