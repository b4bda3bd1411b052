// The schema-guided readers and the entry point `main(args)` (see extract.py for the rules).

const TITLE_WORDS = new Set(["title", "name", "heading", "headline"]);
const TEXT_WORDS = new Set(["description", "summary", "snippet", "excerpt", "body", "text",
  "content", "bio", "about", "abstract", "blurb", "teaser"]);
const TIER_WEIGHT = [1, 1, 0.9, 0.6, 0.4, 0.3, 0.3];
const propCache = new Map();
const EMPTY_MARK = /^\s*[-–—‒−]{1,2}\s*$/u;
const SITE_PARTS = "header,nav,footer,aside,[role=banner],[role=navigation],[role=contentinfo]";

function propOf(p) {
  let prop = propCache.get(p);
  if (!prop) { prop = makeProp(p.names || [p.name]); propCache.set(p, prop); }
  return prop;
}

// Whether a raw candidate can become the node's type (used to score, Python decides).
function fits(raw, node) {
  if (raw === null || raw === undefined || raw === "") return false;
  const types = node.types || ["string"];
  if (typeof raw === "boolean") return types.includes("boolean");
  if (types.includes("string")) return true;
  if ((types.includes("number") || types.includes("integer")) && /\d/.test(raw)) return true;
  return types.includes("boolean") && /^\s*(yes|no|y|n|true|false|on|off|[01✓✔✗✘])\s*$/i.test(raw);
}

function titleCandidates(S, ctx) {
  const out = [];
  // The page's own heading before the site's: main/article first, header/nav/footer/aside last.
  const rank = (h) => (h.closest("main,article,[role=main]") ? 0
    : h.closest("header,nav,footer,aside,[role=banner],[role=navigation]") ? 2 : 1);
  for (let lvl = 1; lvl <= 6; lvl++) {
    const hs = within(S, "h" + lvl).filter(isVisible);
    hs.sort((a, b) => rank(a) - rank(b));
    for (const h of hs) out.push(text(h));
  }
  for (const h of within(S, "[role=heading]")) if (isVisible(h)) out.push(text(h));
  if (ctx.doc) { out.push(document.title); return out; }
  for (const sel of ["a[href]", "strong,b"]) {
    const el = within(S, sel).find(isVisible);
    if (el) out.push(text(el));
  }
  out.push(lines(S)[0]);
  return out;
}

// Raw candidates for a scalar property in scope S, best first, with the best tier found.
function scalarCandidates(S, prop, node, ctx) {
  const out = [];
  let tier = 9;
  let stop = false;
  const add = (vals, t) => {
    for (const v of vals) {
      if (stop || v === null || v === undefined || v === "" || out.length >= 16 || out.includes(v)) continue;
      // A cell or field named after the property that shows a lone dash is empty: no guessing.
      if (t <= 1 && typeof v === "string" && EMPTY_MARK.test(v)) { stop = true; continue; }
      out.push(v);
      if (fits(v, node)) tier = Math.min(tier, t);
    }
  };
  const ids = identMatches(S, prop);
  const pairs = (ctx.extra || []).concat(pairsIn(S));
  const pairVals = (p) => (p.raw !== undefined ? [p.raw] : valueOf(p.el, prop));
  ids.filter((m) => m.score === 3 && !m.cls)
    .sort((a, b) => scopeDepth(a.el, S) - scopeDepth(b.el, S))
    .forEach((m) => add(valueOf(m.el, prop), 0));
  // A heading is a label only when it is exactly the property's name.
  const level = (p) => { const s = score(p.label, prop); return p.heading && s < 3 ? 0 : s; };
  for (const p of pairs) if (level(p) === 3) add(pairVals(p), 1);
  // A prompt or item scope that is itself the property's element (prompt "#price").
  if (!ctx.doc && namesOf(S).ids.some((v) => score(v, prop) === 3)) add(valueOf(S, prop), 1);
  for (const m of ids) if (m.score === 3 && m.cls) add(valueOf(m.el, prop), 2);
  // An element whose tag is the property's name: <address>, <time>, <figcaption>...
  const tagged = elems(S).find((el) => prop.names.some((n) => n.raw === el.localName));
  if (tagged) add(valueOf(tagged, prop), 2);
  const last = prop.names[0].last;
  // The site's name in its header (class="md-header__title") is not the page's title.
  const titled = TITLE_WORDS.has(last) && ctx.doc && !ctx.flat;
  const late = (m) => titled && m.score < 3 && !!m.el.closest(SITE_PARTS);
  const loose = ids.filter((m) => m.score < 3 && !late(m));
  for (const m of loose) if (m.score === 2 && !m.cls) add(valueOf(m.el, prop), 3);
  for (const p of pairs) if (level(p) === 2) add(pairVals(p), 3);
  for (const m of loose) if (m.score === 2 && m.cls) add(valueOf(m.el, prop), 3);
  for (const m of loose) if (m.score === 1) add(valueOf(m.el, prop), 4);
  for (const p of pairs) if (level(p) === 1) add(pairVals(p), 4);
  if (TITLE_WORDS.has(last) && !ctx.flat) add(titleCandidates(S, ctx), 5);
  for (const m of ids) if (late(m)) add(valueOf(m.el, prop), 5);
  add(prefixValues(S, prop), 5);
  if (TEXT_WORDS.has(last) && !ctx.doc && !ctx.flat) {
    const para = within(S, "p").find(isVisible);
    if (para) add([text(para)], 6);
  }
  const kind = urlKind(prop);
  if (kind && !ctx.doc && !ctx.flat) add([urlOf(S, kind)], 6);
  return {c: out, t: tier};
}

function findObjectScope(S, prop) {
  const ids = identMatches(S, prop).filter((m) => m.score >= 2 && !isControl(m.el));
  const rank = (m) => (m.score === 3 ? 0 : 2) + (m.cls ? 1 : 0);
  ids.sort((a, b) => rank(a) - rank(b) || scopeDepth(a.el, S) - scopeDepth(b.el, S));
  if (ids.length && ids[0].score === 3) return ids[0].el;
  const byTag = elems(S).find((el) => prop.names.some((n) => n.raw === el.localName));
  if (byTag) return byTag;
  for (const p of pairsIn(S)) {
    if (!p.el || score(p.label, prop) !== 3) continue;
    const h = p.heading;
    if (h && h.parentElement !== S && [...h.parentElement.children].find(shown) === h) return h.parentElement;
    return p.el;
  }
  return ids.length ? ids[0].el : null;
}

function isListNamed(m, prop) {
  if (isHeading(m.el)) return true;
  if (LIST_TAGS.has(m.el.localName) || isTable(m.el) || sameAsWritten(m.attr, prop)) return true;
  return /list|grid|items|group|collection|container|wrapper|feed/i.test(m.attr);
}

function findItems(S, prop, itemNode, ctx) {
  const wantObj = itemNode.kind === "object" || itemNode.kind === "map";
  for (const level of prop ? [3, 2] : []) {
    const found = namedItems(S, prop, level, itemNode);
    if (found) return found;
  }
  if (wantObj) return bestGroup(S, itemNode);
  const lists = within(S, "ul,ol").filter((l) => isVisible(l)
    && (!ctx.doc || !l.closest("nav,header,footer,aside")));
  const top = outermost(lists);
  // The page's one list answers one unnamed list property, not several (a guess otherwise).
  if ((top.length === 1 && !(ctx.lists > 1)) || (!ctx.doc && top.length)) return itemsOf(top[0], false);
  if (!ctx.doc && largestGroup([...S.children].filter(shown)).length >= 2) return itemsOf(S, false);
  return [];
}

// Items found through the property's name at one match level, or null.
function namedItems(S, prop, level, itemNode) {
  const wantObj = itemNode.kind === "object" || itemNode.kind === "map";
  const ms = identMatches(S, prop).filter((m) => m.score === level && !(wantObj && isControl(m.el)));
  const els = outermost(ms.map((m) => m.el));
  if (els.length) {
    const named = ms.find((m) => els.includes(m.el) && isListNamed(m, prop));
    if (named) return choices(itemsOf(named.el, wantObj));
    // A name on a layout box (class="row", id="user-tools") is not the items when they show
    // none of the item's properties firmly.
    if (!itemNode.properties || groupScore(els, itemNode)) {
      return choices(els.map((el) => ({el, extra: rowExtra(el)})));
    }
  }
  for (const p of pairsIn(S)) {
    if (score(p.label, prop) !== level) continue;
    if (p.els && p.els.length > 1) return p.els.map((el) => ({el}));
    const listy = p.el && isWrapper(p.el);
    if (wantObj ? !listy : p.el && !listy && !sameAsWritten(p.label, prop)) continue;
    if (p.raw !== undefined) return splitText(p.raw);
    if (isControl(p.el)) return p.el.localName === "select" ? itemsOf(p.el) : splitText(p.el.value);
    const items = choices(itemsOf(p.el, wantObj));
    // A heading over a toolbar ("Orders", then Share/Export buttons) does not name the items.
    const els = items.map((it) => it.el).filter(Boolean);
    if (!itemNode.properties || (els.length && groupScore(els, itemNode, true))) return items;
  }
  return wantObj ? null : columnItems(S, prop, level);
}

function readObject(node, S, ctx, found) {
  const o = {};
  const lists = node.properties.filter((p) => p.node.kind === "array" && p.node.items.kind === "scalar");
  ctx = {...ctx, lists: lists.length};
  for (const p of node.properties) {
    const prop = propOf(p);
    const sub = p.node;
    if (sub.kind === "object") {
      const el = findObjectScope(S, prop);
      o[p.name] = el ? readObject(sub, el, {extra: [], doc: false}, true)
        : readObject(sub, S, {...ctx, flat: true}, false);
    } else if (sub.kind === "map") {
      const el = findObjectScope(S, prop);
      o[p.name] = el ? readMap(el, prop) : null;
    } else if (sub.kind === "array") {
      o[p.name] = {a: findItems(S, prop, sub.items, ctx).map((it) => readItem(sub.items, it, prop))};
    } else if (sub.kind === "scalar") {
      o[p.name] = {c: scalarCandidates(S, prop, sub, ctx).c};
    } else {
      o[p.name] = null;
    }
  }
  return {o, found};
}

// dict[str, X]: every label/value pair in the scope, labels as the page writes them.
function readMap(S, prop, extra) {
  const m = [];
  for (const p of (extra || []).concat(pairsIn(S))) {
    if (p.heading || p.implied || p.label.length > 40 || m.some(([k]) => k === p.label)) continue;
    m.push([p.label, (p.raw !== undefined ? [p.raw] : valueOf(p.el, prop))
      .filter((v) => v !== null && v !== undefined)]);
  }
  return {m};
}

function readItem(node, it, prop) {
  if (node.kind === "none") return null;
  if (it.raw !== undefined) return node.kind === "scalar" ? {c: [it.raw]} : null;
  if (node.kind === "object") return readObject(node, it.el, {extra: it.extra || [], doc: false}, true);
  if (node.kind === "map") return readMap(it.el, null, it.extra);
  if (node.kind === "array") {
    return {a: findItems(it.el, null, node.items, {doc: false}).map((x) => readItem(node.items, x, null))};
  }
  return {c: valueOf(it.el, prop).filter((v) => v !== null && v !== undefined)};
}

function looksLikeSelector(s) {
  return /^[#.\[]/.test(s) || /^[a-z][a-z0-9-]*[#.\[:][^\s]/i.test(s);
}

// The prompt's CSS selector, if it is one or contains one: {els, error, missing}.
// (Python's server/extract/prompt.py builds the same tries and passes them as args.tries.)
function resolvePrompt(prompt) {
  const p = (prompt || "").trim();
  if (!p) return resolveTries([]);
  // [selector, strict (invalid is an error), firm (matching nothing is worth waiting for)]
  const firmly = (t) => /^[#.\[]/.test(t);
  const whole = firmly(p) || (!/\s/.test(p) && looksLikeSelector(p));
  const tries = [[p, whole, whole]];
  for (const m of p.matchAll(/`([^`]+)`/g)) tries.push([m[1].trim(), true, true]);
  for (const m of p.matchAll(/["'“‘]([^"'”’]+)["'”’]/g)) {
    const t = m[1].trim();
    if (looksLikeSelector(t)) tries.push([t, false, firmly(t)]);
  }
  for (const tok of p.split(/\s+/)) {
    const t = tok.replace(/[,;!?)"'”’]+$/, "").replace(/^["'“‘(]+/, "").replace(/\.$/, "");
    if (looksLikeSelector(t)) tries.push([t, false, firmly(t)]);
  }
  return resolveTries(tries);
}

function resolveTries(tries) {
  const root = document.body || document.documentElement;
  let missing = null;
  for (const [sel, strict, firm] of tries) {
    let els;
    try { els = [...document.querySelectorAll(sel)]; } catch (e) {
      if (strict) return {els: [], error: `prompt ${JSON.stringify(sel)} is not a valid CSS selector`};
      continue;
    }
    els = els.filter(shown);
    if (els.length) return {els};
    if (firm && missing === null) missing = sel;
  }
  return missing === null ? {els: [root]} : {els: [], missing};
}

const SECTION_HEADINGS = "h1,h2,h3,h4,h5,h6,[role=heading],legend,caption,summary";

function sectionLevel(el) {
  const m = /^h([1-6])$/.exec(el.localName);
  if (m) return Number(m[1]);
  if (el.getAttribute("role") === "heading") return Number(el.getAttribute("aria-level")) || 2;
  return 7;
}

// The part of the page under the heading named `name` ("in the Reviews section"), or null:
// the largest ancestor of the heading holding no other heading of its level or higher (its
// <section>, <article>, card...); when headings are siblings, the largest element between
// the heading and the next one of its level.
function sectionScope(root, name) {
  const squash = (s) => collapse(s).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
  const want = squash(name);
  const heads = [...root.querySelectorAll(SECTION_HEADINGS)].filter(shown);
  const named = (test) => heads.find((h) => test(squash(text(h))));
  const h = named((t) => t === want) || named((t) => t.startsWith(want + " "))
    || named((t) => (" " + t + " ").includes(" " + want + " "));
  if (!h) return null;
  const level = sectionLevel(h);
  const rival = (el) => [...el.querySelectorAll(SECTION_HEADINGS)].some(
    (x) => x !== h && !h.contains(x) && shown(x) && sectionLevel(x) <= level);
  let top = h;
  for (let el = h.parentElement; el && el !== root.parentElement && !rival(el); el = el.parentElement) {
    top = el;
    if (el === root) break;
  }
  if (top !== h && text(top).length > text(h).length) return top;
  let best = null;
  for (let el = top.nextElementSibling; el; el = el.nextElementSibling) {
    if (el.matches(SECTION_HEADINGS) && sectionLevel(el) <= level) break;
    if (rival(el)) break;
    if (shown(el) && (!best || text(el).length > text(best).length)) best = el;
  }
  return best;
}

function main(args) {
  const node = args.schema;
  const scope = args.tries ? resolveTries(args.tries) : resolvePrompt(args.prompt);
  const res = {tree: null, error: scope.error || null, missing: scope.missing || null, ...settleState()};
  if (!scope.els.length) return res;
  if (args.section) {
    const part = sectionScope(scope.els[0], args.section);
    if (!part) return {...res, missing_section: args.section};
    scope.els = [part];
  }
  const S = scope.els[0];
  const ctx = {doc: S === document.body || S === document.documentElement, extra: []};
  if (node.kind === "map") {
    res.tree = readMap(S, null);
  } else if (node.kind === "object") {
    res.tree = readObject(node, S, ctx, true);
  } else {
    const items = scope.els.length > 1 ? scope.els.map((el) => ({el, extra: rowExtra(el)}))
      : findItems(S, null, node.items, ctx);
    res.tree = {a: items.map((it) => readItem(node.items, it, null))};
  }
  return res;
}
