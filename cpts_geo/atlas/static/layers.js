/*
 * cpts_geo atlas, layers: territories by stage, zones blanches, conflicts, shared communes,
 * outlines, commune outlines (from the page's unit table), DROM insets and the legend switches.
 *
 * Adding a layer: put its FeatureCollection in the page data under its key (pages.py, encoded
 * with codec.encode_geometries), add a legend item with data-atlas-layer="<key>" (pages.py,
 * _legend), and add one entry to OVERLAYS below: pane, style and tooltip. Nothing else changes:
 * the switch, insets and tests' cptsGeo.count(key) / ids(key) work from the key.
 */
(function (G) {
  "use strict";

  var PANES = [
    ["atlas-territoires", 410], ["atlas-zb", 415], ["atlas-conflits", 420],
    ["atlas-communes", 425], ["atlas-contexte", 430], ["atlas-composer", 432],
    ["atlas-highlight", 435]
  ];
  var TIP = { sticky: true, className: "atlas-tooltip", direction: "top", offset: [0, -8] };

  G.makePanes = function (map) {
    PANES.forEach(function (p) { map.createPane(p[0]).style.zIndex = String(p[1]); });
  };

  function names(ids) {
    return ids.map(function (id) { return G.names[id] || id; }).join("\n");
  }

  function hover(layer, group) {
    layer.on("mouseover", function () {
      layer.setStyle({ weight: 3, color: "#1a1a1a" });
      layer.bringToFront();
    });
    layer.on("mouseout", function () { group.resetStyle(layer); });
  }

  function territoryTip(p) {
    var stages = G.stageInfo();
    return G.tip(p.n, [
      ["Stade", stages[p.s] ? stages[p.s].label : p.s],
      ["Population", G.fmtInt(p.p) + G.NBSP + "hab."],
      ["Communes", G.fmtInt(p.c)],
      ["Taille ACI", G.data.tiers[String(p.t)] || String(p.t)]
    ]);
  }

  function gapTip(p) {
    var list = p.l.map(function (c) { return c[0] + " — " + G.fmtInt(c[1]) + G.NBSP + "hab."; });
    if (p.u > p.l.length) { list.push("… et " + G.fmtInt(p.u - p.l.length) + " autres"); }
    return G.tip("Zone blanche : aucune CPTS", [
      ["Population", G.fmtInt(p.p) + G.NBSP + "hab."],
      [p.u > 1 ? "Communes" : "Commune", p.u > 1 ? G.fmtInt(p.u) : p.l[0][0]]
    ], p.u > 1 ? list : null);
  }

  function unitTip(label) {
    return function (p) {
      return G.tip(p.n + " (" + p.c + ")", [
        ["Population", G.fmtInt(p.p) + G.NBSP + "hab."], [label, names(p.k)]]);
    };
  }

  /* A unit whose CPTS changed since an older registry (atlas --compare OLD): its CPTS before
     and after are named in the data (a CPTS gone has no name elsewhere in the page). */
  function changeTip(label) {
    return function (p) {
      return G.tip(p.n + " (" + p.c + ")", [
        ["Changement", label],
        ["Population", G.fmtInt(p.p) + G.NBSP + "hab."],
        ["Avant", p.a.length ? p.a.join("\n") : "aucune CPTS"],
        ["Après", p.b.length ? p.b.join("\n") : "aucune CPTS"]]);
    };
  }

  /* The overlays drawn above the territories: key in the data -> how to draw it. */
  var OVERLAYS = [
    { key: "zones_blanches", pane: "atlas-zb", hover: true, tooltip: gapTip,
      style: { color: "#4d4d4d", weight: 1, opacity: 1, dashArray: "4 3",
        fillColor: "url(#atlas-hatch-zb)", fillOpacity: 1, className: "atlas-zb" } },
    { key: "conflits", pane: "atlas-conflits", tooltip: unitTip("En conflit entre"),
      style: { color: "#d7191c", weight: 2, opacity: 1, fillColor: "url(#atlas-hatch-conflit)",
        fillOpacity: 1, className: "atlas-conflit" } },
    { key: "partages", pane: "atlas-conflits",
      tooltip: unitTip("Partagée (infra-communal) entre"),
      style: { color: "#2166ac", weight: 2, opacity: 1, dashArray: "6 4", fillColor: "#2166ac",
        fillOpacity: 0.08, className: "atlas-partage" } },
    /* régions outside the registry's perimeter (national page): grey, not hatched, not
       counted */
    { key: "hors_registre", pane: "atlas-zb", interactive: false,
      style: { color: "#9a9a9a", weight: 0.8, opacity: 1, fillColor: "#d9d9d9",
        fillOpacity: 0.85, className: "atlas-hors" } },
    { key: "contexte", pane: "atlas-contexte", interactive: false,
      style: { color: "#262626", weight: 1.4, opacity: 0.9, fill: false,
        className: "atlas-contexte" } },
    /* changes since an older registry (atlas --compare OLD; cpts_geo/atlas/changes.py):
       Okabe-Ito colours, each kind also told by its fill and dash */
    { key: "changements_gagnees", pane: "atlas-conflits", hover: true,
      tooltip: changeTip("couverte, ne l'était pas"),
      style: { color: "#0072b2", weight: 2, opacity: 1, fillColor: "#0072b2",
        fillOpacity: 0.4, className: "atlas-change atlas-change-gagnee" } },
    { key: "changements_perdues", pane: "atlas-conflits", hover: true,
      tooltip: changeTip("n'est plus couverte"),
      style: { color: "#d55e00", weight: 2, opacity: 1, dashArray: "6 3",
        fillColor: "url(#atlas-hatch-perdue)", fillOpacity: 1,
        className: "atlas-change atlas-change-perdue" } },
    { key: "changements_changees", pane: "atlas-conflits", hover: true,
      tooltip: changeTip("passée à une autre CPTS"),
      style: { color: "#cc79a7", weight: 2.5, opacity: 1, dashArray: "2 4",
        fillColor: "#cc79a7", fillOpacity: 0.25,
        className: "atlas-change atlas-change-changee" } }
  ];
  G.OVERLAYS = OVERLAYS;

  /* Every layer of a page for one map; `only` filters features (insets by zone). */
  G.buildLayers = function (map, data, only, fillOpacity) {
    var built = {};
    var filter = only || function () { return true; };
    data.stages.forEach(function (s) {
      var group = L.geoJSON(data.territoires[s[0]], {
        pane: "atlas-territoires",
        filter: filter,
        style: function (f) {
          return { color: "#ffffff", weight: 1, opacity: 1,
            fillColor: G.colours.fill(f.properties), fillOpacity: fillOpacity,
            className: "atlas-stage atlas-stage-" + s[0] };
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(function () { return territoryTip(f.properties); }, TIP);
          hover(layer, group);
          layer.on("click", function () {
            if (G.composer && G.composer.active) { return; }
            G.card.open(f.properties.i, layer);
          });
        }
      });
      built["stage:" + s[0]] = group;
      group.addTo(map);
    });
    OVERLAYS.forEach(function (o) {
      if (!data[o.key]) { return; }
      var group = L.geoJSON(data[o.key], {
        pane: o.pane, filter: filter, interactive: o.interactive !== false, style: o.style,
        onEachFeature: o.tooltip ? function (f, layer) {
          layer.bindTooltip(function () { return o.tooltip(f.properties); }, TIP);
          if (o.hover) { hover(layer, group); }
        } : null
      });
      built[o.key] = group;
      group.addTo(map);
    });
    return built;
  };

  /* Re-colour every territory (after a change of colour mode). */
  G.restyle = function () {
    G.data.stages.forEach(function (s) {
      (G.layers["stage:" + s[0]] || []).forEach(function (entry) {
        entry.layer.setStyle(function (f) { return { fillColor: G.colours.fill(f.properties) }; });
      });
    });
  };

  /* Commune outlines, from the page's unit table (built the first time they are needed). */
  var communes = { layer: null, index: {} };
  G.communes = communes;

  G.unitGeometry = function (i) {
    var u = G.data.geomDecoded || (G.data.geomDecoded = {});
    if (!(i in u)) { u[i] = G.codec.geometry(G.data.geom[i], G.data.decimals); }
    return u[i];
  };

  G.loadCommunes = function (done) {
    var data = G.data;
    if (!data.units) {
      var status = document.getElementById("atlas-communes-status");
      if (status) { status.textContent = "contours non disponibles sur cette page"; }
      return;
    }
    if (!communes.layer) {
      var features = [];
      data.units.c.forEach(function (code, i) {
        var g = G.unitGeometry(i);
        if (g && data.units.r.charAt(i) !== "1") {
          features.push({ type: "Feature", properties: { c: code, u: i }, geometry: g });
        }
      });
      communes.layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
        pane: "atlas-communes",
        interactive: false,
        style: { color: "#3a3a3a", weight: 0.6, opacity: 0.8, fill: false,
          className: "atlas-commune" },
        onEachFeature: function (f, layer) { communes.index[f.properties.c] = layer; }
      });
    }
    if (done) { done(communes.layer); }
  };

  G.setupLegend = function (map) {
    var inputs = document.querySelectorAll("input[data-atlas-layer]");
    Array.prototype.forEach.call(inputs, function (input) {
      var key = input.getAttribute("data-atlas-layer");
      input.addEventListener("change", function () {
        if (key === "communes") {
          if (input.checked) {
            G.loadCommunes(function (layer) { map.addLayer(layer); });
          } else if (communes.layer) {
            map.removeLayer(communes.layer);
          }
          return;
        }
        G.toggle(key, input.checked);
      });
    });
  };

  /* National page: one small map per DROM, in the corner of the main map. */
  G.setupInsets = function (map, data, fillOpacity) {
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
      var cell = G.el("div", "atlas-inset");
      cell.tabIndex = 0;
      cell.setAttribute("role", "button");
      cell.setAttribute("data-zone", z.zone);
      cell.title = z.nom + " : cliquer pour y aller";
      cell.setAttribute("aria-label", "Centrer la carte sur " + z.nom);
      var frame = G.el("div", "atlas-inset-map");
      cell.appendChild(frame);
      cell.appendChild(G.el("div", "atlas-inset-label", z.nom));
      box.appendChild(cell);
      var inset = L.map(frame, {
        zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
        doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0,
        fadeAnimation: false, zoomAnimation: false, markerZoomAnimation: false
      });
      G.makePanes(inset);
      inset.fitBounds(z.bounds, { padding: [3, 3], animate: false });
      G.register(inset, G.buildLayers(inset, data, function (f) {
        return f.properties.z === z.zone;
      }, fillOpacity));
      G.maps.push(inset);
      cell.addEventListener("click", function () {
        map.fitBounds(z.bounds, { padding: [20, 20] });
      });
      cell.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); cell.click(); }
      });
    });
  };
}(window.cptsGeo));
