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

/*
 * A photo larger than the server takes is refused here, before dcc.Upload reads it and sends it
 * (over a phone's network, for nothing; past Flask's request limit the server could not even
 * say why). The limit and the message come from #officer-photo-warn (the page's layout); the
 * message box is this script's, not a callback's. Listening in the capture phase on the
 * document, the change is stopped before React's own listener (dcc.Upload) sees it.
 */
(function () {
  "use strict";

  // The file picked (a change of the upload's input) or dropped (onto the upload's box).
  function fileOf(event) {
    var target = event.target;
    if (!target || !target.closest || !target.closest(".officer-upload")) {
      return null;
    }
    if (event.type === "drop") {
      var dropped = event.dataTransfer && event.dataTransfer.files;
      return dropped && dropped[0];
    }
    return target.type === "file" && target.files ? target.files[0] : null;
  }

  function refuseLarge(event) {
    var box = document.getElementById("officer-photo-warn");
    var file = fileOf(event);
    var limit = box && Number(box.getAttribute("data-bytes"));
    if (!file || !limit) {
      return;
    }
    if (file.size <= limit) {
      box.hidden = true;
      return;
    }
    event.stopImmediatePropagation();
    event.preventDefault();
    if (event.type === "change") {
      event.target.value = "";
    }
    var mb = (file.size / 1048576).toFixed(1);
    box.textContent = String(box.getAttribute("data-message")).replace("{mb}", mb);
    box.hidden = false;
  }

  document.addEventListener("change", refuseLarge, true);
  document.addEventListener("drop", refuseLarge, true);
})();
