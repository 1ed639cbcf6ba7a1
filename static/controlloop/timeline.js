/* Replan timeline: an SVG with one lane per trigger type, events placed by time.
 * Colour = trigger type, radius = severity, ✓/✕ = approved/denied. Hover shows
 * a tooltip (<title>), a click opens the event's details with its patch diff.
 * All text goes in through textContent. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var RADIUS = {low: 5, medium: 7, high: 9, critical: 11};
  var WIDTH = 1000, LANE = 34, LEFT = 130, RIGHT = 20, TOP = 10;

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

  var events = data.events;
  var used = data.triggerTypes.filter(function (t) { return events.some(function (e) { return e.trigger === t; }); });
  var legend = document.getElementById("timeline-legend");
  used.forEach(function (t) {
    var chip = el("span", "ops-legend-item");
    var dot = el("span", "ops-legend-dot");
    dot.style.background = colour(t);
    chip.append(dot, document.createTextNode(t));
    legend.append(chip);
  });
  if (!events.length) {
    document.getElementById("timeline-empty").hidden = false;
    return;
  }

  var times = events.map(function (e) { return Date.parse(e.time); });
  // Pad the range so events never sit on the edges and close events still spread out.
  var first = Math.min.apply(null, times), last = Math.max.apply(null, times);
  var pad = Math.max((last - first) * 0.05, 30000);
  var min = first - pad, max = last + pad, span = max - min;
  function x(t) { return LEFT + (WIDTH - LEFT - RIGHT) * (t - min) / span; }
  var height = TOP * 2 + LANE * used.length + 24;
  var chart = svg("svg", {viewBox: "0 0 " + WIDTH + " " + height, width: "100%", role: "img",
                          "aria-label": "Replan decisions over time"});
  used.forEach(function (t, lane) {
    var y = TOP + LANE * lane + LANE / 2;
    chart.append(svg("line", {x1: LEFT, x2: WIDTH - RIGHT, y1: y, y2: y, class: "ops-lane"}));
    var label = svg("text", {x: LEFT - 8, y: y + 4, "text-anchor": "end", class: "ops-lane-label"});
    label.textContent = t;
    chart.append(label);
  });
  var axisY = TOP + LANE * used.length + 16;
  [[min, "start"], [max, "end"]].forEach(function (pair) {
    var tick = svg("text", {x: pair[1] === "start" ? LEFT : WIDTH - RIGHT, y: axisY, "text-anchor": pair[1],
                            class: "ops-axis"});
    tick.textContent = new Date(pair[0]).toISOString().replace("T", " ").slice(0, 19) + " UTC";
    chart.append(tick);
  });
  events.forEach(function (e, i) {
    var cx = x(times[i]), cy = TOP + LANE * used.indexOf(e.trigger) + LANE / 2;
    var group = svg("g", {class: "ops-event" + (e.approved ? " approved" : " denied"), tabindex: "0",
                          "data-event": e.id, "data-testid": "timeline-event"});
    var title = svg("title");
    title.textContent = e.trigger + " (" + e.severity + ") at " + e.time + " — " + e.decision +
      (e.approved ? ", approved" : ", denied: " + e.veto) + "\n" + e.reason;
    group.append(title, svg("circle", {cx: cx, cy: cy, r: RADIUS[e.severity] || 7, fill: colour(e.trigger),
                                        class: "ops-severity-" + e.severity}));
    var mark = svg("text", {x: cx, y: cy + 4, "text-anchor": "middle", class: "ops-mark"});
    mark.textContent = e.approved ? "✓" : "✕";
    group.append(mark);
    group.addEventListener("click", function () { select(e, group); });
    group.addEventListener("keydown", function (ev) { if (ev.key === "Enter") select(e, group); });
    chart.append(group);
  });
  document.getElementById("timeline").append(chart);

  function row(table, label, value) {
    var tr = el("tr");
    tr.append(el("th", "", label), el("td", "", value));
    table.append(tr);
  }
  function show(value) { return value === null || value === undefined ? "—" : JSON.stringify(value); }

  function select(e, group) {
    chart.querySelectorAll(".ops-event.selected").forEach(function (g) { g.classList.remove("selected"); });
    group.classList.add("selected");
    var panel = document.getElementById("event-details");
    panel.hidden = false;
    panel.replaceChildren();
    panel.append(el("h2", "", e.trigger + " on " + (e.stage || "?") + " — " + (e.approved ? "approved" : "denied")));
    var facts = el("table", "ops-facts");
    row(facts, "Trace", e.trace);
    row(facts, "Time", e.time);
    row(facts, "Trigger", e.trigger + " (" + e.severity + ")");
    row(facts, "Trigger reason", e.reason);
    row(facts, "Raw trigger", e.raw);
    row(facts, "Decision", e.decision + (e.veto ? " — veto: " + e.veto : ""));
    row(facts, "Reason", e.decisionReason);
    row(facts, "Attempt", e.attempt + " of " + e.max + (e.scope ? ", restart from " + e.scope : ""));
    panel.append(facts);
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
})();
