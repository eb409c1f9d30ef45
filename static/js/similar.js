// "Recurrence of this?" beside a similar postmortem on the filing form: put its key into the
// "Recurrence of" field (which is saved with the form, like anything typed there).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-pick-recurrence]");
  if (!button) return;
  const field = document.getElementById("recurrence_of_id");
  if (!field) return;
  field.value = button.dataset.pickRecurrence;
  field.dispatchEvent(new Event("change", { bubbles: true }));
  field.focus();
});
