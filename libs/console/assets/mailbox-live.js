// Mail Listener console, a mailbox's page: keeps its state, sync and folder cards current (the token panel
// has its own, mailbox-token.js) without a reload by polling GET /console/mailboxes/:id/live (behind the same session) and swapping in each card
// whose markup changed. Without JavaScript the page is the same, as of when it was loaded.
(function () {
  'use strict';

  var POLL_MS = 2000;
  var MAX_BACKOFF_MS = 30000;

  function normalized(element) {
    // console.js rewrites <time> text as "3 min ago"; the server's markup has the UTC text (kept as the title).
    var copy = element.cloneNode(true);
    var times = copy.querySelectorAll('time[data-relative]');
    for (var i = 0; i < times.length; i++) times[i].textContent = times[i].getAttribute('title');
    return copy;
  }

  function parse(markup) {
    var template = document.createElement('template');
    template.innerHTML = markup.trim();
    return template.content.firstElementChild;
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
    var url = root.getAttribute('data-live-url');
    var note = document.querySelector('[data-live-note]');
    var announcer = document.querySelector('[data-live-announce]');
    var received = {};
    var failures = 0;
    var timer = null;
    var stopped = false;

    function say(text) {
      if (note) note.textContent = text;
    }

    function stop(text) {
      stopped = true;
      say(text);
      if (note) note.classList.add('live-stopped');
    }

    function swap(name, markup) {
      var current = root.querySelector('[data-live="' + name + '"]');
      var fresh = parse(markup);
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

    function schedule(ms) {
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(poll, ms);
    }

    function poll() {
      if (document.hidden) return; // resumed by visibilitychange
      fetch(url, { credentials: 'same-origin', redirect: 'manual', headers: { Accept: 'application/json' } })
        .then(function (response) {
          if (response.type === 'opaqueredirect') return stop('Live updates stopped: the session ended. Reload the page to sign in again.');
          if (!response.ok) throw new Error('status ' + response.status);
          return response.json().then(function (body) {
            if (body.gone) return stop('This mailbox has been deleted.');
            failures = 0;
            say('Live: this page updates by itself.');
            apply(body);
            schedule(POLL_MS);
          });
        })
        .catch(function () {
          failures += 1;
          say('Live updates paused: the console did not answer. Retrying…');
          schedule(Math.min(POLL_MS * Math.pow(2, failures), MAX_BACKOFF_MS));
        });
    }

    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) schedule(0);
    });
    if (note) note.hidden = false;
    schedule(POLL_MS);
  }

  document.addEventListener('DOMContentLoaded', function () {
    var root = document.querySelector('[data-live-url]');
    if (root && window.fetch && window.HTMLTemplateElement) start(root);
  });
})();
