/* Replan timeline: draws what controlloop/timeline.py laid out (positions come from the server, so
 * no two events overlap), and handles the interaction: a click opens a decision's chain and patch,
 * a "+N" marker lists the decisions of a crowded spot, dragging across the chart or the zoom
 * buttons load the page for another time range (from/to in the URL, so the server fetches the
 * decisions of that range and Back undoes a zoom). All text goes in through textContent. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var axis = data.axis;
  if (!axis) return;

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function colour(trigger) { return "var(--ops-trigger-" + trigger + ")"; }
  function activate(node, handler) {
    node.addEventListener("click", handler);
    node.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); handler(); }
    });
  }

  var byId = {};
  data.events.forEach(function (e) { byId[e.id] = e; });
  var chart = svg("svg", {viewBox: "0 0 " + axis.width + " " + axis.height, width: "100%",
                          role: "group", "aria-label": "Replan decisions from " + axis.start + " to " + axis.end});
  var plotWidth = axis.right - axis.left;
  chart.append(svg("rect", {x: axis.left, y: 0, width: plotWidth, height: axis.axisY, class: "ops-plot"}));
  if (axis.hiddenBeforeX !== null) {
    var hidden = svg("rect", {x: axis.left, y: 0, width: Math.max(axis.hiddenBeforeX - axis.left, 0),
                              height: axis.axisY - 12, class: "ops-hidden-range"});
    var why = svg("title");
    why.textContent = "Older decisions in this range are not drawn: only the newest are. Zoom in to see them.";
    hidden.append(why);
    chart.append(hidden);
  }
  data.ticks.forEach(function (tick) {
    chart.append(svg("line", {x1: tick.x, x2: tick.x, y1: 0, y2: axis.axisY - 12, class: "ops-tick"}));
    // Labels near an edge grow inwards, so none is cut off.
    var anchor = tick.x > axis.right - 45 ? "end" : tick.x < axis.left + 45 ? "start" : "middle";
    var label = svg("text", {x: tick.x, y: axis.axisY, "text-anchor": anchor, class: "ops-axis"});
    label.textContent = tick.label;
    chart.append(label);
  });
  data.lanes.forEach(function (lane, index) {
    if (index % 2) chart.append(svg("rect", {x: 0, y: lane.top, width: axis.width, height: lane.height,
                                             class: "ops-lane-band"}));
    for (var row = 0; row * axis.row < lane.height; row++) {
      var y = lane.top + row * axis.row + axis.row / 2;
      chart.append(svg("line", {x1: axis.left, x2: axis.right, y1: y, y2: y, class: "ops-lane"}));
    }
    var label = svg("text", {x: axis.left - 10, y: lane.top + axis.row / 2 + 4, "text-anchor": "end",
                             class: "ops-lane-label"});
    label.textContent = lane.name;
    chart.append(label);
  });
  var pathLayer = svg("g", {class: "ops-trace-paths"});
  chart.append(pathLayer);

  function describe(e) {
    return e.trigger + " (" + e.severity + ") on " + (e.stage || "?") + " · " + e.time + "\n" + e.verdict +
      "\n" + e.decisionReason;
  }
  var marks = {};
  data.events.forEach(function (e) {
    if (e.x === null) return;
    var group = svg("g", {class: "ops-event ops-outcome-" + e.outcome, tabindex: "0", role: "button",
                          "data-event": e.id, "data-outcome": e.outcome, "data-testid": "timeline-event",
                          "aria-label": describe(e)});
    var title = svg("title");
    title.textContent = describe(e);
    group.append(title, svg("circle", {cx: e.x, cy: e.y, r: e.r, fill: colour(e.trigger),
                                        class: "ops-severity-" + e.severity}));
    var glyph = svg("text", {x: e.x, y: e.y + 3.5, "text-anchor": "middle", class: "ops-mark"});
    glyph.textContent = e.glyph;
    group.append(glyph);
    activate(group, function () { select(e); });
    marks[e.id] = group;
    chart.append(group);
  });
  var pills = {};
  data.clusters.forEach(function (c, index) {
    var label = "+" + c.ids.length;
    var group = svg("g", {class: "ops-cluster", tabindex: "0", role: "button", "data-testid": "timeline-cluster",
                          "aria-label": c.ids.length + " more " + c.lane + " decisions, " + c.first + " – " + c.last});
    var title = svg("title");
    title.textContent = c.ids.length + " more " + c.lane + " decisions here (" + c.first + " – " + c.last +
      "): click to list them";
    group.append(title, svg("rect", {x: c.x - 18, y: c.y - 9, width: 36, height: 18, rx: 9,
                                      stroke: colour(c.lane)}));
    var text = svg("text", {x: c.x, y: c.y + 4, "text-anchor": "middle"});
    text.textContent = label;
    group.append(text);
    activate(group, function () { showCluster(c); });
    c.ids.forEach(function (id) { pills[id] = group; });
    chart.append(group);
  });
  var brush = svg("rect", {x: 0, y: 0, width: 0, height: axis.axisY - 12, class: "ops-brush", visibility: "hidden"});
  chart.append(brush);
  var box = document.getElementById("timeline");
  box.append(chart);

  // --- zoom: another time range is another page, fetched and laid out by the server -------------
  function clampX(x) { return Math.min(Math.max(x, axis.left), axis.right); }
  function timeAt(x) { return axis.startMs + (clampX(x) - axis.left) / plotWidth * (axis.endMs - axis.startMs); }
  function iso(ms) { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"); }
  function zoomTo(fromMs, toMs) {
    var from = Math.floor(fromMs / 1000) * 1000, to = Math.ceil(toMs / 1000) * 1000;
    if (to <= from) to = from + 1000;
    var params = new URLSearchParams(window.location.search);
    params.set("from", iso(from));
    params.set("to", iso(to));
    window.location.assign("?" + params.toString());
  }
  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var span = axis.endMs - axis.startMs, how = button.getAttribute("data-zoom");
      if (how === "in") return zoomTo(axis.startMs + span / 4, axis.endMs - span / 4);
      if (how === "out") {
        var to = Math.min(axis.endMs + span / 2, Math.max(axis.nowMs, axis.endMs));
        return zoomTo(to - 2 * span, to);
      }
      var params = new URLSearchParams(window.location.search);
      params.delete("from");
      params.delete("to");
      window.location.assign("?" + params.toString());
    });
  });
  function svgX(ev) {
    var point = chart.createSVGPoint();
    point.x = ev.clientX;
    point.y = ev.clientY;
    return point.matrixTransform(chart.getScreenCTM().inverse()).x;
  }
  var dragFrom = null;
  chart.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0 || ev.target.closest(".ops-event, .ops-cluster")) return;
    dragFrom = clampX(svgX(ev));
    brush.setAttribute("x", dragFrom);
    brush.setAttribute("width", 0);
    brush.setAttribute("visibility", "visible");
    chart.setPointerCapture(ev.pointerId);
  });
  chart.addEventListener("pointermove", function (ev) {
    if (dragFrom === null) return;
    var x = clampX(svgX(ev));
    brush.setAttribute("x", Math.min(x, dragFrom));
    brush.setAttribute("width", Math.abs(x - dragFrom));
  });
  chart.addEventListener("pointerup", function (ev) {
    if (dragFrom === null) return;
    var x = clampX(svgX(ev)), from = dragFrom;
    dragFrom = null;
    brush.setAttribute("visibility", "hidden");
    // A few units is a click that slipped, not a range.
    if (Math.abs(x - from) >= 4) zoomTo(timeAt(Math.min(x, from)), timeAt(Math.max(x, from)));
  });

  // --- details --------------------------------------------------------------------------------
  var panel = document.getElementById("event-details");
  function row(table, label, value) {
    var tr = el("tr");
    tr.setAttribute("data-fact", label);
    var td = el("td");
    if (value instanceof Node) td.append(value); else td.textContent = value === "" ? "—" : value;
    tr.append(el("th", "", label), td);
    table.append(tr);
  }
  function show(value) { return value === null || value === undefined ? "—" : JSON.stringify(value); }
  function pick(e) {
    var button = el("button", "ops-link-button");
    button.type = "button";
    button.setAttribute("data-event", e.id);
    button.append(el("span", "ops-outcome-glyph ops-outcome-" + e.outcome, e.glyph),
                  document.createTextNode(e.time + " · " + e.trigger + " · " + e.verdict));
    button.addEventListener("click", function () { select(e); });
    return button;
  }
  function highlight(selected, related) {
    chart.querySelectorAll(".selected, .related").forEach(function (n) { n.classList.remove("selected", "related"); });
    pathLayer.replaceChildren();
    related.forEach(function (e) { if (marks[e.id]) marks[e.id].classList.add("related"); });
    var mark = selected && (marks[selected.id] || pills[selected.id]);
    if (mark) mark.classList.add("selected");
    // One line through the trace's decisions, in time order: its replans one after another.
    var points = related.filter(function (e) { return e.x !== null; }).map(function (e) { return e.x + "," + e.y; });
    if (points.length > 1) pathLayer.append(svg("polyline", {points: points.join(" "), class: "ops-trace-path"}));
  }
  function chainList(e) {
    var list = el("ol", "ops-chain");
    list.setAttribute("data-testid", "chain");
    e.chain.forEach(function (step) {
      var item = el("li", "ops-chain-step" + (step.status ? " ops-outcome-" + step.status : ""));
      var head = el("div", "ops-chain-head");
      head.append(el("strong", "", step.label));
      if (step.time) head.append(document.createTextNode(" " + step.time));
      if (step.delta) head.append(el("span", "ops-muted", " (" + step.delta + ")"));
      item.append(head, el("div", "", step.text));
      list.append(item);
    });
    return list;
  }

  function select(e) {
    var related = data.events.filter(function (o) { return o.trace === e.trace && o.tenant === e.tenant; });
    highlight(e, related);
    panel.hidden = false;
    panel.replaceChildren();
    var heading = el("h2", "", e.trigger + " on " + (e.stage || "?") + " — " + e.verdict);
    heading.setAttribute("data-testid", "event-heading");
    panel.append(heading, chainList(e));
    var facts = el("table", "ops-facts");
    var trace = e.trace;
    if (e.traceUrl) {
      trace = el("a", "", e.trace);
      trace.href = e.traceUrl;
      trace.setAttribute("data-testid", "trace-link");
    }
    row(facts, "Trace", trace);
    row(facts, "Time", e.time);
    row(facts, "Trigger", e.trigger + " (" + e.severity + ")");
    row(facts, "Trigger reason", e.reason);
    row(facts, "Raw trigger", e.raw);
    row(facts, "Decision", e.decision + (e.veto ? " — veto: " + e.veto : ""));
    row(facts, "Reason", e.decisionReason);
    row(facts, "Replan", e.replan + (e.scope ? ", restarting from " + e.scope : ""));
    if (e.isolated) row(facts, "Run", "test mode: decided against a snapshot, not counted by the live breaker");
    panel.append(facts);
    if (related.length > 1) {
      panel.append(el("h3", "", "This trace's decisions in view (" + related.length + ")"));
      var list = el("ol", "ops-related");
      list.setAttribute("data-testid", "related-events");
      related.forEach(function (o) {
        var item = el("li", o.id === e.id ? "current" : "");
        item.append(pick(o));
        list.append(item);
      });
      panel.append(list);
    }
    panel.append(el("h3", "", "Patch (before → after)"));
    if (!e.patch.length) {
      panel.append(el("p", "ops-muted", "No change to the plan."));
      return;
    }
    var diff = el("table", "ops-patch");
    diff.setAttribute("data-testid", "patch-diff");
    var head = el("tr");
    ["op", "path", "before", "after"].forEach(function (h) { head.append(el("th", "", h)); });
    diff.append(head);
    e.patch.forEach(function (p) {
      var tr = el("tr", "ops-patch-" + p.op);
      tr.append(el("td", "", p.op), el("td", "", p.path), el("td", "ops-before", show(p.before)),
                el("td", "ops-after", show(p.after)));
      diff.append(tr);
    });
    panel.append(diff);
  }

  function showCluster(c) {
    var members = c.ids.map(function (id) { return byId[id]; });
    highlight(null, []);
    pills[c.ids[0]].classList.add("selected");
    panel.hidden = false;
    panel.replaceChildren();
    panel.append(el("h2", "", c.ids.length + " more " + c.lane + " decisions, " + c.first + " – " + c.last));
    var zoom = el("button", "button", "Zoom to these");
    zoom.type = "button";
    zoom.setAttribute("data-testid", "cluster-zoom");
    zoom.addEventListener("click", function () { zoomTo(Date.parse(c.from), Date.parse(c.to)); });
    panel.append(zoom);
    var list = el("ol", "ops-related");
    list.setAttribute("data-testid", "cluster-events");
    members.forEach(function (e) {
      var item = el("li");
      item.append(pick(e));
      list.append(item);
    });
    panel.append(list);
  }
})();
