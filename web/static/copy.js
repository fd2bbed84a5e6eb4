// A button with data-copy="ID" copies the value of the field ID (a new portal link's URL,
// shown once). No inline script: the content security policy allows scripts of this site only.
"use strict";

function copied(button, ok) {
  button.textContent = ok ? "已复制" : "复制失败，请手动全选复制";
}

document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => {
    const field = document.getElementById(button.dataset.copy);
    if (!field) return;
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        () => copied(button, true),
        () => copied(button, document.execCommand("copy")),
      );
    } else {
      copied(button, document.execCommand("copy"));
    }
  });
});
