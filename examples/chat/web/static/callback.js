// OAuth landing page: the session cookie is set; on to the chat.
"use strict";
(() => {
  const root = document.body.dataset.root || "";
  sessionStorage.removeItem("chatauth.signedOut");
  window.location.replace(root + "/");
})();
