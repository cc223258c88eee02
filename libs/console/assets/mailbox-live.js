// Mail Listener console, a mailbox's page: keeps its state, sync and folder cards current (the token panel
// has its own, mailbox-token.js) without a reload by polling GET /console/mailboxes/:id/live (behind the same
// session; consolePoller of console.js) and swapping in each card whose markup changed. Without JavaScript the
// page is the same, as of when it was loaded.
(function () {
  'use strict';

  var POLL_MS = 2000;

  function normalized(element) {
    // console.js rewrites <time> text as "3 min ago"; the server's markup has the UTC text (kept as the title).
    var copy = element.cloneNode(true);
    var times = copy.querySelectorAll('time[data-relative]');
    for (var i = 0; i < times.length; i++) times[i].textContent = times[i].getAttribute('title');
    return copy;
  }

  // The form (by its action) whose button had focus, so a keyboard user keeps their place across a swap.
  function focusedAction(section) {
    var active = document.activeElement;
    if (!active || !section.contains(active) || !active.form) return null;
    return active.form.getAttribute('action');
  }

  function refocus(section, action) {
    if (!action) return;
    var forms = section.querySelectorAll('form');
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute('action') === action) {
        var button = forms[i].querySelector('button');
        if (button) button.focus();
        return;
      }
    }
  }

  function start(root) {
    var note = document.querySelector('[data-live-note]');
    var announcer = document.querySelector('[data-live-announce]');
    var received = {};

    function say(text) {
      if (note) note.textContent = text;
    }

    function stopped(text) {
      say(text);
      if (note) note.classList.add('live-stopped');
    }

    function swap(name, markup) {
      var current = root.querySelector('[data-live="' + name + '"]');
      var fresh = window.consoleFragment(markup);
      if (!current || !fresh) return false;
      // First answer: compare with what the page was rendered with; after that, with the last answer.
      if (received[name] === undefined ? normalized(current).isEqualNode(fresh) : received[name] === markup) return false;
      var action = focusedAction(current);
      current.replaceWith(fresh);
      refocus(fresh, action);
      return true;
    }

    function apply(body) {
      var stateBefore = root.querySelector('[data-state]');
      var before = stateBefore && stateBefore.getAttribute('data-state');
      var changed = false;
      Object.keys(body.sections).forEach(function (name) {
        if (swap(name, body.sections[name])) changed = true;
        received[name] = body.sections[name];
      });
      if (!changed) return;
      document.dispatchEvent(new CustomEvent('console:updated'));
      var stateAfter = root.querySelector('[data-state]');
      if (announcer && stateAfter && stateAfter.getAttribute('data-state') !== before) {
        announcer.textContent = 'Connection: ' + stateAfter.querySelector('.badge').textContent;
      }
    }

    var poller = window.consolePoller({
      url: root.getAttribute('data-live-url'),
      accept: 'application/json',
      every: POLL_MS,
      onAnswer: function (body) {
        if (body.gone) {
          stopped('This mailbox has been deleted.');
          return false;
        }
        say('Live: this page updates by itself.');
        apply(body);
        return true;
      },
      onSessionEnded: function () {
        stopped('Live updates stopped: the session ended. Reload the page to sign in again.');
      },
      onFailure: function () {
        say('Live updates paused: the console did not answer. Retrying…');
      },
    });
    if (note) note.hidden = false;
    poller.start();
  }

  document.addEventListener('DOMContentLoaded', function () {
    var root = document.querySelector('[data-live-url]');
    if (root && window.fetch && window.HTMLTemplateElement && window.consolePoller) start(root);
  });
})();
