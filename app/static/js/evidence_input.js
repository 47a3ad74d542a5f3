/* The evidence form of a record (record_show.html): shows which photo or file was chosen, since
   the inputs themselves are hidden behind their buttons (拍照 / 选择文件). */
(function () {
  "use strict";
  var form = document.querySelector(".evidence-form");
  var chosen = document.getElementById("evidence-chosen");
  if (!form || !chosen) {
    return;
  }
  function update() {
    var names = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        names.push(file.name);
      });
    });
    chosen.textContent = names.length ? names.join("、") : chosen.getAttribute("data-none");
  }
  form.addEventListener("change", update);
})();
