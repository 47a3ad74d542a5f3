/* Irreversible steps ask first (app/core/confirm.py). A form with data-confirm="message" is
 * not sent by its button: a Bootstrap dialog (FAB's bundled bootstrap.js) shows the message;
 * 取消 closes it and sends nothing, 确定 sends the form with confirm=1 (and the value of the
 * button that was clicked). Without this script the server answers the same question on a page.
 * The dialog's title and buttons come from this script tag's data-* attributes. */
(function () {
  "use strict";
  var script = document.currentScript;
  var $ = window.jQuery;
  if (!script) {
    return;
  }
  var texts = {
    title: script.getAttribute("data-title") || "",
    ok: script.getAttribute("data-ok") || "OK",
    cancel: script.getAttribute("data-cancel") || "Cancel"
  };
  var pending = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function dialog() {
    var modal = document.getElementById("confirm-step-dialog");
    if (modal) {
      return modal;
    }
    modal = el("div", {"class": "modal fade", id: "confirm-step-dialog", tabindex: "-1", role: "dialog",
                       "aria-labelledby": "confirm-step-title"});
    var box = el("div", {"class": "modal-dialog", role: "document"});
    var content = el("div", {"class": "modal-content"});
    var header = el("div", {"class": "modal-header"});
    header.appendChild(el("h4", {"class": "modal-title", id: "confirm-step-title"}, texts.title));
    var body = el("div", {"class": "modal-body"});
    body.appendChild(el("p", {id: "confirm-step-message"}));
    var footer = el("div", {"class": "modal-footer"});
    var cancel = el("button", {type: "button", "class": "btn btn-default", "data-dismiss": "modal",
                               id: "confirm-step-cancel"}, texts.cancel);
    var ok = el("button", {type: "button", "class": "btn btn-danger", id: "confirm-step-ok"}, texts.ok);
    footer.appendChild(cancel);
    footer.appendChild(ok);
    content.appendChild(header);
    content.appendChild(body);
    content.appendChild(footer);
    box.appendChild(content);
    modal.appendChild(box);
    document.body.appendChild(modal);
    ok.addEventListener("click", function () {
      var job = pending;
      pending = null;
      if (job) { send(job.form, job.submitter); }
    });
    if ($) {
      $(modal).on("hidden.bs.modal", function () { pending = null; });
    }
    return modal;
  }

  function hidden(form, name, value) {
    var input = el("input", {type: "hidden", name: name});
    input.value = value;
    form.appendChild(input);
  }

  function send(form, submitter) {
    hidden(form, "confirm", "1");
    if (submitter && submitter.name) {
      hidden(form, submitter.name, submitter.value);
    }
    // form.submit() ignores the clicked button's formaction/formmethod (补充摇号 is a second
    // button of the 递补 form with its own formaction): carry them over first. The confirm
    // field above keeps the submit listener from asking again (no re-entry).
    if (submitter && submitter.hasAttribute("formaction")) {
      form.setAttribute("action", submitter.formAction);
    }
    if (submitter && submitter.hasAttribute("formmethod")) {
      form.setAttribute("method", submitter.getAttribute("formmethod"));
    }
    form.submit();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.getAttribute || !form.hasAttribute("data-confirm")) {
      return;
    }
    if (form.querySelector("input[name=confirm][value='1']")) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter || null;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (!$ || !$.fn.modal) {
      if (window.confirm(message)) { send(form, submitter); }
      return;
    }
    var modal = dialog();
    document.getElementById("confirm-step-message").textContent = message;
    pending = {form: form, submitter: submitter};
    $(modal).modal("show");
  }, true);
})();

/* FAB's list and show actions (approve_tasks, draw_targets, publish, publish_revision) ask in
 * FAB's own dialog (#modal-confirm); its OK button sends #action_form. The server runs such an
 * action only with confirm=1 (GuardedActions in app/security/base_views.py), so OK adds it
 * first: this listener runs in the capture phase, before FAB's jQuery handler submits. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest || !target.closest("#modal-confirm-ok")) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("form#action_form"), function (form) {
      if (!form.querySelector('input[name="confirm"]')) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "confirm";
        input.value = "1";
        form.appendChild(input);
      }
    });
  }, true);
})();
