/* Select2's own texts (the clear button's "Remove all items" tooltip, "No results found" …) in
 * the interface language: FAB's select2 4.0.13 ships English only. The zh-CN strings follow
 * select2's own zh-CN translation (MIT). Runs before FAB's ab.js creates the selects
 * (document ready), so the defaults apply to every select of the page. */
(function () {
  "use strict";
  var script = document.currentScript;
  var $ = window.jQuery;
  if (!script || !$ || !$.fn.select2 || script.getAttribute("data-locale") === "en") {
    return;
  }
  $.fn.select2.defaults.set("language", {
    errorLoading: function () { return "无法载入结果。"; },
    inputTooLong: function (args) { return "请删除" + (args.input.length - args.maximum) + "个字符"; },
    inputTooShort: function (args) { return "请再输入至少" + (args.minimum - args.input.length) + "个字符"; },
    loadingMore: function () { return "载入更多结果…"; },
    maximumSelected: function (args) { return "最多只能选择" + args.maximum + "个项目"; },
    noResults: function () { return "未找到结果"; },
    searching: function () { return "搜索中…"; },
    removeAllItems: function () { return "删除所有项目"; },
    removeItem: function () { return "删除项目"; },
    search: function () { return "搜索"; }
  });
})();
