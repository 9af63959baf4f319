// Login page: password form, OAuth buttons from /auth/config, and header
// login tried first when the server has it on.
"use strict";
(() => {
  const root = document.body.dataset.root || "";
  const form = document.getElementById("login-form");
  const errorBox = document.getElementById("login-error");
  const statusBox = document.getElementById("login-status");
  const providerBox = document.getElementById("oauth-providers");
  const divider = document.getElementById("login-divider");
  const headerButton = document.getElementById("header-login");
  // Set by the chat page's logout, so that header login does not sign the
  // person straight back in.
  const signedOutKey = "chatauth.signedOut";

  const providerNames = {
    github: "GitHub", google: "Google", "azure-ad": "Microsoft", "azure-ad-hybrid": "Microsoft",
    okta: "Okta", auth0: "Auth0", descope: "Descope", "aws-cognito": "Amazon Cognito",
    gitlab: "GitLab", keycloak: "Keycloak", zitadel: "ZITADEL", oidc: "OpenID Connect",
  };

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function showStatus(text) {
    statusBox.textContent = text;
    statusBox.hidden = !text;
  }

  function goToChat() {
    sessionStorage.removeItem(signedOutKey);
    window.location.replace(root + "/");
  }

  function providerName(id) {
    return providerNames[id] || id.charAt(0).toUpperCase() + id.slice(1);
  }

  async function loadConfig() {
    try {
      const res = await fetch(root + "/auth/config", { credentials: "same-origin", headers: { Accept: "application/json" } });
      return res.ok ? await res.json() : null;
    } catch {
      return null;
    }
  }

  function showProviders(ids) {
    for (const id of ids) {
      const a = document.createElement("a");
      a.className = "button oauth-button";
      a.dataset.provider = id;
      a.href = root + "/auth/oauth/" + encodeURIComponent(id);
      a.textContent = "Continue with " + providerName(id);
      a.addEventListener("click", () => sessionStorage.removeItem(signedOutKey));
      providerBox.append(a);
    }
    providerBox.hidden = ids.length === 0;
    if (divider) divider.hidden = ids.length === 0;
  }

  async function headerLogin(manual) {
    showStatus("Signing you in…");
    try {
      const res = await fetch(root + "/auth/header", { method: "POST", credentials: "same-origin" });
      if (res.ok) {
        goToChat();
        return;
      }
      if (manual) showError("Your proxy did not vouch for you, so header sign-in was refused.");
    } catch {
      if (manual) showError("Cannot reach the server. Check your connection and try again.");
    }
    showStatus("");
  }

  function passwordError(res) {
    switch (res.status) {
      case 401: return "Wrong username or password.";
      case 400: return "Please enter your username and password.";
      case 404: return "Password sign-in is not enabled on this server.";
      case 403: return "The server refused this request as coming from another site. Reload the page and try again.";
      case 413: return "That is too long to be a username or password.";
      case 429: {
        const wait = parseInt(res.headers.get("Retry-After") || "", 10);
        return wait > 0
          ? `Too many attempts. Please wait ${wait} second${wait === 1 ? "" : "s"} and try again.`
          : "Too many attempts. Please wait a moment and try again.";
      }
      default: return `Something went wrong on the server (HTTP ${res.status}). Please try again.`;
    }
  }

  async function passwordLogin(event) {
    event.preventDefault();
    const username = form.username.value.trim();
    const password = form.password.value;
    if (!username || !password) {
      showError("Please enter your username and password.");
      return;
    }
    const submit = document.getElementById("login-submit");
    submit.disabled = true;
    showError("");
    try {
      const res = await fetch(root + "/login", {
        method: "POST",
        credentials: "same-origin",
        body: new URLSearchParams({ username, password }),
      });
      if (res.ok) {
        goToChat();
        return;
      }
      showError(passwordError(res));
      if (res.status === 401) {
        form.password.value = "";
        form.password.focus();
      }
    } catch {
      showError("Cannot reach the server. Check your connection and try again.");
    }
    submit.disabled = false;
  }

  async function init() {
    if (form) form.addEventListener("submit", passwordLogin);
    if (headerButton) headerButton.addEventListener("click", () => headerLogin(true));
    const signedOut = sessionStorage.getItem(signedOutKey) === "1";
    if (signedOut && errorBox.hidden) showStatus("You are signed out.");
    const config = await loadConfig();
    if (config && Array.isArray(config.oauthProviders)) showProviders(config.oauthProviders);
    if (config && config.headerAuth && headerButton) {
      headerButton.hidden = false;
      if (divider) divider.hidden = false;
      if (!signedOut && errorBox.hidden) await headerLogin(false);
    }
    document.body.dataset.ready = "true";
  }

  init();
})();
