/*
 * cpts_geo atlas, CPTS card: opened from the map (click a territory), the search or the
 * composer. Stage (and dates when the registry has them), population, ACI tier and ceiling,
 * area, communes, neighbouring CPTS and bordering zones blanches (région pages: from the
 * page's unit adjacency). Keyboard: the card takes the focus, Escape closes it and gives the
 * focus back.
 */
(function (G) {
  "use strict";

  var opener = null;
  var graph = null;

  /* Rook neighbours of every unit of the page, decoded once from data.adj. */
  G.adjacency = function () {
    if (graph) { return graph; }
    var n = G.data.units.c.length;
    var v = G.codec.integers(G.data.adj);
    graph = [];
    var i;
    for (i = 0; i < n; i++) { graph.push([]); }
    var at = 0;
    for (i = 0; i < n; i++) {
      var count = v[at++];
      var j = i;
      for (var k = 0; k < count; k++) {
        j += v[at++];
        graph[i].push(j);
        graph[j].push(i);
      }
    }
    return graph;
  };

  /* Units claimed by the CPTS at position `k` of data.cpts. */
  G.unitsOf = function (k) {
    var out = [];
    G.data.units.k.forEach(function (claims, i) {
      for (var c = 0; c < claims.length; c++) {
        var x = claims[c] < 0 ? -1 - claims[c] : claims[c];
        if (x === k) { out.push(i); return; }
      }
    });
    return out;
  };

  function neighbours(k) {
    var units = G.data.units;
    var mine = G.unitsOf(k);
    var inMine = {};
    mine.forEach(function (i) { inMine[i] = 1; });
    var adj = G.adjacency();
    var cpts = {};
    var gaps = {};
    function look(i) {
      units.k[i].forEach(function (c) {
        var x = c < 0 ? -1 - c : c;
        if (x !== k) { cpts[x] = 1; }
      });
      if (units.zb[String(i)] !== undefined && !inMine[i]) { gaps[units.zb[String(i)]] = 1; }
    }
    mine.forEach(function (i) {
      look(i);
      adj[i].forEach(function (j) { if (!inMine[j]) { look(j); } });
    });
    var byName = function (a, b) {
      return G.data.cpts[a][1].localeCompare(G.data.cpts[b][1], "fr");
    };
    return { units: mine, cpts: Object.keys(cpts).map(Number).sort(byName),
      gaps: Object.keys(gaps).map(Number).sort(function (a, b) { return a - b; }) };
  }

  function section(body, title) {
    body.appendChild(G.el("h3", null, title));
  }

  function open(id, layer) {
    var card = document.getElementById("atlas-card");
    var row = G.cptsById[id];
    if (!card || !row) { return; }
    if (card.hidden) { opener = document.activeElement; }
    var data = G.data;
    var stages = G.stageInfo();
    var title = document.getElementById("atlas-card-title");
    var body = document.getElementById("atlas-card-body");
    title.textContent = row[1];
    body.textContent = "";
    card.setAttribute("data-cpts", id);
    var dl = G.el("dl", "atlas-card-figures");
    function pair(label, value, node) {
      dl.appendChild(G.el("dt", null, label));
      var dd = G.el("dd", null, node ? null : value);
      if (node) { dd.appendChild(node); }
      dl.appendChild(dd);
      return dd;
    }
    var stage = stages[row[2]] || { label: row[2], colour: "#8c8c8c" };
    var chip = G.el("span", "atlas-chip", stage.label);
    chip.style.background = stage.colour;
    chip.style.color = G.colours.text(stage.colour);
    pair("Stade", null, chip).setAttribute("data-field", "stade");
    Object.keys(data.dates || {}).forEach(function (col) {
      if (row[10] && row[10][col]) {
        var d = row[10][col].split("-");
        pair(data.dates[col], d[2] + "/" + d[1] + "/" + d[0]).setAttribute("data-field", col);
      }
    });
    pair("Identifiant", row[0]).setAttribute("data-field", "cpts_id");
    pair("Population", G.fmtInt(row[3]) + G.NBSP + "hab.").setAttribute("data-field",
      "population");
    if (row[4] !== row[3]) {
      pair("Population pondérée (communes partagées)", G.fmtInt(row[4]) + G.NBSP + "hab.")
        .setAttribute("data-field", "population_ponderee");
    }
    pair("Taille ACI", data.tiers[String(row[5])] || String(row[5]))
      .setAttribute("data-field", "taille");
    pair("Plafond ACI", G.fmtInt(row[6]) + G.NBSP + "€").setAttribute("data-field",
      "plafond_aci");
    if (row[7] !== null) {
      pair("Superficie", G.fmtDec(row[7]) + G.NBSP + "km²").setAttribute("data-field",
        "superficie_km2");
      if (row[7] > 0) {
        pair("Densité", G.fmtInt(row[3] / row[7]) + G.NBSP + "hab./km²")
          .setAttribute("data-field", "densite");
      }
    }
    pair("Communes", G.fmtInt(row[8])).setAttribute("data-field", "n_communes");
    body.appendChild(dl);
    if (data.units && row.index !== undefined) {
      var nb = neighbours(row.index);
      section(body, "Communes (" + G.fmtInt(nb.units.length) + " unités)");
      var ul = G.el("ul", "atlas-card-list atlas-card-communes");
      nb.units.map(function (i) { return data.units.n[i]; })
        .sort(function (a, b) { return a.localeCompare(b, "fr"); })
        .forEach(function (n) { ul.appendChild(G.el("li", null, n)); });
      body.appendChild(ul);
      section(body, "CPTS voisines");
      var nl = G.el("ul", "atlas-card-list atlas-card-voisines");
      nb.cpts.forEach(function (k) {
        var li = G.el("li");
        var b = G.el("button", "atlas-link", data.cpts[k][1]);
        b.type = "button";
        b.addEventListener("click", function () { open(data.cpts[k][0]); });
        li.appendChild(b);
        nl.appendChild(li);
      });
      if (!nb.cpts.length) { nl.appendChild(G.el("li", "atlas-none", "aucune")); }
      body.appendChild(nl);
      section(body, "Zones blanches voisines");
      var zl = G.el("ul", "atlas-card-list atlas-card-zb");
      nb.gaps.forEach(function (z) {
        var zb = data.zb[z];
        zl.appendChild(G.el("li", null, zb[0] + " — " + G.fmtInt(zb[1]) + G.NBSP + "hab., " +
          G.fmtInt(zb[2]) + " commune" + (zb[2] > 1 ? "s" : "")));
      });
      if (!nb.gaps.length) { zl.appendChild(G.el("li", "atlas-none", "aucune")); }
      body.appendChild(zl);
    } else if (data.pages && data.pages[id]) {
      var p = G.el("p");
      var a = G.el("a", null, "Ouvrir la carte de la région (communes, voisines, composer)");
      a.href = data.pages[id];
      p.appendChild(a);
      body.appendChild(p);
    }
    card.hidden = false;
    card.focus();
    if (layer && G.highlight) {
      G.highlight.clearLayers();
      G.highlight.addData(layer.feature);
    }
  }

  function close() {
    var card = document.getElementById("atlas-card");
    if (!card || card.hidden) { return; }
    card.hidden = true;
    if (G.highlight) { G.highlight.clearLayers(); }
    if (opener && document.body.contains(opener) && opener.focus) { opener.focus(); }
    opener = null;
  }

  function setup() {
    var card = document.getElementById("atlas-card");
    if (!card) { return; }
    document.getElementById("atlas-card-close").addEventListener("click", close);
    card.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); close(); }
    });
  }

  G.card = { setup: setup, open: open, close: close, neighbours: neighbours };
}(window.cptsGeo));
