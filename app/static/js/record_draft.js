/* An entry form's draft (a record, a summary), kept in this browser (issue 17: the inspector's
 * phone at the site). Loaded by templates/inspections/_draft.html.
 *
 * Every change is written to localStorage under data-key (the user and the row), so nothing
 * typed is lost when the network drops or the page is closed. The state label says 已保存 when
 * the form holds what the server has, 未保存 otherwise.
 * - Saving without a connection is held back: the draft stays here and is sent when the
 *   connection returns (the `online` event), then read back from the server.
 * - A draft is cleared only once the server confirms it: the record's form, as the server
 *   renders it (data-from-server="yes", or read back after a save), holds the same values.
 *   A form the server showed again after refusing a save (data-from-server="no") is unsaved.
 * - Opening the form with a draft the server does not have puts the draft back in the form
 *   and offers to discard it.
 * Served by the application itself (offline intranet); no other script is needed except
 * jQuery when the page has it (select2 and the date picker announce their changes through it). */
(function () {
  "use strict";
  var script = document.currentScript;
  var data = script.dataset;
  var form = document.querySelector(data.form);
  var box = document.querySelector(data.state);
  var storage;
  try {
    storage = window.localStorage;
  } catch (e) {
    storage = null;
  }
  if (!form || !box || !storage) {
    return;
  }
  var key = data.key;
  var label = box.querySelector("[data-draft-label]");
  var note = box.querySelector("[data-draft-note]");
  var discard = box.querySelector("[data-draft-discard]");
  var $ = window.jQuery;
  var saving = false;

  function skipped(el) {
    return !el.name || el.name === "csrf_token" || el.disabled ||
      /^(file|submit|button|reset|image)$/.test(el.type);
  }

  // The form's values by field name, in the form's order (so that two readings compare as text).
  function valuesOf(someForm) {
    var out = {};
    Array.prototype.forEach.call(someForm.elements, function (el) {
      if (skipped(el)) {
        return;
      }
      if (el.type === "checkbox" || el.type === "radio") {
        out[el.name] = out[el.name] || [];
        if (el.checked) {
          out[el.name].push(el.value);
        }
      } else if (el.tagName === "SELECT" && el.multiple) {
        out[el.name] = Array.prototype.filter.call(el.options, function (o) {
          return o.selected;
        }).map(function (o) {
          return o.value;
        });
      } else {
        out[el.name] = el.value;
      }
    });
    return out;
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function fill(values) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (skipped(el) || !Object.prototype.hasOwnProperty.call(values, el.name)) {
        return;
      }
      var value = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = value.indexOf(el.value) >= 0;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          o.selected = value.indexOf(o.value) >= 0;
        });
      } else {
        el.value = value;
      }
      if ($) {
        $(el).trigger("change.select2");
      }
    });
  }

  function read() {
    try {
      var draft = JSON.parse(storage.getItem(key));
      return draft && draft.values ? draft : null;
    } catch (e) {
      return null;
    }
  }

  function write(values) {
    try {
      storage.setItem(key, JSON.stringify({ values: values, at: new Date().toISOString() }));
    } catch (e) {
      /* storage full or refused: the form still holds the values */
    }
  }

  function clear() {
    storage.removeItem(key);
  }

  function show(saved, text) {
    label.textContent = saved ? data.saved : data.unsaved;
    label.className = "label " + (saved ? "label-success" : "label-warning");
    box.setAttribute("data-state", saved ? "saved" : "unsaved");
    note.textContent = text || "";
    discard.classList.toggle("hidden", saved || !read());
  }

  function unsavedNote() {
    return navigator.onLine ? data.typedNote : data.offlineNote;
  }

  // What the server holds, when known: the form as it rendered it from the record.
  var serverValues = data.fromServer === "yes" ? valuesOf(form) : null;

  function changed() {
    var values = valuesOf(form);
    if (serverValues && same(values, serverValues)) {
      clear();
      show(true);
      return;
    }
    write(values);
    show(false, unsavedNote());
  }

  // The record's form as the server renders it now (its values, and a fresh CSRF token put
  // into this form: a long time offline outlives the page's token).
  function serverForm() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected || !response.ok) {
          throw new Error("the form is not open for entry");
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var echoed = page.querySelector(data.form);
        if (!echoed) {
          throw new Error("no form");
        }
        var token = echoed.querySelector("input[name=csrf_token]");
        if (token && form.elements.csrf_token) {
          form.elements.csrf_token.value = token.value;
        }
        return valuesOf(echoed);
      });
  }

  // Send the draft (the connection came back), then read the record's form back from the
  // server: the draft goes only when the server shows the same values.
  function sendDraft() {
    var draft = read();
    if (saving || !draft || (serverValues && same(draft.values, serverValues))) {
      return;
    }
    saving = true;
    show(false, data.savingNote);
    var url = form.getAttribute("action") || window.location.href;
    var sent = null;
    serverForm()
      .then(function () {
        sent = valuesOf(form);
        var body = new FormData(form);
        return fetch(url, { method: "POST", body: body, credentials: "same-origin" });
      })
      .then(serverForm)
      .then(function (stored) {
        if (!same(stored, sent)) {
          throw new Error("not confirmed");
        }
        serverValues = stored;
        changed(); // cleared, unless something was typed meanwhile
      })
      .catch(function () {
        show(false, navigator.onLine ? data.refusedNote : data.offlineNote);
      })
      .then(function () {
        saving = false;
      });
  }

  var draft = read();
  if (!serverValues) {
    // The server showed the form again with what was typed (the save was refused).
    write(valuesOf(form));
    show(false, "");
  } else if (draft && !same(draft.values, serverValues)) {
    fill(draft.values);
    show(false, data.restoredNote);
  } else {
    clear(); // none, or the server has it now
    show(true);
  }

  if ($) {
    $(form).on("input change changeDate", changed);
  } else {
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
  }
  form.addEventListener("submit", function (event) {
    write(valuesOf(form)); // kept until the server confirms it
    if (!navigator.onLine) {
      event.preventDefault();
      show(false, data.offlineNote);
    }
  });
  window.addEventListener("online", sendDraft);
  window.addEventListener("offline", function () {
    if (read()) {
      show(false, data.offlineNote);
    }
  });
  discard.addEventListener("click", function () {
    clear();
    window.location.reload();
  });
})();
