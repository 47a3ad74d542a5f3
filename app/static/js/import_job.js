/* The page of a background import: ask the server where the job stands every two seconds,
 * show the rows checked and written, and reload the page (with the final report) once the job
 * has ended. Without JavaScript the page has a 刷新 link instead. No external assets. */
(function () {
  "use strict";

  var facts = document.getElementById("import-job");
  if (!facts || !window.XMLHttpRequest || !window.JSON) {
    return;
  }
  var url = facts.getAttribute("data-status-url");
  var state = facts.getAttribute("data-state");
  if (state !== "queued" && state !== "running") {
    return;
  }
  var checked = document.getElementById("import-job-checked");
  var written = document.getElementById("import-job-written");
  var label = document.getElementById("import-job-state");

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.addEventListener("load", function () {
      var status = null;
      if (xhr.status === 200) {
        try {
          status = JSON.parse(xhr.responseText);
        } catch (e) {
          status = null;
        }
      }
      if (!status) {
        window.setTimeout(poll, 5000);
        return;
      }
      if (checked) {
        checked.textContent = String(status.checked);
      }
      if (written) {
        written.textContent = String(status.written);
      }
      if (label) {
        label.textContent = status.state_label;
      }
      if (status.finished) {
        window.location.reload();
      } else {
        window.setTimeout(poll, 2000);
      }
    });
    xhr.addEventListener("error", function () {
      window.setTimeout(poll, 5000);
    });
    xhr.send();
  }
  window.setTimeout(poll, 1000);
})();
