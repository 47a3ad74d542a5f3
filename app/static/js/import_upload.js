/* Bulk import page: send the form with XMLHttpRequest to show the upload's progress, then open
 * the page of the import job (or of the file's preview) the server answers with (or show its message). Without JavaScript, or in a
 * browser without XMLHttpRequest/FormData, the form is submitted as usual. No external assets. */
(function () {
  "use strict";

  var form = document.getElementById("import-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var box = document.getElementById("import-progress");
  var bar = box ? box.querySelector(".progress-bar") : null;
  var text = document.getElementById("import-progress-text");
  var button = document.getElementById("import-submit");

  function show(percent, message, busy) {
    if (!box || !bar) {
      return;
    }
    box.style.display = "block";
    bar.style.width = percent + "%";
    bar.setAttribute("aria-valuenow", String(percent));
    bar.textContent = percent + "%";
    bar.className = "progress-bar" + (busy ? " progress-bar-striped active" : "");
    if (text) {
      text.textContent = message;
    }
  }

  form.addEventListener("submit", function (event) {
    var file = form.querySelector("input[type=file]");
    if (!file || !file.files || !file.files.length) {
      return; // let the browser ask for the file
    }
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var percent = Math.floor((e.loaded / e.total) * 100);
        show(percent, form.getAttribute("data-uploading") + " " + percent + "%", false);
      }
    });
    xhr.upload.addEventListener("load", function () {
      show(100, form.getAttribute("data-processing"), true);
    });
    xhr.addEventListener("load", function () {
      // After a redirect to the job's page, open it (its own script follows the import).
      // A file in an office's own layout opens its preview first (nothing queued yet).
      if (
        xhr.responseURL &&
        (xhr.responseURL.indexOf("/directory-import/job/") !== -1 ||
          /\/directory-import\/preview$/.test(xhr.responseURL))
      ) {
        window.location.replace(xhr.responseURL);
        return;
      }
      // Otherwise the answer is a whole page (the form with a message): show it.
      if (xhr.responseURL && window.history && window.history.replaceState) {
        window.history.replaceState(null, "", xhr.responseURL);
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      show(0, form.getAttribute("data-failed"), false);
      if (button) {
        button.disabled = false;
      }
    });
    if (button) {
      button.disabled = true;
    }
    show(0, form.getAttribute("data-uploading") + " 0%", false);
    xhr.send(new FormData(form));
  });
})();
