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
  };
}
