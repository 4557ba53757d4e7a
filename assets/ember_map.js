/*
 * Ember map functions for dash-leaflet 1.x.
 *
 * Python refers to them as {"variable": "dashExtensions.ember.<name>"}; dash-leaflet calls each
 * with Leaflet's own arguments plus the component's props last (so `context.hideout` is the
 * `hideout` prop). Layer colours live here and in ember.css, not in Python.
 * Nothing here fetches anything: no icons, no fonts, no tiles.
 */
(function () {
  "use strict";

  /* Muted fills that stay readable on the dark command-room background. */
  var PALETTE = [
    "#3b82f6", "#14b8a6", "#a855f7", "#eab308", "#ec4899",
    "#22c55e", "#f97316", "#06b6d4", "#8b5cf6", "#84cc16",
  ];

  var STYLES = {
    town: { color: "#5ee7ff", weight: 3.5, opacity: 0.95, fill: false },
    villages: { color: "#d5e2f5", weight: 2.2, opacity: 0.9, fillOpacity: 0.18 },
    grid_cells: { color: "#6d8bb3", weight: 1, opacity: 0.6, fillColor: "#000", fillOpacity: 0.01 },
    police_beats: { color: "#ffc940", weight: 2.5, opacity: 0.9, dashArray: "8 6", fill: false },
    fire_station_coverage: {
      color: "#ff6b4a", weight: 1.2, opacity: 0.7, dashArray: "4 4",
      fillColor: "#ff5a36", fillOpacity: 0.13,
    },
    roads: { color: "#c8d2e0", weight: 2, opacity: 0.45, fill: false },
  };

  var MAJOR_ROADS = ["国道", "省道", "县道", "主干路", "快速路", "高速", "primary", "trunk", "motorway"];

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function colourFor(code) {
    var text = String(code || "");
    var h = 0;
    for (var i = 0; i < text.length; i++) {
      h = (h * 31 + text.charCodeAt(i)) >>> 0;
    }
    return PALETTE[h % PALETTE.length];
  }

  function hideoutOf(context) {
    return (context && context.hideout) || {};
  }

  /* Path style of a polygon or line feature; `hideout.kind` names the layer. */
  function style(feature, context) {
    var kind = hideoutOf(context).kind;
    var base = Object.assign({}, STYLES[kind] || {});
    var props = feature.properties || {};
    if (kind === "villages") {
      base.fillColor = colourFor(props.code);
    }
    if (kind === "roads" && MAJOR_ROADS.indexOf(String(props.kind || "")) >= 0) {
      base.weight = 3.5;
      base.opacity = 0.6;
    }
    return base;
  }

  /* Tooltip HTML: `hideout.tooltip = {title: field, rows: [[label, field], ...]}`. */
  function tooltipHtml(props, spec) {
    var title = props[spec.title];
    var html = '<div class="ember-tip-title">' + escapeHtml(title == null ? "" : title) + "</div>";
    (spec.rows || []).forEach(function (row) {
      var value = props[row[1]];
      if (value === null || value === undefined || value === "") {
        return;
      }
      html += '<div class="ember-tip-row"><span>' + escapeHtml(row[0]) + "</span>" +
        escapeHtml(value) + "</div>";
    });
    return html;
  }

  function onEachFeature(feature, layer, context) {
    var spec = hideoutOf(context).tooltip;
    if (!spec) {
      return;
    }
    layer.bindTooltip(tooltipHtml(feature.properties || {}, spec), {
      sticky: spec.sticky !== false,
      direction: "top",
      offset: spec.sticky === false ? [0, -10] : [0, -6],
      className: "ember-tip",
      opacity: 1,
    });
  }

  /* Fire stations: a red ring, no marker image (nothing to fetch). */
  function stationToLayer(feature, latlng, context) {
    var pane = context && context.pane;
    var options = {
      radius: 10, color: "#ffffff", weight: 3, fillColor: "#ff3b30", fillOpacity: 1,
    };
    if (pane) {
      options.pane = pane;
    }
    return L.circleMarker(latlng, options);
  }

  /* Permanent text label at a point: `hideout.label` is the field to show. */
  function labelToLayer(feature, latlng, context) {
    var field = hideoutOf(context).label || "name";
    var text = (feature.properties || {})[field];
    return L.marker(latlng, {
      interactive: false,
      keyboard: false,
      icon: L.divIcon({
        className: "ember-label " + (hideoutOf(context).labelClass || ""),
        html: "<span>" + escapeHtml(text == null ? "" : text) + "</span>",
        iconSize: [0, 0],
        iconAnchor: [0, 0],
      }),
    });
  }

  window.dashExtensions = Object.assign({}, window.dashExtensions, {
    ember: {
      style: style,
      onEachFeature: onEachFeature,
      stationToLayer: stationToLayer,
      labelToLayer: labelToLayer,
      hoverStyle: function () {
        return { color: "#ffffff", weight: 2.5, fillColor: "#5ee7ff", fillOpacity: 0.18 };
      },
    },
  });
})();
