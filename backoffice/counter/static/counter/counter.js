// The till session page: show the fields of the way of paying chosen, and keep what the
// cashier types on the server as they type it (the page works without this script).
(function () {
  "use strict";
  const form = document.getElementById("take-payment");
  if (!form) {
    return;
  }

  const kinds = form.querySelectorAll("[data-counter-kind]");
  function showKind() {
    const chosen = form.querySelector('input[name="kind"]:checked');
    kinds.forEach(function (section) {
      section.hidden = !chosen || section.dataset.counterKind !== chosen.value;
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "kind") {
      showKind();
    }
  });
  showKind();

  const draftUrl = form.dataset.counterDraftUrl;
  const status = form.querySelector("[data-counter-draft-status]");
  let timer = null;
  let submitting = false;

  function saveDraft() {
    timer = null;
    if (submitting || !draftUrl) {
      return;
    }
    fetch(draftUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        if (status && response.status === 204) {
          status.textContent = "Draft kept.";
        }
      })
      .catch(function () {
        if (status) {
          status.textContent = "Not connected: what you typed is still here; it is kept when the connection is back.";
        }
      });
  }

  form.addEventListener("input", function () {
    if (timer) {
      clearTimeout(timer);
    }
    timer = setTimeout(saveDraft, 600);
  });
  form.addEventListener("submit", function () {
    // A draft saved after this could bring back the payment being taken.
    submitting = true;
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
  });
})();
