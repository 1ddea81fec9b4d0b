/*
 * cpts_geo atlas, colour modes: territories by stage, ACI tier, population or density,
 * switched from the legend's radio buttons. Palettes and class bounds come from the page data
 * (cpts_geo/atlas/palette.py, where they are checked for colour-blind readers and contrast).
 */
(function (G) {
  "use strict";

  var mode = "stade";

  function classOf(value, breaks) {
    var k = 0;
    while (k < breaks.length && value >= breaks[k]) { k++; }
    return k;
  }

  function classLabels(spec) {
    var b = spec.breaks;
    var unit = G.NBSP + spec.unit;
    var out = [];
    for (var k = 0; k <= b.length; k++) {
      if (k === 0) { out.push("< " + G.fmtInt(b[0]) + unit); }
      else if (k === b.length) { out.push("≥ " + G.fmtInt(b[k - 1]) + unit); }
      else { out.push(G.fmtInt(b[k - 1]) + " – " + G.fmtInt(b[k]) + unit); }
    }
    return out;
  }

  /* Fill colour of a territory (feature properties) in the current mode. */
  function fill(p) {
    var modes = G.data.modes;
    if (mode === "taille") {
      var t = modes.taille[p.t - 1];
      return t ? t[2] : "#8c8c8c";
    }
    if (mode === "population") {
      return modes.population.colours[classOf(p.p, modes.population.breaks)];
    }
    if (mode === "densite") {
      if (p.d === null || p.d === undefined) { return "#8c8c8c"; }
      return modes.densite.colours[classOf(p.d, modes.densite.breaks)];
    }
    var s = G.stageInfo()[p.s];
    return s ? s.colour : "#8c8c8c";
  }

  function features() {
    var out = [];
    G.data.stages.forEach(function (s) {
      out = out.concat(G.data.territoires[s[0]].features);
    });
    return out;
  }

  /* The key of a quantitative mode: one swatch per class with its count of CPTS. */
  function renderKey() {
    var key = document.getElementById("atlas-key");
    if (!key) { return; }
    key.textContent = "";
    var modes = G.data.modes;
    var entries = [];
    if (mode === "taille") {
      entries = modes.taille.map(function (t) {
        return { label: t[1], colour: t[2], test: function (p) { return String(p.t) === t[0]; } };
      });
    } else if (mode === "population" || mode === "densite") {
      var spec = modes[mode];
      var field = mode === "population" ? "p" : "d";
      entries = classLabels(spec).map(function (label, k) {
        return { label: label, colour: spec.colours[k], test: function (p) {
          return p[field] !== null && p[field] !== undefined &&
            classOf(p[field], spec.breaks) === k;
        } };
      });
    }
    var all = features();
    entries.forEach(function (e) {
      var li = G.el("li", "atlas-key-item");
      var sw = G.el("span", "atlas-swatch");
      sw.style.background = e.colour;
      li.appendChild(sw);
      li.appendChild(G.el("span", "atlas-label", e.label));
      var n = all.filter(function (f) { return e.test(f.properties); }).length;
      li.appendChild(G.el("span", "atlas-count", G.fmtInt(n) + " CPTS"));
      key.appendChild(li);
    });
    key.hidden = !entries.length;
    var side = document.getElementById("atlas-side");
    if (side) { side.setAttribute("data-mode", mode); }
  }

  function set(m) {
    mode = m;
    var radio = document.querySelector('input[name="atlas-mode"][value="' + m + '"]');
    if (radio && !radio.checked) { radio.checked = true; }
    G.restyle();
    renderKey();
  }

  function setup() {
    var checked = document.querySelector('input[name="atlas-mode"]:checked');
    mode = checked ? checked.value : (G.data.modes ? G.data.modes["default"] : "stade");
    Array.prototype.forEach.call(document.querySelectorAll('input[name="atlas-mode"]'),
      function (radio) {
        radio.addEventListener("change", function () { if (radio.checked) { set(radio.value); } });
      });
    G.restyle();
    renderKey();
  }

  G.colours = {
    fill: fill, set: set, setup: setup, classOf: classOf,
    mode: function () { return mode; },
    /* Black or white text on a swatch (palette.text_colour, precomputed). */
    text: function (colour) { return (G.data.modes.text || {})[colour] || "#000000"; }
  };
}(window.cptsGeo));
