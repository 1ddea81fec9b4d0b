/*
 * cpts_geo atlas, search: communes (région pages) and CPTS by name, accents and case ignored.
 * The results are a listbox: arrow keys move, Enter opens, Escape closes (combobox pattern).
 * A reusable picker (G.search.picker) also serves the composer's "add a commune" box.
 */
(function (G) {
  "use strict";

  /* A combobox over `input` and `list`: find(query) -> items {label, extra, pick}. */
  function picker(input, list, find, status) {
    var items = [];
    var active = -1;

    function close() {
      list.textContent = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function mark(k) {
      var options = list.querySelectorAll("[role=option]");
      Array.prototype.forEach.call(options, function (o, i) {
        o.setAttribute("aria-selected", i === k ? "true" : "false");
      });
      active = k;
      if (k >= 0 && options[k]) {
        input.setAttribute("aria-activedescendant", options[k].id);
        options[k].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(k) {
      var item = items[k];
      close();
      if (item) { item.pick(); }
    }

    function render() {
      var q = input.value;
      items = find(q);
      list.textContent = "";
      active = -1;
      items.forEach(function (item, k) {
        var li = G.el("li", "atlas-result");
        li.id = list.id + "-" + k;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.appendChild(G.el("span", "atlas-result-name", item.label));
        if (item.extra) { li.appendChild(G.el("span", "atlas-result-pop", item.extra)); }
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { choose(k); });
        list.appendChild(li);
      });
      var long = G.fold(q).length >= 2;
      if (!items.length && long) {
        list.appendChild(G.el("li", "atlas-none", "Aucun résultat"));
      }
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      if (status) {
        status.textContent = long ? (items.length ? G.fmtInt(items.length) + " résultat" +
          (items.length > 1 ? "s" : "") : "Aucun résultat") : "";
      }
    }

    input.addEventListener("input", render);
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") {
        if (!items.length) { render(); }
        if (items.length) { mark((active + 1) % items.length); }
        e.preventDefault();
      } else if (e.key === "ArrowUp") {
        if (items.length) { mark(active <= 0 ? items.length - 1 : active - 1); }
        e.preventDefault();
      } else if (e.key === "Enter") {
        if (!items.length) { render(); }
        if (items.length) { choose(active >= 0 ? active : 0); }
        e.preventDefault();
      } else if (e.key === "Escape") {
        close();
      }
    });
    return { close: close, render: render };
  }

  /* Best matches first: names starting with the query, then containing it; by population. */
  function rank(rows, q, key, pop, limit) {
    var first = [];
    var inside = [];
    rows.forEach(function (r) {
      var at = key(r).indexOf(q);
      if (at === 0) { first.push(r); } else if (at > 0) { inside.push(r); }
    });
    var byPop = function (a, b) { return pop(b) - pop(a); };
    return first.sort(byPop).concat(inside.sort(byPop)).slice(0, limit);
  }

  var folded = null;

  function index() {
    if (folded) { return folded; }
    var data = G.data;
    folded = { units: [], cpts: [] };
    if (data.units) {
      data.units.c.forEach(function (code, i) {
        if (data.units.r.charAt(i) !== "1") {
          folded.units.push({ i: i, k: G.fold(data.units.n[i]), c: code });
        }
      });
    }
    var seen = {};
    data.stages.forEach(function (s) {
      data.territoires[s[0]].features.forEach(function (f) {
        var p = f.properties;
        if (!seen[p.i]) { seen[p.i] = 1; folded.cpts.push({ p: p, k: G.fold(p.n) }); }
      });
    });
    return folded;
  }

  /* Communes of the page matching `query` (name, or code when it looks like one). */
  function findUnits(query, limit) {
    var q = G.fold(query);
    if (q.length < 2) { return []; }
    var units = G.data.units;
    var ix = index().units;
    var byCode = ix.filter(function (u) { return u.c.toLowerCase() === q; });
    var found = rank(ix, q, function (u) { return u.k; }, function (u) { return units.p[u.i]; },
      limit || 8);
    return byCode.concat(found.filter(function (u) { return byCode.indexOf(u) < 0; }))
      .map(function (u) { return u.i; });
  }

  function findCpts(query, limit) {
    var q = G.fold(query);
    if (q.length < 2) { return []; }
    return rank(index().cpts, q, function (x) { return x.k; }, function (x) { return x.p.p; },
      limit || 5).map(function (x) { return x.p; });
  }

  function territoryLayer(id) {
    var found = null;
    Object.keys(G.layers).forEach(function (key) {
      if (key.indexOf("stage:") !== 0) { return; }
      G.layers[key][0].layer.eachLayer(function (l) {
        if (l.feature.properties.i === id) { found = l; }
      });
    });
    return found;
  }

  var highlight = null;

  function showUnit(map, i) {
    var data = G.data;
    var units = data.units;
    var g = G.unitGeometry(i);
    if (!g) { return; }
    var layer = L.geoJSON(g);
    var bounds = layer.getBounds();
    map.fitBounds(bounds, { maxZoom: 12, animate: false, padding: [30, 30] });
    highlight.clearLayers();
    highlight.addData({ type: "Feature", properties: {}, geometry: g });
    var claims = units.k[i].map(function (k) {
      var row = data.cpts[k < 0 ? -1 - k : k];
      return row[1];
    });
    var content = G.tip(units.n[i] + " (" + units.c[i] + ")", [
      ["Population", G.fmtInt(units.p[i]) + G.NBSP + "hab."],
      ["CPTS", claims.length ? claims.join("\n") : "aucune : zone blanche"]
    ]);
    content.className += " atlas-search-popup";
    L.popup({ className: "atlas-popup", autoPan: false, maxWidth: 320 })
      .setLatLng(bounds.getCenter()).setContent(content).openOn(map);
  }

  function showCpts(map, p) {
    var layer = territoryLayer(p.i);
    if (layer) {
      map.fitBounds(layer.getBounds(), { maxZoom: 11, animate: false, padding: [30, 30] });
    }
    G.card.open(p.i, layer);
  }

  function setup(map, data) {
    var input = document.getElementById("atlas-search");
    var list = document.getElementById("atlas-search-results");
    if (!input || !list) { return; }
    highlight = L.geoJSON(null, {
      pane: "atlas-highlight", interactive: false,
      style: { color: "#000000", weight: 3.5, opacity: 1, fill: false,
        className: "atlas-highlight" }
    }).addTo(map);
    G.highlight = highlight;
    picker(input, list, function (query) {
      var out = findCpts(query, data.units ? 4 : 8).map(function (p) {
        return { label: p.n, extra: "CPTS · " + G.fmtInt(p.p) + G.NBSP + "hab.",
          pick: function () { showCpts(map, p); } };
      });
      if (data.units) {
        out = out.concat(findUnits(query, 8).map(function (i) {
          return { label: data.units.n[i] + " (" + data.units.c[i] + ")",
            extra: G.fmtInt(data.units.p[i]) + G.NBSP + "hab.",
            pick: function () { showUnit(map, i); } };
        }));
      }
      return out;
    }, document.getElementById("atlas-search-status"));
  }

  G.search = { setup: setup, picker: picker, findUnits: findUnits, findCpts: findCpts,
    territoryLayer: territoryLayer };
}(window.cptsGeo));
