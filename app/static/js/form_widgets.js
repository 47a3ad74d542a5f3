/* The staff pages' form widgets, one behaviour everywhere (issue 17, finding 9):
 *
 * - ONE date picker: FAB's bootstrap-datepicker field (.appbuilder_date). A native
 *   <input type="date"> of our own templates is turned into the same field. A date typed or
 *   pasted as 2026-12-01, 2026/12/1, 2026.12.1, 2026年12月1日 or 20261201 (full-width digits too)
 *   is kept and written as 2026-12-01; anything else stays as typed, is marked with a Chinese
 *   message and stops the form from being sent (never silently cleared, as the picker did on
 *   blur). A min/max of the native input is kept and checked.
 * - Searchable multi-selects: a <select multiple> that FAB did not make a select2 becomes one;
 *   select2's own texts ("Remove all items", "No results found", "Searching…") in the page's
 *   language.
 * - Required marks for what a record needs only before it is submitted (提交前必填): the names
 *   come in this script tag's data-submit-required (a JSON list), the hint text in
 *   data-submit-hint.
 *
 * The texts come translated in this script tag's data-* attributes (see layout.html). Runs
 * before FAB's ab.js creates the pickers and select2 boxes (document ready), so the defaults
 * set here apply to them. */
(function () {
  "use strict";
  var script = document.currentScript;
  var $ = window.jQuery;
  if (!script || !$) {
    return;
  }
  var text = function (name) {
    return script.getAttribute("data-" + name) || "";
  };

  // --- dates ---------------------------------------------------------------------------------
  var FULL_WIDTH = /[\uff10-\uff19]/g;
  var SEPARATED = /^(\d{4})\s*[-\/.\u5e74]\s*(\d{1,2})\s*[-\/.\u6708]\s*(\d{1,2})\s*\u65e5?$/;
  var COMPACT = /^(\d{4})(\d{2})(\d{2})$/;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /* "2026/12/1" -> "2026-12-01"; "" -> ""; not a date of the calendar -> null. */
  function isoDate(value) {
    var s = String(value || "")
      .replace(FULL_WIDTH, function (c) {
        return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
      })
      .replace(/[\uff0d\uff0f\uff0e\u3002]/g, "-")
      .trim();
    if (!s) {
      return "";
    }
    var m = COMPACT.exec(s) || SEPARATED.exec(s);
    if (!m) {
      return null;
    }
    var y = +m[1];
    var mo = +m[2];
    var d = +m[3];
    var day = new Date(Date.UTC(y, mo - 1, d));
    if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) {
      return null;
    }
    return y + "-" + pad(mo) + "-" + pad(d);
  }
  window.dsrIsoDate = isoDate;

  function dateInput(el) {
    return el && el.tagName === "INPUT" && $(el).closest(".appbuilder_date, .dsr-date").length > 0;
  }

  function showDateError(input, message) {
    var box = $(input).closest(".input-group");
    box.siblings(".dsr-date-error").remove();
    box.toggleClass("has-error", !!message); // this field only, not its whole form
    input.setCustomValidity(message || "");
    if (message) {
      $('<span class="help-block dsr-date-error" role="alert"></span>').text(message).insertAfter(box);
    }
  }

  /* Normalises the field's text; returns false (and marks the field) when it is no date. */
  function checkDate(input) {
    var raw = input.value;
    var iso = isoDate(raw);
    if (iso === null) {
      showDateError(input, text("date-invalid").replace("{value}", raw.trim()));
      return false;
    }
    var min = input.getAttribute("data-min");
    var max = input.getAttribute("data-max");
    if (iso && max && iso > max) {
      input.value = iso;
      showDateError(input, text("date-after").replace("{value}", max));
      return false;
    }
    if (iso && min && iso < min) {
      input.value = iso;
      showDateError(input, text("date-before").replace("{value}", min));
      return false;
    }
    if (input.value !== iso) {
      input.value = iso;
    }
    showDateError(input, "");
    var picker = $(input).closest(".appbuilder_date, .dsr-date");
    if (picker.data("datepicker")) {
      picker.datepicker("update"); // reads the field, does not write it
    }
    return true;
  }

  if ($.fn.datepicker) {
    // The picker would rewrite (and so clear) the field on blur from its own idea of the date;
    // the field's text is parsed here instead.
    $.fn.datepicker.defaults.forceParse = false;
    $.fn.datepicker.defaults.autoclose = true;
  }

  // Capturing phase: before bootstrap-datepicker's own paste handler (which drops what it
  // cannot parse with its one format).
  document.addEventListener(
    "paste",
    function (event) {
      var input = event.target;
      if (!dateInput(input)) {
        return;
      }
      var data = event.clipboardData || window.clipboardData;
      var pasted = data ? data.getData("text/plain") || data.getData("Text") : "";
      if (!pasted) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      input.value = pasted.trim();
      checkDate(input);
    },
    true
  );
  // Through jQuery: the picker announces a picked day with jQuery's trigger("change"), which
  // native listeners do not hear; this one hears both.
  $(document).on("change", ".appbuilder_date input, .dsr-date input", function () {
    checkDate(this);
  });
  document.addEventListener(
    "focusout",
    function (event) {
      if (dateInput(event.target)) {
        checkDate(event.target);
      }
    },
    true
  );
  document.addEventListener(
    "submit",
    function (event) {
      var bad = null;
      $(event.target)
        .find(".appbuilder_date input, .dsr-date input")
        .each(function () {
          if (!checkDate(this) && !bad) {
            bad = this;
          }
        });
      if (bad) {
        event.preventDefault();
        event.stopPropagation();
        bad.focus();
      }
    },
    true
  );

  /* A native date input of our templates -> the same picker field as FAB's forms. */
  function upgradeNativeDates() {
    $('input[type="date"]').each(function () {
      var input = this;
      var min = input.getAttribute("min");
      var max = input.getAttribute("max");
      input.type = "text";
      input.removeAttribute("min");
      input.removeAttribute("max");
      if (min) {
        input.setAttribute("data-min", min);
      }
      if (max) {
        input.setAttribute("data-max", max);
      }
      input.setAttribute("autocomplete", "off");
      input.setAttribute("placeholder", "2026-12-01");
      var group = $('<div class="input-group date dsr-date"></div>');
      $(input).wrap(group);
      group = $(input).parent();
      group.prepend(
        '<span class="input-group-addon"><i class="fa fa-calendar cursor-hand"></i></span>'
      );
      if ($.fn.datepicker) {
        group.datepicker({
          format: "yyyy-mm-dd",
          startDate: min || -Infinity,
          endDate: max || Infinity,
        });
      }
    });
    $(".appbuilder_date input").attr("autocomplete", "off");
  }

  // --- select2 -------------------------------------------------------------------------------
  if ($.fn.select2 && $.fn.select2.defaults) {
    var counted = function (name) {
      return function (args) {
        var n = args.maximum || args.minimum || 0;
        if (args.input !== undefined && args.minimum !== undefined) {
          n = args.minimum - args.input.length;
        } else if (args.input !== undefined && args.maximum !== undefined) {
          n = args.input.length - args.maximum;
        }
        return text(name).replace("{value}", n);
      };
    };
    $.fn.select2.defaults.set("language", {
      errorLoading: function () {
        return text("s2-error");
      },
      inputTooLong: counted("s2-too-long"),
      inputTooShort: counted("s2-too-short"),
      loadingMore: function () {
        return text("s2-loading-more");
      },
      maximumSelected: counted("s2-maximum"),
      noResults: function () {
        return text("s2-no-results");
      },
      searching: function () {
        return text("s2-searching");
      },
      removeAllItems: function () {
        return text("s2-remove-all");
      },
      removeItem: function () {
        return text("s2-remove-item");
      },
    });
  }

  function upgradePlainMultiSelects() {
    if (!$.fn.select2) {
      return;
    }
    $("select[multiple]")
      .not(".my_select2, .select2-hidden-accessible")
      .each(function () {
        $(this)
          .addClass("form-control")
          .select2({ theme: "bootstrap", width: "100%", placeholder: text("s2-placeholder") });
      });
  }

  // --- marks for what is required before submitting -------------------------------------------
  function markSubmitRequired() {
    var names;
    try {
      names = JSON.parse(text("submit-required") || "[]");
    } catch (e) {
      names = [];
    }
    names.forEach(function (name) {
      var label = $('label[for="' + name + '"]').first();
      if (!label.length || label.find(".dsr-submit-required").length) {
        return;
      }
      label.append(
        $('<span class="dsr-submit-required"></span>')
          .append('<strong class="dsr-required-mark">*</strong>')
          .append($("<small></small>").text(text("submit-hint")))
      );
    });
  }

  // --- short cells (dates, statuses) are not broken across lines -------------------------------
  var SHORT_CELL = /^(\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?|\S{1,8})$/;

  function noWrapShortCells() {
    $(".table td, .table th").each(function () {
      var t = $.trim($(this).text());
      if (t && SHORT_CELL.test(t)) {
        $(this).addClass("dsr-nowrap");
      }
    });
  }

  $(function () {
    upgradeNativeDates();
    upgradePlainMultiSelects();
    markSubmitRequired();
    noWrapShortCells();
  });
})();
