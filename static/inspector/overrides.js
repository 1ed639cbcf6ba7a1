/* Asset override screen: type chips with counts, a debounced search, versions with "add override"
 * (the chosen one highlighted), active overrides, a spec preview per override (the server's
 * structural diff: list items by their own index, text as a line diff), a required reason,
 * confirm, and single-stage runs through /ops/stage-test. All text goes in through textContent. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("picker-data").textContent);
  var previewUrl = JSON.parse(document.getElementById("preview-url").textContent);
  var field = document.getElementById("overrides-field");
  var overrides = JSON.parse(field.value || "{}");
  var reasons = {};
  var activeType = "";
  var SEARCH_DELAY_MS = 250;
  var searchTimer = null;
  var REASON_REQUIRED = "Say why you run this test: the reason goes to the admin log with the overrides.";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function button(label, cls, onClick) {
    var b = el("button", cls || "button", label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }
  function csrf() { return document.querySelector("input[name=csrfmiddlewaretoken]").value; }

  /* A changed text as − / + lines (the server's difflib line diff); "…" stands for unchanged lines left out. */
  function lineDiff(lines) {
    var pre = el("pre", "ops-lines");
    pre.dataset.testid = "line-diff";
    lines.forEach(function (line) {
      var kind = line.sign === "+" ? "add" : line.sign === "-" ? "remove" : line.sign === "…" ? "gap" : "same";
      var sign = line.sign === "-" ? "−" : line.sign;
      pre.append(el("span", "ops-line ops-line-" + kind, sign + " " + line.text));
    });
    return pre;
  }

  /* Applied assets ({type: "name@version"}) as chips "type → name@version" that wrap. */
  function appliedChips(applied) {
    var list = el("ul", "ops-chips ops-applied");
    list.dataset.testid = "applied-assets";
    Object.keys(applied || {}).sort().forEach(function (type) {
      var chip = el("li", "ops-chip ops-chip-static" + (overrides[type] === applied[type] ? " ops-chip-override" : ""));
      chip.dataset.type = type;
      chip.append(el("span", "ops-chip-type", type), " → ", el("code", "", applied[type]));
      if (overrides[type] === applied[type]) chip.title = "your override";
      list.append(chip);
    });
    if (!list.children.length) list.append(el("li", "ops-muted", "none"));
    return list;
  }

  function renderChips() {
    var box = document.getElementById("type-chips");
    box.replaceChildren();
    var all = button("all (" + data.assets.length + ")", "ops-chip", function () { activeType = ""; render(); });
    all.setAttribute("aria-pressed", String(activeType === ""));
    box.append(all);
    Object.keys(data.counts).forEach(function (type) {
      var chip = button(type + " (" + data.counts[type] + ")", "ops-chip", function () { activeType = type; render(); });
      chip.dataset.type = type;
      chip.disabled = data.counts[type] === 0;
      chip.setAttribute("aria-pressed", String(activeType === type));
      box.append(chip);
    });
  }

  function renderAssets() {
    var query = document.getElementById("asset-search").value.trim().toLowerCase();
    var list = document.getElementById("asset-list");
    list.replaceChildren();
    list.dataset.renders = String(Number(list.dataset.renders || 0) + 1);
    var shown = data.assets.filter(function (a) {
      return (!activeType || a.type === activeType) &&
        (!query || a.name.toLowerCase().indexOf(query) >= 0 || a.description.toLowerCase().indexOf(query) >= 0);
    });
    if (!shown.length) list.append(el("p", "ops-muted", "No assets match."));
    shown.forEach(function (asset) {
      var box = el("div", "ops-asset");
      box.dataset.asset = asset.type + ":" + asset.name;
      var title = el("h3", "", asset.type + ": " + asset.name);
      if (asset.used) title.append(el("span", "ops-flag", " used v" + asset.usedVersion + " "));
      box.append(title, el("div", "ops-muted", asset.description));
      asset.versions.forEach(function (v) {
        var ref = asset.name + "@" + v.version;
        var chosen = overrides[asset.type] === ref;
        var row = el("div", "ops-version" + (chosen ? " ops-version-chosen" : ""));
        row.dataset.version = String(v.version);
        if (chosen) row.setAttribute("aria-current", "true");
        row.append(el("strong", "", "v" + v.version), el("span", "ops-status ops-status-" +
          (v.status === "published" ? "success" : v.status === "draft" ? "warning" : "muted"), v.status),
          el("span", "ops-muted", (v.author || "—") + " · " + v.created), el("span", "", v.note));
        if (asset.used && asset.usedVersion === v.version) row.append(el("span", "ops-flag", "used by this trace"));
        if (chosen) {
          row.append(el("span", "ops-chosen-label", "✓ chosen"),
            button("remove", "button ops-remove", function () { delete overrides[asset.type]; render(); }));
        } else {
          row.append(button("add override", "button ops-add", function () {
            overrides[asset.type] = ref;
            reasons[asset.type] = "Testing " + asset.type + ":" + ref + " against trace " + data.traceId;
            render();
          }));
        }
        box.append(row);
      });
      list.append(box);
    });
  }

  function renderOverrides() {
    var list = document.getElementById("override-list");
    list.replaceChildren();
    var types = Object.keys(overrides);
    if (!types.length) list.append(el("li", "ops-muted", "No overrides yet."));
    types.forEach(function (type) {
      var item = el("li", "", type + " = " + overrides[type] + " ");
      item.append(button("remove", "button ops-remove", function () { delete overrides[type]; render(); }));
      list.append(item);
    });
    field.value = JSON.stringify(overrides);
    var reason = document.getElementById("reason");
    if (!reason.dataset.edited) reason.value = types.map(function (t) { return reasons[t] || ""; }).filter(Boolean).join("; ");
    updateRun();
  }

  function renderPreview() {
    var box = document.getElementById("preview");
    box.replaceChildren();
    var types = Object.keys(overrides);
    if (!types.length) { box.append(el("p", "ops-muted", "Add an override to see what changes.")); return; }
    types.forEach(function (type) {
      var ref = overrides[type].split("@");
      var item = el("div", "ops-preview-item", "loading…");
      item.dataset.type = type;
      box.append(item);
      var url = previewUrl + "?type=" + encodeURIComponent(type) + "&name=" + encodeURIComponent(ref[0]) +
        "&version=" + encodeURIComponent(ref[1]);
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
        .then(function (pair) {
          var ok = pair[0], p = pair[1];
          item.replaceChildren();
          if (!ok) { item.append(el("p", "errornote", p.detail)); return; }
          item.append(el("strong", "", type + ": " + (p.used || "not used") + " → " + p.ref));
          item.append(el("div", "ops-muted", p.stages.length ? "consumed by " + p.stages.map(function (s) { return s.toUpperCase(); }).join(", ") : p.note));
          if (p.identical) { item.append(el("p", "ops-muted", "Same spec as the version the trace used.")); return; }
          var table = el("table", "ops-patch");
          var head = el("tr");
          head.append(el("th", "", "change"), el("th", "", "where"), el("th", "", "before"), el("th", "", "after"));
          table.append(head);
          p.operations.forEach(function (op) {
            var tr = el("tr", "ops-patch-" + op.op);
            tr.dataset.path = op.path;
            tr.append(el("td", "", op.op), el("td", "", op.path));
            if (op.lines) {
              var cell = el("td", "ops-patch-lines");
              cell.colSpan = 2;
              cell.append(lineDiff(op.lines));
              tr.append(cell);
            } else {
              tr.append(el("td", "ops-before", "before" in op ? JSON.stringify(op.before) : "—"),
                        el("td", "ops-after", "after" in op ? JSON.stringify(op.after) : "—"));
            }
            table.append(tr);
          });
          item.append(table);
        }).catch(function (e) { item.textContent = "preview failed: " + e.message; });
    });
  }

  function updateRun() {
    var ready = Object.keys(overrides).length > 0 && document.getElementById("confirm").checked;
    document.getElementById("run-button").disabled = !ready;
  }

  function render() { renderChips(); renderAssets(); renderOverrides(); renderPreview(); }

  // Typing "event" is one render, 250 ms after the last key, not five.
  document.getElementById("asset-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(renderAssets, SEARCH_DELAY_MS);
  });
  document.getElementById("asset-search").addEventListener("search", function () {
    clearTimeout(searchTimer);  // the field's clear button, or Enter: at once
    renderAssets();
  });
  document.getElementById("clear-overrides").addEventListener("click", function () { overrides = {}; render(); });
  document.getElementById("confirm").addEventListener("change", updateRun);
  document.getElementById("reason").addEventListener("input", function (e) {
    e.target.dataset.edited = "1";
    if (e.target.value.trim()) showReasonError("");
  });
  // The server refuses a blank reason too (and says so in the same place); this saves the round trip.
  document.getElementById("run-form").addEventListener("submit", function (event) {
    var reason = document.getElementById("reason");
    if (!reason.value.trim()) {
      event.preventDefault();
      showReasonError(REASON_REQUIRED);
      reason.focus();
    }
  });

  function showReasonError(message) {
    var box = document.getElementById("reason-error");
    box.replaceChildren();
    box.hidden = !message;
    if (message) box.append(el("li", "", message));
    document.getElementById("reason").setAttribute("aria-invalid", String(Boolean(message)));
  }

  document.getElementById("run-stage").addEventListener("click", function () {
    var box = document.getElementById("stage-result");
    box.replaceChildren(el("p", "ops-muted", "running…"));
    fetch("/ops/stage-test", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify({stage: document.getElementById("single-stage").value, trace_id: data.traceId,
                            asset_overrides: overrides})
    }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); }).then(function (pair) {
      var ok = pair[0], body = pair[1];
      box.replaceChildren();
      if (!ok) { box.append(el("p", "errornote", body.detail || JSON.stringify(body))); return; }
      var diff = body.diff;
      var summary = el("p", "", body.stage.toUpperCase() + ": " +
        (diff.changed ? diff.operation_count + " change(s) in the output" : "output unchanged") + " · status ");
      var status = body.output.diagnostics.status;
      summary.append(el("span", "ops-status ops-status-" + status, status));
      box.append(summary, el("h4", "", "Applied assets"), appliedChips(body.applied_assets));
      var list = el("ul", "ops-ops");
      diff.operations.slice(0, 50).forEach(function (op) {
        var shown = function (v) { return JSON.stringify(v).slice(0, 120); };
        list.append(el("li", "", op.op + " " + op.path + (op.op === "replace" ? ": " + shown(op.before) + " → " + shown(op.after)
          : op.op === "add" ? " = " + shown(op.after) : " (was " + shown(op.before) + ")")));
      });
      box.append(list);
      diff.truncated.forEach(function (cut) {
        box.append(el("p", "ops-muted", cut.differing_items + " of the " + cut.positions + " items of " + (cut.pointer || "/") +
          " differ (matched by position); the first " + cut.listed_items + " are listed."));
      });
    }).catch(function (e) { box.replaceChildren(el("p", "errornote", e.message)); });
  });

  render();
})();
