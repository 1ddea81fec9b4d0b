/*
 * cpts_geo atlas, composer ("Composer un projet"): select units on a région page and read
 * what `cpts-geo check --json` would say, live. Figures come from the page's unit table:
 * populations, claims, rook adjacency and outside flags, all computed in Python on the cleaned
 * coverage (cpts_geo/atlas/units.py); cptsGeo.composer.select(codes) returns the object of
 * `check --json` for those codes (tests compare the two on random selections).
 *
 * Starting from an existing CPTS makes the project a revision of it (like `check --revise
 * CPTS_ID`): that CPTS is left out of the comparison, and the shares it declared are kept.
 */
(function (G) {
  "use strict";

  var S = {
    active: false, order: [], set: {}, share: {}, revise: null, layer: null, byUnit: {},
    last: null
  };
  var BOM = "\ufeff";

  function units() { return G.data.units; }
  function isRing(i) { return units().r.charAt(i) === "1"; }
  function claimOf(c) { return c < 0 ? -1 - c : c; }

  /* Python's round(): halves to even (population_ponderee is rounded that way). */
  function roundHalfEven(x) {
    var f = Math.floor(x);
    var d = x - f;
    if (d > 0.5) { return f + 1; }
    if (d < 0.5) { return f; }
    return f % 2 === 0 ? f : f + 1;
  }

  function codeIndex() {
    if (!S.codes) {
      S.codes = {};
      units().c.forEach(function (c, i) { S.codes[c] = i; });
    }
    return S.codes;
  }

  /* The check of the current selection: the keys and values of `cpts-geo check --json`. */
  function compute() {
    var u = units();
    var data = G.data;
    var order = S.order;
    var rev = S.revise;
    var pid = S.revise !== null ? data.cpts[rev][0] : projectId();
    var pname = projectName();
    var total = 0;
    var weighted = 0;
    var fresh = 0;
    var conflicts = {};
    order.forEach(function (i) {
      var p = u.p[i];
      total += p;
      if (!u.k[i].length) { fresh += p; }
      var shared = 1;
      u.k[i].forEach(function (c) {
        var k = claimOf(c);
        if (k === rev) { return; }
        var theirShare = c < 0;
        if (S.share[i] && theirShare) { shared += 1; return; }
        (conflicts[k] = conflicts[k] || []).push(i);
      });
      weighted += S.share[i] ? p / shared : p;
    });
    var conflits = Object.keys(conflicts).map(function (k) {
      var row = data.cpts[Number(k)];
      var idx = conflicts[k].slice().sort(function (a, b) {
        return u.c[a] < u.c[b] ? -1 : (u.c[a] > u.c[b] ? 1 : 0);
      });
      return {
        cpts_id: row[0], cpts_nom: row[1], stade: row[2],
        codes: idx.map(function (i) { return u.c[i]; }),
        communes: idx.map(function (i) { return u.n[i]; }),
        population: idx.reduce(function (s, i) { return s + u.p[i]; }, 0)
      };
    });
    conflits.sort(function (a, b) {
      if (a.population !== b.population) { return b.population - a.population; }
      return a.cpts_id < b.cpts_id ? -1 : (a.cpts_id > b.cpts_id ? 1 : 0);
    });
    weighted = roundHalfEven(weighted);
    var parties = parts();
    var homonyme = null;
    if (S.revise === null) {
      var low = pname.toLowerCase();
      data.cpts.forEach(function (r) {
        if (homonyme === null && (r[0] === pid || r[1].toLowerCase() === low)) {
          homonyme = r[0];
        }
      });
    }
    return {
      cpts_id: pid,
      cpts_nom: pname,
      codes: order.map(function (i) { return u.c[i]; }),
      conflits: conflits,
      population_totale: total,
      population_ponderee: weighted,
      population_nouvelle: fresh,
      taille: G.tier(weighted),
      plafond_aci: G.ceiling(weighted),
      d_un_seul_tenant: parties.length <= 1,
      parties: parties,
      enclaves: enclaves(),
      remplace: S.revise !== null ? pid : null,
      homonyme: homonyme
    };
  }

  /* Rook-contiguous parts, ordered as analysis.topology.components orders them. */
  function parts() {
    var u = units();
    var adj = G.adjacency();
    var label = {};
    var groups = [];
    S.order.forEach(function (start) {
      if (label[start] !== undefined) { return; }
      var g = groups.length;
      var members = {};
      var stack = [start];
      label[start] = g;
      members[start] = 1;
      while (stack.length) {
        var i = stack.pop();
        adj[i].forEach(function (j) {
          if (S.set[j] && label[j] === undefined) {
            label[j] = g;
            members[j] = 1;
            stack.push(j);
          }
        });
      }
      groups.push(members);
    });
    var lists = groups.map(function () { return []; });
    S.order.forEach(function (i) { lists[label[i]].push(i); });
    var keyed = lists.map(function (l) {
      return { l: l, n: l.length, p: l.reduce(function (s, i) { return s + u.p[i]; }, 0),
        f: u.c[l[0]] };
    });
    keyed.sort(function (a, b) {
      if (a.n !== b.n) { return b.n - a.n; }
      if (a.p !== b.p) { return b.p - a.p; }
      return a.f < b.f ? -1 : (a.f > b.f ? 1 : 0);
    });
    return keyed.map(function (x) { return x.l.map(function (i) { return u.c[i]; }); });
  }

  /* Unselected units the selection surrounds: not connected, through unselected units or the
   * holes of the coverage, to a unit touching the outside. */
  function enclaves() {
    var u = units();
    if (!S.order.length) { return []; }
    var adj = G.adjacency();
    var n = u.c.length;
    var reached = new Uint8Array(n);
    var holesReached = {};
    var byHole = S.byHole;
    if (!byHole) {
      byHole = S.byHole = {};
      Object.keys(u.h).forEach(function (i) {
        u.h[i].forEach(function (h) { (byHole[h] = byHole[h] || []).push(Number(i)); });
      });
    }
    var stack = [];
    for (var i = 0; i < n; i++) {
      if (!S.set[i] && u.o.charAt(i) === "1") { reached[i] = 1; stack.push(i); }
    }
    function visit(j) {
      if (!S.set[j] && !reached[j]) { reached[j] = 1; stack.push(j); }
    }
    while (stack.length) {
      var x = stack.pop();
      adj[x].forEach(visit);
      (u.h[String(x)] || []).forEach(function (h) {
        if (!holesReached[h]) { holesReached[h] = 1; byHole[h].forEach(visit); }
      });
    }
    var out = [];
    for (var k = 0; k < n; k++) {
      if (!S.set[k] && !reached[k]) { out.push(u.c[k]); }
    }
    return out.sort();
  }

  function projectName() {
    var input = document.getElementById("atlas-composer-name");
    var name = input ? input.value.trim() : "";
    return name || "Projet de CPTS";
  }
  function projectId() { return S.loadedId || "PROJET"; }

  /* ------------------------------------------------------------------ selection */

  function clear() {
    S.order = [];
    S.set = {};
    S.share = {};
    S.revise = null;
    S.loadedId = null;
  }

  function add(i) {
    if (S.set[i] || isRing(i)) { return false; }
    S.set[i] = 1;
    S.order.push(i);
    return true;
  }

  function remove(i) {
    if (!S.set[i]) { return; }
    delete S.set[i];
    delete S.share[i];
    S.order = S.order.filter(function (j) { return j !== i; });
  }

  /* Codes as a project file gives them: current codes, a city for its arrondissements, a
   * code whose leading zero a spreadsheet dropped. Returns [indices, unknown codes]. */
  function resolve(codes) {
    var ix = codeIndex();
    var u = units();
    var found = [];
    var unknown = [];
    codes.forEach(function (raw) {
      var code = String(raw).trim().toUpperCase();
      if (!code) { return; }
      if (/^\d{4}$/.test(code) || /^[AB]\d{3}$/.test(code.slice(1))) {
        if (/^\d{4}$/.test(code)) { code = "0" + code; }
      }
      if (ix[code] !== undefined && !isRing(ix[code])) { found.push(ix[code]); return; }
      var arr = Object.keys(u.m).filter(function (i) { return u.m[i] === code; })
        .map(Number).filter(function (i) { return !isRing(i); });
      if (arr.length) { found = found.concat(arr); return; }
      unknown.push(String(raw).trim());
    });
    return [found, unknown];
  }

  /* Select exactly `codes` (order kept) and return the check object. With {revise: id}, the
   * project revises that CPTS (its declared shares are kept on the units it held). */
  function select(codes, options) {
    clear();
    var opts = options || {};
    if (opts.revise) { startFrom(opts.revise, true); S.order = []; S.set = {}; }
    var r = resolve(codes || []);
    r[0].forEach(add);
    if (S.revise !== null) { keepShares(); }
    S.unknown = r[1];
    refresh();
    return compute();
  }

  function keepShares() {
    var u = units();
    S.share = {};
    S.order.forEach(function (i) {
      u.k[i].forEach(function (c) { if (c < 0 && -1 - c === S.revise) { S.share[i] = true; } });
    });
  }

  /* Start from an existing CPTS (a revision of it) or a zone blanche. */
  function startFrom(value, quiet) {
    clear();
    var data = G.data;
    var u = units();
    if (value && value.indexOf("zb:") === 0) {
      var z = Number(value.slice(3));
      u.c.forEach(function (c, i) { if (u.zb[String(i)] === z) { add(i); } });
    } else if (value) {
      var row = G.cptsById[value];
      if (!row) { return; }
      S.revise = row.index;
      G.unitsOf(row.index).forEach(add);
      keepShares();
      var name = document.getElementById("atlas-composer-name");
      if (name) { name.value = row[1]; }
    }
    if (!quiet) { refresh(); }
  }

  /* ------------------------------------------------------------------ CSV */

  function csvCell(text) {
    var s = String(text);
    if (/^[=+\-@\t\r]/.test(s)) { s = "'" + s; }  // never a formula in a spreadsheet
    return /[;"\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function toCsv() {
    var r = compute();
    var u = units();
    var anyShare = S.order.some(function (i) { return S.share[i]; });
    var lines = [["cpts_id", "cpts_nom", "code_commune"].concat(anyShare ? ["partage"] : [])
      .join(";")];
    S.order.forEach(function (i) {
      var row = [csvCell(r.cpts_id), csvCell(r.cpts_nom), u.c[i]];
      if (anyShare) { row.push(S.share[i] ? "infra" : ""); }
      lines.push(row.join(";"));
    });
    return BOM + lines.join("\r\n") + "\r\n";
  }

  function exportCsv() {
    var blob = new Blob([toCsv()], { type: "text/csv;charset=utf-8" });
    var a = document.createElement("a");
    var base = G.fold(compute().cpts_nom).replace(/ /g, "-") || "projet";
    a.download = base + ".csv";
    a.href = URL.createObjectURL(blob);
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  function splitLine(line, sep) {
    var out = [];
    var cur = "";
    var quoted = false;
    for (var i = 0; i < line.length; i++) {
      var ch = line.charAt(i);
      if (quoted) {
        if (ch === '"' && line.charAt(i + 1) === '"') { cur += '"'; i++; }
        else if (ch === '"') { quoted = false; }
        else { cur += ch; }
      } else if (ch === '"') { quoted = true; }
      else if (ch === sep) { out.push(cur); cur = ""; }
      else { cur += ch; }
    }
    out.push(cur);
    return out;
  }

  function headerKey(text) {
    return G.fold(text).replace(/ /g, "_");
  }

  /* Read a project CSV (`,`, `;` or tab, BOM or not; code column named as registries name
   * it) into the selection. Returns {codes, unknown, name, id}. */
  function readCsv(text) {
    var body = text.replace(/^\ufeff/, "");
    var lines = body.split(/\r\n|\n|\r/).filter(function (l) { return l.trim() !== ""; });
    if (!lines.length) { return { error: "fichier vide" }; }
    var head = lines[0];
    var sep = [";", ",", "\t"].sort(function (a, b) {
      return splitLine(head, b).length - splitLine(head, a).length;
    })[0];
    var cols = splitLine(head, sep).map(headerKey);
    var names = G.data.columns;
    function find(list) {
      for (var k = 0; k < list.length; k++) {
        var at = cols.indexOf(list[k]);
        if (at >= 0) { return at; }
      }
      return -1;
    }
    var ci = find(names.code);
    if (ci < 0) {
      return { error: "aucune colonne de codes communes (" + names.code.slice(0, 4).join(", ") +
        "…) dans l'en-tête : " + cols.join(", ") };
    }
    var ni = find(names.nom);
    var ii = find(names.id);
    var codes = [];
    var name = null;
    var id = null;
    lines.slice(1).forEach(function (line) {
      var cells = splitLine(line, sep);
      (cells[ci] || "").split(/[\s,|]+/).forEach(function (c) { if (c) { codes.push(c); } });
      if (name === null && ni >= 0 && cells[ni]) { name = cells[ni].replace(/^'/, ""); }
      if (id === null && ii >= 0 && cells[ii]) { id = cells[ii].replace(/^'/, ""); }
    });
    return { codes: codes, name: name, id: id };
  }

  function loadCsv(text) {
    var got = readCsv(text);
    if (got.error) { message("Fichier non lu : " + got.error); return null; }
    clear();
    var r = resolve(got.codes);
    r[0].forEach(add);
    S.loadedId = got.id;
    S.unknown = r[1];
    if (got.name) { document.getElementById("atlas-composer-name").value = got.name; }
    refresh();
    return compute();
  }

  /* ------------------------------------------------------------------ panel and map */

  function message(text) {
    var m = document.getElementById("atlas-composer-message");
    if (m) { m.textContent = text; }
  }

  function figure(dl, label, value, field) {
    dl.appendChild(G.el("dt", null, label));
    var dd = G.el("dd", null, value);
    dd.setAttribute("data-field", field);
    dl.appendChild(dd);
    return dd;
  }

  function renderPanel(r) {
    var box = document.getElementById("atlas-composer-figures");
    if (!box) { return; }
    var data = G.data;
    box.textContent = "";
    if (S.revise !== null) {
      box.appendChild(G.el("p", "atlas-composer-revise", "Révision de « " + r.cpts_nom +
        " » (" + r.cpts_id + ") : cette CPTS est laissée hors de la comparaison, comme avec " +
        "cpts-geo check --revise " + r.cpts_id + "."));
    } else if (r.homonyme) {
      box.appendChild(G.el("p", "atlas-composer-revise", "Même nom ou identifiant que la CPTS " +
        r.homonyme + " : comparée comme les autres (pas une révision)."));
    }
    var dl = G.el("dl", "atlas-keyfigs");
    figure(dl, "Unités", G.fmtInt(r.codes.length), "n");
    figure(dl, "Population totale", G.fmtInt(r.population_totale) + G.NBSP + "hab.",
      "population_totale");
    if (r.population_ponderee !== r.population_totale) {
      figure(dl, "Population pondérée", G.fmtInt(r.population_ponderee) + G.NBSP + "hab.",
        "population_ponderee");
    }
    figure(dl, "Nouvellement couverte", G.fmtInt(r.population_nouvelle) + G.NBSP + "hab.",
      "population_nouvelle");
    figure(dl, "Taille ACI", data.tiers[String(r.taille)], "taille");
    figure(dl, "Plafond ACI", G.fmtInt(r.plafond_aci) + G.NBSP + "€", "plafond_aci");
    figure(dl, "Territoire", r.codes.length === 0 ? "—" : (r.d_un_seul_tenant ?
      "d'un seul tenant" : G.fmtInt(r.parties.length) + " parties (" +
      r.parties.map(function (p) { return p.length; }).join(" + ") + " unités)"), "parties");
    var u = units();
    var ix = codeIndex();
    figure(dl, "Enclaves", r.enclaves.length ? r.enclaves.map(function (c) {
      return u.n[ix[c]];
    }).join(", ") : "aucune", "enclaves");
    figure(dl, "Conflits", r.conflits.length ? G.fmtInt(r.conflits.length) + " CPTS" : "aucun",
      "conflits");
    box.appendChild(dl);
    if (r.conflits.length) {
      var ul = G.el("ul", "atlas-composer-conflicts");
      r.conflits.forEach(function (c) {
        var li = G.el("li", null, c.cpts_nom + " (" + c.cpts_id + ") : " +
          c.communes.join(", ") + " — " + G.fmtInt(c.population) + G.NBSP + "hab.");
        li.setAttribute("data-cpts", c.cpts_id);
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    message(S.unknown && S.unknown.length ? "Codes inconnus sur cette page (ignorés) : " +
      S.unknown.join(", ") : "");
  }

  function renderList() {
    var list = document.getElementById("atlas-composer-list");
    if (!list) { return; }
    list.textContent = "";
    var u = units();
    S.order.forEach(function (i) {
      var li = G.el("li", null, u.n[i] + " (" + u.c[i] + ")" + (S.share[i] ? " — partagée" : ""));
      var b = G.el("button", "atlas-link", "Retirer");
      b.type = "button";
      b.setAttribute("aria-label", "Retirer " + u.n[i]);
      b.addEventListener("click", function () { remove(i); refresh(); });
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  function unitStyle(i, r) {
    if (S.set[i]) {
      var conflict = r && S.conflictSet[i];
      return { color: "#000000", weight: 2, fill: true,
        fillColor: conflict ? "#d7191c" : "#1a1a1a", fillOpacity: conflict ? 0.55 : 0.4 };
    }
    if (S.enclaveSet && S.enclaveSet[i]) {
      return { color: "#d7191c", weight: 2.5, dashArray: "4 3", fill: true,
        fillColor: "#ffffff", fillOpacity: 0.3 };
    }
    return { color: "#3a3a3a", weight: 0.5, opacity: 0.6, dashArray: null, fill: true,
      fillColor: "#ffffff", fillOpacity: 0 };
  }

  function buildLayer(map) {
    var u = units();
    var features = [];
    u.c.forEach(function (code, i) {
      if (isRing(i)) { return; }
      var g = G.unitGeometry(i);
      if (g) { features.push({ type: "Feature", properties: { u: i }, geometry: g }); }
    });
    S.layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      pane: "atlas-composer",
      style: function (f) { return unitStyle(f.properties.u, null); },
      onEachFeature: function (f, layer) {
        var i = f.properties.u;
        S.byUnit[i] = layer;
        layer.options.className = "atlas-composer-unit";
        layer.bindTooltip(function () {
          return G.tip(u.n[i] + " (" + u.c[i] + ")", [
            ["Population", G.fmtInt(u.p[i]) + G.NBSP + "hab."],
            ["", S.set[i] ? "cliquer pour retirer" : "cliquer pour ajouter"]]);
        }, { sticky: true, className: "atlas-tooltip" });
        layer.on("click", function () {
          if (S.set[i]) { remove(i); } else { add(i); }
          refresh();
        });
      }
    });
  }

  function refresh() {
    var r = compute();
    S.last = r;
    var ix = codeIndex();
    S.conflictSet = {};
    r.conflits.forEach(function (c) { c.codes.forEach(function (code) {
      S.conflictSet[ix[code]] = 1; }); });
    S.enclaveSet = {};
    r.enclaves.forEach(function (code) { S.enclaveSet[ix[code]] = 1; });
    if (S.layer) {
      S.layer.eachLayer(function (l) { l.setStyle(unitStyle(l.feature.properties.u, r)); });
    }
    renderPanel(r);
    renderList();
    return r;
  }

  function activate(on) {
    var map = G.map;
    S.active = on;
    G.composer.active = on;
    var button = document.getElementById("atlas-composer-toggle");
    var body = document.getElementById("atlas-composer-body");
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? "Quitter le composer" : "Composer un projet";
    body.hidden = !on;
    if (on) {
      if (!S.layer) { buildLayer(map); }
      S.layer.addTo(map);
      refresh();
    } else if (S.layer) {
      map.removeLayer(S.layer);
    }
  }

  function fillStart() {
    var sel = document.getElementById("atlas-composer-start");
    var data = G.data;
    var u = units();
    var own = {};
    u.k.forEach(function (claims, i) {
      if (!isRing(i)) { claims.forEach(function (c) { own[claimOf(c)] = 1; }); }
    });
    var rows = Object.keys(own).map(function (k) { return data.cpts[Number(k)]; })
      .sort(function (a, b) { return a[1].localeCompare(b[1], "fr"); });
    var group = G.el("optgroup");
    group.label = "Réviser une CPTS existante";
    rows.forEach(function (r) {
      var o = G.el("option", null, r[1]);
      o.value = r[0];
      group.appendChild(o);
    });
    sel.appendChild(group);
    var zgroup = G.el("optgroup");
    zgroup.label = "Couvrir une zone blanche";
    data.zb.forEach(function (z, k) {
      var o = G.el("option", null, z[0] + " (" + G.fmtInt(z[1]) + " hab.)");
      o.value = "zb:" + k;
      zgroup.appendChild(o);
    });
    if (data.zb.length) { sel.appendChild(zgroup); }
    sel.addEventListener("change", function () { startFrom(sel.value); });
  }

  function setup(map, data) {
    var button = document.getElementById("atlas-composer-toggle");
    if (!button) { return; }
    data.columns = data.columns || { code: ["code_commune"], nom: ["cpts_nom"], id: ["cpts_id"] };
    button.addEventListener("click", function () { activate(!S.active); });
    fillStart();
    var input = document.getElementById("atlas-composer-add");
    var list = document.getElementById("atlas-composer-add-results");
    G.search.picker(input, list, function (query) {
      return G.search.findUnits(query, 8).map(function (i) {
        return { label: units().n[i] + " (" + units().c[i] + ")",
          extra: S.set[i] ? "déjà dans le projet" : G.fmtInt(units().p[i]) + G.NBSP + "hab.",
          pick: function () { add(i); refresh(); input.value = ""; input.focus(); } };
      });
    });
    document.getElementById("atlas-composer-name").addEventListener("input", function () {
      refresh();
    });
    document.getElementById("atlas-composer-export").addEventListener("click", exportCsv);
    document.getElementById("atlas-composer-clear").addEventListener("click", function () {
      clear();
      document.getElementById("atlas-composer-start").value = "";
      refresh();
    });
    document.getElementById("atlas-composer-file").addEventListener("change", function (e) {
      var file = e.target.files && e.target.files[0];
      if (!file) { return; }
      var reader = new FileReader();
      reader.onload = function () { loadCsv(String(reader.result)); };
      reader.readAsText(file, "utf-8");
    });
  }

  G.composer = {
    active: false, setup: setup, select: select, compute: compute, toCsv: toCsv,
    loadCsv: loadCsv, readCsv: readCsv, startFrom: function (v) { startFrom(v); return compute(); },
    activate: activate, exportCsv: exportCsv,
    selection: function () { return S.order.map(function (i) { return units().c[i]; }); }
  };
}(window.cptsGeo));
