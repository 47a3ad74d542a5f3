/* Every file input of the staff pages: a file larger than the server takes (MAX_UPLOAD_MB) is
 * refused in the page, with the limit in words, before anything is sent. Without this the
 * server answers 413 with an error page that replaces the form (probe finding F7). The
 * browser's own validation then keeps the form from being submitted. No external assets. */
(function () {
  "use strict";

  var script = document.currentScript;
  var limit = script ? Number(script.getAttribute("data-max-bytes")) : 0;
  var message = script ? script.getAttribute("data-message") : "";
  if (!limit || !message) {
    return;
  }

  function hintOf(input) {
    var hint = input.parentNode.querySelector(".upload-limit-hint");
    if (!hint) {
      hint = document.createElement("p");
      hint.className = "help-block text-danger upload-limit-hint";
      hint.setAttribute("role", "alert");
      input.parentNode.insertBefore(hint, input.nextSibling);
    }
    return hint;
  }

  function check(input) {
    var total = 0;
    var i;
    for (i = 0; input.files && i < input.files.length; i += 1) {
      total += input.files[i].size;
    }
    var tooLarge = total > limit;
    input.setCustomValidity(tooLarge ? message : "");
    var hint = input.parentNode.querySelector(".upload-limit-hint");
    if (tooLarge) {
      hintOf(input).textContent = message;
    } else if (hint) {
      hint.parentNode.removeChild(hint);
    }
    return !tooLarge;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.type === "file") {
      check(input);
    }
  });
  // A form with novalidate skips the browser's check: refuse the submission here as well.
  document.addEventListener(
    "submit",
    function (event) {
      var inputs = event.target.querySelectorAll("input[type=file]");
      var i;
      for (i = 0; i < inputs.length; i += 1) {
        if (!check(inputs[i])) {
          event.preventDefault();
          event.stopImmediatePropagation();
          inputs[i].focus();
          return;
        }
      }
    },
    true
  );
})();
