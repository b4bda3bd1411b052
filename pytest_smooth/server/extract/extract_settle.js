// Init script for the executor (context.add_init_script): counts the page's short timers and
// fetches/XHRs still pending in window.__smoothPending, so extract knows the page is still filling.
(() => {
  if (window.__smoothPending !== undefined) return;
  window.__smoothPending = 0;
  const live = new Set();
  const settle = (id) => { if (live.delete(id)) window.__smoothPending = live.size + fetches; };
  let fetches = 0;
  const setT = window.setTimeout;
  const clearT = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...rest) {
    if (typeof fn !== "function" || Number(ms) > 2000) return setT.call(window, fn, ms, ...rest);
    const id = setT.call(window, (...a) => { settle(id); fn(...a); }, ms, ...rest);
    live.add(id);
    window.__smoothPending = live.size + fetches;
    return id;
  };
  window.clearTimeout = function (id) { settle(id); return clearT.call(window, id); };
  const XHR = window.XMLHttpRequest;
  if (XHR) {
    const send = XHR.prototype.send;
    XHR.prototype.send = function (...a) {
      fetches++;
      window.__smoothPending = live.size + fetches;
      this.addEventListener("loadend", () => { fetches--; window.__smoothPending = live.size + fetches; }, {once: true});
      return send.apply(this, a);
    };
  }
  const f = window.fetch;
  if (f) {
    window.fetch = function (...a) {
      fetches++;
      window.__smoothPending = live.size + fetches;
      return f.apply(this, a).finally(() => { fetches--; window.__smoothPending = live.size + fetches; });
    };
  }
})();
