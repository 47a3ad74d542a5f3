/* The page of a background import: ask the server where the job stands every two seconds,
 * show the rows checked and written, and reload the page when the job's state changes (its
 * label and text) or it has ended (the final report), or when the answer is not the status
 * (signed out meanwhile). A lost connection is retried every five seconds for about five
 * minutes. Without JavaScript the page has a 刷新 link instead. No external assets. */
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
  var failures = 0;
  // About five minutes of a lost connection (a site with a weak signal): then stop, and the
  // page's 刷新 link is there.
  var MAX_FAILURES = 60;

  function retry() {
    failures += 1;
    if (failures < MAX_FAILURES) {
      window.setTimeout(poll, 5000);
    }
  }

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.addEventListener("load", function () {
      if (xhr.status === 401 || xhr.status === 403) {
        // Signed out meanwhile (an idle session ended): the page itself says so.
        window.location.reload();
        return;
      }
      if (xhr.status !== 200) {
        retry();
        return;
      }
      var status = null;
      try {
        status = JSON.parse(xhr.responseText);
      } catch (e) {
        // An answer that is not the status (the sign-in page after a redirect): the page
        // itself shows what it is.
        window.location.reload();
        return;
      }
      failures = 0;
      if (checked) {
        checked.textContent = String(status.checked);
      }
      if (written) {
        written.textContent = String(status.written);
      }
      if (status.finished || status.state !== state) {
        // Queued → running, or ended: the page shows the state's label, its text and, at the
        // end, the report.
        window.location.reload();
      } else {
        window.setTimeout(poll, 2000);
      }
    });
    xhr.addEventListener("error", retry);
    xhr.send();
  }
  window.setTimeout(poll, 1000);
})();
