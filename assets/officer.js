/*
 * The officer view (我的网格): the browser's position for "arrived", and the map's task points.
 *
 * officer.locate is a clientside callback: when an "arrived" button is pressed it asks the
 * browser for its position (navigator.geolocation; needs HTTPS or localhost) and hands the
 * server {id, v, lon, lat, accuracy} or, when refused or unavailable, {id, v, error}. The server
 * records the arrival either way. Nothing here fetches anything.
 */
(function () {
  "use strict";

  function pressed() {
    var ctx = window.dash_clientside && window.dash_clientside.callback_context;
    var trig = ctx && ctx.triggered && ctx.triggered[0];
    if (!trig || !trig.value) {
      return null;
    }
    var prop = trig.prop_id;
    try {
      return JSON.parse(prop.slice(0, prop.lastIndexOf(".")));
    } catch (e) {
      return null;
    }
  }

  function locate() {
    var id = pressed();
    if (!id) {
      return window.dash_clientside.no_update;
    }
    var base = { id: id.id, v: id.v, t: Date.now() };
    if (!navigator.geolocation) {
      return Object.assign(base, { error: "unsupported" });
    }
    return new Promise(function (resolve) {
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          resolve(Object.assign(base, {
            lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy,
          }));
        },
        function (err) {
          resolve(Object.assign(base, { error: String((err && err.code) || "failed") }));
        },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 0 }
      );
    });
  }

  var COLOURS = { to_arrive: "#d00000", to_handle: "#e85d04", callbacks: "#0353a4" };

  function taskToLayer(feature, latlng) {
    var list = (feature.properties && feature.properties.list) || "to_arrive";
    var marker = L.circleMarker(latlng, {
      radius: 11, color: "#ffffff", weight: 3, fillColor: COLOURS[list] || "#000", fillOpacity: 1,
    });
    var label = feature.properties && feature.properties.label;
    var id = feature.properties && feature.properties.id;
    if (label) {
      marker.bindTooltip(String(label), { direction: "top" });
    }
    if (id) {
      /* A tap opens a link to the task's page: the lists show only their first cards. */
      marker.bindPopup(function () {
        var link = document.createElement("a");
        link.href = "/incidents/" + encodeURIComponent(String(id));
        link.textContent = (label ? String(label) + " · " : "") + String(id);
        link.className = "officer-link";
        return link;
      });
    }
    return marker;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    officer: { locate: locate },
  });
  window.dashExtensions = Object.assign({}, window.dashExtensions);
  window.dashExtensions.officer = { taskToLayer: taskToLayer };
})();
