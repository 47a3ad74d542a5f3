/* Date pickers in the interface language: FAB's bootstrap-datepicker ships English only. The
 * zh-CN strings come from the same release (static/vendor/bootstrap-datepicker/); the language
 * is the page's, given in this script tag's data-locale. Runs before FAB's ab.js creates the
 * pickers (document ready), so the defaults apply to every date field. */
(function () {
  "use strict";
  var script = document.currentScript;
  var $ = window.jQuery;
  if (!script || !$ || !$.fn.datepicker) {
    return;
  }
  var locale = script.getAttribute("data-locale") === "en" ? "en" : "zh-CN";
  $.fn.datepicker.defaults.language = locale;
  $.fn.datepicker.defaults.format = "yyyy-mm-dd";
  $.fn.datepicker.defaults.todayHighlight = true;
  if (locale === "zh-CN") {
    $.fn.datepicker.defaults.weekStart = 1;
  }
})();
