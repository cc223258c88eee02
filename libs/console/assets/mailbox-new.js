// Mail Listener console, "Add mailbox": says which mail service the typed address resolves to (the API's
// own lookup, through GET /console/mailboxes/resolve), or the API's reason why none, before submitting.
(function () {
  'use strict';

  var WAIT_MS = 350;

  function render(target, answer) {
    target.textContent = '';
    if (!answer.found) {
      var problem = document.createElement('span');
      problem.className = 'text-bad';
      problem.textContent = answer.message;
      target.appendChild(problem);
      return;
    }
    var provider = answer.provider;
    var name = document.createElement('strong');
    name.setAttribute('data-resolved-provider', '');
    name.textContent = provider.name;
    target.appendChild(document.createTextNode('Mail service: '));
    target.appendChild(name);
    var auth = provider.authMethod === 'oauth2' ? 'OAuth 2.0' : 'password';
    target.appendChild(
      document.createTextNode(
        ' (' + provider.type + ', ' + auth + ')' + (provider.authMethod === 'oauth2' ? ' — leave the password empty and sign in on the mailbox\u2019s page once it is created.' : '.'),
      ),
    );
  }

  document.addEventListener('DOMContentLoaded', function () {
    var email = document.getElementById('email');
    var target = document.getElementById('provider-found');
    var chosen = document.getElementById('providerId');
    if (!email || !target || !chosen || !window.fetch) return;
    var initial = target.textContent;
    var url = email.getAttribute('data-resolve-url');
    var timer = null;
    var asked = 0;

    function lookUp() {
      var address = email.value.trim();
      if (chosen.value) {
        target.textContent = 'Mail service: ' + chosen.options[chosen.selectedIndex].text + ' (chosen below).';
        return;
      }
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
        target.textContent = initial;
        return;
      }
      var mine = ++asked;
      fetch(url + '?email=' + encodeURIComponent(address), { credentials: 'same-origin', redirect: 'manual', headers: { Accept: 'application/json' } })
        .then(function (response) {
          if (!response.ok) return null;
          return response.json();
        })
        .then(function (answer) {
          // Only the answer to the latest address counts (answers may arrive out of order).
          if (answer && mine === asked) render(target, answer);
        })
        .catch(function () {});
    }

    email.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(lookUp, WAIT_MS);
    });
    chosen.addEventListener('change', lookUp);
    if (email.value) lookUp();
  });
})();
