// How settled the page is: ms since the DOM last changed (or since load), the mutation count,
// readyState, and pending timers/fetches when the init script counts them.
function settleState() {
  if (!window.__smoothSettle) {
    const s = {last: 0, n: 0};
    // Attribute changes (content shown by a class or style) call for a new read, but only
    // nodes and text count against quiet: an animated style must not keep a page "busy".
    new MutationObserver((records) => {
      s.n++;
      if (records.some((r) => r.type !== "attributes")) s.last = performance.now();
    }).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ["class", "style", "hidden", "open", "aria-hidden", "aria-expanded"]});
    window.__smoothSettle = s;
  }
  const nav = performance.getEntriesByType("navigation")[0];
  const loaded = nav && nav.loadEventEnd ? nav.loadEventEnd : performance.now();
  return {
    quiet: performance.now() - Math.max(window.__smoothSettle.last, loaded),
    changes: window.__smoothSettle.n,
    url: location.href,
    ready: document.readyState,
    pending: typeof window.__smoothPending === "number" ? window.__smoothPending : null,
    busy: pageBusy(),
  };
}

// Whether the page shows that it is still loading: aria-busy, a spinner, or "Loading…" text.
function pageBusy() {
  const root = document.body;
  if (!root) return true;
  const shows = (el) => !el.checkVisibility || el.checkVisibility({checkVisibilityCSS: true});
  const marks = root.querySelectorAll("[aria-busy=true],.spinner,.loading,.loader,.skeleton");
  for (const el of marks) if (shows(el)) return true;
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(), i = 0; n && i < 5000; n = walk.nextNode(), i++) {
    if (/^\s*(loading|please wait)\s*(\.\.\.|…)?\s*$/i.test(n.data) && n.parentElement && shows(n.parentElement)) {
      return true;
    }
  }
  return false;
}
