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
