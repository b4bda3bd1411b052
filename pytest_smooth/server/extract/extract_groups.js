// Repeated structures: the groups that may be a list's items, how well they show an item's
// properties, and values shown through icons (see extract.py for the rules).

function groupsIn(S) {
  const groups = [];
  for (const t of within(S, TABLE_SEL)) {
    if (isVisible(t) && tableInfo(t).body.length) groups.push(tableInfo(t).body);
  }
  for (const attr of ["itemtype", "data-testid"]) {
    const by = new Map();
    for (const el of within(S, `[${attr}]`)) {
      if (!shown(el)) continue;
      const k = el.getAttribute(attr);
      if (!by.has(k)) by.set(k, []);
      by.get(k).push(el);
    }
    for (const g of by.values()) if (outermost(g).length >= 2) groups.push(outermost(g));
  }
  for (const el of [S, ...elems(S)]) {
    if (/^(thead|tbody|tfoot|select|head)$/.test(el.localName) || isTable(el) || isRow(el)) continue;
    if (el.getAttribute("role") === "rowgroup") continue;
    const kids = [...el.children].filter(shown);
    if (kids.length < 2) continue;
    const by = new Map();
    for (const k of kids) { const s = signature(k); if (!by.has(s)) by.set(s, []); by.get(s).push(k); }
    for (const g of by.values()) if (g.length >= 2) groups.push(g);
  }
  return groups;
}

// The repeated structure whose items show the most of the item's properties.
function bestGroup(S, itemNode) {
  if (!itemNode.properties) { // dict items: the rows of the first table with a header
    const t = within(S, TABLE_SEL).find((x) => isVisible(x) && tableInfo(x).header);
    return t ? tableInfo(t).body.map((el) => ({el, extra: rowExtra(el)})) : [];
  }
  const headed = headerTable(S, itemNode);
  if (headed) return tableInfo(headed).body.map((el) => ({el, extra: rowExtra(el)}));
  let best = null;
  let bestScore = 0;
  for (const g of groupsIn(S)) {
    const s = groupScore(g, itemNode);
    if (s > bestScore + 1e-9 || (best && Math.abs(s - bestScore) < 1e-9 && s > 0 && g.length > best.length)) {
      best = g;
      bestScore = s;
    }
  }
  return best ? best.map((el) => ({el, extra: rowExtra(el)})) : [];
}

// How well the first items of a group show the item's properties (0: none found firmly).
function groupScore(g, itemNode, loose = false) {
  const sample = g.filter(Boolean).slice(0, 3);
  let total = 0;
  let solid = 0;
  for (const el of sample) {
    const ctx = {extra: rowExtra(el), doc: false};
    for (const p of itemNode.properties) {
      if (p.node.kind !== "scalar") continue;
      const r = scalarCandidates(el, propOf(p), p.node, ctx);
      if (r.t < TIER_WEIGHT.length) total += TIER_WEIGHT[r.t];
      if (r.t <= 4) solid++;
    }
  }
  return solid || loose ? total / sample.length : 0;
}

// The table whose header names most of the item's properties (at least half): its rows are
// the items, none when it has no data rows ("No matching records found").
function headerTable(S, itemNode) {
  const props = itemNode.properties.filter((p) => p.node.kind === "scalar").map(propOf);
  let best = null;
  let most = 0;
  for (const t of within(S, TABLE_SEL)) {
    const header = isVisible(t) && tableInfo(t).header;
    if (!header) continue;
    const named = props.filter((prop) => header.some((h) => score(h, prop) >= 2)).length;
    if (named > most) { best = t; most = named; }
  }
  return most >= 2 && most * 2 >= props.length ? best : null;
}

// What an element without text shows through an icon: an <img alt>, an <svg><title>, or an
// aria-label or title of the element or of its one child (Django admin's alt="True" icons).
function iconText(el) {
  for (const n of [el, ...el.querySelectorAll("img[alt],svg,[aria-label],[title]")]) {
    if (n !== el && n.closest("[aria-hidden=true]")) continue;
    if (n.localName === "img" && isVisible(n) && n.alt.trim()) return n.alt.trim();
    if (n.localName === "svg") {
      const t = [...n.children].find((c) => c.localName === "title");
      if (t && collapse(t.textContent) && n.getClientRects().length) return collapse(t.textContent);
      continue;
    }
    if (n !== el && n.children.length) continue;
    const label = n.getAttribute("aria-label") || n.getAttribute("title");
    if (label && (n === el || n.parentElement === el)) return collapse(label);
  }
  return null;
}
