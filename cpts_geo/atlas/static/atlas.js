/*
 * cpts_geo atlas: layers by stage, legend switches, tooltips, commune search, DROM insets and
 * commune outlines loaded on demand. Depends on Leaflet only. MIT licence (cpts_geo).
 *
 * Every text that comes from the data (CPTS and commune names) is put in the page with
 * textContent, never as HTML.
 */
(function () {
  "use strict";

  var NBSP = "\u00a0";
  var PANES = [
    ["atlas-territoires", 410], ["atlas-zb", 415], ["atlas-conflits", 420],
    ["atlas-communes", 425], ["atlas-contexte", 430], ["atlas-highlight", 435]
  ];
  var Atlas = { layers: {}, maps: [], data: null, map: null, names: {} };

  function fmtInt(n) {
    return String(Math.round(Number(n) || 0)).replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /* Tooltip or popup content: a title, label/value pairs and an optional list, as DOM. */
  function tip(title, pairs, list) {
    var box = el("div", "atlas-tip");
    box.appendChild(el("div", "atlas-tip-title", title));
    var dl = el("dl");
    pairs.forEach(function (p) {
      dl.appendChild(el("dt", null, p[0]));
      dl.appendChild(el("dd", null, p[1]));
    });
    box.appendChild(dl);
    if (list && list.length) {
      var ul = el("ul", "atlas-tip-list");
      list.forEach(function (item) { ul.appendChild(el("li", null, item)); });
      box.appendChild(ul);
    }
    return box;
  }

  function makePanes(map) {
    PANES.forEach(function (p) { map.createPane(p[0]).style.zIndex = String(p[1]); });
  }

  function stageInfo(data) {
    var out = {};
    data.stages.forEach(function (s) { out[s[0]] = { label: s[1], colour: s[2] }; });
    return out;
  }

  function names(ids) {
    return ids.map(function (id) { return Atlas.names[id] || id; }).join("\n");
  }

  function hover(layer, group) {
    layer.on("mouseover", function () {
      layer.setStyle({ weight: 3, color: "#1a1a1a" });
      layer.bringToFront();
    });
    layer.on("mouseout", function () { group.resetStyle(layer); });
  }

  function territoryTip(p, stages, tiers) {
    return tip(p.n, [
      ["Stade", stages[p.s] ? stages[p.s].label : p.s],
      ["Population", fmtInt(p.p) + NBSP + "hab."],
      ["Communes", fmtInt(p.c)],
      ["Taille ACI", tiers[String(p.t)] || String(p.t)]
    ]);
  }

  function gapTip(p) {
    var list = p.l.map(function (c) { return c[0] + " — " + fmtInt(c[1]) + NBSP + "hab."; });
    if (p.u > p.l.length) { list.push("… et " + fmtInt(p.u - p.l.length) + " autres"); }
    return tip("Zone blanche : aucune CPTS", [
      ["Population", fmtInt(p.p) + NBSP + "hab."],
      [p.u > 1 ? "Communes" : "Commune", p.u > 1 ? fmtInt(p.u) : p.l[0][0]]
    ], p.u > 1 ? list : null);
  }

  function unitTip(p, label) {
    return tip(p.n + " (" + p.c + ")", [
      ["Population", fmtInt(p.p) + NBSP + "hab."],
      [label, names(p.k)]
    ]);
  }

  /* Build every layer of a page for one map; `only` filters features (insets by zone). */
  function buildLayers(map, data, only, fillOpacity) {
    var stages = stageInfo(data);
    var built = {};
    var filter = only || function () { return true; };
    var tipOptions = { sticky: true, className: "atlas-tooltip", direction: "top", offset: [0, -8] };

    function add(key, layer, on) {
      built[key] = layer;
      if (on) { layer.addTo(map); }
    }

    data.stages.forEach(function (s) {
      var fc = data.territoires[s[0]];
      var group = L.geoJSON(fc, {
        pane: "atlas-territoires",
        filter: filter,
        style: {
          color: "#ffffff", weight: 1, opacity: 1, fillColor: s[2], fillOpacity: fillOpacity,
          className: "atlas-stage atlas-stage-" + s[0]
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(function () { return territoryTip(f.properties, stages, data.tiers); },
            tipOptions);
          hover(layer, group);
        }
      });
      add("stage:" + s[0], group, true);
    });

    var zb = L.geoJSON(data.zones_blanches, {
      pane: "atlas-zb",
      filter: filter,
      style: {
        color: "#4d4d4d", weight: 1, opacity: 1, dashArray: "4 3",
        fillColor: "url(#atlas-hatch-zb)", fillOpacity: 1, className: "atlas-zb"
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return gapTip(f.properties); }, tipOptions);
        hover(layer, zb);
      }
    });
    add("zones_blanches", zb, true);

    var conflicts = L.geoJSON(data.conflits, {
      pane: "atlas-conflits",
      filter: filter,
      style: {
        color: "#d7191c", weight: 2, opacity: 1, fillColor: "url(#atlas-hatch-conflit)",
        fillOpacity: 1, className: "atlas-conflit"
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () {
          return unitTip(f.properties, "En conflit entre");
        }, tipOptions);
      }
    });
    add("conflits", conflicts, true);

    var shares = L.geoJSON(data.partages, {
      pane: "atlas-conflits",
      filter: filter,
      style: {
        color: "#2166ac", weight: 2, opacity: 1, dashArray: "6 4", fillColor: "#2166ac",
        fillOpacity: 0.08, className: "atlas-partage"
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () {
          return unitTip(f.properties, "Partagée (infra-communal) entre");
        }, tipOptions);
      }
    });
    add("partages", shares, true);

    if (data.hors_registre) {
      /* régions outside the registry's perimeter: grey, not hatched, not counted */
      add("hors_registre", L.geoJSON(data.hors_registre, {
        pane: "atlas-zb",
        filter: filter,
        interactive: false,
        style: { color: "#9a9a9a", weight: 0.8, opacity: 1, fillColor: "#d9d9d9",
          fillOpacity: 0.85, className: "atlas-hors" }
      }), true);
    }

    var context = L.geoJSON(data.contexte, {
      pane: "atlas-contexte",
      filter: filter,
      interactive: false,
      style: { color: "#262626", weight: 1.4, opacity: 0.9, fill: false, className: "atlas-contexte" }
    });
    add("contexte", context, true);
    return built;
  }

  function register(map, built) {
    Object.keys(built).forEach(function (key) {
      (Atlas.layers[key] = Atlas.layers[key] || []).push({ map: map, layer: built[key] });
    });
  }

  function toggle(key, on) {
    (Atlas.layers[key] || []).forEach(function (entry) {
      if (on) { entry.map.addLayer(entry.layer); } else { entry.map.removeLayer(entry.layer); }
    });
  }

  /* Commune outlines: a script beside the page, loaded the first time they are needed. */
  var communes = { layer: null, index: {}, waiting: null };

  function loadCommunes(done) {
    var spec = Atlas.data.communes;
    if (!spec) { return; }
    if (communes.layer) { done(communes.layer); return; }
    if (communes.waiting) { communes.waiting.push(done); return; }
    communes.waiting = [done];
    var script = document.createElement("script");
    script.src = spec.src;
    script.onload = function () {
      var store = window.CptsAtlasCommunes || {};
      communes.layer = L.geoJSON(store[spec.key], {
        pane: "atlas-communes",
        interactive: false,
        style: { color: "#3a3a3a", weight: 0.6, opacity: 0.8, fill: false, className: "atlas-commune" },
        onEachFeature: function (f, layer) { communes.index[f.properties.c] = layer; }
      });
      var queue = communes.waiting;
      communes.waiting = null;
      queue.forEach(function (fn) { fn(communes.layer); });
    };
    script.onerror = function () {
      communes.waiting = null;
      var status = document.getElementById("atlas-communes-status");
      if (status) { status.textContent = "contours introuvables (" + spec.src + ")"; }
    };
    document.head.appendChild(script);
  }

  function setupLegend(map) {
    var inputs = document.querySelectorAll("input[data-atlas-layer]");
    Array.prototype.forEach.call(inputs, function (input) {
      var key = input.getAttribute("data-atlas-layer");
      input.addEventListener("change", function () {
        if (key === "communes") {
          if (input.checked) {
            loadCommunes(function (layer) { if (input.checked) { map.addLayer(layer); } });
          } else if (communes.layer) {
            map.removeLayer(communes.layer);
          }
          return;
        }
        toggle(key, input.checked);
      });
    });
  }

  function fold(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }

  function setupSearch(map, data) {
    var input = document.getElementById("atlas-search");
    var list = document.getElementById("atlas-search-results");
    if (!input || !list || !data.search) { return; }
    var rows = data.search.map(function (r) { return { r: r, k: fold(r[1]) }; });
    var highlight = L.geoJSON(null, {
      pane: "atlas-highlight", interactive: false,
      style: { color: "#000000", weight: 3.5, opacity: 1, fill: false, className: "atlas-highlight" }
    }).addTo(map);
    Atlas.highlight = highlight;

    function find(query) {
      var q = fold(query);
      if (q.length < 2) { return []; }
      var first = [];
      var inside = [];
      rows.forEach(function (x) {
        var at = x.k.indexOf(q);
        if (at === 0) { first.push(x.r); } else if (at > 0) { inside.push(x.r); }
      });
      var byPop = function (a, b) { return b[2] - a[2]; };
      return first.sort(byPop).concat(inside.sort(byPop)).slice(0, 8);
    }

    function select(r) {
      var b = r[3];
      var bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
      map.fitBounds(bounds, { maxZoom: 12, animate: false, padding: [30, 30] });
      var cpts = r[4].length ? names(r[4]) : "aucune : zone blanche";
      var content = tip(r[1] + " (" + r[0] + ")", [
        ["Population", fmtInt(r[2]) + NBSP + "hab."],
        [r[4].length > 1 ? "CPTS" : "CPTS", cpts]
      ]);
      content.className += " atlas-search-popup";
      L.popup({ className: "atlas-popup", autoPan: false, maxWidth: 320 })
        .setLatLng([r[5][1], r[5][0]]).setContent(content).openOn(map);
      loadCommunes(function () {
        highlight.clearLayers();
        var layer = communes.index[r[0]];
        if (layer) { highlight.addData(layer.feature); }
      });
      list.textContent = "";
    }

    function render(found) {
      list.textContent = "";
      found.forEach(function (r) {
        var li = el("li");
        var button = el("button", "atlas-result", r[1] + " (" + r[0] + ")");
        button.type = "button";
        button.appendChild(el("span", "atlas-result-pop", fmtInt(r[2]) + NBSP + "hab."));
        button.addEventListener("click", function () { select(r); });
        li.appendChild(button);
        list.appendChild(li);
      });
      if (!found.length && fold(input.value).length >= 2) {
        list.appendChild(el("li", "atlas-none", "Aucune commune trouvée"));
      }
    }

    input.addEventListener("input", function () { render(find(input.value)); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        var found = find(input.value);
        if (found.length) { select(found[0]); }
        e.preventDefault();
      } else if (e.key === "Escape") {
        list.textContent = "";
      }
    });
  }

  /* National page: one small map per DROM, in the corner of the main map. */
  function setupInsets(map, data, fillOpacity) {
    if (!data.insets || !data.insets.length) { return; }
    var Control = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "atlas-insets");
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    var control = new Control();
    control.addTo(map);
    var box = control.getContainer();
    data.insets.forEach(function (z) {
      var cell = el("div", "atlas-inset");
      cell.setAttribute("data-zone", z.zone);
      cell.title = z.nom + " : cliquer pour y aller";
      var frame = el("div", "atlas-inset-map");
      cell.appendChild(frame);
      cell.appendChild(el("div", "atlas-inset-label", z.nom));
      box.appendChild(cell);
      var inset = L.map(frame, {
        zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
        doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0,
        fadeAnimation: false, zoomAnimation: false, markerZoomAnimation: false
      });
      makePanes(inset);
      inset.fitBounds(z.bounds, { padding: [3, 3], animate: false });
      register(inset, buildLayers(inset, data, function (f) {
        return f.properties.z === z.zone;
      }, fillOpacity));
      Atlas.maps.push(inset);
      cell.addEventListener("click", function () {
        map.fitBounds(z.bounds, { padding: [20, 20] });
      });
    });
  }

  Atlas.init = function (map, data) {
    Atlas.map = map;
    Atlas.data = data;
    Atlas.maps.push(map);
    data.stages.forEach(function (s) {
      (data.territoires[s[0]].features || []).forEach(function (f) {
        Atlas.names[f.properties.i] = f.properties.n;
      });
    });
    var fillOpacity = data.tiles ? 0.55 : 0.8;
    makePanes(map);
    map.attributionControl.addAttribution(
      "Contours : IGN ADMIN EXPRESS (simplifiés) · Population : INSEE · cpts-geo");
    L.control.scale({ imperial: false }).addTo(map);
    var room = data.insets && data.insets.length ? 135 : 10;  // keep the insets off the land
    map.fitBounds(data.bounds, { animate: false, paddingTopLeft: [room, 10],
      paddingBottomRight: [10, 10] });
    register(map, buildLayers(map, data, null, fillOpacity));
    setupInsets(map, data, fillOpacity);
    setupLegend(map);
    setupSearch(map, data);
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        window.__atlasReadyAt = performance.now();
        window.__atlasReady = true;
        document.documentElement.setAttribute("data-atlas-ready", "1");
      });
    });
  };

  /* For tests and scripts: features in a layer of the main map, and their ids. */
  Atlas.count = function (key) {
    var entry = (Atlas.layers[key] || [])[0];
    return entry ? entry.layer.getLayers().length : 0;
  };
  Atlas.ids = function (key) {
    var entry = (Atlas.layers[key] || [])[0];
    return entry ? entry.layer.getLayers().map(function (l) {
      var p = l.feature.properties;
      return p.i || p.c;
    }) : [];
  };
  Atlas.loadCommunes = function (done) { loadCommunes(done || function () {}); };
  Atlas.fmtInt = fmtInt;

  window.CptsAtlas = Atlas;
}());
