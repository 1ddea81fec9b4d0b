/*
 * cpts_geo atlas, layers: territories by stage, zones blanches, conflicts, shared communes,
 * outlines, commune outlines (from the page's unit table), DROM insets and the legend switches.
 *
 * Adding a layer: put its FeatureCollection in the page data under its key (pages.py, encoded
 * with codec.encode_geometries), add a legend item with data-atlas-layer="<key>" (pages.py,
 * _legend), and add one entry to OVERLAYS below: pane, style and tooltip (`off: true`: off by
 * default, drawn the first time it is switched on; `restyle: true`: style is a function of the
 * feature that depends on the colour mode). Nothing else changes: the switch, insets and
 * tests' cptsGeo.count(key) / ids(key) work from the key.
 */
(function (G) {
  "use strict";

  var PANES = [
    ["atlas-territoires", 410], ["atlas-zb", 415], ["atlas-conflits", 420],
    ["atlas-propositions", 422], ["atlas-communes", 425], ["atlas-contexte", 430],
    ["atlas-composer", 432],
    ["atlas-highlight", 435]
  ];
  var TIP = { sticky: true, className: "atlas-tooltip", direction: "top", offset: [0, -8] };

  G.makePanes = function (map) {
    PANES.forEach(function (p) { map.createPane(p[0]).style.zIndex = String(p[1]); });
  };

  function names(ids) {
    return ids.map(function (id) { return G.names[id] || id; }).join("\n");
  }

  /* One tooltip per map, shared by every layer: it follows the pointer (sticky). Layers get
   * their events from their group (no listener per polygon: the national page has a thousand). */
  function tipOf(map) {
    if (!map.atlasTip) { map.atlasTip = L.tooltip(TIP); }
    return map.atlasTip;
  }

  G.interact = function (map, group, tooltip, hover) {
    if (!tooltip && !hover) { return; }
    function open(e) {  /* on hover, and on a tap (touch screens have no hover) */
      var tip = tipOf(map);
      tip.setContent(tooltip(e.layer.feature.properties, e.layer));
      map.openTooltip(tip, e.latlng);
    }
    function close() { if (map.atlasTip) { map.closeTooltip(map.atlasTip); } }
    group.on("mouseover", function (e) {
      if (hover) {
        e.layer.setStyle({ weight: 3, color: "#1a1a1a" });
        e.layer.bringToFront();
      }
      if (tooltip) { open(e); }
    });
    group.on("mouseout", function (e) {
      if (hover) { group.resetStyle(e.layer); }
      if (tooltip) { close(); }
    });
    if (!tooltip) { return; }
    group.on("mousemove", function (e) {
      if (map.atlasTip) { map.atlasTip.setLatLng(e.latlng); }
    });
    group.on("click", open);
    group.on("remove", close);  /* switched off under the pointer */
  };

  /* Add the features of a page collection to a GeoJSON group, polygons built straight from
   * the encoded geometry (see codec.latLngs; a feature given as plain GeoJSON goes through
   * Leaflet's GeoJSON reader); `only` filters them (insets by zone). */
  G.addFeatures = function (group, features, only) {
    var decimals = G.data.decimals;
    var opts = group.options;
    for (var k = 0; k < features.length; k++) {
      var f = features[k];
      if (only && !only(f)) { continue; }
      if (!f.g && !f.geometry) { continue; }
      var layer = f.g ? new L.Polygon(G.codec.latLngs(f.g, decimals), opts) :
        L.GeoJSON.geometryToLayer(f, opts);
      layer.feature = f;
      layer.defaultOptions = layer.options;
      group.resetStyle(layer);
      group.addLayer(layer);
    }
    return group;
  };

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

  /* Proposals (pages.py, proposal_layers.py; off by default). A unit is filled with a pattern:
   * the current fill colour of its proposed CPTS (colours.fill of that CPTS's properties, `f`)
   * under white stripes, one pattern per colour and kind, made when first needed; restyled when
   * the colour mode changes (`restyle`). The stripes tell a proposal from a fact without
   * relying on colour. */
  var SVGNS = "http://www.w3.org/2000/svg";
  var HATCH_ANGLE = { proposition: 45, conciliation: -45 };

  G.hatch = function (colour, kind) {
    var id = "atlas-hatch-" + kind + "-" + String(colour).replace(/[^0-9A-Za-z]/g, "");
    if (!document.getElementById(id)) {
      var defs = document.querySelector("svg.atlas-defs defs");
      if (!defs) {
        var svg = document.createElementNS(SVGNS, "svg");
        svg.setAttribute("class", "atlas-defs");
        svg.setAttribute("width", "0");
        svg.setAttribute("height", "0");
        svg.style.position = "absolute";
        defs = document.createElementNS(SVGNS, "defs");
        svg.appendChild(defs);
        document.body.appendChild(svg);
      }
      var pattern = document.createElementNS(SVGNS, "pattern");
      pattern.setAttribute("id", id);
      pattern.setAttribute("patternUnits", "userSpaceOnUse");
      pattern.setAttribute("width", "8");
      pattern.setAttribute("height", "8");
      pattern.setAttribute("patternTransform", "rotate(" + HATCH_ANGLE[kind] + ")");
      pattern.setAttribute("data-colour", colour);
      var ground = document.createElementNS(SVGNS, "rect");
      ground.setAttribute("width", "8");
      ground.setAttribute("height", "8");
      ground.setAttribute("fill", colour);
      var stripe = document.createElementNS(SVGNS, "rect");
      stripe.setAttribute("width", kind === "conciliation" ? "3" : "2.5");
      stripe.setAttribute("height", "8");
      stripe.setAttribute("fill", "#ffffff");
      stripe.setAttribute("fill-opacity", "0.9");
      pattern.appendChild(ground);
      pattern.appendChild(stripe);
      defs.appendChild(pattern);
    }
    return "url(#" + id + ")";
  };

  /* What the proposal layers share (proposal_layers.py): CPTS by id, zones blanches by id. */
  function proposedCpts(id) { return (G.data.propositions_cpts || {})[id] || { n: id }; }

  /* Fill colour of the CPTS a proposal names, in the current mode (grey when unknown). */
  G.proposedColour = function (p) {
    var c = proposedCpts(p.k);
    return c.f ? G.colours.fill(c.f) : "#8c8c8c";
  };

  function euros(n) { return G.fmtInt(n) + G.NBSP + "€"; }
  function signedEuros(n) {
    if (!n) { return "aucun (0" + G.NBSP + "€)"; }
    return (n > 0 ? "+" : "−") + euros(Math.abs(n)) + " par an";
  }
  function arrow(a, b, unit) {
    return a === b ? G.fmtInt(a) + unit + " (inchangée)" :
      G.fmtInt(a) + unit + " → " + G.fmtInt(b) + unit;
  }
  function yesNo(v) { return v ? "oui" : "non"; }

  function propositionTip(p) {
    var pairs = [];
    if (p.u === 1) {
      pairs.push(["Commune", p.l[0][0] + " (" + p.l[0][1] + ") — " + G.fmtInt(p.l[0][2]) +
        G.NBSP + "hab."]);
    } else {
      pairs.push(["Communes", G.fmtInt(p.u) + " (" + G.fmtInt(p.p) + G.NBSP + "hab.)"]);
    }
    var zone = (G.data.propositions_zb || {})[p.zb] || { p: 0, u: 0, o: [] };
    var cpts = proposedCpts(p.k);
    pairs.push(["Zone blanche", p.zb + " — " + G.fmtInt(zone.p) + G.NBSP + "hab., " +
      G.fmtInt(zone.u) + " commune" + (zone.u > 1 ? "s" : "")]);
    pairs.push(["CPTS proposée", cpts.n]);
    var e = cpts.e;
    if (e) {
      pairs.push(["Population de la CPTS", arrow(e.pa, e.pb, G.NBSP + "hab.")]);
      pairs.push(["Taille ACI", e.ta === e.tb ? "taille " + e.ta + " (inchangée)" :
        "taille " + e.ta + " → taille " + e.tb]);
      pairs.push(["Plafond ACI", e.ca === e.cb ? euros(e.ca) + " (inchangé)" :
        euros(e.ca) + " → " + euros(e.cb)]);
      pairs.push(["Effet sur le financement", signedEuros(e.x)]);
      pairs.push(["D'un seul tenant", e.sa === e.sb ? yesNo(e.sb) :
        yesNo(e.sa) + " → " + yesNo(e.sb)]);
      pairs.push(["Communes ajoutées à la CPTS", G.fmtInt(e.n) + (e.m ? ", retirées : " +
        G.fmtInt(e.m) : "") + " (toute la proposition)"]);
    }
    var list = [];
    if (p.u > 1) {
      p.l.forEach(function (c) { list.push(c[0] + " — " + G.fmtInt(c[2]) + G.NBSP + "hab."); });
      if (p.u > p.l.length) { list.push("… et " + G.fmtInt(p.u - p.l.length) + " autres"); }
    }
    if (zone.o.length) {
      list.push("Si une seule CPTS prenait toute la zone blanche :");
      zone.o.forEach(function (c) {
        list.push((c[0] === p.k ? "▸ " : "") + c[1] + " : taille " + c[2] +
          (c[3] !== c[2] ? " → " + c[3] : "") + ", " + signedEuros(c[4]) +
          (c[5] ? "" : ", pas d'un seul tenant") + (c[6] ? "" : " (écartée par les options)"));
      });
    }
    var box = G.tip("Proposition de rattachement (à discuter)", pairs, list);
    box.className += " atlas-tip-proposition";
    return box;
  }

  function optionText(keeper, other, o) {
    return "Si " + keeper + " la garde : " + other + " " +
      arrow(o[0], o[1], G.NBSP + "hab.") + ", taille " + o[2] +
      (o[3] !== o[2] ? " → " + o[3] : "") + ", plafond " +
      (o[4] === o[5] ? euros(o[4]) + " (inchangé)" : euros(o[4]) + " → " + euros(o[5]) +
        " (" + signedEuros(o[5] - o[4]) + ")") + (o[6] ? "" : ", plus d'un seul tenant");
  }

  function conciliationTip(p) {
    var pairs = [
      ["Population", G.fmtInt(p.p) + G.NBSP + "hab."],
      ["Revendiquée par", p.cl.map(function (c) { return c[1]; }).join("\n")],
      ["Résolution proposée", "rattachée à " + proposedCpts(p.k).n + (p.m ?
        " (plus longue frontière commune : " + G.fmtDec(p.m / 1000) + G.NBSP + "km)" : "")]
    ];
    if (p.kp.length) { pairs.push(["Gardent leur part (partage)", p.kp.join("\n")]); }
    if (p.rl.length) { pairs.push(["La perdraient", p.rl.join("\n")]); }
    var list = [];
    p.cc.forEach(function (c) {
      list.push("Conciliation " + c.i + " (" + G.fmtInt(c.u) + " commune" +
        (c.u > 1 ? "s" : "") + ", " + G.fmtInt(c.p) + G.NBSP + "hab.) : " + c.a[1] + " / " +
        c.b[1]);
      list.push(optionText(c.a[1], c.b[1], c.oa));
      list.push(optionText(c.b[1], c.a[1], c.ob));
    });
    var box = G.tip("Territoire en cours de conciliation : " + p.n + " (" + p.c + ")", pairs,
      list);
    box.className += " atlas-tip-conciliation";
    return box;
  }

  function proposalStyle(kind, outline, dash, weight) {
    return function (f) {
      return { color: outline, weight: weight, opacity: 1, dashArray: dash,
        fillColor: G.hatch(G.proposedColour(f.properties), kind),
        fillOpacity: G.fillOpacity || 0.8, className: "atlas-" + kind };
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
        className: "atlas-change atlas-change-changee" } },
    { key: "propositions", pane: "atlas-propositions", off: true, restyle: true, hover: true,
      tooltip: propositionTip, style: proposalStyle("proposition", "#1a1a1a", "3 2", 1.2) },
    { key: "conciliations", pane: "atlas-propositions", off: true, restyle: true, hover: true,
      tooltip: conciliationTip, style: proposalStyle("conciliation", "#d7191c", "5 3", 2.5) }
  ];
  G.OVERLAYS = OVERLAYS;

  /* Every layer of a page for one map; `only` filters features (insets by zone). Overlays
   * marked `off` are drawn the first time they are switched on (G.toggle). */
  G.buildLayers = function (map, data, only, fillOpacity) {
    var built = {};
    data.stages.forEach(function (s) {
      var group = L.geoJSON(null, {
        pane: "atlas-territoires",
        style: function (f) {
          return { color: "#ffffff", weight: 1, opacity: 1,
            fillColor: G.colours.fill(f.properties), fillOpacity: fillOpacity,
            className: "atlas-stage atlas-stage-" + s[0] };
        }
      });
      G.interact(map, group, territoryTip, true);
      group.on("click", function (e) {
        if (G.composer && G.composer.active) { return; }
        G.card.open(e.layer.feature.properties.i, e.layer);
      });
      G.addFeatures(group, data.territoires[s[0]].features, only);
      built["stage:" + s[0]] = group;
      group.addTo(map);
    });
    OVERLAYS.forEach(function (o) {
      if (!data[o.key]) { return; }
      var group = L.geoJSON(null, {
        pane: o.pane, interactive: o.interactive !== false, style: o.style
      });
      G.interact(map, group, o.tooltip, o.hover);
      built[o.key] = group;
      group.atlasKey = o.key;
      group.atlasOnly = only || null;
      if (o.off && !G.switchedOn(o.key)) {
        group.atlasPending = true;
        return;
      }
      G.addFeatures(group, data[o.key].features, only);
      group.addTo(map);
    });
    return built;
  };

  /* Whether the legend switch of a layer is on (a layer without a switch is on). */
  G.switchedOn = function (key) {
    var input = document.querySelector('input[data-atlas-layer="' + key + '"]');
    return !input || input.checked;
  };

  /* Re-colour every territory (after a change of colour mode), and the overlays whose style
   * depends on it (`restyle: true` in OVERLAYS). */
  G.restyle = function () {
    G.data.stages.forEach(function (s) {
      (G.layers["stage:" + s[0]] || []).forEach(function (entry) {
        entry.layer.setStyle(function (f) { return { fillColor: G.colours.fill(f.properties) }; });
      });
    });
    OVERLAYS.forEach(function (o) {
      if (!o.restyle) { return; }
      (G.layers[o.key] || []).forEach(function (entry) { entry.layer.setStyle(o.style); });
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
      var built = G.buildLayers(inset, data, function (f) {
        return f.properties.z === z.zone;
      }, fillOpacity);
      Object.keys(built).forEach(function (key) {  /* switched off before the insets came */
        if (!G.switchedOn(key) && !built[key].atlasPending) { inset.removeLayer(built[key]); }
      });
      G.register(inset, built);
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
