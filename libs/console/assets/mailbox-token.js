// Mail Listener console: a mailbox's OAuth token panel. The countdown of a device code, its copy button,
// and, while a sign-in is pending, polling the panel (consolePoller of console.js) so the page turns Active by
// itself (no reload).
(function () {
  'use strict';

  var POLL_MS = 2000;
  var countdownTimer = null;

  function panel() {
    return document.querySelector('[data-token-panel]');
  }

  function minutesSeconds(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var rest = s % 60;
    return Math.floor(s / 60) + ':' + (rest < 10 ? '0' : '') + rest;
  }

  // Counts from what the server said was left when it rendered the panel, so a wrong clock here does not matter.
  function startCountdown() {
    clearInterval(countdownTimer);
    var node = document.querySelector('[data-countdown]');
    if (!node) return;
    var endsAt = Date.now() + Number(node.getAttribute('data-seconds-left')) * 1000;
    function tick() {
      var left = (endsAt - Date.now()) / 1000;
      node.textContent = left > 0 ? minutesSeconds(left) : 'expired: start again';
      if (left <= 0) clearInterval(countdownTimer);
    }
    tick();
    countdownTimer = setInterval(tick, 1000);
  }

  function announce(text) {
    var live = document.querySelector('[data-token-announce]');
    if (live) live.textContent = text;
  }

  function waiting() {
    var current = panel();
    return !!current && current.getAttribute('data-token-state') === 'waiting_for_authorization';
  }

  // The fresh panel replaces the shown one only when what it says changed, so a person reading or copying the code is not disturbed.
  function swap(markup) {
    var fresh = window.consoleFragment(markup, '[data-token-panel]');
    var now = panel();
    if (!fresh || !now || fresh.getAttribute('data-signature') === now.getAttribute('data-signature')) return;
    now.replaceWith(fresh);
    startCountdown();
    announce('Token status: ' + (fresh.querySelector('.badge') || fresh).textContent.trim());
  }

  function startPolling() {
    var current = panel();
    if (!current || !window.fetch || !window.consolePoller) return;
    window
      .consolePoller({
        url: current.getAttribute('data-token-panel'),
        accept: 'text/html',
        every: POLL_MS,
        whilst: waiting,
        onAnswer: swap,
        onSessionEnded: function () {
          announce('Your console session ended: reload the page to sign in again.');
        },
      })
      .start();
  }

  // Copy the user code: the Clipboard API where allowed, else select it so Ctrl+C works.
  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest && event.target.closest('[data-copy]');
    if (!button) return;
    var code = button.getAttribute('data-copy');
    var result = button.parentNode.querySelector('[data-copy-result]');
    function say(text) {
      if (result) result.textContent = text;
    }
    function selectCode() {
      var node = button.parentNode.querySelector('[data-user-code]');
      var range = document.createRange();
      range.selectNodeContents(node);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      say('Selected: press Ctrl+C to copy');
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(code).then(function () { say('Copied'); }, selectCode);
    } else {
      selectCode();
    }
  });

  document.addEventListener('DOMContentLoaded', function () {
    startCountdown();
    startPolling();
    if (location.hash === '#token' && panel()) panel().focus();
  });
})();
