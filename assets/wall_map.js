/*
 * Map wall functions for dash-leaflet 1.x: incident points, cluster icons, the grid-cell
 * choropleth, the trinity highlight, and the clientside merge of live deltas.
 *
 * State colours are Okabe–Ito (colour-blind safe); overdue points get a white ring and a larger
 * radius; new points (from a live delta) pulse. Points are drawn on one shared canvas renderer.
 * Nothing here fetches anything but the history URL the server hands to the GeoJSON layer.
 */
(function () {
  "use strict";

  /* Index = position in app.wall_data.STATES. */
  var STATE_COLOURS = [
    "#E69F00", /* received 受理 orange */
    "#56B4E9", /* dispatched 派遣 sky blue */
    "#009E73", /* on_scene 到场 bluish green */
    "#F0E442", /* resolved 处置完毕 yellow */
    "#CC79A7", /* callback_due 待回访 reddish purple */
    "#7f8ea3", /* closed 办结 grey */
    "#4b5566", /* returned 退回 dark grey */
    "#D55E00", /* reopened 重开 vermilion */
    "#0072B2", /* escalated 会商 blue */
  ];
  var CHORO = ["#0d1b2e", "#123a5a", "#1c5f80", "#2f8aa0", "#5bb8b0", "#a6dcb4"];
  /* Heat classes 1-5 (YlOrRd) and Gi* bins -3..3 (RdBu, diverging, colour-blind safe):
   * app.wall_hotspots.HEAT_COLOURS and HOT_COLOURS. */
  var HEAT = ["#ffffb2", "#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  var HOT = {
    "3": "#b2182b", "2": "#ef8a62", "1": "#fddbc7",
    "-1": "#d1e5f0", "-2": "#67a9cf", "-3": "#2166ac",
  };
  var renderer = null;
  var heatRenderer = null;

  /* Map symbols are in pixels: scale them with the screen (1 at 1080p, 2 at 4K). */
  function k() {
    return Math.max(1, Math.min(window.innerWidth / 1920, window.innerHeight / 1080));
  }

  function scaled(style) {
    var f = k();
    if (style.weight) {
      style.weight = style.weight * f;
    }
    if (style.radius) {
      style.radius = style.radius * f;
    }
    return style;
  }

  function canvas() {
    if (!renderer) {
      /* In the incidents' pane (app.components.wall_map), above the canvases of the other
       * layers' panes: in the default overlay pane a click on a point hits them instead. */
      renderer = L.canvas({ padding: 0.3, pane: "wall-points" });
    }
    return renderer;
  }

  /* ``own``: on the map's own renderer (the first frame, wall_map_first.js, may come before
   * the incidents' pane exists). */
  function pointToLayer(feature, latlng, own) {
    var p = feature.properties || {};
    var closed = p.s === 5 || p.s === 6;
    var late = p.o === 1;
    return L.circleMarker(latlng, scaled({
      renderer: own === true ? undefined : canvas(),
      radius: late ? 8 : closed ? 4 : 6,
      color: late ? "#ffffff" : "#0b1220",
      weight: late ? 2.5 : 1,
      fillColor: STATE_COLOURS[p.s] || "#999",
      fillOpacity: closed ? 0.55 : 0.95,
    }));
  }

  /* Live points are DOM markers so that a new one can pulse (few of them). */
  function livePointToLayer(feature, latlng) {
    var p = feature.properties || {};
    var colour = STATE_COLOURS[p.s] || "#999";
    var cls = "wall-live" + (p.new ? " wall-pulse" : "") + (p.o ? " wall-late" : "");
    return L.marker(latlng, {
      icon: L.divIcon({
        className: cls,
        html: '<i style="background:' + colour + '"></i>',
        iconSize: [22 * k(), 22 * k()],
        iconAnchor: [11 * k(), 11 * k()],
      }),
    });
  }

  /* A count the Chinese way (1.2万) or the English way (12,345). */
  function countLabel(n, en) {
    return n >= 10000 && !en ? (n / 10000).toFixed(1).replace(".0", "") + "万"
      : en ? n.toLocaleString("en-US") : String(n);
  }

  /* A cluster computed on the server (app.wall_history): its count, and a badge with how many
   * of its incidents are overdue; a click zooms to where it splits (property e). */
  function clusterToLayer(feature, latlng, context) {
    var p = feature.properties;
    var n = p.point_count;
    var size = (n < 100 ? 38 : n < 1000 ? 48 : n < 10000 ? 58 : 68) * k();
    var en = ((context && context.hideout) || {}).lang === "en";
    var tier = n < 100 ? "s" : n < 1000 ? "m" : "l";
    var late = p.o > 0 ? '<b class="wall-cluster-late">' + countLabel(p.o, en) + "</b>" : "";
    var marker = L.marker(latlng, {
      icon: L.divIcon({
        html: "<div><span>" + countLabel(n, en) + "</span></div>" + late,
        className: "wall-cluster wall-cluster-" + tier,
        iconSize: L.point(size, size),
      }),
    });
    marker.on("click", function (e) {
      var map = e.target._map;
      if (!map) { return; }
      /* The server's zooms are for 1080p; a larger screen shows the same cells a zoom higher.
       * Rounded up to the map's zoom step, so the cluster has split at the zoom reached. */
      var zoom = Math.ceil((p.e + Math.log2(k())) * 4) / 4;
      map.setView(latlng, Math.min(map.getMaxZoom(), zoom));
    });
    return marker;
  }

  /* The history layer: server clusters and single incidents. ``first``: for the first frame
   * (wall_map_first.js), which the dash-leaflet layer's first feature removes. */
  function historyToLayer(feature, latlng, context, first) {
    var p = feature.properties || {};
    if (first !== true && window.emberWallFirst) { window.emberWallFirst.drop(); }
    return p.cluster ? clusterToLayer(feature, latlng, context) : pointToLayer(feature, latlng, first);
  }

  /* The server's zoom for the map's: one lower per doubling of the screen. */
  function historyZoom(zoom) {
    return Math.max(0, Math.floor(zoom - Math.log2(k()) + 1e-9));
  }

  /* The history URL for the map's zoom and view: the page's URL (cut and filters) plus the
   * server's zoom (one lower per doubling of the screen: clusters cover the same share of the
   * wall) and the view padded by half its size each way, snapped outwards to a grid of a
   * quarter of a tile, so small pans keep the same URL. */
  function historyUrl(base, zoom, bounds, current) {
    var none = window.dash_clientside.no_update;
    if (!base || zoom === undefined || zoom === null) { return none; }
    var z = historyZoom(zoom);
    var url = base + "&z=" + z;
    var b = bounds && (bounds.length === 2 ? bounds : null);
    if (b) {
      var s = b[0][0], w = b[0][1], n = b[1][0], e = b[1][1];
      var dx = (e - w) / 2, dy = (n - s) / 2;
      var step = 360 / Math.pow(2, z) / 4;
      var snap = function (v, up) {
        return +((up ? Math.ceil(v / step) : Math.floor(v / step)) * step).toFixed(6);
      };
      url += "&bbox=" + [snap(w - dx, false), snap(s - dy, false), snap(e + dx, true),
        snap(n + dy, true)].join(",");
    }
    if (url !== current && window.emberWallFirst) { window.emberWallFirst.moved(url); }
    return url === current ? none : url;
  }

  /* Grid cells: choropleth of hideout.counts[code] (open incidents) over hideout.max. */
  function gridStyle(feature, context) {
    var h = (context && context.hideout) || {};
    var counts = h.counts || {};
    var n = counts[(feature.properties || {}).code] || 0;
    var max = Math.max(1, h.max || 1);
    var step = n === 0 ? 0 : 1 + Math.min(4, Math.floor((4 * n) / max));
    return scaled({
      color: "#4d6a92", weight: 0.8, opacity: 0.7,
      fillColor: CHORO[step], fillOpacity: n === 0 ? 0.15 : 0.62,
    });
  }

  function trinityStyle(feature) {
    var kind = (feature.properties || {}).kind;
    if (kind === "beat") {
      return scaled({ color: "#FFD23F", weight: 4, dashArray: "10 6", fill: false });
    }
    if (kind === "coverage") {
      return scaled({ color: "#ff6b4a", weight: 2, fillColor: "#ff5a36", fillOpacity: 0.12 });
    }
    return scaled({ color: "#ffffff", weight: 4, fillColor: "#5ee7ff", fillOpacity: 0.25 });
  }

  function trinityPoint(feature, latlng) {
    var kind = (feature.properties || {}).kind;
    if (kind === "incident") {
      return L.marker(latlng, {
        icon: L.divIcon({
          className: "wall-target", html: "<i></i>",
          iconSize: [44 * k(), 44 * k()], iconAnchor: [22 * k(), 22 * k()],
        }),
        interactive: false,
      });
    }
    return L.circleMarker(
      latlng, scaled({ radius: 13, color: "#fff", weight: 4, fillColor: "#ff3b30", fillOpacity: 1 })
    );
  }

  /* Heat grid: a square of hideout.cell_m metres per cell, coloured by class, opacity by the
   * share of the peak (v), on a canvas of its own pane (app.components.wall_hot). */
  function heatToLayer(feature, latlng, context) {
    var p = feature.properties || {};
    var cell = ((context && context.hideout) || {}).cell_m || 100;
    var dlat = cell / 2 / 111320;
    var dlon = dlat / Math.max(0.1, Math.cos((latlng.lat * Math.PI) / 180));
    if (!heatRenderer) {
      heatRenderer = L.canvas({ padding: 0.3, pane: "wall-heat" });
    }
    return L.rectangle(
      [[latlng.lat - dlat, latlng.lng - dlon], [latlng.lat + dlat, latlng.lng + dlon]],
      {
        renderer: heatRenderer, stroke: false, interactive: false,
        fillColor: HEAT[p.c] || HEAT[1], fillOpacity: 0.2 + 0.55 * (p.v || 0),
      }
    );
  }

  /* Gi* cells: filled by bin (hot red, cold blue), stronger for higher confidence. */
  function hotStyle(feature) {
    var b = (feature.properties || {}).bin || 0;
    return scaled({
      color: HOT[String(b)] || "#999", weight: 1.5, opacity: 0.9,
      fillColor: HOT[String(b)] || "#999", fillOpacity: 0.35 + 0.12 * Math.abs(b),
    });
  }

  /* Fire stations: a red rounded square with 消, not a dot (dots are incidents). */
  function stationToLayer(feature, latlng, context) {
    var glyph = ((context && context.hideout) || {}).glyph || "消";
    return L.marker(latlng, {
      interactive: false,
      icon: L.divIcon({
        className: "wall-station", html: "<i>" + glyph + "</i>",
        iconSize: [24 * k(), 24 * k()], iconAnchor: [12 * k(), 12 * k()],
      }),
    });
  }

  /* The labels of the layer control's overlays that are switched on (dash-leaflet's
   * ``overlays`` prop lists only the last one switched on). */
  function checkedOverlays() {
    var on = {};
    var labels = document.querySelectorAll(".leaflet-control-layers-overlays label");
    Array.prototype.forEach.call(labels, function (label) {
      var input = label.querySelector("input");
      if (input && input.checked) { on[label.textContent.trim()] = true; }
    });
    return on;
  }

  /* Town layers fetched once their overlay is first switched on (app.components.wall_map
   * LAZY): ``lazy`` lists {overlay, url} in the order of the callback's outputs, the further
   * arguments are the layers' current URLs (a layer keeps its URL, and its data, once given). */
  function lazyLayers(_overlays, lazy) {
    var none = window.dash_clientside.no_update;
    var on = checkedOverlays();
    var current = Array.prototype.slice.call(arguments, 2);
    return (lazy || []).map(function (row, i) {
      return on[row.overlay] && current[i] !== row.url ? row.url : none;
    });
  }

  window.dashExtensions = Object.assign({}, window.dashExtensions, {
    wall: {
      /* Ember's layer styles (ember_map.js), with line widths scaled for the screen. */
      baseStyle: function (feature, context) {
        return scaled(window.dashExtensions.ember.style(feature, context));
      },
      stationToLayer: stationToLayer,
      pointToLayer: pointToLayer,
      livePointToLayer: livePointToLayer,
      historyToLayer: historyToLayer,
      gridStyle: gridStyle,
      heatToLayer: heatToLayer,
      hotStyle: hotStyle,
      trinityStyle: trinityStyle,
      trinityPoint: trinityPoint,
    },
  });

  /* Clientside callbacks: merge a live delta into the live layer; the staleness banner. */
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wall: {
      historyUrl: historyUrl,
      historyZoom: historyZoom,
      mergeDelta: function (delta, current) {
        window.__wallLastOk = Date.now();
        var byId = {};
        /* Another history layer (new cut or other filters): drop what the live layer holds. */
        var fresh = delta && delta.key && window.__wallKey && delta.key !== window.__wallKey;
        window.__wallKey = (delta && delta.key) || window.__wallKey;
        ((!fresh && current && current.features) || []).forEach(function (f) {
          f.properties.new = 0;
          byId[f.properties.id] = f;
        });
        ((delta && delta.features) || []).forEach(function (f) {
          byId[f.properties.id] = f;
        });
        var features = Object.keys(byId).map(function (k) { return byId[k]; });
        var ids = {};
        features.forEach(function (f) { ids[f.properties.id] = f.properties.v; });
        return [{ type: "FeatureCollection", features: features }, { key: window.__wallKey, ids: ids }];
      },
      staleness: function (_tick, delta, i18n) {
        var loaded = window.__wallLoadedAt || (window.__wallLoadedAt = Date.now());
        var last = window.__wallLastOk || loaded;
        var minutes = Math.floor((Date.now() - last) / 60000);
        if (minutes >= 1) {
          var text = ((i18n && i18n.stale) || "数据延迟 {n} 分钟").replace("{n}", minutes);
          return [text, "wall-stale wall-stale-on"];
        }
        return ["", "wall-stale"];
      },
      lazyLayers: lazyLayers,
      /* The incident a click selects: a marker's or a feed row's id; null closes the drawer.
       * Cluster clicks and freshly drawn feed rows (n_clicks 0, after every refresh) select
       * nothing, without a round trip to the server. */
      selectedId: function () {
        var cc = window.dash_clientside.callback_context;
        var none = window.dash_clientside.no_update;
        var id = cc.triggered_id;
        var value = cc.triggered && cc.triggered.length ? cc.triggered[0].value : null;
        if (id && typeof id === "object") {
          if (!value) { return none; }
          return id.type === "wall-close" ? null : String(id.id);
        }
        var props = (value && value.properties) || {};
        return props.cluster || !props.id ? none : String(props.id);
      },
      /* Which hotspot overlays (app.components.wall_hot) are checked in the layer control;
       * no update when that has not changed (the control reports its overlays at load). */
      hotOverlays: function (_overlays, names, current) {
        var checked = checkedOverlays();
        var on = { heat: !!(names && checked[names.heat]), hot: !!(names && checked[names.hot]) };
        var same = current && current.heat === on.heat && current.hot === on.hot;
        return same ? window.dash_clientside.no_update : on;
      },
      /* The root font size in px (for the charts' fonts; ember.css: it follows the viewport),
       * once the map's incidents are drawn or after 3 s (a town without clusters): the charts,
       * and plotly.js with them, come after the map. */
      remWhenDrawn: function (_className) {
        var rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
        var start = Date.now();
        return new Promise(function (resolve) {
          (function poll() {
            if (document.querySelector(".wall-cluster") || Date.now() - start > 3000) {
              /* After the map's frame is painted, and a little idle time: plotly's first draw
               * is a long task that would otherwise hold the clusters' paint back. */
              requestAnimationFrame(function () { setTimeout(function () { resolve(rem); }, 250); });
            } else {
              setTimeout(poll, 40);
            }
          })();
        });
      },
      /* The clock, ticked by a plain timer rather than a dcc.Interval: Dash records every
       * change of an input in its undo history (never trimmed), so a 1 s interval would grow
       * the page by 86,400 entries a day. */
      startClock: function (i18n) {
        var ns = window.dash_clientside.wall;
        if (window.__wallClock) { clearInterval(window.__wallClock); }
        window.__wallClock = setInterval(function () {
          var el = document.getElementById("wall-clock");
          if (el) { el.textContent = ns.clock(0, i18n); }
        }, 1000);
        return ns.clock(0, i18n);
      },
      clock: function (_n, i18n) {
        // Asia/Shanghai whatever the wall PC's own zone (China keeps UTC+8 all year, no DST).
        var d = new Date(Date.now() + 8 * 3600 * 1000);
        var pad = function (n) { return (n < 10 ? "0" : "") + n; };
        var time = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
        if (i18n && i18n.lang === "en") {
          return d.toLocaleDateString("en-GB", {
            timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric",
          }) + "  " + time;
        }
        var days = "日一二三四五六";
        return d.getUTCFullYear() + "年" + (d.getUTCMonth() + 1) + "月" + d.getUTCDate() +
          "日 星期" + days[d.getUTCDay()] + "  " + pad(d.getUTCHours()) + ":" +
          pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
      },
    },
  });
})();
