// Storekeep's usage statistics (docs/analytics.md): the site's only script.
// It sets no cookie and stores nothing in the browser. It tells the site,
// on its own address, that this page was shown (with the page's path, the
// referring page, the campaign tags of the address and the screen's width)
// and, when the page is hidden, how long it was visible and in use. It
// sends nothing when the browser asks sites not to track (Global Privacy
// Control, Do Not Track).
(function () {
  "use strict";
  var nav = navigator, doc = document;
  if (nav.globalPrivacyControl || nav.doNotTrack === "1" || window.doNotTrack === "1" || !nav.sendBeacon || !window.crypto) {
    return;
  }
  var endpoint = "/a/v";
  var id, engaged, since, reported;

  function send(body) {
    try {
      nav.sendBeacon(endpoint, JSON.stringify(body));
    } catch (e) {
      // Counting must never break the page.
    }
  }

  function newView() {
    var b = new Uint8Array(8);
    crypto.getRandomValues(b);
    id = "";
    for (var i = 0; i < b.length; i++) {
      id += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    }
    engaged = 0;
    reported = 0;
    since = active() ? Date.now() : 0;
    var q = location.search, tags = [];
    if (q) {
      q.slice(1).split("&").forEach(function (kv) {
        if (/^utm_(source|medium|campaign)=/.test(kv)) {
          tags.push(kv);
        }
      });
    }
    send({ t: "v", id: id, p: location.pathname, r: doc.referrer, q: tags.join("&"), w: screen.width });
  }

  function active() {
    return doc.visibilityState === "visible" && doc.hasFocus();
  }

  // Engaged time runs while the page is visible and has the focus.
  function update() {
    var now = Date.now();
    if (since) {
      engaged += now - since;
    }
    since = active() ? now : 0;
  }

  function report() {
    update();
    if (engaged - reported >= 1000) {
      reported = engaged;
      send({ t: "e", id: id, ms: engaged });
    }
  }

  window.addEventListener("focus", update);
  window.addEventListener("blur", update);
  doc.addEventListener("visibilitychange", function () {
    if (doc.visibilityState === "hidden") {
      report();
    } else {
      update();
    }
  });
  window.addEventListener("pagehide", report);
  // A page restored from the back-forward cache is shown again: a new view.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) {
      newView();
    }
  });
  newView();
})();
