// Mail Listener console: a little progressive enhancement. Every page works without it.
(function () {
  'use strict';

  // "3 min ago" / "in 2 h" for <time data-relative>, refreshed every 30 s; the exact UTC time stays as the tooltip.
  function relative(ms) {
    var s = Math.round(ms / 1000), a = Math.abs(s), text;
    if (a < 10) return 'just now';
    if (a < 45) text = a + ' s';
    else if (a < 2700) text = Math.round(a / 60) + ' min';
    else if (a < 86400 * 1.5) text = Math.round(a / 3600) + ' h';
    else text = Math.round(a / 86400) + ' days';
    return s <= 0 ? text + ' ago' : 'in ' + text;
  }
  function refreshTimes() {
    var nodes = document.querySelectorAll('time[data-relative]');
    for (var i = 0; i < nodes.length; i++) {
      var at = Date.parse(nodes[i].getAttribute('datetime'));
      if (!isNaN(at)) nodes[i].textContent = relative(at - Date.now());
    }
  }

  // Forms with data-confirm ask first (disable a mailbox, and later delete token / delete mailbox).
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener('DOMContentLoaded', function () {
    refreshTimes();
    setInterval(refreshTimes, 30000);
    // A page script that swapped in fresh markup (mailbox-live.js) asks for its times to be rewritten too.
    document.addEventListener('console:updated', refreshTimes);
  });
})();

// ---- Keeping part of a page current (mailbox-live.js, mailbox-token.js): one way to ask the console again ----
// Polls `url` every `every` ms while `whilst()` holds, pauses while the tab is hidden (and asks at once when it
// shows again), backs off while the console does not answer, and stops when the session has ended (the
// console answers a fetch without a session with its sign-in redirect).
(function () {
  'use strict';

  var MAX_BACKOFF_MS = 30000;

  window.consolePoller = function (options) {
    var failures = 0;
    var timer = null;
    var stopped = false;

    function schedule(ms) {
      clearTimeout(timer);
      if (!stopped && (!options.whilst || options.whilst())) timer = setTimeout(poll, ms);
    }

    function poll() {
      if (document.hidden) return; // resumed by visibilitychange
      var json = options.accept === 'application/json';
      fetch(options.url, { credentials: 'same-origin', cache: 'no-store', redirect: 'manual', headers: { Accept: options.accept } })
        .then(function (response) {
          if (response.type === 'opaqueredirect' || response.status === 401 || response.status === 403) {
            stopped = true;
            options.onSessionEnded();
            return undefined;
          }
          if (!response.ok) throw new Error('HTTP ' + response.status);
          return (json ? response.json() : response.text()).then(function (body) {
            failures = 0;
            if (options.onAnswer(body) === false) stopped = true;
            else schedule(options.every);
          });
        })
        .catch(function () {
          failures += 1;
          if (options.onFailure) options.onFailure(failures);
          schedule(Math.min(options.every * Math.pow(2, failures), MAX_BACKOFF_MS));
        });
    }

    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) schedule(0);
    });
    return { start: function () { schedule(options.every); } };
  };

  // A fragment of server-rendered markup as an element, to swap in for its older copy.
  window.consoleFragment = function (markup, selector) {
    var template = document.createElement('template');
    template.innerHTML = markup.trim();
    return selector ? template.content.querySelector(selector) : template.content.firstElementChild;
  };
})();
