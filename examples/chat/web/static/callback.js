// OAuth landing page: the session cookie is set; on to the chat.
"use strict";
(() => {
  const root = document.body.dataset.root || "";
  window.location.replace(root + "/");
})();
