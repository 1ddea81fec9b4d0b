/*
 * cpts_geo atlas: decoding of the pages' compact geometry (cpts_geo/atlas/codec.py).
 * A ring is an encoded polyline of integer coordinates (first vertex, then differences,
 * zig-zag, 5-bit groups as characters 63..126), without its closing vertex.
 */
(function (G) {
  "use strict";

  /* Every integer of an encoded-polyline string (|value| < 2^30: coordinates in 1e-5
   * degrees, positions and counts; bit operations are exact there). */
  function integers(text) {
    var out = [];
    var shift = 0;
    var acc = 0;
    for (var i = 0; i < text.length; i++) {
      var b = text.charCodeAt(i) - 63;
      acc |= (b & 31) << shift;
      shift += 5;
      if (b < 32) {
        out.push(acc & 1 ? ~(acc >>> 1) : acc >>> 1);
        shift = 0;
        acc = 0;
      }
    }
    return out;
  }

  /* A ring as GeoJSON positions, closed. */
  function ring(text, scale) {
    var v = integers(text);
    var x = 0;
    var y = 0;
    var out = [];
    for (var i = 0; i + 1 < v.length; i += 2) {
      x += v[i];
      y += v[i + 1];
      out.push([x / scale, y / scale]);
    }
    if (out.length) { out.push([out[0][0], out[0][1]]); }
    return out;
  }

  /* GeoJSON MultiPolygon of an encoded geometry (list of polygons, each a list of rings). */
  function geometry(encoded, decimals) {
    if (!encoded) { return null; }
    var scale = Math.pow(10, decimals);
    return {
      type: "MultiPolygon",
      coordinates: encoded.map(function (poly) {
        return poly.map(function (r) { return ring(r, scale); });
      })
    };
  }

  /* Turn the encoded features of a collection into GeoJSON features, in place. */
  function collection(fc, decimals) {
    (fc.features || []).forEach(function (f) {
      if (f.g !== undefined) {
        f.geometry = geometry(f.g, decimals);
        delete f.g;
      }
    });
    return fc;
  }

  /* A ring as Leaflet LatLngs, open (Leaflet closes polygons itself), decoded in one pass. */
  function ringLatLngs(text, scale) {
    var out = [];
    var shift = 0;
    var acc = 0;
    var x = 0;
    var y = 0;
    var odd = false;
    for (var i = 0; i < text.length; i++) {
      var b = text.charCodeAt(i) - 63;
      acc |= (b & 31) << shift;
      shift += 5;
      if (b < 32) {
        var v = acc & 1 ? ~(acc >>> 1) : acc >>> 1;
        if (odd) { y += v; out.push(new L.LatLng(y / scale, x / scale)); } else { x += v; }
        odd = !odd;
        shift = 0;
        acc = 0;
      }
    }
    return out;
  }

  /* The LatLngs of an encoded geometry (polygons of rings), for new L.Polygon(...): no GeoJSON
   * in between, the page's first render decodes every territory once. */
  function latLngs(encoded, decimals) {
    var scale = Math.pow(10, decimals);
    return encoded.map(function (poly) {
      return poly.map(function (r) { return ringLatLngs(r, scale); });
    });
  }

  /* Give the encoded features of a collection a GeoJSON `geometry` decoded when first read
   * (a getter): the map layers are drawn from `g` (latLngs), GeoJSON only when asked for. */
  function lazy(fc, decimals) {
    (fc.features || []).forEach(function (f) {
      if (f.g === undefined) { return; }
      var decoded;
      Object.defineProperty(f, "geometry", {
        configurable: true, enumerable: true,
        get: function () {
          if (decoded === undefined) { decoded = geometry(f.g, decimals); }
          return decoded;
        },
        set: function (value) { decoded = value; }
      });
    });
    return fc;
  }

  G.codec = { integers: integers, ring: ring, geometry: geometry, collection: collection,
    latLngs: latLngs, lazy: lazy };
}(window.cptsGeo));
