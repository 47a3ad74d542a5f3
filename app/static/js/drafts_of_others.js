/* A phone may be shared: drafts typed offline (js/record_draft.js, keys
 * "dsr-draft:<user id>:<kind>:<row>") name confidential targets, so a page opened by another
 * signed-in user removes every draft that is not theirs from this browser. Loaded by
 * templates/layout.html on staff pages, with the signed-in user's id. */
(function () {
  "use strict";
  var script = document.currentScript;
  var user = script && script.getAttribute("data-user");
  var storage;
  try {
    storage = window.localStorage;
  } catch (e) {
    return;
  }
  if (!user || !storage) {
    return;
  }
  var mine = "dsr-draft:" + user + ":";
  var others = [];
  for (var i = 0; i < storage.length; i++) {
    var key = storage.key(i);
    if (key && key.indexOf("dsr-draft:") === 0 && key.indexOf(mine) !== 0) {
      others.push(key);
    }
  }
  others.forEach(function (key) {
    storage.removeItem(key);
  });
})();
