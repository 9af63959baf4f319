"use strict";
// The sign-in page works without this script; with it, errors show in
// place without a reload, and header login is tried at once.
(() => {
  const data = JSON.parse(document.getElementById("login-data").textContent);
  const text = data.text;
  const errorBox = document.getElementById("login-error");
  const statusBox = document.getElementById("login-status");
  const form = document.getElementById("login-form");
  const headerForm = document.getElementById("header-form");

  function show(box, message) {
    box.textContent = message;
    box.hidden = !message;
  }

  // failure puts a refused login into words, as the server does for a
  // form post (see chatauth's sign-in page codes).
  function failure(res) {
    switch (res.status) {
      case 400: return text.missing_field;
      case 401: return text.credentialssignin;
      case 404: return text.not_enabled;
      case 413: return text.too_large;
      case 503: return text.store_unavailable;
      case 429: {
        const wait = parseInt(res.headers.get("Retry-After") || "", 10);
        if (!(wait > 0)) return text.throttled;
        if (wait < 120) return text.throttled_seconds.replace("{n}", String(wait));
        return text.throttled_minutes.replace("{n}", String(Math.ceil(wait / 60)));
      }
    }
    return text.server_error;
  }

  async function post(action, body) {
    return fetch(action, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body,
    });
  }

  async function passwordLogin(event) {
    event.preventDefault();
    if (!form.username.value.trim() || !form.password.value) {
      show(errorBox, text.missing_field);
      (form.username.value.trim() ? form.password : form.username).focus();
      return;
    }
    const submit = document.getElementById("login-submit");
    submit.disabled = true;
    show(errorBox, "");
    show(statusBox, "");
    try {
      const res = await post(data.loginAction, new FormData(form));
      if (res.ok) {
        window.location.replace(data.redirect);
        return;
      }
      show(errorBox, failure(res));
      form.password.value = "";
      form.password.focus();
    } catch {
      show(errorBox, text.network);
    }
    submit.disabled = false;
  }

  // headerLogin asks the server to log in from the request's headers (an
  // authenticating proxy's, a gateway's); a refusal is only worth saying
  // when the person asked, or when there is no other way in.
  async function headerLogin(asked) {
    show(statusBox, text.signing_in);
    try {
      const res = await post(data.headerAction, new FormData(headerForm));
      if (res.ok) {
        window.location.replace(data.redirect);
        return true;
      }
      if (asked || data.headerOnly) show(errorBox, failure(res));
    } catch {
      if (asked || data.headerOnly) show(errorBox, text.network);
    }
    show(statusBox, "");
    return false;
  }

  async function init() {
    if (form) {
      form.noValidate = true;
      form.addEventListener("submit", passwordLogin);
    }
    if (headerForm) {
      headerForm.addEventListener("submit", (event) => {
        event.preventDefault();
        show(errorBox, "");
        headerLogin(true);
      });
      if (data.tryHeader && (await headerLogin(false))) return;
    }
    document.body.dataset.ready = "true";
  }

  init();
})();
