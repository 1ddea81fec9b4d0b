/*
 * cpts_geo atlas, core: the window.cptsGeo namespace, DOM and number helpers, page start-up.
 * The other modules (codec.js, colours.js, layers.js, search.js, card.js, composer.js) add to
 * the namespace; all are plain files inlined into each page after Leaflet. MIT licence.
 *
 * Every text that comes from the data (CPTS and commune names) is put in the page with
 * textContent, never as HTML.
 */
(function () {
  "use strict";

  var NBSP = "\u00a0";
  var NNBSP = "\u202f";
  var G = window.cptsGeo = window.cptsGeo || {};
  G.layers = {};      // layer key -> [{map, layer}]
  G.maps = [];
  G.data = null;
  G.map = null;
  G.names = {};       // cpts_id -> name
  G.NBSP = NBSP;

  G.fmtInt = function (n) {
    return String(Math.round(Number(n) || 0)).replace(/\B(?=(\d{3})+(?!\d))/g, NNBSP);
  };
  G.fmtDec = function (n) {
    var parts = (Math.round(Number(n) * 10) / 10).toFixed(1).split(".");
    return G.fmtInt(parts[0]) + "," + parts[1];
  };

  G.el = function (tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  };

  /* Lower case, accents and punctuation dropped: "Èze" and "eze" match. */
  G.fold = function (text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  };

  /* Tooltip or popup content: a title, label/value pairs and an optional list, as DOM. */
  G.tip = function (title, pairs, list) {
    var box = G.el("div", "atlas-tip");
    box.appendChild(G.el("div", "atlas-tip-title", title));
    var dl = G.el("dl");
    pairs.forEach(function (p) {
      dl.appendChild(G.el("dt", null, p[0]));
      dl.appendChild(G.el("dd", null, p[1]));
    });
    box.appendChild(dl);
    if (list && list.length) {
      var ul = G.el("ul", "atlas-tip-list");
      list.forEach(function (item) { ul.appendChild(G.el("li", null, item)); });
      box.appendChild(ul);
    }
    return box;
  };

  G.stageInfo = function () {
    var out = {};
    G.data.stages.forEach(function (s) { out[s[0]] = { label: s[1], colour: s[2] }; });
    return out;
  };

  /* ACI size tier of a population served: cpts_geo.registry.stages.tier, exactly. */
  G.tier = function (population) {
    if (population < 40000) { return 1; }
    if (population < 80000) { return 2; }
    if (population <= 175000) { return 3; }
    return 4;
  };
  G.ceiling = function (population) { return G.data.ceilings[String(G.tier(population))]; };

  /* The CPTS table of the page: cpts_id -> row (see AtlasContext.cpts_rows). */
  G.cptsById = {};

  G.register = function (map, built) {
    Object.keys(built).forEach(function (key) {
      (G.layers[key] = G.layers[key] || []).push({ map: map, layer: built[key] });
    });
  };

  G.toggle = function (key, on) {
    (G.layers[key] || []).forEach(function (entry) {
      var layer = entry.layer;
      if (on && layer.atlasPending) {  /* an overlay drawn the first time it is switched on */
        delete layer.atlasPending;
        G.addFeatures(layer, G.data[layer.atlasKey].features, layer.atlasOnly);
      }
      if (on) { entry.map.addLayer(layer); } else { entry.map.removeLayer(layer); }
    });
  };

  /* Work left for after the first frame (DROM insets): run in order, then the page is
   * ready (window.__atlasReady). */
  function afterFirstFrame(steps) {
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        window.__atlasFirstRenderAt = performance.now();
        setTimeout(function () {
          steps.forEach(function (step) { step(); });
          requestAnimationFrame(function () {
            requestAnimationFrame(function () {
              window.__atlasReadyAt = performance.now();
              window.__atlasReady = true;
              document.documentElement.setAttribute("data-atlas-ready", "1");
            });
          });
        }, 0);
      });
    });
  }

  /* The accessible tables of the page (HTML made and escaped in Python, pages._data_tables,
   * carried as the text of script#atlas-tables-html): parsed once the map is drawn, or as soon
   * as their box is opened. */
  G.insertTables = function () {
    var box = document.getElementById("atlas-tables");
    var source = document.getElementById("atlas-tables-html");
    if (!box || !source) { return; }
    box.insertAdjacentHTML("beforeend", source.textContent);
    source.parentNode.removeChild(source);
  };

  G.init = function (map, data) {
    G.map = map;
    G.data = data;
    G.maps.push(map);
    var decimals = data.decimals;
    data.stages.forEach(function (s) {
      G.codec.lazy(data.territoires[s[0]], decimals);
      data.territoires[s[0]].features.forEach(function (f) {
        G.names[f.properties.i] = f.properties.n;
      });
    });
    G.OVERLAYS.forEach(function (o) {  /* every overlay of layers.js the page has */
      if (data[o.key]) { G.codec.lazy(data[o.key], decimals); }
    });
    (data.cpts || []).forEach(function (r, i) { G.cptsById[r[0]] = r; r.index = i; });
    var fillOpacity = data.tiles ? 0.55 : 0.8;
    G.fillOpacity = fillOpacity;
    G.makePanes(map);
    map.attributionControl.addAttribution(
      "Contours : IGN ADMIN EXPRESS (simplifiés) · Population : INSEE · cpts-geo");
    L.control.scale({ imperial: false }).addTo(map);
    var room = data.insets && data.insets.length ? 135 : 10;  // keep the insets off the land
    map.fitBounds(data.bounds, { animate: false, paddingTopLeft: [room, 10],
      paddingBottomRight: [10, 10] });
    G.colours.setup();  // the mode first: layers are drawn in its colours
    G.register(map, G.buildLayers(map, data, null, fillOpacity));
    G.setupLegend(map);
    G.search.setup(map, data);
    G.card.setup();
    if (data.units) { G.composer.setup(map, data); }
    var tables = document.getElementById("atlas-tables");
    if (tables) { tables.addEventListener("toggle", G.insertTables); }
    afterFirstFrame([function () { G.setupInsets(map, data, fillOpacity); }, G.insertTables]);
  };

  /* For tests and scripts: features in a layer of the main map, and their ids. */
  G.count = function (key) {
    var entry = (G.layers[key] || [])[0];
    return entry ? entry.layer.getLayers().length : 0;
  };
  G.ids = function (key) {
    var entry = (G.layers[key] || [])[0];
    return entry ? entry.layer.getLayers().map(function (l) {
      var p = l.feature.properties;
      return p.i || p.c;
    }) : [];
  };

  window.CptsAtlas = G;  // the name of earlier versions
}());
