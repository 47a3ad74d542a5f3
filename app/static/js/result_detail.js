/* The record form's 检查结果细类 follows its 检查结果 (app/inspections/result_codes.py): only the
 * values of the chosen result can be picked (the other groups are disabled, and choosing another
 * result clears a value of the old one); a result without a second level leaves only the empty
 * choice. The select itself is never disabled: a disabled field is left out of the form's data,
 * and the draft of the record (record_draft.js) would then never match the server's form. The
 * server's rule (services.check_result_detail) stays the guard; this only keeps the choice
 * honest. */
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
    var follow = function (event) {
      var chosen = code.val() || "";
      var groups = detail.find("optgroup");
      var matching = groups.filter(function () {
        return this.label === chosen;
      });
      groups.each(function () {
        $(this).prop("disabled", this.label !== chosen);
      });
      var selected = detail.find("option:selected");
      if (event && selected.val() && selected.parent("optgroup")[0] !== matching[0]) {
        // Another result chosen: its old second level no longer applies.
        detail.val("");
      }
      detail.trigger("change.select2");
    };
    code.on("change", follow);
    follow(null);
  });
})();
