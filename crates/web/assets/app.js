// Progressive enhancement only: every page works without this file.
// Counts down to the next console code and reloads the page when it appears; copies a code; drives
// passkey ceremonies.
(function () {
  var items = document.querySelectorAll('[data-rotates-at]');
  if (!items.length) { return; }
  function tick() {
    var now = Date.now() / 1000, reload = false;
    items.forEach(function (el) {
      var left = Math.max(0, Math.ceil(Number(el.getAttribute('data-rotates-at')) - now));
      var out = el.querySelector('.countdown');
      if (out) { out.textContent = left + ' s'; }
      if (left === 0) { reload = true; }
    });
    if (reload) { window.location.reload(); } else { window.setTimeout(tick, 1000); }
  }
  tick();
})();

(function () {
  if (!navigator.clipboard) { return; }
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(button.getAttribute('data-copy')).then(function () {
        button.textContent = 'Copied';
        window.setTimeout(function () { button.textContent = 'Copy'; }, 2000);
      });
    });
  });
})();

// Passkeys: a form marked data-passkey asks the server for options, hands them to the browser's
// WebAuthn API, and submits the answer in its hidden fields. Shown only where WebAuthn works and the page
// is at the origin passkeys are bound to.
(function () {
  var forms = document.querySelectorAll('form[data-passkey]');
  if (!forms.length || !window.PublicKeyCredential || !navigator.credentials) { return; }
  function fromB64(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) { s += '='; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = '';
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function ids(list) {
    (list || []).forEach(function (c) { c.id = fromB64(c.id); });
  }
  function answer(cred) {
    var r = cred.response, out = { id: cred.id, rawId: toB64(cred.rawId), type: cred.type, response: {
      clientDataJSON: toB64(r.clientDataJSON) }, extensions: cred.getClientExtensionResults() };
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      out.response.userHandle = r.userHandle ? toB64(r.userHandle) : null;
    }
    return out;
  }
  forms.forEach(function (form) {
    if (form.getAttribute('data-origin') !== window.location.origin) { return; }
    var status = form.querySelector('[data-passkey-status]');
    var button = form.querySelector('button[type=submit]');
    function fail(text) {
      status.textContent = text;
      status.hidden = false;
      button.disabled = false;
    }
    form.hidden = false;
    var hint = form.nextElementSibling;
    if (hint && hint.hasAttribute('data-passkey-hint')) { hint.hidden = true; }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      button.disabled = true;
      status.hidden = true;
      var body = new URLSearchParams(new FormData(form));
      fetch(form.getAttribute('data-options'), { method: 'POST', body: body, credentials: 'same-origin' })
        .then(function (res) {
          return res.json().then(function (json) {
            if (!res.ok) { throw new Error(json.detail || 'Passkeys are unavailable just now.'); }
            return json;
          });
        })
        .then(function (json) {
          var pk = json.options.publicKey;
          pk.challenge = fromB64(pk.challenge);
          form.elements.ceremony.value = json.ceremony;
          if (form.getAttribute('data-passkey') === 'create') {
            pk.user.id = fromB64(pk.user.id);
            ids(pk.excludeCredentials);
            return navigator.credentials.create({ publicKey: pk });
          }
          ids(pk.allowCredentials);
          return navigator.credentials.get({ publicKey: pk });
        })
        .then(function (cred) {
          form.elements.credential.value = JSON.stringify(answer(cred));
          form.submit();
        })
        .catch(function (err) {
          fail(err && err.name === 'NotAllowedError'
            ? 'The passkey request was cancelled or timed out. Try again.'
            : (err && err.message) || 'The passkey could not be used.');
        });
    });
  });
})();
