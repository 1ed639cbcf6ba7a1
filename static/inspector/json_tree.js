/* A lazy, collapsible JSON tree.
 *
 * Built with DOM nodes and textContent only (never innerHTML), so payload text
 * is always shown as text. Children render only when a node is opened, arrays
 * and objects render 100 entries at a time, and long strings are cut at 500
 * characters with a "show all" button: a 5 MB payload costs one JSON.parse and
 * a few hundred DOM nodes until someone drills in.
 */
(function () {
  "use strict";
  var PAGE = 100;
  var LONG_STRING = 500;
  // Each node's "render my first page of children", for expandAll (toggle events come too late).
  var renderers = new WeakMap();

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(label, onClick) {
    var b = el("button", "json-more", label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function scalar(value) {
    if (value === null) return el("span", "json-null", "null");
    if (typeof value === "string") {
      var quoted = JSON.stringify(value);
      if (value.length <= LONG_STRING) return el("span", "json-string", quoted);
      var wrap = el("span");
      var text = el("span", "json-string", JSON.stringify(value.slice(0, LONG_STRING)) + "…");
      wrap.append(text, " ", button("show all " + value.length + " characters", function (event) {
        text.textContent = quoted;
        event.currentTarget.remove();
      }));
      return wrap;
    }
    if (typeof value === "number") return el("span", "json-number", String(value));
    if (typeof value === "boolean") return el("span", "json-bool", String(value));
    return el("span", "", String(value));
  }

  function keyLabel(key) {
    var frag = document.createDocumentFragment();
    if (key !== null) frag.append(el("span", "json-key", typeof key === "number" ? String(key) : JSON.stringify(key)), el("span", "json-punct", ": "));
    return frag;
  }

  function node(key, value, open) {
    var row = el("div", "json-row");
    if (value === null || typeof value !== "object") {
      row.append(keyLabel(key), scalar(value));
      return row;
    }
    var isArray = Array.isArray(value);
    var keys = isArray ? null : Object.keys(value);
    var size = isArray ? value.length : keys.length;
    if (size === 0) {
      row.append(keyLabel(key), el("span", "json-punct", isArray ? "[]" : "{}"));
      return row;
    }
    var details = el("details", "json-node");
    var summary = el("summary");
    summary.append(keyLabel(key), el("span", "json-punct", isArray ? "[" : "{"),
      el("span", "json-meta", " " + size + (isArray ? " item" : " key") + (size === 1 ? "" : "s") + " "),
      el("span", "json-punct", isArray ? "]" : "}"));
    var body = el("div", "json-children");
    details.append(summary, body);
    var rendered = 0;
    function renderMore() {
      var end = Math.min(size, rendered + PAGE);
      for (var i = rendered; i < end; i++) {
        body.append(isArray ? node(i, value[i], false) : node(keys[i], value[keys[i]], false));
      }
      rendered = end;
      if (rendered < size) {
        body.append(button("show " + Math.min(PAGE, size - rendered) + " more of " + (size - rendered), function (event) {
          event.currentTarget.remove();
          renderMore();
        }));
      }
    }
    details.addEventListener("toggle", function () {
      if (details.open && rendered === 0) renderMore();
    });
    renderers.set(details, function () { if (rendered === 0) renderMore(); });
    if (open) {
      details.open = true;
      renderMore();
    }
    row.append(details);
    return row;
  }

  window.OpsJsonTree = {
    render: function (container, value) {
      container.replaceChildren(node(null, value, true));
    },
    /* Open every node already rendered, one level deeper per call. */
    expandLevel: function (container) {
      container.querySelectorAll("details.json-node:not([open])").forEach(function (d) { d.open = true; });
    },
    /* Open every node under container, top levels first, rendering each one's children (their first
     * page: "show more" stays a click) on the way. Stops after `limit` nodes so a huge payload cannot
     * freeze the page; another call goes on where this one stopped. Returns {opened, left}. */
    expandAll: function (container, limit) {
      var queue = Array.prototype.slice.call(container.querySelectorAll("details.json-node:not([open])"));
      var opened = 0;
      for (var i = 0; i < queue.length; i++) {
        if (opened >= limit) return {opened: opened, left: true};
        var details = queue[i];
        if (details.open) continue;
        var render = renderers.get(details);
        if (render) render();
        details.open = true;
        opened++;
        details.querySelectorAll(":scope > .json-children > .json-row > details.json-node").forEach(function (child) {
          if (!child.open) queue.push(child);
        });
      }
      return {opened: opened, left: false};
    }
  };
})();
