/* The record form's 检查结果细类 follows its 检查结果 (app/inspections/result_codes.py): only the
 * values of the chosen result can be picked (the others are disabled, a value of another result
 * is cleared) and the field is disabled for a result without a second level. The server's rule
 * (services.check_result_detail) stays the guard; this only keeps the choice honest. */
(function () {
  "use strict";
  var $ = window.jQuery;
  if (!$) {
    return;
  }
  $(function () {
    var code = $("select[name=result_code]");
    var detail = $("select[name=result_detail]");
    if (!code.length || !detail.length) {
      return;
    }
    var follow = function () {
      var chosen = code.val() || "";
      var groups = detail.find("optgroup");
      var matching = groups.filter(function () {
        return this.label === chosen;
      });
      groups.each(function () {
        $(this).prop("disabled", this.label !== chosen);
      });
      var selected = detail.find("option:selected");
      if (selected.val() && selected.parent("optgroup")[0] !== matching[0]) {
        detail.val("");
      }
      detail.prop("disabled", matching.length === 0);
      detail.trigger("change.select2");
    };
    code.on("change", follow);
    follow();
  });
})();
