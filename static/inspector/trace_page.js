/* Trace page: load a stage's full payloads when its section opens, render them
 * as lazy JSON trees, list references, copy to clipboard, expand/collapse all,
 * expand the JSON of the open stages.
 * Data comes from json_script; payload text is only ever set as textContent. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-page-data").textContent);
  var loaded = {};
  var sectionsLoading = {};
  // Nodes "Expand JSON" opens a click (each renders up to 100 children): a whole 5 MB payload would freeze the tab.
  var EXPAND_LIMIT = 2000;

  function fetchPayload(runId) {
    if (!loaded[runId]) {
      loaded[runId] = fetch(data.runs[runId].payloadUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status + " loading the payload");
          return response.json();
        });
      loaded[runId].catch(function () { delete loaded[runId]; });
    }
    return loaded[runId];
  }

  function renderReferences(section, references) {
    var box = section.querySelector(".ops-refs-list");
    if (!box) return;
    box.classList.remove("ops-muted");
    var list = document.createElement("ol");
    references.forEach(function (ref, index) {
      var item = document.createElement("li");
      item.textContent = "[" + ref.type + "] " + (ref.entity_name || ref.entity_id) + (ref.source ? " — " + ref.source : "") + (ref.snippet ? ": " + ref.snippet : "");
      if (index >= data.referencePreview) item.hidden = true;
      list.append(item);
    });
    box.replaceChildren(list);
    var hidden = references.length - data.referencePreview;
    if (hidden > 0) {
      var more = document.createElement("button");
      more.type = "button";
      more.className = "button ops-refs-more";
      more.textContent = "+" + hidden + " more";
      more.addEventListener("click", function () {
        list.querySelectorAll("li[hidden]").forEach(function (li) { li.hidden = false; });
        more.remove();
      });
      box.append(more);
    }
  }

  /* Render the section's full payloads once; the promise settles when they are on the page. */
  function load(section) {
    var runId = section.dataset.run;
    if (!sectionsLoading[runId]) {
      section.dataset.loaded = "loading";
      sectionsLoading[runId] = fetchPayload(runId).then(function (payload) {
        ["input", "output"].forEach(function (side) {
          var pane = section.querySelector('.ops-pane[data-side="' + side + '"] .ops-pane-body');
          window.OpsJsonTree.render(pane, payload[side]);
          pane.dataset.full = "true";
        });
        renderReferences(section, payload.output.references || []);
        section.dataset.loaded = "true";
      }).catch(function (error) {
        delete sectionsLoading[runId];
        section.dataset.loaded = "";
        var note = document.createElement("p");
        note.className = "errornote";
        note.textContent = error.message;
        section.querySelector(".ops-stage-body").prepend(note);
        throw error;
      });
    }
    return sectionsLoading[runId];
  }

  document.querySelectorAll("details.ops-stage").forEach(function (section) {
    section.addEventListener("toggle", function () { if (section.open) load(section).catch(function () {}); });
  });

  document.getElementById("expand-all").addEventListener("click", function () {
    document.querySelectorAll("details.ops-stage").forEach(function (d) { d.open = true; });
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    document.querySelectorAll("details.ops-stage").forEach(function (d) { d.open = false; });
  });
  document.getElementById("expand-json").addEventListener("click", function () {
    var status = document.getElementById("expand-json-status");
    var open = Array.prototype.slice.call(document.querySelectorAll("details.ops-stage[open]"));
    if (!open.length) {
      status.textContent = "Open a stage first (or Expand all), then expand its JSON.";
      return;
    }
    status.textContent = "Loading payloads…";
    Promise.all(open.map(function (section) { return load(section).catch(function () { return null; }); }))
      .then(function () {
        var opened = 0, left = false;
        open.forEach(function (section) {
          if (section.dataset.loaded !== "true") return;
          section.querySelectorAll('.ops-pane-body[data-full="true"]').forEach(function (pane) {
            var done = window.OpsJsonTree.expandAll(pane, EXPAND_LIMIT - opened);
            opened += done.opened;
            left = left || done.left;
          });
        });
        status.textContent = left ? "Opened " + opened + " JSON nodes; more are left: click again to go on."
                                  : "JSON of " + open.length + " open stage" + (open.length === 1 ? "" : "s") + " expanded.";
      });
  });

  document.querySelectorAll("button.ops-copy").forEach(function (copy) {
    copy.addEventListener("click", function (event) {
      event.preventDefault();
      var section = copy.closest("details.ops-stage");
      fetchPayload(section.dataset.run).then(function (payload) {
        return navigator.clipboard.writeText(JSON.stringify(payload[copy.dataset.side], null, 2));
      }).then(function () {
        copy.textContent = "Copied";
        setTimeout(function () { copy.textContent = "Copy"; }, 1500);
      }).catch(function (error) {
        copy.textContent = "Copy failed";
        copy.title = error.message;
      });
    });
  });
})();
