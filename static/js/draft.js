// Keeps what is typed into a postmortem form in this browser (localStorage) until it is saved,
// so a closed tab or an expired session loses nothing, and warns before leaving unsaved text.
// The server never sees a draft: it stays on this device, under the form's own address.
(function () {
  "use strict";
  var PENDING = "postmortems:draft-pending";
  var pending = localStorage.getItem(PENDING);
  // A save was sent from `pending`. Only the server's "saved" message (a flash of category
  // "saved") says it went through: then the kept copy goes. A refused save, a sign-in asked
  // for or an error page keeps it, and so does leaving the page after any of them.
  // On the sign-in page after a save the server did not take: say the text is kept.
  var kept = document.getElementById("kept-draft");
  if (kept && pending && localStorage.getItem("postmortems:draft:" + pending)) {
    kept.hidden = false;
  }
  if (pending && location.pathname !== "/auth/login") {
    if (document.querySelector(".flash-saved")) {
      localStorage.removeItem("postmortems:draft:" + pending);
    }
    localStorage.removeItem(PENDING);
  }
  // A refused save: move to the summary of what to fix, at the top of the form.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  var form = document.querySelector("form[data-draft]");
  if (!form) { return; }
  var key = "postmortems:draft:" + location.pathname;
  var dirty = false;

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.name !== "version" && el.type !== "submit";
    });
  }
  function snapshot() {
    var data = {};
    fields().forEach(function (el) {
      data[el.name] = (el.type === "checkbox" || el.type === "radio") ? el.checked : el.value;
    });
    return data;
  }
  function restore(data) {
    fields().forEach(function (el) {
      if (!(el.name in data)) { return; }
      if (el.type === "checkbox" || el.type === "radio") { el.checked = data[el.name]; }
      else { el.value = data[el.name]; }
    });
  }
  var saved = localStorage.getItem(key);
  if (saved && !form.querySelector("#error-summary")) {
    var draft = JSON.parse(saved);
    if (JSON.stringify(draft.data) !== JSON.stringify(snapshot())) {
      var note = document.createElement("div");
      note.className = "draft-note";
      note.setAttribute("role", "status");
      note.textContent = "This browser kept unsaved text from " + draft.at + ". ";
      var use = document.createElement("button");
      use.type = "button"; use.textContent = "Restore it";
      var drop = document.createElement("button");
      drop.type = "button"; drop.className = "secondary-button"; drop.textContent = "Discard it";
      use.addEventListener("click", function () { restore(draft.data); dirty = true; note.remove(); });
      drop.addEventListener("click", function () { localStorage.removeItem(key); note.remove(); });
      note.appendChild(use); note.appendChild(drop);
      form.parentNode.insertBefore(note, form);
    }
  }
  form.addEventListener("input", function () {
    dirty = true;
    localStorage.setItem(key, JSON.stringify({ at: new Date().toLocaleString(), data: snapshot() }));
  });
  form.addEventListener("submit", function () {
    dirty = false;
    localStorage.setItem(PENDING, location.pathname);
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
