/* site-stats tracker: a pageview per page (single-page navigation too) and custom events.
   No cookies, nothing stored in the browser. Served minified as /js/script.js (tracker.min.js, made by rjsmin).
   <script defer src="https://stats.example.com/js/script.js" data-dnt="respect"></script>
   data-api: the event endpoint (default: /api/event beside the script); data-dnt="respect": honour Do-Not-Track.
   Custom events: sitestats("signup", {props: {plan: "pro"}}); calls made before the script ran are queued in
   window.sitestats.q by the snippet: window.sitestats = window.sitestats || function () {
   (window.sitestats.q = window.sitestats.q || []).push(arguments) }. */
(function (w, d, n) {
  "use strict";
  var s = d.currentScript, l = w.location, h = w.history, last;
  var api = s.getAttribute("data-api") || new URL("/api/event", s.src).href;
  var off = s.getAttribute("data-dnt") === "respect" && (n.doNotTrack === "1" || w.doNotTrack === "1");
  function send(name, o) {
    if (off) return;
    var b = JSON.stringify({name: name, url: l.href, referrer: d.referrer || null, props: (o && o.props) || {}});
    try {
      if (n.sendBeacon && n.sendBeacon(api, b)) return; /* a string: sent as text/plain, no CORS preflight */
    } catch (e) {}
    w.fetch(api, {method: "POST", body: b, keepalive: true, credentials: "omit",
      headers: {"Content-Type": "text/plain"}})["catch"](function () {});
  }
  function page() {
    if (l.href === last) return;
    last = l.href;
    send("pageview");
  }
  var push = h.pushState;
  h.pushState = function () {
    var r = push.apply(this, arguments);
    page();
    return r;
  };
  w.addEventListener("popstate", page);
  var q = (w.sitestats && w.sitestats.q) || [];
  w.sitestats = function (name, o) { send(name, o); };
  page();
  for (var i = 0; i < q.length; i++) w.sitestats.apply(w, q[i]);
})(window, document, navigator);
